#!/usr/bin/env python3
"""Odd and hostile HTTP clients against `oasis serve --prometheus`, from
outside (run in the test's namespace by prom_hostile.sh).

Usage: prom_hostile.py HOST PORT GROUP...
Each group prints 'ok: ...' lines or 'FAIL: ...' and the exit status is the
number of failed groups. The server is expected to: answer every
well-formed request (RFC 9112), in order, with a correct status and
Content-Length; refuse what it does not serve with the right status;
survive clients that trickle, pipeline, never read or reset; and keep
answering an ordinary scrape afterwards."""
import random
import re
import socket
import struct
import sys
import threading
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
GET = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def conn(timeout=20):
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_answer(f, head_only=False):
    """One answer from a file object: (status, headers dict, body)."""
    line = f.readline()
    check(line, "connection closed before an answer")
    m = re.match(rb"HTTP/1\.1 (\d{3}) [^\r\n]*\r\n$", line)
    check(m, "bad status line %r" % line)
    hdrs = {}
    while True:
        h = f.readline()
        check(h.endswith(b"\r\n"), "bad header line %r" % h)
        if h == b"\r\n":
            break
        k, _, v = h.partition(b":")
        check(k and not k.strip() != k, "bad header name %r" % h)
        hdrs[k.decode().lower()] = v.strip().decode()
    n = int(hdrs.get("content-length", "-1"))
    check(n >= 0, "no Content-Length: %r" % hdrs)
    body = b"" if head_only else f.read(n)
    check(len(body) == (0 if head_only else n), "short body %d of %d" % (len(body), n))
    return int(m.group(1)), hdrs, body


def request(raw, head_only=False, timeout=20):
    s = conn(timeout)
    try:
        s.sendall(raw)
        return read_answer(s.makefile("rb"), head_only)
    finally:
        s.close()


def scrape_ok(what):
    st, h, body = request(GET)
    check(st == 200, "%s: a plain scrape got %d" % (what, st))
    check(b"oasis_tcp_InSegs_total" in body, "%s: a plain scrape lacks InSegs" % what)
    return body


def metric(body, name):
    m = re.search(rb"^" + re.escape(name.encode()) + rb"(?:\{[^}]*\})? (\S+)$", body, re.M)
    return float(m.group(1)) if m else None


# ---- groups ----------------------------------------------------------------------


def g_methods():
    st, h, b = request(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", head_only=True)
    check(st == 200, "HEAD: %d" % st)
    check(int(h["content-length"]) > 1000, "HEAD: Content-Length %s is not the body's" % h["content-length"])
    print("ok: HEAD /metrics: 200, no body, Content-Length %s" % h["content-length"])
    st, h, b = request(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello=world")
    check(st in (405, 413), "POST with a body: %d" % st)
    check(h.get("connection") == "close", "POST with a body: the connection is not closed (%r)" % h)
    print("ok: POST with a body: %d and Connection: close" % st)
    st, h, b = request(b"POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    check(st in (405, 413) and h.get("connection") == "close", "POST chunked: %d %r" % (st, h))
    print("ok: POST with a chunked body: %d and Connection: close" % st)
    st, h, b = request(b"GET /metrics HTTP/1.0\r\n\r\n")
    check(st == 200 and b"oasis_tcp_InSegs_total" in b, "HTTP/1.0 without Host: %d" % st)
    check(h.get("connection") == "close", "HTTP/1.0: not closed after the answer")
    print("ok: HTTP/1.0 without Host: 200 and the connection closes")
    st, h, b = request(b"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n")
    check(st == 505, "HTTP/2.0 request line: %d" % st)
    print("ok: HTTP/2.0 in a request line: 505")
    st, h, b = request(b"GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    check(st == 200, "a query string: %d" % st)
    st, h, b = request(b"GET http://10.77.0.2:9100/metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    check(st == 200, "absolute-form target: %d" % st)
    print("ok: a query string and the absolute form: 200")
    st, h, b = request(b"GET /metrics HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
    check(st == 400, "two Host fields: %d" % st)
    st, h, b = request(b"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n")
    check(st == 400, "space before the colon: %d" % st)
    st, h, b = request(b"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n")
    check(st == 400, "obs-fold: %d" % st)
    print("ok: two Host fields, space before a colon, obs-fold: 400")


def g_openmetrics():
    st, h, b = request(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text\r\n\r\n")
    check(st == 200, "OpenMetrics: %d" % st)
    ct = h.get("content-type", "")
    check(ct.startswith("application/openmetrics-text; version=1.0.0"), "OpenMetrics Content-Type %r" % ct)
    check("charset=utf-8" in ct, "OpenMetrics Content-Type without charset: %r" % ct)
    check(b.endswith(b"# EOF\n"), "OpenMetrics body does not end in '# EOF\\n'")
    check(b.count(b"# EOF") == 1, "more than one # EOF")
    # Every family: TYPE once; counters' samples end in _total.
    types = re.findall(rb"^# TYPE (\S+) (\S+)$", b, re.M)
    names = [t[0] for t in types]
    check(len(names) == len(set(names)), "a TYPE line repeats")
    for fam, typ in types:
        if typ == b"counter":
            check(re.search(rb"^" + re.escape(fam) + rb"_total[ {]", b, re.M), "counter %r: no _total sample" % fam)
    print("ok: Accept: application/openmetrics-text -> %r, %d families, # EOF" % (ct, len(types)))
    st, h, b = request(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text;q=0\r\n\r\n")
    check(h.get("content-type", "").startswith("text/plain; version=0.0.4"), "q=0 OpenMetrics: %r" % h)
    st, h, b = request(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n")
    check(st == 200 and h.get("content-type", "").startswith("text/plain; version=0.0.4"), "Accept json: %d %r" % (st, h))
    print("ok: q=0 and Accept: application/json get the text format")


def g_pipeline():
    s = conn()
    n = 20
    reqs = b"".join(
        b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" if i % 3 == 0 else
        b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n" if i % 3 == 1 else
        b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" for i in range(n))
    s.sendall(reqs)
    f = s.makefile("rb")
    last = None
    for i in range(n):
        st, h, b = read_answer(f, head_only=(i % 3 == 1))
        want = 200 if i % 3 != 2 else 404
        check(st == want, "pipelined answer %d: %d, want %d" % (i, st, want))
        if i % 3 == 0:
            sc = metric(b, "oasis_prometheus_scrapes_total")
            check(last is None or sc > last, "scrape counter did not grow along the pipeline")
            last = sc
    s.close()
    print("ok: %d pipelined GET/HEAD/404 requests answered in order" % n)


def g_slowloris():
    # One byte per 0.2 s for the request line: the answer still comes, and
    # other clients are served meanwhile.
    s = conn(60)
    head = GET
    stop = time.time() + 4
    i = 0
    while time.time() < stop and i < len(head) - 1:
        s.send(head[i:i + 1])
        i += 1
        time.sleep(0.2)
        if i == 5:
            scrape_ok("during a trickled request")
    s.send(head[i:])
    st, h, b = read_answer(s.makefile("rb"))
    check(st == 200, "trickled request: %d" % st)
    s.close()
    print("ok: a request head trickled a byte at a time: 200, others served meanwhile")


def g_slowloris_many():
    # More trickling heads than max_conns (16) hold every slot: a scraper
    # still gets in (the one that has waited longest makes room), and does
    # so again and again.
    socks = []
    for i in range(24):
        try:
            s = conn(10)
            s.sendall(b"GET /metr")
            socks.append(s)
        except OSError:
            pass
    for k in range(5):
        for s in socks:
            try:
                s.send(b"i")
            except OSError:
                pass
        scrape_ok("with 24 trickling heads, round %d" % k)
    for s in socks:
        s.close()
    print("ok: 24 trickling heads over 16 slots: 5 scrapes in a row answered at once")


def g_long():
    st, h, b = request(b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    check(st == 431 or st == 414, "20 kB request line: %d" % st)
    check(h.get("connection") == "close", "long request: no Connection: close")
    st, h, b = request(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"b" * 9000 + b"\r\n\r\n")
    check(st == 431, "9 kB header: %d" % st)
    # Many small header fields, within the head limit.
    st, h, b = request(b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 500 + b"\r\n")
    check(st == 200, "500 short header fields: %d" % st)
    # An endless head with no empty line: 431 at the limit, not a hang.
    s = conn()
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    try:
        for _ in range(100):
            s.sendall(b"X-B: " + b"c" * 90 + b"\r\n")
    except OSError:
        pass
    st, h, b = read_answer(s.makefile("rb"))
    check(st == 431, "an endless head: %d" % st)
    s.close()
    print("ok: a 20 kB request line, a 9 kB header, an endless head: 431; 500 short fields: 200")


def g_concurrent():
    # 200 at once against max_conns 16: the server makes room by resetting
    # the connection that has waited longest for its request, so a client
    # may be reset and retry (with jitter, as a scraper's next interval
    # would). Every client must get a whole exposition in the end.
    n = 200
    res = [None] * n
    tries = [0] * n
    go = threading.Barrier(n)

    def one(i):
        rnd = random.Random(i)
        try:
            go.wait()
            for attempt in range(40):
                tries[i] += 1
                try:
                    st, h, b = request(GET, timeout=30)
                    res[i] = (st, metric(b, "oasis_tcp_InSegs_total") is not None)
                    return
                except (ConnectionResetError, Fail, BrokenPipeError) as e:
                    res[i] = repr(e)
                    time.sleep(rnd.uniform(0, 0.2 * min(attempt + 1, 10)))
        except Exception as e:  # noqa
            res[i] = repr(e)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    good = sum(1 for r in res if r == (200, True))
    bad = [r for r in res if r != (200, True)]
    check(good == n, "%d of %d concurrent scrapes got a whole exposition; others: %r" % (good, n, bad[:3]))
    print("ok: %d concurrent scrapes, each answered (%d at the first try, at most %d tries)"
          % (n, tries.count(1), max(tries)))


def g_resets():
    # Clients that reset mid-answer (SO_LINGER 0) after reading a little.
    for i in range(30):
        s = conn()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(GET * 3)
        if i % 2:
            s.recv(100)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    scrape_ok("after 30 resets mid-answer")
    print("ok: 30 clients reset mid-answer; the next scrape is whole")


def g_noread():
    # Clients that pipeline many requests and never read: the server's
    # TCP memory and connection count stay bounded; scrapes still work.
    socks = []
    for i in range(12):
        s = conn()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            s.settimeout(2)
            for _ in range(200):
                s.sendall(GET)
        except OSError:
            pass
        socks.append(s)
    time.sleep(2)
    b = scrape_ok("with 12 clients that never read")
    mem = metric(b, "oasis_tcp_TCPMemBytes")
    conns = metric(b, "oasis_prometheus_connections")
    check(conns is not None and conns <= 16, "connections %r above max_conns" % conns)
    check(mem is not None and mem < 64 << 20, "TCPMemBytes %r" % mem)
    for s in socks:
        s.close()
    print("ok: 12 clients that never read: TCPMemBytes %d, %d connections, scrapes answered" % (mem, conns))


def g_garbage():
    for raw in [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 40 + b"\r\n\r\n",
                b"GET\r\n\r\n", b"GET /metrics\r\n\r\n",
                b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                b"GET /metrics HTTP/1.1\r\nHost: x\r\n\0\r\n\r\n",
                b"GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n"]:
        try:
            st, h, b = request(raw)
        except (ConnectionResetError, Fail) as e:
            raise Fail("garbage %r: %r" % (raw[:30], e))
        check(400 <= st < 600, "garbage %r: %d" % (raw[:30], st))
    scrape_ok("after garbage")
    print("ok: TLS hello, HTTP/0.9, bad Content-Length, NUL: 4xx/5xx, server up")


def g_leading_crlf():
    # RFC 9112 2.2: a server SHOULD ignore at least one empty line before
    # the request-line (some clients send CRLF after a POST body).
    st, h, b = request(b"\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    check(st == 200, "CRLF before the request line: %d" % st)
    s = conn()
    s.sendall(GET + b"\r\n" + GET)
    f = s.makefile("rb")
    for i in range(2):
        st, h, b = read_answer(f)
        check(st == 200, "keep-alive request after a stray CRLF: answer %d is %d" % (i, st))
    s.close()
    # Nothing but empty lines: no answer, the connection stays for a request.
    s = conn(3)
    s.sendall(b"\r\n" * 3000)
    try:
        got = s.recv(100)
        check(False, "an answer to empty lines only: %r" % got[:40])
    except socket.timeout:
        pass
    s.sendall(GET)
    st, h, b = read_answer(s.makefile("rb"))
    check(st == 200, "a request after 3000 empty lines: %d" % st)
    s.close()
    print("ok: empty lines before the request line are ignored (RFC 9112 2.2), 3000 of them too")


GROUPS = {k[2:]: v for k, v in globals().items() if k.startswith("g_")}

failed = 0
for name in sys.argv[3:]:
    try:
        GROUPS[name]()
    except Exception as e:  # noqa
        failed += 1
        print("FAIL: %s: %s" % (name, e))
sys.exit(failed)
