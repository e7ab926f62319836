#!/usr/bin/env python3
"""Sessions calling Increment(1) without pause through an L7 front to a dstunnel cluster.

Each answer must be the session's running total: a lower one is a lost call's effect, a repeated
one a duplicated answer. A write that fails (its node died with it on the wire) leaves the
session uncertain: counted apart, then the total is read back with Increment(0) and the session
goes on. Anything else that fails is a client-visible error. Standard library only.
    cluster_soak_client.py PORT SECONDS SESSIONS
Prints one line of counts at the end: lost, duplicated, errors, writes-in-flight-lost, calls.
"""
import json, os, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunnel_client import execute, open_session  # noqa: E402

PORT, SECONDS, SESSIONS = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
counts = {"lost": 0, "duplicated": 0, "errors": 0, "in_flight_writes": 0, "calls": 0}
lock = threading.Lock()


def count(key, n=1):
    with lock:
        counts[key] += n


def worker(deadline):
    try:
        s, h = open_session(PORT, "Increment")
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
