# SPDX-License-Identifier: MIT
"""Bad input, sent raw over a socket: each must get the right S3 error and
leave nothing behind (no object, nothing in .bucketbridge/tmp, nothing
outside the bucket dir), and the daemon must stay up.

Requests are signed with botocore's S3SigV4Auth and then tampered with;
aws-chunked bodies are built and signed here (the chunk signer is checked
against AWS's published vector first), so every negative test has a positive
twin that must succeed."""

import base64
import binascii
import hashlib
import hmac
import http.client
import os
import socket
import sys
import unittest
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402
from bbdaemon import DaemonTestCase  # noqa: E402

try:
    import botocore.auth
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:  # pragma: no cover
    bbdaemon.skip_module(f"botocore is not importable by {sys.executable}: {e}")

RAW = "my-raw-images"
THUMBS = "my-thumbnails"
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


# ---- signing -------------------------------------------------------------
class Signer(S3SigV4Auth):
    """S3SigV4Auth with a forced payload hash and clock, remembering the
    canonical request and string to sign it produced."""

    def __init__(self, access_key, secret_key, payload_hash=None, now=None):
        super().__init__(Credentials(access_key, secret_key), "s3", bbdaemon.REGION)
        self._payload_hash = payload_hash
        self._now = now
        self.last_canonical_request = None
        self.last_string_to_sign = None

    def payload(self, request):
        if self._payload_hash is not None:
            return self._payload_hash
        return super().payload(request)

    def canonical_request(self, request):
        cr = super().canonical_request(request)
        self.last_canonical_request = cr
        return cr

    def string_to_sign(self, request, canonical_request):
        sts = super().string_to_sign(request, canonical_request)
        self.last_string_to_sign = sts
        return sts

    def add_auth(self, request):
        if self._now is None:
            return super().add_auth(request)
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=self._now):
            return super().add_auth(request)


def signing_key(secret, date, region=bbdaemon.REGION, service="s3"):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def chunk_signature(key, amz_date, scope, prev, data):
    sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY_SHA,
                     hashlib.sha256(data).hexdigest()])
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def split_chunks(payload, size):
    return [payload[i:i + size] for i in range(0, len(payload), size)] + [b""]


def signed_chunked_length(chunks):
    return sum(len(f"{len(c):x};chunk-signature=") + 64 + 2 + len(c) + 2 for c in chunks)


def signed_chunked_body(chunks, key, amz_date, scope, seed, tamper_sig=None, tamper_data=None):
    """aws-chunked body with a signature chain; tamper_sig / tamper_data is
    the index of a chunk whose sent signature / data gets one bit flipped."""
    prev, out = seed, []
    for i, c in enumerate(chunks):
        sig = chunk_signature(key, amz_date, scope, prev, c)
        sent_sig, sent = sig, c
        if i == tamper_sig:
            sent_sig = sig[:-1] + ("0" if sig[-1] != "0" else "1")
        if i == tamper_data:
            sent = bytes([c[0] ^ 1]) + c[1:]
        out.append(f"{len(c):x};chunk-signature={sent_sig}\r\n".encode() + sent + b"\r\n")
        prev = sig
    return b"".join(out)


def unsigned_trailer_body(chunks, trailer_name, trailer_value):
    out = [f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks if c]
    out.append(f"0\r\n{trailer_name}:{trailer_value}\r\n\r\n".encode())
    return b"".join(out)


def crc32_b64(data):
    return base64.b64encode(binascii.crc32(data).to_bytes(4, "big")).decode()


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


# ---- raw HTTP ------------------------------------------------------------
class Resp:
    def __init__(self, status, headers, body, closed=None):
        self.status, self.headers, self.body, self.closed = status, headers, body, closed

    @property
    def code(self):
        try:
            root = ET.fromstring(self.body)
        except ET.ParseError:
            return None
        el = root.find("Code")
        return el.text if el is not None else None

    def field(self, name):
        try:
            el = ET.fromstring(self.body).find(name)
        except ET.ParseError:
            return None
        return el.text if el is not None else None

    def __repr__(self):
        return (f"HTTP {self.status} {dict(self.headers or {})}\n"
                f"{self.body[:3000].decode(errors='replace')}")


def raw_exchange(port, head, body=b"", method="PUT", shut_wr=False, check_closed=False,
                 timeout=15):
    """Sends head+body on a new connection and reads one response. Returns
    a Resp (status None when the server closed without answering)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(head + body)
            if shut_wr:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = http.client.HTTPResponse(s, method=method)
        try:
            r.begin()
        except (http.client.RemoteDisconnected, ConnectionResetError,
                http.client.BadStatusLine):
            return Resp(None, None, b"", closed=True)
        data = r.read()
        closed = None
        if check_closed:
            closed = wait_closed(s, 5.0)
        return Resp(r.status, r.headers, data, closed)
    finally:
        s.close()


def wait_closed(s, timeout):
    """True when the peer closes the connection within timeout."""
    s.settimeout(timeout)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class BadInputTest(DaemonTestCase):
    # ---- helpers ---------------------------------------------------------
    def sign(self, method, path, headers=None, body=b"", query="", access_key=None,
             secret=None, payload_hash=None, now=None, sign_path=None):
        """Returns (signer, request) for the raw path; sign_path overrides the
        path used for the canonical URI (defaults to the raw path)."""
        url = self.d.endpoint + (sign_path or path) + (("?" + query) if query else "")
        req = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
        signer = Signer(access_key or bbdaemon.ACCESS_KEY, secret or bbdaemon.SECRET_KEY,
                        payload_hash=payload_hash, now=now)
        signer.add_auth(req)
        return signer, req

    def wire(self, method, path, req_headers, query="", content_length=None):
        target = path + (("?" + query) if query else "")
        lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{self.d.port}"]
        have_cl = False
        for k, v in req_headers.items():
            if k.lower() == "host":
                continue
            if isinstance(v, bytes):
                v = v.decode()
            if k.lower() == "content-length":
                have_cl = True
            lines.append(f"{k}: {v}")
        if not have_cl and content_length is not None:
            lines.append(f"Content-Length: {content_length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def send(self, method, path, headers=None, body=b"", query="", wire_body=None, **kw):
        """Signs and sends; wire_body replaces the body actually sent."""
        send_kw = {k: kw.pop(k) for k in ("shut_wr", "check_closed") if k in kw}
        signer, req = self.sign(method, path, headers, body, query, **kw)
        sent = body if wire_body is None else wire_body
        head = self.wire(method, path, req.headers, query, content_length=len(sent)
                         if method in ("PUT", "POST") else None)
        return signer, raw_exchange(self.d.port, head, sent, method=method, **send_kw)

    def key_path(self, key, bucket=RAW):
        return f"/{bucket}/" + urllib.parse.quote(key, safe="/~")

    def assertS3Error(self, resp, status, code):
        self.assertEqual((resp.status, resp.code), (status, code), resp)

    def assertNothingStored(self, key, bucket=RAW):
        self.assertNoFile(bucket, key)
        _, r = self.send("GET", self.key_path(key, bucket))
        self.assertS3Error(r, 404, "NoSuchKey")
        self.assertTmpEmpty()
        self.assertAlive()

    # ---- self-check of the chunk signer ----------------------------------
    def test_00_chunk_signer_matches_aws_vector(self):
        # shared/reference/s3.md 3b, AWS's published example.
        key = signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524")
        scope = "20130524/us-east-1/s3/aws4_request"
        seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
        chunks = [b"a" * 65536, b"a" * 1024, b""]
        s1 = chunk_signature(key, "20130524T000000Z", scope, seed, chunks[0])
        s2 = chunk_signature(key, "20130524T000000Z", scope, s1, chunks[1])
        s3 = chunk_signature(key, "20130524T000000Z", scope, s2, chunks[2])
        self.assertEqual(s1, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648")
        self.assertEqual(s2, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497")
        self.assertEqual(s3, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9")
        self.assertEqual(signed_chunked_length(chunks), 66824)

    # ---- signatures ------------------------------------------------------
    def test_signed_put_control(self):
        key, body = "bad-ctl/plain.txt", b"control body"
        _, r = self.send("PUT", self.key_path(key), body=body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("ETag"), '"' + hashlib.md5(body).hexdigest() + '"')
        self.assertEqual(self.d.read_object_file(RAW, key), body)
        _, r = self.send("GET", self.key_path(key))
        self.assertEqual((r.status, r.body), (200, body))

    def test_wrong_secret(self):
        key, body = "bad-sig/wrong secret+x.txt", b"should not be stored"
        signer, r = self.send("PUT", self.key_path(key), body=body, secret="not-the-secret")
        self.assertS3Error(r, 403, "SignatureDoesNotMatch")
        self.assertIsNotNone(r.field("CanonicalRequest"), r)
        self.assertIsNotNone(r.field("StringToSign"), r)
        # The daemon's view of the request must equal the client's.
        self.assertEqual(r.field("CanonicalRequest"), signer.last_canonical_request)
        self.assertEqual(r.field("StringToSign"), signer.last_string_to_sign)
        self.assertEqual(r.field("AWSAccessKeyId"), bbdaemon.ACCESS_KEY)
        self.assertEqual(r.headers.get("Content-Type"), "application/xml")
        self.assertNothingStored(key)
        # A GET with the wrong secret too.
        _, r = self.send("GET", f"/{RAW}", query="list-type=2&prefix=a%20b",
                         secret="not-the-secret")
        self.assertS3Error(r, 403, "SignatureDoesNotMatch")

    def test_invalid_access_key_id(self):
        key = "bad-sig/unknown-akid.txt"
        _, r = self.send("PUT", self.key_path(key), body=b"x", access_key="AKIDNOBODY")
        self.assertS3Error(r, 403, "InvalidAccessKeyId")
        self.assertNothingStored(key)

    def test_request_time_too_skewed(self):
        key = "bad-sig/skewed.txt"
        for delta in (timedelta(hours=-1), timedelta(hours=1)):
            with self.subTest(delta=str(delta)):
                now = datetime.now(timezone.utc).replace(tzinfo=None) + delta
                _, r = self.send("PUT", self.key_path(key), body=b"x", now=now)
                self.assertS3Error(r, 403, "RequestTimeTooSkewed")
                self.assertNothingStored(key)

    def test_anonymous_request_denied(self):
        key = "bad-sig/anonymous.txt"
        head = self.wire("PUT", self.key_path(key), {}, content_length=1)
        r = raw_exchange(self.d.port, head, b"x")
        self.assertS3Error(r, 403, "AccessDenied")
        self.assertNothingStored(key)

    def test_wrong_content_sha256(self):
        key, body = "bad-sha/mismatch.txt", b"the real body"
        _, r = self.send("PUT", self.key_path(key), body=body,
                         payload_hash=hashlib.sha256(b"another body").hexdigest())
        self.assertS3Error(r, 400, "XAmzContentSHA256Mismatch")
        self.assertNothingStored(key)

    # ---- digests ---------------------------------------------------------
    def test_content_md5(self):
        key, body = "bad-md5/obj.txt", b"md5 body"
        _, r = self.send("PUT", self.key_path(key), body=body,
                         headers={"Content-MD5": md5_b64(b"other")})
        self.assertS3Error(r, 400, "BadDigest")
        self.assertNothingStored(key)
        for bad in ("not base64!!", "@@@@"):
            with self.subTest(content_md5=bad):
                _, r = self.send("PUT", self.key_path(key), body=body,
                                 headers={"Content-MD5": bad})
                self.assertS3Error(r, 400, "InvalidDigest")
                self.assertNothingStored(key)
        _, r = self.send("PUT", self.key_path(key), body=body,
                         headers={"Content-MD5": md5_b64(body)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.d.read_object_file(RAW, key), body)

    def test_content_md5_of_a_large_body(self):
        """Bodies of 1 MiB and more are hashed on the daemon's hashing thread
        (s3_bodyhash): the same BadDigest, and the right ETag when it
        matches."""
        key = "bad-md5/large.bin"
        body = os.urandom(3 * 1024 * 1024 + 12345)
        _, r = self.send("PUT", self.key_path(key), body=body,
                         headers={"Content-MD5": md5_b64(body[:-1] + b"x")})
        self.assertS3Error(r, 400, "BadDigest")
        self.assertNothingStored(key)
        _, r = self.send("PUT", self.key_path(key), body=body,
                         headers={"Content-MD5": md5_b64(body)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("ETag"), '"' + hashlib.md5(body).hexdigest() + '"')
        self.assertEqual(self.d.read_object_file(RAW, key), body)

    def test_checksum_crc32_header(self):
        key, body = "bad-crc/obj.txt", b"crc body"
        _, r = self.send("PUT", self.key_path(key), body=body,
                         headers={"x-amz-checksum-crc32": crc32_b64(b"other"),
                                  "x-amz-sdk-checksum-algorithm": "CRC32"})
        self.assertS3Error(r, 400, "BadDigest")
        self.assertNothingStored(key)
        _, r = self.send("PUT", self.key_path(key), body=body,
                         headers={"x-amz-checksum-crc32": crc32_b64(body),
                                  "x-amz-sdk-checksum-algorithm": "CRC32"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("x-amz-checksum-crc32"), crc32_b64(body))
        self.assertEqual(self.d.read_object_file(RAW, key), body)

    # ---- aws-chunked -----------------------------------------------------
    def send_signed_chunked(self, key, payload, chunk_size=8192, **tamper):
        chunks = split_chunks(payload, chunk_size)
        enc_len = signed_chunked_length(chunks)
        headers = {"Content-Encoding": "aws-chunked", "Content-Length": str(enc_len),
                   "x-amz-decoded-content-length": str(len(payload))}
        path = self.key_path(key)
        signer, req = self.sign("PUT", path, headers, payload_hash=STREAMING_SIGNED)
        amz_date = req.context["timestamp"]
        scope = signer.credential_scope(req)
        seed = req.headers["Authorization"].rsplit("Signature=", 1)[1]
        k = signing_key(bbdaemon.SECRET_KEY, amz_date[:8])
        body = signed_chunked_body(chunks, k, amz_date, scope, seed, **tamper)
        self.assertEqual(len(body), enc_len)
        head = self.wire("PUT", path, req.headers)
        return raw_exchange(self.d.port, head, body)

    def test_signed_chunked_control(self):
        key = "bad-chunk/ok.bin"
        payload = os.urandom(3 * 8192 + 100)
        r = self.send_signed_chunked(key, payload)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.d.read_object_file(RAW, key), payload)
        _, g = self.send("GET", self.key_path(key))
        self.assertEqual(g.body, payload)
        self.assertNotIn("aws-chunked", (g.headers.get("Content-Encoding") or ""))
        self.assertTmpEmpty()

    def test_signed_chunked_tampered(self):
        payload = os.urandom(3 * 8192 + 100)
        cases = {"second chunk signature": {"tamper_sig": 1},
                 "final chunk signature": {"tamper_sig": 4},
                 "first chunk data": {"tamper_data": 0},
                 "last data chunk data": {"tamper_data": 3}}
        for i, (what, tamper) in enumerate(cases.items()):
            with self.subTest(tampered=what):
                key = f"bad-chunk/tampered-{i}.bin"
                r = self.send_signed_chunked(key, payload, **tamper)
                self.assertS3Error(r, 403, "SignatureDoesNotMatch")
                self.assertNothingStored(key)

    def send_unsigned_trailer(self, key, payload, trailer_value, decoded_len=None):
        chunks = split_chunks(payload, 16384)
        body = unsigned_trailer_body(chunks, "x-amz-checksum-crc32", trailer_value)
        headers = {"Content-Encoding": "aws-chunked", "Content-Length": str(len(body)),
                   "x-amz-decoded-content-length": str(len(payload) if decoded_len is None
                                                       else decoded_len),
                   "x-amz-trailer": "x-amz-checksum-crc32",
                   "x-amz-sdk-checksum-algorithm": "CRC32"}
        path = self.key_path(key)
        _, req = self.sign("PUT", path, headers, payload_hash=STREAMING_UNSIGNED_TRAILER)
        return raw_exchange(self.d.port, self.wire("PUT", path, req.headers), body)

    def test_unsigned_trailer_control(self):
        key = "bad-trailer/ok.bin"
        payload = os.urandom(40000)
        r = self.send_unsigned_trailer(key, payload, crc32_b64(payload))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.d.read_object_file(RAW, key), payload)
        _, g = self.send("GET", self.key_path(key), headers={"x-amz-checksum-mode": "ENABLED"})
        self.assertEqual(g.body, payload)
        self.assertEqual(g.headers.get("x-amz-checksum-crc32"), crc32_b64(payload))
        self.assertNotIn("aws-chunked", (g.headers.get("Content-Encoding") or ""))

    def test_unsigned_trailer_bad_crc32(self):
        key = "bad-trailer/bad-crc.bin"
        payload = os.urandom(40000)
        r = self.send_unsigned_trailer(key, payload, crc32_b64(payload + b"!"))
        self.assertS3Error(r, 400, "BadDigest")
        self.assertNothingStored(key)

    def test_chunked_decoded_length_mismatch(self):
        key = "bad-trailer/short-decoded.bin"
        payload = os.urandom(40000)
        r = self.send_unsigned_trailer(key, payload, crc32_b64(payload),
                                       decoded_len=len(payload) + 10)
        self.assertEqual(r.status, 400, r)
        self.assertIsNotNone(r.code, r)
        self.assertNothingStored(key)

    # ---- truncated bodies ------------------------------------------------
    def test_body_shorter_than_content_length(self):
        for mode in ("half-close", "close"):
            with self.subTest(mode=mode):
                key = f"bad-short/{mode}.bin"
                body = os.urandom(200_000)
                path = self.key_path(key)
                _, req = self.sign("PUT", path, body=body)
                head = self.wire("PUT", path, req.headers, content_length=len(body))
                s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
                try:
                    s.sendall(head + body[:100_000])
                    # Let the daemon start the upload (a file in tmp/) before
                    # the client goes away; not required, so no assertion.
                    bbdaemon.wait_until(self.d.tmp_entries, 2.0)
                    if mode == "half-close":
                        s.shutdown(socket.SHUT_WR)
                        # The daemon answers (IncompleteBody/400) or just closes.
                        self.assertTrue(wait_closed(s, 10.0),
                                        "connection not closed after a truncated body")
                finally:
                    s.close()
                # The daemon may need a moment to see the close: poll.
                self.assertTmpEmpty(timeout=5.0)
                self.assertNothingStored(key)

    def test_signed_chunked_truncated(self):
        key = "bad-short/chunked.bin"
        payload = os.urandom(4 * 8192)
        chunks = split_chunks(payload, 8192)
        enc_len = signed_chunked_length(chunks)
        headers = {"Content-Encoding": "aws-chunked", "Content-Length": str(enc_len),
                   "x-amz-decoded-content-length": str(len(payload))}
        path = self.key_path(key)
        signer, req = self.sign("PUT", path, headers, payload_hash=STREAMING_SIGNED)
        amz_date = req.context["timestamp"]
        seed = req.headers["Authorization"].rsplit("Signature=", 1)[1]
        body = signed_chunked_body(chunks, signing_key(bbdaemon.SECRET_KEY, amz_date[:8]),
                                   amz_date, signer.credential_scope(req), seed)
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
        try:
            s.sendall(self.wire("PUT", path, req.headers) + body[:len(body) // 2])
            bbdaemon.wait_until(self.d.tmp_entries, 2.0)
            s.shutdown(socket.SHUT_WR)
            self.assertTrue(wait_closed(s, 10.0), "connection not closed")
        finally:
            s.close()
        self.assertTmpEmpty(timeout=5.0)
        self.assertNothingStored(key)

    # ---- oversized headers -----------------------------------------------
    def test_64k_of_headers(self):
        cases = {
            "one 64 KiB header": {"X-Big": "a" * 65536},
            "1024 headers of 64 bytes": {f"X-Pad-{i:04d}": "b" * 50 for i in range(1024)},
        }
        for what, hdrs in cases.items():
            with self.subTest(case=what):
                head = self.wire("GET", f"/{RAW}", hdrs)
                r = raw_exchange(self.d.port, head, method="GET", check_closed=True)
                self.assertIn(r.status, (400, 431), r)
                self.assertTrue(r.closed, "connection left open after oversized headers")
                self.assertAlive()

    # ---- path traversal --------------------------------------------------
    TRAVERSAL_PATHS = [
        "../x", "a/../../x", "../../x", "../../../x", "..", "a/..", "../my-thumbnails/x",
        "%2E%2E/x", "a/%2E%2E/%2E%2E/x", "..%2Fx", "a%2F..%2F..%2Fx", "%2E%2E%2F%2E%2E%2Fx",
        "a/./../../x",
    ]

    def test_path_traversal_put(self):
        inside = os.path.join("data", RAW) + os.sep
        for raw in self.TRAVERSAL_PATHS:
            before = self.d.tree()
            with self.subTest(key=raw):
                path = f"/{RAW}/{raw}"
                # Sign the S3 canonical form (decoded, re-encoded once).
                canon = f"/{RAW}/" + urllib.parse.quote(urllib.parse.unquote(raw), safe="/~")
                _, r = self.send("PUT", path, body=b"escaped!", sign_path=canon)
                new = self.d.tree() - before
                # 1. Never anything outside the bucket dir.
                self.assertEqual(sorted(p for p in new if not p.startswith(inside)), [],
                                 f"written outside {inside}; response: {r!r}")
                self.assertEqual(before - self.d.tree(), set(), "files vanished")
                # 2. The issue asks for an S3 error (not a stored object).
                self.assertTrue(r.status is not None and 400 <= r.status < 500, r)
                self.assertIsNotNone(r.code, r)
                self.assertNotEqual(r.code, "SignatureDoesNotMatch", r)
                self.assertEqual(sorted(new), [], "an object was stored")
                self.assertTmpEmpty()
        self.assertFalse(os.path.exists(os.path.join(self.d.base, "x")))
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, "x")))
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, THUMBS, "x")))
        self.assertAlive()

    def test_path_traversal_get(self):
        # The daemon's own log sits beside data/: it must not be readable.
        targets = ["../../stderr.0.log", "a/../../../stderr.0.log", "..%2F..%2Fstderr.0.log",
                   "%2E%2E/%2E%2E/stderr.0.log", "../my-thumbnails", "../../../../../../etc/passwd"]
        for raw in targets:
            with self.subTest(key=raw):
                path = f"/{RAW}/{raw}"
                canon = f"/{RAW}/" + urllib.parse.quote(urllib.parse.unquote(raw), safe="/~")
                _, r = self.send("GET", path, sign_path=canon)
                self.assertTrue(r.status is not None and 400 <= r.status < 500, r)
                self.assertIsNotNone(r.code, r)
                self.assertNotIn(b"root:", r.body)
        self.assertAlive()

    # ---- connection reuse after errors and HEAD --------------------------
    def exchange_then_health(self, head, body, method):
        """Sends one request, reads its response, then asks for health on
        the same connection. Returns (first Resp, health status or None when
        the server closed the connection, which is allowed)."""
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
        try:
            try:
                s.sendall(head + body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            r = http.client.HTTPResponse(s, method=method)
            r.begin()
            first = Resp(r.status, r.headers, r.read())
            if r.will_close:
                return first, None
            try:
                s.sendall(f"GET /_bucketbridge/health HTTP/1.1\r\n"
                          f"Host: 127.0.0.1:{self.d.port}\r\n\r\n".encode())
                r2 = http.client.HTTPResponse(s, method="GET")
                r2.begin()
                r2.read()
                return first, r2.status
            except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
                return first, None
        finally:
            s.close()

    def test_head_sends_no_body(self):
        key, body = "bad-conn/head.bin", os.urandom(5000)
        self.assertEqual(self.send("PUT", self.key_path(key), body=body)[1].status, 200)
        _, req = self.sign("HEAD", self.key_path(key))
        first, health = self.exchange_then_health(self.wire("HEAD", self.key_path(key),
                                                            req.headers), b"", "HEAD")
        self.assertEqual(first.status, 200)
        self.assertEqual(first.headers.get("Content-Length"), str(len(body)))
        self.assertEqual(first.body, b"")
        # A body after the HEAD response would be parsed as the next response.
        self.assertIn(health, (200, None))
        if health is None:
            self.fail("connection closed after a HEAD 200 (keep-alive expected)")
        # HEAD of a missing key: 404, no body.
        _, req = self.sign("HEAD", self.key_path("bad-conn/none"))
        first, health = self.exchange_then_health(
            self.wire("HEAD", self.key_path("bad-conn/none"), req.headers), b"", "HEAD")
        self.assertEqual(first.status, 404)
        self.assertIn(health, (200, None))

    def test_connection_usable_after_early_error(self):
        # The daemon answers before reading the body: it must then either
        # drain the body or close the connection, never parse the body as
        # the next request.
        # The body looks like requests; parsed as such they would answer 403
        # (anonymous), not the 200 of the health request that follows.
        body = b"GET /it-smuggled/x HTTP/1.1\r\nHost: x\r\n\r\n" * 20000
        cases = {
            "NoSuchBucket": ("/it-missing-bucket/k", {}),
            "SignatureDoesNotMatch": (self.key_path("bad-conn/early-sig"),
                                      {"secret": "wrong"}),
            "InvalidAccessKeyId": (self.key_path("bad-conn/early-akid"),
                                   {"access_key": "AKIDNOBODY"}),
        }
        for code, (path, kw) in cases.items():
            with self.subTest(code=code):
                _, req = self.sign("PUT", path, body=body, **kw)
                head = self.wire("PUT", path, req.headers, content_length=len(body))
                first, health = self.exchange_then_health(head, body, "PUT")
                self.assertEqual(first.code, code, first)
                self.assertIn(health, (200, None))
                self.assertAlive()
        self.assertNoFile(RAW, "bad-conn/early-sig")
        self.assertTmpEmpty()

    def test_key_too_long(self):
        key = "bad-long/" + "k" * 1100
        _, r = self.send("PUT", self.key_path(key), body=b"x")
        self.assertS3Error(r, 400, "KeyTooLongError")
        self.assertTmpEmpty()
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, RAW, "bad-long")))

    # ---- bucket names ----------------------------------------------------
    def test_invalid_bucket_names(self):
        names = ["Bad_Name", "ab", "UPPERCASE", "a..b", "-leading", "trailing-",
                 "192.168.5.4", "a" * 64, "under_score", ".bucketbridge", "_bucketbridge"]
        for name in names:
            with self.subTest(bucket=name):
                _, r = self.send("PUT", "/" + urllib.parse.quote(name))
                self.assertS3Error(r, 400, "InvalidBucketName")
                if name != ".bucketbridge":
                    self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, name)))
        self.assertAlive()


if __name__ == "__main__":
    bbdaemon.main()
