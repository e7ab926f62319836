"""A minimal DataSnap tunnel client for the load-test scripts (standard library only)."""
import base64, http.client, json

AUTH = "Basic " + base64.b64encode(b"admin:admin").decode()


class Session:
    def __init__(self, port, read_size=32768):
        self.port, self.sid, self.conn, self.buf, self.read_size = port, "0", None, b"", read_size

    def http(self, method, path, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
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
            self.read_more()

    def read_more(self):
        """One read (GET) of at most read_size bytes, appended to the buffer."""
        status, body = self.http("GET", "/datasnap/tunnel?dss=%s&c=%d" % (self.sid, self.read_size))
        if status != 200:
            raise IOError("read %d %r" % (status, body[:100]))
        self.buf += body

    def read_exactly(self, n):
        """The next n answer bytes (an answer of known length, read in slices of read_size)."""
        while len(self.buf) < n:
            self.read_more()
        m, self.buf = self.buf[:n], self.buf[n:]
        return m

    def call(self, message):
        self.write(message)
        return self.read_message()


def execute(h, n):
    return json.dumps({"method": "execute", "params": [h, [n]]}).encode()


def open_session(port, method, read_size=32768):
    """A session through {port} with the DBX handshake done and {method} prepared: (session, handle)."""
    s = Session(port, read_size)
    s.call(b"\x05\x05\x05\x05\x05")
    s.call(b'{"method":"connect","params":[{"DriverName":"Datasnap"}]}')
    h = json.loads(s.call(b'{"method":"prepare","params":[-1,false,"DSServerMethod","TServerMethods1.'
                          + method.encode() + b'"]}'))["result"][0]
    return s, h
