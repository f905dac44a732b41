# SPDX-License-Identifier: MIT
"""Hostile and broken clients against the real daemon (issue 8): slowloris,
many idle connections and the connection cap, heads at and over the limits,
a body that never ends, a WebSocket client that never reads during a flood of
PutEvents, DNS rebinding, cross-origin WebSocket and S3 requests, keys and
metadata with control characters and HTML/terminal escapes, and a full disk.

Raw sockets (standard library) for what no well-behaved client would send,
boto3 for the normal clients that must keep being served. The daemon's HTTP
timeouts are shortened through its configuration ("http" in
docs/configuration.md) so the slow cases take seconds; the defaults are the
same code with larger numbers (docs/reliability.md).

Run by hand: BB_DAEMON=build/emulator/bucketbridge python3 tests/integration/test_hostile.py
"""

import base64
import http.client
import json
import os
import resource
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402

try:
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
except ImportError as e:  # pragma: no cover
    bbdaemon.skip_module(f"boto3 is not importable by {sys.executable}: {e}")

RAW = "my-raw-images"
HEAD_TIMEOUT_S = 2  # http.head_timeout_seconds for the test daemon
BODY_TIMEOUT_S = 2  # http.body_timeout_seconds
HTTP_MAX_HEAD = 48 * 1024  # emulator/http_parse.h
HTTP_MAX_HEADERS = 128
# ASan's quarantine would hide the daemon's own memory use
ASAN_SMALL_QUARANTINE = "quarantine_size_mb=4:thread_local_quarantine_size_kb=64"


# ---- small helpers -------------------------------------------------------
def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def s3_client(d, timeout=20):
    return boto3.client("s3", endpoint_url=d.endpoint, aws_access_key_id=bbdaemon.ACCESS_KEY,
                        aws_secret_access_key=bbdaemon.SECRET_KEY, region_name=bbdaemon.REGION,
                        config=Config(s3={"addressing_style": "path"}, connect_timeout=timeout,
                                      read_timeout=timeout, retries={"max_attempts": 1}))


def events_client(d, timeout=20):
    return boto3.client("events", endpoint_url=d.endpoint, aws_access_key_id=bbdaemon.ACCESS_KEY,
                        aws_secret_access_key=bbdaemon.SECRET_KEY, region_name=bbdaemon.REGION,
                        config=Config(connect_timeout=timeout, read_timeout=timeout,
                                      retries={"max_attempts": 1}))


def error_code(body):
    try:
        el = ET.fromstring(body).find("Code")
    except ET.ParseError:
        return None
    return el.text if el is not None else None


def read_response(s, timeout=10.0):
    """Reads one HTTP response from socket s: (status, headers dict, body);
    status None when the server closed without answering."""
    s.settimeout(timeout)
    r = http.client.HTTPResponse(s)
    try:
        r.begin()
    except (http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine):
        return None, {}, b""
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


def exchange(port, data, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_response(s, timeout)
    finally:
        s.close()


def closed_by_peer(s, timeout):
    """Waits up to timeout for the peer to close s (EOF or reset). Returns
    (closed, bytes received before the close)."""
    got = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        try:
            b = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return True, got
        if not b:
            return True, got
        got += b
    return False, got


def health_json(port, timeout=10.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", "/_bucketbridge/health")
        r = c.getresponse()
        body = r.read()
        return r.status, json.loads(body) if r.status == 200 else {}
    finally:
        c.close()


def tmp_with_bytes(d):
    """The files in the daemon's upload temp dir that hold bytes (empty
    files may be kept ready for the next upload)."""
    out = []
    for n in d.tmp_entries():
        try:
            if os.path.getsize(os.path.join(d.tmp_dir, n)) > 0:
                out.append(n)
        except FileNotFoundError:
            pass
    return out


def wait_tmp_clean(d, timeout=10.0):
    bbdaemon.wait_until(lambda: not tmp_with_bytes(d), timeout)
    return tmp_with_bytes(d)


def raise_nofile(want):
    """Raises this process's descriptor limit toward want; returns the
    soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- a minimal WebSocket client (RFC 6455) -----------------------------------
class WS:
    """Just enough WebSocket for the tests: upgrade, masked text frames out,
    unmasked frames in. rcvbuf shrinks the socket's receive buffer so a
    client that stops reading backs the daemon up quickly."""

    def __init__(self, port, token=bbdaemon.SECRET_KEY, origin=None, host=None, rcvbuf=None,
                 timeout=10.0):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.s.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET /_bucketbridge/events?token={token} HTTP/1.1",
                 f"Host: {host or f'127.0.0.1:{port}'}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if origin is not None:
            lines.append(f"Origin: {origin}")
        self.s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            b = self.s.recv(4096)
            if not b:
                break
            self.buf += b
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
        self.status = int(status_line.split()[1]) if len(status_line.split()) > 1 else None
        self.head = head.decode(errors="replace")
        if self.status != 101:
            # the rest is the error body (Content-Length) if any
            self.body = self.buf
            self.s.settimeout(2.0)
            try:
                while True:
                    b = self.s.recv(4096)
                    if not b:
                        break
                    self.body += b
            except (socket.timeout, ConnectionResetError):
                pass

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x81])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _need(self, n):
        while len(self.buf) < n:
            b = self.s.recv(65536)
            if not b:
                raise ConnectionError("websocket closed")
            self.buf += b

    def recv(self):
        """The next text message, parsed as JSON; answers pings."""
        while True:
            self._need(2)
            op, ln = self.buf[0] & 0x0F, self.buf[1] & 0x7F
            off = 2
            if ln == 126:
                self._need(4)
                ln, off = struct.unpack("!H", self.buf[2:4])[0], 4
            elif ln == 127:
                self._need(10)
                ln, off = struct.unpack("!Q", self.buf[2:10])[0], 10
            self._need(off + ln)
            payload, self.buf = self.buf[off:off + ln], self.buf[off + ln:]
            if op == 0x1:
                return json.loads(payload)
            if op == 0x8:
                raise ConnectionError(f"websocket close frame {payload[:2].hex()}")
            if op == 0x9:  # ping -> pong
                mask = os.urandom(4)
                self.s.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask
                               + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


# ---- the tests ---------------------------------------------------------------
class HostileTest(unittest.TestCase):
    """One daemon with short head and body timeouts; no consumers."""

    d = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = bbdaemon.Daemon(
            name="hostile", extra_args=["--no-consumers"],
            config={"http": {"head_timeout_seconds": HEAD_TIMEOUT_S,
                             "body_timeout_seconds": BODY_TIMEOUT_S}})
        os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") + ":"
                                      + ASAN_SMALL_QUARANTINE).lstrip(":")
        cls.d.start()
        cls.s3 = s3_client(cls.d)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.check_clean_exit()
        finally:
            super().tearDownClass()

    def assertAlive(self):
        self.assertTrue(self.d.alive(), "daemon is not healthy:\n" + self.d.log_tail(40))

    def wire(self, method, target, headers=(), host=None):
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host or f'127.0.0.1:{self.d.port}'}"]
        lines += [f"{k}: {v}" for k, v in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    # ---- slowloris -----------------------------------------------------------
    def test_slowloris(self):
        """Heads trickled a byte every 0.2 s: each connection is closed once
        its head deadline passes (trickling does not extend it), and normal
        clients are served the whole time."""
        n_slow = 6
        results = [None] * n_slow
        stop = threading.Event()

        def trickle(i):
            s = socket.create_connection(("127.0.0.1", self.d.port), timeout=5)
            data = (f"PUT /{RAW}/slow-{i} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                    + "a" * 10000).encode()
            t0 = time.monotonic()
            sent = 0
            try:
                while not stop.is_set() and time.monotonic() - t0 < 40:
                    try:
                        s.send(data[sent:sent + 1])
                        sent += 1
                    except (BrokenPipeError, ConnectionResetError):
                        results[i] = ("closed", time.monotonic() - t0, sent, b"")
                        return
                    closed, got = closed_by_peer(s, 0.2)
                    if closed or got:
                        results[i] = ("closed" if closed else "answered",
                                      time.monotonic() - t0, sent, got)
                        return
                results[i] = ("open", time.monotonic() - t0, sent, b"")
            finally:
                s.close()

        threads = [threading.Thread(target=trickle, args=(i,)) for i in range(n_slow)]
        for t in threads:
            t.start()
        try:
            # normal clients, served while the trickling connections are open
            served = 0
            t_end = time.monotonic() + HEAD_TIMEOUT_S + 1
            while time.monotonic() < t_end or served < 10:
                key = f"normal-{served}"
                self.s3.put_object(Bucket=RAW, Key=key, Body=key.encode())
                self.assertEqual(self.s3.get_object(Bucket=RAW, Key=key)["Body"].read(),
                                 key.encode())
                served += 1
            for t in threads:
                t.join(60)
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        print(f"# slowloris: {n_slow} trickling heads closed after "
              + ", ".join(f"{r[1]:.1f}" for r in results if r) + f" s; {served} S3 PUT+GET "
              f"pairs served meanwhile", flush=True)
        for i, r in enumerate(results):
            with self.subTest(conn=i):
                self.assertIsNotNone(r, "trickler did not finish")
                what, secs, sent, got = r
                self.assertEqual(what, "closed", f"connection {what} after {secs:.1f} s, "
                                 f"{sent} bytes sent, got {got[:200]!r}")
                # closed by the head deadline, not before it, while it
                # still trickled (generous upper bound: loaded CI)
                self.assertGreaterEqual(secs, HEAD_TIMEOUT_S - 0.5)
                self.assertLess(secs, HEAD_TIMEOUT_S + 25)
                self.assertGreater(sent, 3)
        for i in range(n_slow):
            self.assertFalse(os.path.lexists(self.d.object_path(RAW, f"slow-{i}")))
        self.assertAlive()

    # ---- many idle connections --------------------------------------------------
    def test_idle_connections_bounded_memory(self):
        """2,000 idle connections (BB_HOSTILE_IDLE_CONNS for a manual run
        with more): the daemon's RSS grows by a bounded amount, new clients
        are served while they are open, and closing them brings the
        connection count back."""
        n = int(os.environ.get("BB_HOSTILE_IDLE_CONNS", "2000"))
        if raise_nofile(n + 200) < n + 100:
            self.skipTest(f"this process may open at most {resource.getrlimit(resource.RLIMIT_NOFILE)}"
                          f" descriptors; {n + 100} needed")
        pid = self.d.proc.pid
        rss0 = rss_kib(pid)
        socks = []
        try:
            for _ in range(n):
                socks.append(socket.create_connection(("127.0.0.1", self.d.port), timeout=10))
            ok = bbdaemon.wait_until(lambda: health_json(self.d.port)[1].get("connections", 0)
                                     >= n, 60, interval=0.2)
            self.assertTrue(ok, f"the daemon never counted {n} connections: "
                            f"{health_json(self.d.port)}")
            rss1 = rss_kib(pid)
            per_conn = (rss1 - rss0) * 1024 / n
            print(f"# {n} idle connections: RSS {rss0} -> {rss1} KiB "
                  f"({per_conn:.0f} bytes per connection)", flush=True)
            self.assertLess(rss1 - rss0, 64 * 1024, "RSS grew by more than 64 MiB")
            # a new client is served while they are open
            self.s3.put_object(Bucket=RAW, Key="while-idle", Body=b"x")
            self.assertEqual(self.s3.get_object(Bucket=RAW, Key="while-idle")["Body"].read(),
                             b"x")
        finally:
            for s in socks:
                s.close()
        ok = bbdaemon.wait_until(lambda: health_json(self.d.port)[1].get("connections", n) < 10,
                                 30, interval=0.2)
        self.assertTrue(ok, f"connections not released: {health_json(self.d.port)}")

    # ---- heads and header counts over the limits -------------------------------------
    def test_head_size_and_header_count_limits(self):
        """At the limit served, one past it 400 RequestHeaderSectionTooLarge
        with an S3 XML body, and the connection closed."""
        target = "/_bucketbridge/health"
        # header count: Host + (HTTP_MAX_HEADERS - 1) is the most
        for extra, want in ((HTTP_MAX_HEADERS - 1, 200), (HTTP_MAX_HEADERS, 400),
                            (4 * HTTP_MAX_HEADERS, 400)):
            with self.subTest(headers=extra + 1):
                head = self.wire("GET", target, [(f"X-P{i}", "v") for i in range(extra)])
                status, hdrs, body = exchange(self.d.port, head)
                self.assertEqual(status, want, body[:300])
                if want == 400:
                    self.assertEqual(error_code(body), "RequestHeaderSectionTooLarge", body)
                    self.assertEqual(hdrs.get("connection"), "close")
        # head size: the whole head (request line to the blank line)
        base = self.wire("GET", target, [("X-Big", "")])
        for size, want in ((HTTP_MAX_HEAD, 200), (HTTP_MAX_HEAD + 1, 400),
                           (HTTP_MAX_HEAD * 4, 400)):
            with self.subTest(head_bytes=size):
                head = self.wire("GET", target, [("X-Big", "a" * (size - len(base)))])
                self.assertEqual(len(head), size)
                status, hdrs, body = exchange(self.d.port, head)
                self.assertEqual(status, want, body[:300])
                if want == 400:
                    self.assertEqual(error_code(body), "RequestHeaderSectionTooLarge", body)
        # a request line alone over the limit
        status, _, body = exchange(self.d.port,
                                   self.wire("GET", f"/{RAW}/" + "k" * HTTP_MAX_HEAD))
        self.assertEqual(status, 400, body[:300])
        self.assertIsNotNone(error_code(body), body[:300])
        self.assertAlive()

    # ---- a body that never ends -----------------------------------------------------
    def test_body_that_never_ends(self):
        """A PUT whose body stops coming (Content-Length and chunked): the
        connection is closed after the body timeout, the temporary file is
        removed and no object appears."""
        for framing in ("content-length", "chunked"):
            with self.subTest(framing=framing):
                key = f"never-ends-{framing}"
                url = self.s3.generate_presigned_url("put_object",
                                                     Params={"Bucket": RAW, "Key": key})
                u = urllib.parse.urlsplit(url)
                if framing == "content-length":
                    hdrs, first = [("Content-Length", str(8 << 20))], b"x" * 65536
                else:
                    hdrs, first = [("Transfer-Encoding", "chunked")], b"10000\r\n" + b"x" * 65536
                s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
                try:
                    # the daemon's body timer starts at the last byte it
                    # reads, so after t0: the close comes at least
                    # BODY_TIMEOUT_S after t0
                    t0 = time.monotonic()
                    s.sendall(self.wire("PUT", f"{u.path}?{u.query}", hdrs) + first)
                    self.assertTrue(bbdaemon.wait_until(lambda: tmp_with_bytes(self.d), 10),
                                    "the upload never reached a temporary file")
                    closed, got = closed_by_peer(s, BODY_TIMEOUT_S + 30)
                    secs = time.monotonic() - t0
                finally:
                    s.close()
                print(f"# body that never ends ({framing}): closed {secs:.1f} s after the "
                      f"bytes were sent", flush=True)
                self.assertTrue(closed, "connection still open")
                self.assertGreaterEqual(secs, BODY_TIMEOUT_S - 0.5)
                self.assertEqual(wait_tmp_clean(self.d), [], "partial upload left in tmp")
                self.assertFalse(os.path.lexists(self.d.object_path(RAW, key)))
                with self.assertRaises(self.s3.exceptions.ClientError) as cm:
                    self.s3.head_object(Bucket=RAW, Key=key)
                self.assertEqual(cm.exception.response["Error"]["Code"], "404")
        self.assertAlive()

    # ---- a WebSocket client that never reads, during a PutEvents flood -----------------
    def signed_put_events(self, entries):
        """One signed PutEvents request (head + body, bytes). A signed
        request may be sent again and again: the flood reuses it, so the
        client's signing cost does not limit the rate."""
        body = json.dumps({"Entries": entries}).encode()
        req = AWSRequest(method="POST", url=self.d.endpoint + "/", data=body, headers={
            "X-Amz-Target": "AWSEvents.PutEvents",
            "Content-Type": "application/x-amz-json-1.1"})
        SigV4Auth(Credentials(bbdaemon.ACCESS_KEY, bbdaemon.SECRET_KEY), "events",
                  bbdaemon.REGION).add_auth(req)
        hdrs = [(k, v) for k, v in req.headers.items() if k.lower() != "host"]
        hdrs.append(("Content-Length", str(len(body))))
        return self.wire("POST", "/", hdrs) + body

    def test_ws_never_reads_during_put_events_flood(self):
        """A subscriber with a tiny receive buffer stops reading while 3
        clients put 12,000 events of 2 KiB: the daemon's RSS stays bounded,
        a reading subscriber gets every event, S3 keeps answering, and the
        stalled one is told it lagged once it reads again."""
        n_events = 12000  # over the 10,000-event lag limit (docs/websocket.md)
        pattern = {"source": ["hostile.flood"]}
        stalled = WS(self.d.port, rcvbuf=4096)
        reader = WS(self.d.port)
        self.assertEqual((stalled.status, reader.status), (101, 101))
        for ws, sid in ((stalled, "stalled"), (reader, "reader")):
            ws.send({"type": "subscribe", "id": sid, "pattern": pattern, "from": "latest"})
            self.assertEqual(ws.recv()["type"], "subscribed")
        # one event both read: caught up, so the stalled one can lag
        entry = {"Source": "hostile.flood", "DetailType": "flood",
                 "Detail": json.dumps({"pad": "p" * 2048})}
        status, _, body = exchange(self.d.port, self.signed_put_events([entry]))
        self.assertEqual(status, 200, body[:300])
        for ws in (stalled, reader):
            self.assertEqual(ws.recv()["type"], "event")

        got = {"n": 0, "err": None}

        def read_all():
            try:
                while got["n"] < n_events:
                    if reader.recv().get("type") == "event":
                        got["n"] += 1
            except Exception as e:  # noqa: BLE001 - reported below
                got["err"] = repr(e)

        rt = threading.Thread(target=read_all)
        rt.start()
        pid = self.d.proc.pid
        rss0 = rss_kib(pid)
        rss_max = [rss0]
        failures = []
        request = self.signed_put_events([entry] * 10)

        def put(batches):
            s = socket.create_connection(("127.0.0.1", self.d.port), timeout=30)
            try:
                for _ in range(batches):
                    s.sendall(request)
                    status, _, body = read_response(s, 30)
                    if status != 200 or json.loads(body).get("FailedEntryCount"):
                        failures.append((status, body[:300]))
                        return
            finally:
                s.close()

        n_workers = 3
        workers = [threading.Thread(target=put, args=(n_events // 10 // n_workers,))
                   for _ in range(n_workers)]
        t0 = time.monotonic()
        for t in workers:
            t.start()
        # S3 still answers during the flood
        s3_ok = 0
        while any(t.is_alive() for t in workers):
            self.s3.put_object(Bucket=RAW, Key="during-flood", Body=b"y")
            s3_ok += 1
            rss_max[0] = max(rss_max[0], rss_kib(pid))
            time.sleep(0.05)
        for t in workers:
            t.join()
        secs = time.monotonic() - t0
        rt.join(120)
        rss_max[0] = max(rss_max[0], rss_kib(pid))
        growth = (rss_max[0] - rss0) / 1024
        print(f"# flood: {n_events} events in {secs:.1f} s; RSS {rss0} KiB -> max "
              f"{rss_max[0]} KiB (+{growth:.1f} MiB); {s3_ok} S3 PUTs during it", flush=True)
        self.assertEqual(failures, [])
        self.assertIsNone(got["err"])
        self.assertEqual(got["n"], n_events, "the reading subscriber missed events")
        self.assertGreater(s3_ok, 0)
        self.assertLess(growth, 64, f"RSS grew {growth:.1f} MiB")
        # the stalled subscriber reads now: what was buffered, then "lagged"
        stalled.s.settimeout(30)
        lagged = None
        seen = 0
        while lagged is None:
            m = stalled.recv()
            if m.get("type") == "event":
                seen += 1
            elif m.get("type") == "lagged":
                lagged = m
        print(f"# the stalled subscriber read {seen} events, then lagged at "
              f"{lagged.get('resume_from')}", flush=True)
        self.assertEqual(lagged["sub"], "stalled")
        self.assertIsInstance(lagged["resume_from"], int)
        self.assertLess(seen, n_events)
        stalled.close()
        reader.close()
        self.assertAlive()

    # ---- DNS rebinding: a foreign Host ------------------------------------------------
    def test_foreign_host_refused_everywhere(self):
        """A page on evil.example that rebinds its name to 127.0.0.1 sends
        Host: evil.example. Every surface answers 403 and does nothing."""
        host = "evil.example"
        evil = boto3.client("s3", endpoint_url=f"http://{host}:{self.d.port}",
                            aws_access_key_id=bbdaemon.ACCESS_KEY,
                            aws_secret_access_key=bbdaemon.SECRET_KEY,
                            region_name=bbdaemon.REGION,
                            config=Config(s3={"addressing_style": "path"}))
        put_url = evil.generate_presigned_url("put_object",
                                              Params={"Bucket": RAW, "Key": "rebound"})
        put = urllib.parse.urlsplit(put_url)
        cases = {
            "signed S3 PUT": (self.wire("PUT", f"{put.path}?{put.query}",
                                        [("Content-Length", "5")], host=host) + b"owned"),
            "health": self.wire("GET", "/_bucketbridge/health", host=host),
            "metrics": self.wire("GET", "/_bucketbridge/metrics", host=host),
            "viewer": self.wire("GET", "/_bucketbridge/", host=host),
            "reset": self.wire("POST", "/_bucketbridge/reset", [("Content-Length", "0")],
                               host=host),
            "EventBridge PutEvents": self.wire(
                "POST", "/", [("X-Amz-Target", "AWSEvents.PutEvents"),
                              ("Content-Type", "application/x-amz-json-1.1"),
                              ("Content-Length", "2")], host=host) + b"{}",
            "Host with a local-looking prefix": self.wire(
                "GET", f"/{RAW}", host=f"127.0.0.1.{host}:{self.d.port}"),
            "localhost as a subdomain of a foreign name": self.wire(
                "GET", f"/{RAW}", host=f"localhost.{host}"),
        }
        for what, data in cases.items():
            with self.subTest(case=what):
                status, _, body = exchange(self.d.port, data)
                self.assertEqual((status, error_code(body)), (403, "AccessDenied"), body[:300])
        ws = WS(self.d.port, host=host)
        try:
            self.assertEqual(ws.status, 403, ws.head)
        finally:
            ws.close()
        self.assertFalse(os.path.lexists(self.d.object_path(RAW, "rebound")))
        self.assertAlive()

    # ---- cross-origin WebSocket ----------------------------------------------------------
    def test_cross_origin_websocket(self):
        """Foreign origins (look-alikes included) get 403 and no upgrade; a
        local one is upgraded (the positive twin)."""
        for origin in ("http://localhost.evil.example", "http://127.0.0.1.evil.example:8080",
                       "http://evil.example:%d" % self.d.port, "https://[::1].evil.example",
                       "file://", "http://evil.example/http://localhost"):
            with self.subTest(origin=origin):
                ws = WS(self.d.port, origin=origin)
                try:
                    self.assertEqual(ws.status, 403, ws.head)
                    self.assertEqual(error_code(ws.body), "AccessDenied", ws.body[:300])
                finally:
                    ws.close()
        for origin in ("http://localhost:3000", f"http://127.0.0.1:{self.d.port}"):
            with self.subTest(origin=origin):
                ws = WS(self.d.port, origin=origin)
                try:
                    self.assertEqual(ws.status, 101, ws.head)
                finally:
                    ws.close()

    # ---- cross-origin S3 without a CORS rule ---------------------------------------------
    def form_post(self, bucket, key, origin):
        p = self.s3.generate_presigned_post(bucket, key)
        bnd = uuid.uuid4().hex
        body = b""
        for k, v in p["fields"].items():
            body += (f'--{bnd}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'
                     f"{v}\r\n").encode()
        body += (f'--{bnd}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
                 f"Content-Type: text/plain\r\n\r\nfrom {origin}\r\n--{bnd}--\r\n").encode()
        hdrs = [("Content-Type", f"multipart/form-data; boundary={bnd}"),
                ("Content-Length", str(len(body)))]
        if origin is not None:
            hdrs.append(("Origin", origin))
        return exchange(self.d.port, self.wire("POST", f"/{bucket}", hdrs) + body)

    def test_cross_origin_s3_without_cors_rule(self):
        """No CORS rule: a foreign page's GET gets no Access-Control-Allow-
        Origin (the browser hides the answer), its preflight is refused, and
        its form POST (a simple request, no preflight, signed with the
        well-known test keys) is refused and stores nothing. A local page,
        and a foreign one a CORS rule allows, can post."""
        evil = "http://evil.example"
        self.s3.put_object(Bucket=RAW, Key="secret.txt", Body=b"secret")
        url = self.s3.generate_presigned_url("get_object",
                                             Params={"Bucket": RAW, "Key": "secret.txt"})
        u = urllib.parse.urlsplit(url)
        status, hdrs, body = exchange(self.d.port, self.wire("GET", f"{u.path}?{u.query}",
                                                             [("Origin", evil)]))
        self.assertEqual(status, 200)
        self.assertNotIn("access-control-allow-origin", hdrs)
        self.assertNotIn("access-control-allow-credentials", hdrs)
        status, hdrs, body = exchange(self.d.port, self.wire(
            "OPTIONS", f"/{RAW}/secret.txt",
            [("Origin", evil), ("Access-Control-Request-Method", "PUT")]))
        self.assertEqual(status, 403, body[:300])
        self.assertNotIn("access-control-allow-origin", hdrs)

        status, _, body = self.form_post(RAW, "csrf.txt", evil)
        self.assertEqual((status, error_code(body)), (403, "AccessDenied"), body[:300])
        status, _, body = self.form_post(RAW, "csrf-null.txt", "null")
        self.assertEqual((status, error_code(body)), (403, "AccessDenied"), body[:300])
        for k in ("csrf.txt", "csrf-null.txt"):
            self.assertFalse(os.path.lexists(self.d.object_path(RAW, k)))
        # positive twins: a local page, no Origin at all, and a CORS rule
        for key, origin in (("local.txt", "http://localhost:3000"), ("no-origin.txt", None)):
            status, _, body = self.form_post(RAW, key, origin)
            self.assertEqual(status, 204, body[:300])
            self.assertEqual(self.d.read_object_file(RAW, key), f"from {origin}".encode())
        self.s3.create_bucket(Bucket="cors-allowed")
        self.s3.put_bucket_cors(Bucket="cors-allowed", CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": [evil], "AllowedMethods": ["POST"]}]})
        status, hdrs, body = self.form_post("cors-allowed", "allowed.txt", evil)
        self.assertEqual(status, 204, body[:300])
        self.assertEqual(hdrs.get("access-control-allow-origin"), evil)
        status, _, body = self.form_post("cors-allowed", "other.txt", "http://other.example")
        self.assertEqual((status, error_code(body)), (403, "AccessDenied"), body[:300])

    # ---- control characters, HTML and terminal escapes ----------------------------------
    NASTY = [
        "ctl-\x01\x02\x03\x07\x08",
        "ansi-\x1b[31mred\x1b[0m\x1b]0;title\x07",
        "html-<script>alert(1)</script>&amp;\"'",
        "tab\tand\nnewline\rreturn",
        "del-\x7f",
        "bidi-\u202egnp.exe",
        "log-injection\nts=2026-01-01T00:00:00Z level=error msg=\"forged\"",
    ]

    def test_control_characters_in_keys_and_metadata(self):
        """Keys and metadata values with control characters and HTML or
        terminal escapes are stored and returned exactly; the daemon's log
        never carries them raw."""
        meta_values = ["<img src=x onerror=alert(1)>", "\"quoted\" & 'single'",
                       "a;b=c, d\\e"]
        for i, key in enumerate(self.NASTY):
            with self.subTest(key=key):
                meta = {"v": meta_values[i % len(meta_values)]}
                body = key.encode() * 3
                self.s3.put_object(Bucket=RAW, Key=key, Body=body, Metadata=meta)
                g = self.s3.get_object(Bucket=RAW, Key=key)
                self.assertEqual(g["Body"].read(), body)
                self.assertEqual(g["Metadata"], meta)
                self.assertEqual(self.s3.head_object(Bucket=RAW, Key=key)["Metadata"], meta)
        # control characters cannot be in an HTTP header value (RFC 9110):
        # a metadata value with one is refused as a whole, nothing stored
        for value in ("\x1b[2J\x1b[Hcleared", "bell\x07", "nul\x00x"):
            with self.subTest(meta=value):
                key = "bad-meta"
                url = self.s3.generate_presigned_url("put_object",
                                                     Params={"Bucket": RAW, "Key": key})
                u = urllib.parse.urlsplit(url)
                status, _, rbody = exchange(self.d.port, self.wire(
                    "PUT", f"{u.path}?{u.query}",
                    [("x-amz-meta-v", value), ("Content-Length", "1")]) + b"z")
                self.assertEqual(status, 400, rbody[:300])
                self.assertIsNotNone(error_code(rbody), rbody[:300])
                self.assertFalse(os.path.lexists(self.d.object_path(RAW, key)))
        listed = {o["Key"] for o in self.s3.list_objects_v2(Bucket=RAW,
                                                             Prefix="")["Contents"]}
        self.assertTrue(set(self.NASTY) <= listed, set(self.NASTY) - listed)
        time.sleep(0.2)  # the request log line of the last HEAD
        with open(self.d.log_paths[-1], "rb") as f:
            log = f.read()
        raw = sorted({c for c in log if (c < 0x20 and c != 0x0A) or c == 0x7F})
        self.assertEqual(raw, [], f"raw control bytes in the daemon log: {raw}")
        for line in log.splitlines():
            self.assertTrue(line.startswith(b"ts=") or not line.strip(),
                            f"a line that is not logfmt (forged by a key?): {line[:200]!r}")
            self.assertFalse(line.startswith(b"ts=2026-01-01"), f"forged log line: {line!r}")
        # the requests are there, with the keys percent-encoded
        self.assertIn(b"ansi-%1B%5B31mred%1B%5B0m", log)
        self.assertIn(b"html-%3Cscript%3Ealert%281%29%3C/script%3E", log)
        self.assertAlive()


class ConnectionCapTest(unittest.TestCase):
    """The connection cap: http.max_connections, and the descriptor limit."""

    def tearDown(self):
        for d in getattr(self, "daemons", []):
            d.check_clean_exit()

    def open_until_refused(self, d, n):
        """Opens n connections; returns (open sockets, 503 answers). A
        refused one is answered at once; the wait ends when none has been
        answered for a second."""
        socks = [socket.create_connection(("127.0.0.1", d.port), timeout=10) for _ in range(n)]
        refused, kept = [], list(socks)
        while True:
            ready, _, _ = select.select(kept, [], [], 1.0)
            if not ready:
                return kept, refused
            for s in ready:
                refused.append(read_response(s, 5))
                s.close()
                kept.remove(s)

    def check_cap(self, d, cap, n):
        kept, refused = self.open_until_refused(d, n)
        print(f"# cap {cap}: {n} connections opened, {len(kept)} kept, {len(refused)} answered "
              f"503", flush=True)
        try:
            self.assertGreaterEqual(len(refused), n - cap, f"{len(kept)} kept open")
            self.assertLessEqual(len(kept), cap)
            for status, hdrs, body in refused:
                self.assertEqual(status, 503, body[:300])
                self.assertEqual(error_code(body), "SlowDown", body[:300])
                self.assertEqual(hdrs.get("connection"), "close")
            self.assertIn(f"({cap} at most)".encode(), refused[0][2])
            # at the cap a new client is refused with the same clear answer
            status, _, body = exchange(d.port, b"GET /_bucketbridge/health HTTP/1.1\r\n"
                                       b"Host: 127.0.0.1\r\n\r\n")
            self.assertEqual((status, error_code(body)), (503, "SlowDown"), body[:300])
        finally:
            for s in kept:
                s.close()
        # room again once they are closed
        ok = bbdaemon.wait_until(lambda: d.alive(), 20, interval=0.2)
        self.assertTrue(ok, "not served after the idle connections closed:\n" + d.log_tail(20))
        with open(d.log_paths[-1], "rb") as f:
            log = f.read()
        self.assertIn(b"connection refused: too many open connections", log)
        self.assertNotIn(b"accept: errno", log)

    def test_configured_cap(self):
        d = bbdaemon.Daemon(name="cap", extra_args=["--no-consumers"],
                            config={"http": {"max_connections": 64}}).start()
        self.daemons = [d]
        self.check_cap(d, 64, 100)

    def test_websockets_count_toward_the_cap(self):
        """Upgraded WebSockets hold descriptors too: with 30 of them open
        under a cap of 32, the third plain connection is refused, and so is
        another upgrade."""
        d = bbdaemon.Daemon(name="wscap", extra_args=["--no-consumers"],
                            config={"http": {"max_connections": 32}}).start()
        self.daemons = [d]
        socks = []
        try:
            for _ in range(30):
                ws = WS(d.port)
                socks.append(ws)
                self.assertEqual(ws.status, 101, ws.head)
            ok = bbdaemon.wait_until(
                lambda: health_json(d.port)[1].get("connections", 99) <= 1, 10, interval=0.1)
            self.assertTrue(ok, "upgraded connections still counted as HTTP")
            kept, refused = self.open_until_refused(d, 5)
            socks += kept
            print(f"# cap 32 with 30 WebSockets: 5 connections opened, {len(kept)} kept, "
                  f"{len(refused)} answered 503", flush=True)
            # 2 fit; fewer while health checks' connections are still
            # closing on the daemon's side
            self.assertLessEqual(len(kept), 2)
            self.assertEqual([(st, error_code(b)) for st, _, b in refused],
                             [(503, "SlowDown")] * (5 - len(kept)))
            # fill a slot the health check's connection may have freed since
            more, _ = self.open_until_refused(d, 2)
            socks += more
            self.assertLessEqual(len(kept) + len(more), 2)
            extra = WS(d.port)
            socks.append(extra)
            self.assertEqual(extra.status, 503, extra.head)
            self.assertEqual(error_code(extra.body), "SlowDown", extra.body[:300])
        finally:
            for s in socks:
                (s.close() if isinstance(s, WS) else s.close())
        self.assertTrue(bbdaemon.wait_until(d.alive, 20, interval=0.2),
                        "not served once the WebSockets closed")

    def test_descriptor_limit_cap(self):
        """Under `ulimit -n 256` the cap is 192 (a quarter of the descriptors
        stays for files and the database): connections past it get 503 at
        once, instead of waiting unaccepted in the backlog while the daemon
        logs accept() failures."""
        if shutil.which("sh") is None:
            self.skipTest("no sh to lower the daemon's descriptor limit")
        base = bbdaemon.require_daemon()
        wrapper = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                               f"bb-hostile-ulimit-{os.getpid()}.sh")
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\nulimit -n 256 || exit 1\nexec "{os.path.abspath(base)}" "$@"\n')
        os.chmod(wrapper, 0o755)
        try:
            d = bbdaemon.Daemon(binary=wrapper, name="fdcap", extra_args=["--no-consumers"])
            d.start()
            self.daemons = [d]
            self.check_cap(d, 192, 300)
        finally:
            os.unlink(wrapper)


class FullDiskTest(unittest.TestCase):
    """A data dir on an 8 MiB tmpfs, filled up by uploads."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("not root: cannot mount a small tmpfs as the data dir")
        if shutil.which("mount") is None or shutil.which("umount") is None:
            self.skipTest("mount/umount not installed")
        self.d = bbdaemon.Daemon(name="fulldisk", extra_args=["--no-consumers"])
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "bb-hostile-full",
                            self.d.data_dir], capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest(f"mount -t tmpfs failed (no privilege in this container?): "
                          f"{r.stderr.strip()}")
        self.addCleanup(self.unmount)

    def unmount(self):
        self.d.stop()
        subprocess.run(["umount", self.d.data_dir], check=False)

    def test_full_disk(self):
        d = self.d.start()
        s3 = s3_client(d, timeout=30)
        stored = {}
        failure = None
        for i in range(40):  # 40 x 512 KiB = 20 MiB > 8 MiB
            key = f"fill-{i:02d}"
            body = os.urandom(512 * 1024)
            try:
                s3.put_object(Bucket=RAW, Key=key, Body=body)
                stored[key] = body
            except s3.exceptions.ClientError as e:
                failure = e.response
                break
        self.assertIsNotNone(failure, "8 MiB took 20 MiB of uploads")
        status = failure["ResponseMetadata"]["HTTPStatusCode"]
        code = failure["Error"]["Code"]
        print(f"# full disk after {len(stored)} objects: HTTP {status} {code}: "
              f"{failure['Error'].get('Message')}", flush=True)
        self.assertIn(status, (500, 503, 507), failure)
        self.assertTrue(code and code.isalnum(), failure)
        self.assertTrue(d.alive(), "daemon not healthy on a full disk:\n" + d.log_tail(30))
        self.assertEqual(wait_tmp_clean(d), [], "partial upload left in tmp")
        # nothing already stored is damaged
        for key, body in stored.items():
            self.assertEqual(s3.get_object(Bucket=RAW, Key=key)["Body"].read(), body, key)
        # free space: delete half of the objects, then uploads work again
        for key in list(stored)[: len(stored) // 2 + 1]:
            s3.delete_object(Bucket=RAW, Key=key)
            del stored[key]
        body = os.urandom(512 * 1024)
        s3.put_object(Bucket=RAW, Key="after-free", Body=body)
        self.assertEqual(s3.get_object(Bucket=RAW, Key="after-free")["Body"].read(), body)
        for key, b in stored.items():
            self.assertEqual(s3.get_object(Bucket=RAW, Key=key)["Body"].read(), b, key)
        d.check_clean_exit()


if __name__ == "__main__":
    bbdaemon.main()
