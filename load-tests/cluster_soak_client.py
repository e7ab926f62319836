#!/usr/bin/env python3
"""Sessions calling Increment(1) without pause through an L7 front to a dstunnel cluster.

Each answer must be the session's running total: a higher one than expected is a call applied
twice (lost: the client never saw it once), a repeated one a duplicated answer. A write that fails
(its node died with it on the wire) leaves the session uncertain: it is counted apart, then an
EchoString marker is written and every answer up to the marker's is read: an Increment answer
among them says the failed write was applied (and gives the total). Anything else that fails is a
client-visible error. Every fourth session calls Blob instead, whose answers (tens of KiB) are read
in 8 KiB slices, so a node dies in the middle of an answer: each answer is compared with the bytes
it must be, and the bytes from its first wrong one to its end count as wrong (lost or repeated).
Every eighth session is a callback channel instead, fed by a broadcaster session of its own that
sends it consecutive numbers: a number seen twice is a duplicated push; a gap is counted as pushes
lost, apart (a dead node loses the pushes it had taken from the server and not yet handed out). A
broadcast answered with an error (its node died before the answer reached the client, and it is
not run again: session.replaySkip) may have run, so the broadcaster goes on with the next number.
Standard library only.
    cluster_soak_client.py PORT SECONDS SESSIONS
Prints one line of counts at the end: lost, duplicated, errors, writes-in-flight-lost, calls, and
the Blob answers: read, wrong, and their bytes (read, wrong).
"""
import json, os, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunnel_client import Session, execute, open_session  # noqa: E402

PORT, SECONDS, SESSIONS = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
counts = {"lost": 0, "duplicated": 0, "errors": 0, "in_flight_writes": 0, "applied_unseen": 0, "calls": 0,
          "blobs": 0, "blobs_wrong": 0, "blob_bytes": 0, "wrong_bytes": 0,
          "pushes": 0, "pushes_duplicated": 0, "pushes_lost": 0, "broadcasts_not_rerun": 0}
lock = threading.Lock()


reasons = {}


def count(key, n=1, why=None):
    with lock:
        counts[key] += n
        if why is not None:
            reasons[why] = reasons.get(why, 0) + 1


def trace(s, what, got, total):
    """One line per lost or duplicated answer: which session, when, what came after what."""
    return "%s: session %s at %s, answer %d after %d" % (what, s.sid, time.strftime("%H:%M:%S"), got, total)


def blob_answer(n):
    """What the demo server answers to Blob(n), byte for byte."""
    return (b'{"result":[{"data":[%d,' % n) + bytes(i % 251 for i in range(n)) + b"]}]}"


def blob_worker(deadline, index):
    """Calls Blob(n) and reads each answer in 8 KiB slices; a write in flight on a killed node ends it."""
    try:
        s, h = open_session(PORT, "Blob", 8192)
    except Exception:
        count("errors")
        return
    k = 0
    while time.time() < deadline:
        k += 1
        n = 20000 + (index * 7919 + k * 104729) % 40000
        expected = blob_answer(n)
        try:
            s.write(execute(h, n))
        except Exception:
            count("in_flight_writes")  # cannot tell whether it was applied: this session stops here
            return
        try:
            got = s.read_exactly(len(expected))
        except Exception as e:
            count("errors", why="blob read: %s (session %s at %s)" % (str(e)[:120], s.sid, time.strftime("%H:%M:%S")))
            return
        count("blobs")
        count("blob_bytes", len(got))
        if got != expected:
            first = next(i for i, (x, y) in enumerate(zip(got, expected)) if x != y)
            count("blobs_wrong")
            count("wrong_bytes", len(expected) - first,
                  why="blob answer wrong from byte %d of %d: session %s at %s" % (first, len(expected), s.sid,
                                                                                  time.strftime("%H:%M:%S")))
            return


def channel_worker(deadline, index):
    """A channel client (its own session) and a broadcaster sending it 1, 2, 3, ...: each push once, in order."""
    name = "soak-%d-%d" % (os.getpid(), index)
    try:
        chan = Session(PORT)
        chan.call(b"\x05\x05\x05\x05\x05")
        chan.call(b'{"method":"connect","params":[{"DriverName":"Datasnap"}]}')
        h = json.loads(chan.call(b'{"method":"prepare","params":[-1,false,"DSServerMethod",'
                                 b'"DSAdmin.ConnectClientChannel"]}'))["result"][0]
        chan.write(json.dumps({"method": "execute", "params": [h, [name, name, "cb", name, "t"]]}).encode())
        sender, b = open_session(PORT, "Increment")
        b = json.loads(sender.call(b'{"method":"prepare","params":[-1,false,"DSServerMethod",'
                                   b'"DSAdmin.BroadcastToChannel"]}'))["result"][0]
    except Exception as e:
        count("errors", why="channel set-up: %s" % str(e)[:120])
        return
    def read():
        seen = 0
        while time.time() < deadline:
            try:
                push = json.loads(chan.read_message())["callback"][1]
            except Exception as e:
                if time.time() < deadline - 5:
                    count("errors", why="channel read: %s (session %s at %s)" % (str(e)[:120], chan.sid,
                                                                              time.strftime("%H:%M:%S")))
                return
            try:
                chan.write(b'{"response":[true]}')
            except Exception:
                # The answer to the push died with its node (a write in flight on a killed node): the
                # channel goes on, and its next push comes as before (dstunnel never replays answers
                # to pushes).
                count("in_flight_writes")
            count("pushes")
            if push <= seen:
                count("pushes_duplicated", why="push %d after %d: channel %s at %s" % (
                    push, seen, chan.sid, time.strftime("%H:%M:%S")))
            elif push > seen + 1:
                count("pushes_lost", push - seen - 1)
            seen = max(seen, push)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent = 0
    while time.time() < deadline - 10:  # the last pushes have time to arrive
        try:
            took = json.loads(sender.call(json.dumps({"method": "execute", "params": [b, [name, sent + 1]]}).encode()))
        except Exception:
            # The broadcaster's write died with its node: it may have been applied or not (a push, or
            # a gap the reader counts as lost with a node). The session lives on: the next number goes.
            count("in_flight_writes")
            sender.buf = b""
            sent += 1
            continue
        if took.get("result") == [True]:
            sent += 1
        elif "error" in took:
            # A broadcast whose node died before its answer reached us is not run again on the
            # adopter (session.replaySkip): it may have run. Sending the number again could push it
            # twice; the next number goes (a gap, if it had not run, counts as lost with a node).
            count("broadcasts_not_rerun")
            sent += 1
        time.sleep(0.05)


def worker(deadline):
    try:
        s, h = open_session(PORT, "Increment")
        echo = json.loads(s.call(b'{"method":"prepare","params":[-1,false,"DSServerMethod",'
                                 b'"TServerMethods1.EchoString"]}'))["result"][0]
    except Exception:
        count("errors")
        return
    total, markers, uncertain = 0, 0, False
    while time.time() < deadline:
        try:
            s.write(execute(h, 1))
        except Exception:
            # The node that took the write died with it on the wire: was it applied? A marker
            # tells: the answers before the marker's are the failed write's (if it was applied).
            count("in_flight_writes")
            uncertain = True
            try:
                s.buf = b""
                for attempt in range(3):
                    markers += 1
                    marker = "marker %d" % markers
                    try:
                        s.write(json.dumps({"method": "execute", "params": [echo, [marker]]}).encode())
                        break
                    except (OSError, IOError) as e:
                        # The marker went to the dying node too (a front keeps sending to it until its
                        # check fails): one more write in flight on a killed node, not an error of its own.
                        if attempt == 2 or "404" in str(e):
                            raise
                        count("in_flight_writes")
                while True:
                    value = json.loads(s.read_message())["result"][0]
                    if isinstance(value, str):
                        if value == marker or value.startswith(marker + " "):
                            break
                        continue  # an earlier marker's answer: that marker was applied after all
                    if value <= total:
                        count("duplicated", why=trace(s, "duplicated (before a marker)", value, total))
                    total = value  # the failed write was applied after all
            except Exception as e:
                count("errors", why="after a failed write: %s (session %s at %s)" % (str(e)[:120], s.sid, time.strftime("%H:%M:%S")))
                return
            continue
        try:
            got = json.loads(s.read_message())["result"][0]
        except Exception as e:
            count("errors", why="read: %s (session %s at %s)" % (str(e)[:120], s.sid, time.strftime("%H:%M:%S")))
            return
        count("calls")
        if got == total + 2 and uncertain:
            # The failed write was applied but its answer never read: the marker, a write, told the
            # proxy the client had every answer before it (the tunnel's rule: a DataSnap client
            # reads each answer before it writes again), so that answer was dropped. Not a loss.
            count("applied_unseen")
        elif got > total + 1:
            count("lost", got - total - 1, why=trace(s, "lost", got, total))
        elif got <= total:
            count("duplicated", why=trace(s, "duplicated", got, total))
        uncertain = False
        total = got


deadline = time.time() + SECONDS
def kind(i):
    if i % 8 == 7:
        return threading.Thread(target=channel_worker, args=(deadline, i))
    if i % 4 == 3:
        return threading.Thread(target=blob_worker, args=(deadline, i))
    return threading.Thread(target=worker, args=(deadline,))


threads = [kind(i) for i in range(SESSIONS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("lost %(lost)d, duplicated %(duplicated)d, errors %(errors)d, writes in flight on a killed node "
      "%(in_flight_writes)d (of which applied, answer unseen %(applied_unseen)d), calls %(calls)d; "
      "Blob answers %(blobs)d (%(blob_bytes)d bytes), wrong %(blobs_wrong)d (%(wrong_bytes)d bytes); "
      "pushes %(pushes)d, duplicated %(pushes_duplicated)d, lost with a node %(pushes_lost)d "
      "(broadcasts answered 'not re-run' after their node died %(broadcasts_not_rerun)d)" % counts)
for why, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
    print("  %d x %s" % (n, why))
sys.exit(1 if counts["lost"] or counts["duplicated"] or counts["errors"] or counts["blobs_wrong"]
         or counts["pushes_duplicated"] else 0)
