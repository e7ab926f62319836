#!/usr/bin/env python3
"""Sessions calling Increment(1) without pause through an L7 front to a dstunnel cluster.

Each answer must be the session's running total: a lower one is a lost call's effect, a repeated
one a duplicated answer. A write that fails (its node died with it on the wire) leaves the
session uncertain: counted apart, then the total is read back with Increment(0) and the session
goes on. Anything else that fails is a client-visible error. Standard library only.
    cluster_soak_client.py PORT SECONDS SESSIONS
Prints one line of counts at the end: lost, duplicated, errors, writes-in-flight-lost, calls.
"""
import base64, http.client, json, sys, threading, time

PORT, SECONDS, SESSIONS = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
AUTH = "Basic " + base64.b64encode(b"admin:admin").decode()
counts = {"lost": 0, "duplicated": 0, "errors": 0, "in_flight_writes": 0, "calls": 0}
lock = threading.Lock()


def count(key, n=1):
    with lock:
        counts[key] += n


class Session:
    def __init__(self):
        self.sid, self.conn, self.buf = "0", None, b""

    def http(self, method, path, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        try:
            self.conn.request(method, path, body=body, headers={"Authorization": AUTH})
            r = self.conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise

    def write(self, data):
        status, body = self.http("PUT", "/datasnap/tunnel?dss=%s&c=%d" % (self.sid, len(data)), data)
        if status != 200:
            raise IOError("write %d %r" % (status, body[:100]))
        self.sid = json.loads(body)["response"][0]

    def read_message(self):
        depth, i = 0, 0
        while True:
            for j in range(i, len(self.buf)):
                c = self.buf[j:j + 1]
                if j == 0 and self.buf[:1] == b"\x06":
                    if len(self.buf) >= 5:
                        m, self.buf = self.buf[:5], self.buf[5:]
                        return m
                    break
                if c == b"{":
                    depth += 1
                elif c == b"}":
                    depth -= 1
                    if depth == 0:
                        m, self.buf = self.buf[:j + 1], self.buf[j + 1:]
                        return m
            i = len(self.buf)
            status, body = self.http("GET", "/datasnap/tunnel?dss=%s&c=32768" % self.sid)
            if status != 200:
                raise IOError("read %d %r" % (status, body[:100]))
            self.buf += body

    def call(self, message):
        self.write(message)
        return self.read_message()


def execute(h, n):
    return json.dumps({"method": "execute", "params": [h, [n]]}).encode()


def worker(deadline):
    s = Session()
    try:
        s.call(b"\x05\x05\x05\x05\x05")
        s.call(b'{"method":"connect","params":[{"DriverName":"Datasnap"}]}')
        h = json.loads(s.call(b'{"method":"prepare","params":[-1,false,"DSServerMethod","TServerMethods1.Increment"]}'))["result"][0]
    except Exception:
        count("errors")
        return
    total = 0
    while time.time() < deadline:
        try:
            s.write(execute(h, 1))
        except Exception:
            # The node that took the write died with it on the wire: was it applied? Ask.
            count("in_flight_writes")
            try:
                s.buf = b""
                total = json.loads(s.call(execute(h, 0)))["result"][0]
            except Exception:
                count("errors")
                return
            continue
        try:
            got = json.loads(s.read_message())["result"][0]
        except Exception:
            count("errors")
            return
        count("calls")
        if got > total + 1:
            count("lost", got - total - 1)
        elif got <= total:
            count("duplicated")
        total = got


deadline = time.time() + SECONDS
threads = [threading.Thread(target=worker, args=(deadline,)) for _ in range(SESSIONS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("lost %(lost)d, duplicated %(duplicated)d, errors %(errors)d, writes in flight on a killed node %(in_flight_writes)d, calls %(calls)d" % counts)
sys.exit(1 if counts["lost"] or counts["duplicated"] or counts["errors"] else 0)
