#!/usr/bin/env python3
"""Cluster figures (benchmarks, not tests), against three running nodes that share one backend.

    cluster_figures.py latency PORT_OWNER PORT_OTHER [calls=2000]
        a tunnel call (PUT + GET) at one connection when the node is the session's owner, and when
        it forwards to the owner: p50, p99 and their ratio
    cluster_figures.py adoption PORT_OWNER PORT_OTHER1 PORT_OTHER2 OWNER_PID [sessions=200]
        sessions opened on the owner; when a line comes on stdin, a burst of calls while it lives
        (the baseline), then the owner is killed (SIGKILL):
        the time from the kill to each session's first answer through a surviving node, p50 and p99
"""
import collections
import asyncio, json, os, signal, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunnel_client import AUTH, execute, open_session  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def latency(owner, other, calls=2000):
    s, h = open_session(owner, "Increment")
    for port, label in ((owner, "owner-local"), (other, "forwarded")):
        s.port, s.conn = port, None
        times = []
        for _ in range(200):
            s.call(execute(h, 1))  # warm-up
        for _ in range(calls):
            t = time.perf_counter()
            s.call(execute(h, 1))
            times.append((time.perf_counter() - t) * 1e6)
        print("%-12s p50 %7.0f us  p99 %7.0f us" % (label, pct(times, 50), pct(times, 99)))
        yield pct(times, 50), pct(times, 99)


async def exchange(reader, writer, method, path, body=b""):
    """One HTTP/1.1 request on an open connection: (status, body)."""
    writer.write(("%s %s HTTP/1.1\r\nHost: bench\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n"
                  % (method, path, AUTH, len(body))).encode() + body)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(head[9:12]), await reader.readexactly(length)


async def first_call(s, h, port, expected):
    """Session {s}'s next call (Increment) through {port}, on a new connection: its answer checked."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        data = execute(h, 1)
        status, body = await exchange(reader, writer, "PUT", "/datasnap/tunnel?dss=%s&c=%d" % (s.sid, len(data)), data)
        if status != 200:
            raise IOError("write %d %r" % (status, body[:100]))
        answer = b""
        while answer.count(b"{") == 0 or answer.count(b"{") != answer.count(b"}"):
            status, body = await exchange(reader, writer, "GET", "/datasnap/tunnel?dss=%s&c=32768" % s.sid)
            if status != 200:
                raise IOError("read %d %r" % (status, body[:100]))
            answer += body
        assert json.loads(answer)["result"][0] == expected, answer
    finally:
        writer.close()


def all_at_once(opened, others, expected, start):
    """Every session's next call at once, each on a new connection to a surviving node (one
    asyncio task each, so that the client starts them all within milliseconds): the ms from
    {start} to each answer, and the errors."""
    took, errors = [], []

    async def call(k, s, h):
        port = others[k % len(others)]
        try:
            await first_call(s, h, port, expected)
            took.append((time.perf_counter() - start) * 1000)
        except Exception as e:  # reported below, with where and when it failed
            errors.append(repr(e))
            print("  error: session %s after %.0f ms, node port %d, at %s: %r"
                  % (s.sid, (time.perf_counter() - start) * 1000, port, time.strftime("%H:%M:%S"), e), flush=True)

    async def burst():
        await asyncio.gather(*(call(k, s, h) for k, (s, h) in enumerate(opened)))
    asyncio.run(burst())
    return took, errors


def adoption(owner, others, pid, sessions=200):
    opened = [open_session(owner, "Increment") for _ in range(sessions)]
    for s, h in opened:
        s.call(execute(h, 1))
    print("opened %d sessions; kill -9 the owner on a line of stdin" % len(opened), flush=True)
    sys.stdin.readline()
    # Baseline, same run: the same burst of calls while the owner lives (forwarded to it). What
    # this client needs to make so many connections is in both figures.
    took, errors = all_at_once(opened, others, 2, time.perf_counter())
    print("baseline, owner alive:  %d sessions, p50 %.0f ms, p99 %.0f ms, max %.0f ms, errors %d"
          % (len(took), pct(took, 50), pct(took, 99), max(took), len(errors)))
    base50, base99 = pct(took, 50), pct(took, 99)
    os.kill(pid, signal.SIGKILL)
    took, errors = all_at_once(opened, others, 3, time.perf_counter())
    print("adoption after kill -9: %d sessions, p50 %.0f ms, p99 %.0f ms, max %.0f ms, errors %d"
          % (len(took), pct(took, 50), pct(took, 99), max(took), len(errors)))
    print("adoption minus baseline: p50 %.0f ms, p99 %.0f ms" % (pct(took, 50) - base50, pct(took, 99) - base99))
    for error, count in collections.Counter(errors).most_common(5):
        print("  %d x %s" % (count, error[:200]))


if sys.argv[1] == "latency":
    (l50, l99), (f50, f99) = latency(int(sys.argv[2]), int(sys.argv[3]), *map(int, sys.argv[4:5]))
    print("forwarded / local: p50 %.2f, p99 %.2f" % (f50 / l50, f99 / l99))
else:
    adoption(int(sys.argv[2]), [int(sys.argv[3]), int(sys.argv[4])], int(sys.argv[5]), *map(int, sys.argv[6:7]))
