"""REST call latency straight to a demo server and through dstunnel (see rest-latency.sh)."""
import base64
import http.client
import re
import sys
import time

direct_port, proxy_port, calls, rounds = (int(a) for a in sys.argv[1:5])
AUTH = "Basic " + base64.b64encode(b"admin:admin").decode()


def call(port, path, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    body = r.read()
    pragma = r.getheader("Pragma") or ""
    c.close()
    if r.status != 200:
        raise SystemExit("%d %s" % (r.status, body))
    return re.search(r"dssession=([^,\s]+)", pragma).group(1)


def run(port):
    sid = call(port, "/datasnap/rest/TServerMethods1/EchoString/open", {"Authorization": AUTH})
    for _ in range(200):  # warm-up
        call(port, "/datasnap/rest/TServerMethods1/EchoString/warm", {"Pragma": "dssession=" + sid})
    took = []
    for _ in range(calls):
        t0 = time.perf_counter()
        call(port, "/datasnap/rest/TServerMethods1/EchoString/x", {"Pragma": "dssession=" + sid})
        took.append(time.perf_counter() - t0)
    took.sort()
    return took[len(took) // 2] * 1e3, took[int(len(took) * 0.99) - 1] * 1e3


for r in range(1, rounds + 1):
    d50, d99 = run(direct_port)
    p50, p99 = run(proxy_port)
    print("round %d: direct p50 %.3f ms p99 %.3f ms | via dstunnel p50 %.3f ms p99 %.3f ms | added p50 %.3f ms "
          "(x%.2f), p99 %.3f ms" % (r, d50, d99, p50, p99, p50 - d50, p50 / d50, p99 - d99))
