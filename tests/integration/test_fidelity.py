# SPDX-License-Identifier: MIT
"""S3 fidelity against the real daemon, over HTTP and HTTPS: conditional
writes, presigned URLs (with a signed checksum and signed headers) used by a
plain HTTP client, virtual-host style, CORS, POST Object (browser form
uploads, SigV4 and SigV2 policies), ListObjectVersions and the "null"
version, object tagging with its events, and the other clients: aws s3 cp
of 100 MB over HTTPS, libs3's `s3`, s3cmd and rclone. Bad input gets S3's
error and leaves no partial object.

Tools that are missing (s3, s3cmd, rclone, aws) skip their tests only.
"""

import base64
import binascii
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402
from bbdaemon import DaemonTestCase  # noqa: E402

try:
    import boto3
    from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
    from botocore.exceptions import ClientError
except ImportError as e:  # pragma: no cover
    bbdaemon.skip_module(f"boto3 is not importable by {sys.executable}: {e}")

RAW = "my-raw-images"
MiB = 1024 * 1024
CREDS = Credentials(bbdaemon.ACCESS_KEY, bbdaemon.SECRET_KEY)


def crc32_b64(data):
    return base64.b64encode(binascii.crc32(data).to_bytes(4, "big")).decode()


def err(e):
    return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])


# *.localhost does not resolve through glibc: map it to 127.0.0.1 for this
# process (urllib3, http.client), as browsers and curl do.
_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *a, **kw):
    if isinstance(host, str) and host.endswith(".localhost"):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *a, **kw)


socket.getaddrinfo = _getaddrinfo


def fresh_config(events_file=None):
    cfg = {"https": {"enabled": True, "listen": "127.0.0.1:0"}}
    if events_file is not None:
        cfg["functions"] = {"cap": {"command": "cat >> '%s'; echo >> '%s'" % (events_file,
                                                                             events_file)}}
        cfg["eventbridge"] = {"retry_time_scale": 0.001}
        cfg["rules"] = [{"Name": "capture-s3", "EventPattern": {"source": ["aws.s3"]},
                         "Targets": [{"Id": "cap", "Arn": "arn:aws:lambda:us-east-1:"
                                      "000000000000:function:cap"}]}]
    return cfg


class FidelityBase(DaemonTestCase):
    """One daemon with the https listener on a kernel-picked port, a ready
    file, and a command target that records every S3 event."""

    @classmethod
    def setUpClass(cls):
        unittest.TestCase.setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="bb-it-fid-")
        cls.events_file = os.path.join(cls.tmp, "events.jsonl")
        cls.ready_path = os.path.join(cls.tmp, "ready.json")
        cls.d = bbdaemon.Daemon(name=cls.__name__, config=fresh_config(cls.events_file),
                                extra_args=["--ready-file", cls.ready_path, "--no-consumers"])
        cls.d.start()
        bbdaemon.wait_until(lambda: os.path.exists(cls.ready_path), 5)
        with open(cls.ready_path) as f:
            cls.ready = json.load(f)
        cls.https_port = cls.ready.get("https_port")
        cls.cert = cls.ready.get("tls_cert")

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def client(self, endpoint=None, style="path", verify=None, **cfg):
        return boto3.session.Session().client(
            "s3", endpoint_url=endpoint or self.d.endpoint, region_name=bbdaemon.REGION,
            aws_access_key_id=bbdaemon.ACCESS_KEY, aws_secret_access_key=bbdaemon.SECRET_KEY,
            verify=verify,
            config=Config(s3={"addressing_style": style}, retries={"total_max_attempts": 1},
                          **cfg))

    @property
    def s3(self):
        if getattr(self, "_s3", None) is None:
            self._s3 = self.client()
        return self._s3

    def events(self):
        out = []
        try:
            with open(self.events_file) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            pass
        except FileNotFoundError:
            pass
        return out

    def wait_event(self, pred, timeout=10):
        return bbdaemon.wait_until(lambda: [e for e in self.events() if pred(e)], timeout)

    def raw(self, method, path, headers=None, body=b"", host=None, port=None):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.d.port, timeout=10)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host or f"127.0.0.1:{self.d.port}")
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            if body or method in ("PUT", "POST"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            if body:
                conn.send(body)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def assertNoObject(self, key, bucket=RAW):
        with self.assertRaises(ClientError) as cm:
            self.s3.head_object(Bucket=bucket, Key=key)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertNoFile(bucket, key)


class ConditionalWriteTest(FidelityBase):
    def test_if_none_match_star(self):
        k = "cond/new.txt"
        r = self.s3.put_object(Bucket=RAW, Key=k, Body=b"one", IfNoneMatch="*")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        with self.assertRaises(ClientError) as cm:
            self.s3.put_object(Bucket=RAW, Key=k, Body=b"two", IfNoneMatch="*")
        self.assertEqual(err(cm.exception), (412, "PreconditionFailed"))
        self.assertEqual(self.s3.get_object(Bucket=RAW, Key=k)["Body"].read(), b"one")
        self.assertTmpEmpty()

    def test_if_match(self):
        k = "cond/match.txt"
        etag = self.s3.put_object(Bucket=RAW, Key=k, Body=b"v1")["ETag"]
        with self.assertRaises(ClientError) as cm:
            self.s3.put_object(Bucket=RAW, Key=k, Body=b"v2", IfMatch='"0123456789abcdef"')
        self.assertEqual(err(cm.exception), (412, "PreconditionFailed"))
        r = self.s3.put_object(Bucket=RAW, Key=k, Body=b"v2", IfMatch=etag)
        self.assertNotEqual(r["ETag"], etag)
        self.assertEqual(self.s3.get_object(Bucket=RAW, Key=k)["Body"].read(), b"v2")
        with self.assertRaises(ClientError) as cm:
            self.s3.put_object(Bucket=RAW, Key="cond/absent.txt", Body=b"x", IfMatch=etag)
        self.assertEqual(err(cm.exception), (404, "NoSuchKey"))
        self.assertNoObject("cond/absent.txt")

    def test_if_none_match_etag_not_implemented(self):
        with self.assertRaises(ClientError) as cm:
            self.s3.put_object(Bucket=RAW, Key="cond/x.txt", Body=b"x", IfNoneMatch='"abc"')
        self.assertEqual(err(cm.exception), (501, "NotImplemented"))
        self.assertNoObject("cond/x.txt")

    def test_race_during_upload_is_a_conflict(self):
        """A conditional PUT whose body is still arriving when another write
        of the key finishes: decided at commit, 409."""
        k = "cond/race.txt"
        body = b"r" * (256 * 1024)
        url = f"{self.d.endpoint}/{RAW}/{k}"
        req = AWSRequest(method="PUT", url=url, data=body,
                         headers={"If-None-Match": "*",
                                  "x-amz-content-sha256": hashlib.sha256(body).hexdigest()})
        S3SigV4Auth(CREDS, "s3", bbdaemon.REGION).add_auth(req)
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        conn.putrequest("PUT", f"/{RAW}/{k}", skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", f"127.0.0.1:{self.d.port}")
        for name, v in req.headers.items():
            conn.putheader(name, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body[:1000])
        time.sleep(0.2)
        self.s3.put_object(Bucket=RAW, Key=k, Body=b"winner")
        conn.send(body[1000:])
        r = conn.getresponse()
        payload = r.read()
        conn.close()
        self.assertEqual(r.status, 409, payload)
        self.assertIn(b"<Code>ConditionalRequestConflict</Code>", payload)
        self.assertEqual(self.s3.get_object(Bucket=RAW, Key=k)["Body"].read(), b"winner")
        self.assertTmpEmpty()

    def test_complete_multipart_conditions(self):
        k = "cond/mpu.bin"
        part = os.urandom(5 * MiB)
        self.s3.put_object(Bucket=RAW, Key=k, Body=b"exists")
        up = self.s3.create_multipart_upload(Bucket=RAW, Key=k)["UploadId"]
        e1 = self.s3.upload_part(Bucket=RAW, Key=k, UploadId=up, PartNumber=1, Body=part)["ETag"]
        parts = {"Parts": [{"ETag": e1, "PartNumber": 1}]}
        with self.assertRaises(ClientError) as cm:
            self.s3.complete_multipart_upload(Bucket=RAW, Key=k, UploadId=up,
                                              MultipartUpload=parts, IfNoneMatch="*")
        self.assertEqual(err(cm.exception), (412, "PreconditionFailed"))
        self.assertEqual(self.s3.get_object(Bucket=RAW, Key=k)["Body"].read(), b"exists")
        self.s3.abort_multipart_upload(Bucket=RAW, Key=k, UploadId=up)

        # created by someone else between Create and Complete: 409
        k2 = "cond/mpu-race.bin"
        up = self.s3.create_multipart_upload(Bucket=RAW, Key=k2)["UploadId"]
        e1 = self.s3.upload_part(Bucket=RAW, Key=k2, UploadId=up, PartNumber=1,
                                 Body=part)["ETag"]
        self.s3.put_object(Bucket=RAW, Key=k2, Body=b"other writer")
        with self.assertRaises(ClientError) as cm:
            self.s3.complete_multipart_upload(
                Bucket=RAW, Key=k2, UploadId=up, IfNoneMatch="*",
                MultipartUpload={"Parts": [{"ETag": e1, "PartNumber": 1}]})
        self.assertEqual(err(cm.exception), (409, "ConditionalRequestConflict"))
        self.s3.abort_multipart_upload(Bucket=RAW, Key=k2, UploadId=up)

        # If-Match with the current ETag: completes
        etag = self.s3.head_object(Bucket=RAW, Key=k)["ETag"]
        up = self.s3.create_multipart_upload(Bucket=RAW, Key=k)["UploadId"]
        e1 = self.s3.upload_part(Bucket=RAW, Key=k, UploadId=up, PartNumber=1, Body=part)["ETag"]
        self.s3.complete_multipart_upload(Bucket=RAW, Key=k, UploadId=up, IfMatch=etag,
                                          MultipartUpload={"Parts": [{"ETag": e1,
                                                                      "PartNumber": 1}]})
        self.assertEqual(self.s3.get_object(Bucket=RAW, Key=k)["Body"].read(), part)

    def test_304_carries_etag(self):
        k = "cond/get304.txt"
        etag = self.s3.put_object(Bucket=RAW, Key=k, Body=b"abc")["ETag"]
        for method in ("get_object", "head_object"):
            with self.assertRaises(ClientError) as cm:
                getattr(self.s3, method)(Bucket=RAW, Key=k, IfNoneMatch=etag)
            md = cm.exception.response["ResponseMetadata"]
            self.assertEqual(md["HTTPStatusCode"], 304)
            self.assertEqual(md["HTTPHeaders"].get("etag"), etag)


class PresignedTest(FidelityBase):
    @property
    def s3(self):
        if getattr(self, "_s3v4", None) is None:
            self._s3v4 = self.client(signature_version="s3v4")
        return self._s3v4

    def test_presigned_get_and_put_with_urllib(self):
        k = "pre/sign ed+key.txt"
        data = os.urandom(4096)
        url = self.s3.generate_presigned_url(
            "put_object", Params={"Bucket": RAW, "Key": k, "ContentType": "text/x-test",
                                  "Metadata": {"owner": "bob"}}, ExpiresIn=300)
        # the signed headers must be sent, and are honoured
        req = urllib.request.Request(url, data=data, method="PUT",
                                     headers={"Content-Type": "text/x-test",
                                              "x-amz-meta-owner": "bob"})
        with urllib.request.urlopen(req) as r:
            self.assertEqual(r.status, 200)
        head = self.s3.head_object(Bucket=RAW, Key=k)
        self.assertEqual(head["ContentType"], "text/x-test")
        self.assertEqual(head["Metadata"], {"owner": "bob"})
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": RAW, "Key": k},
                                             ExpiresIn=300)
        with urllib.request.urlopen(url) as r:
            self.assertEqual(r.read(), data)
        # a signed header left out: the signature no longer matches
        url = self.s3.generate_presigned_url(
            "put_object", Params={"Bucket": RAW, "Key": "pre/unsent.txt",
                                  "ContentType": "text/x-test"}, ExpiresIn=300)
        req = urllib.request.Request(url, data=b"x", method="PUT")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req)
        self.assertEqual(cm.exception.code, 403)
        self.assertIn(b"SignatureDoesNotMatch", cm.exception.read())
        self.assertNoObject("pre/unsent.txt")

    def _hoisted_url(self, key, checksum):
        """A presigned PUT whose x-amz-checksum-crc32 is in the signed query,
        as the JS SDK v3 presigner makes it."""
        q = urllib.parse.urlencode({"x-amz-checksum-crc32": checksum,
                                    "x-amz-sdk-checksum-algorithm": "CRC32",
                                    "x-amz-meta-color": "blue"})
        req = AWSRequest(method="PUT", url=f"{self.d.endpoint}/{RAW}/{key}?{q}")
        S3SigV4QueryAuth(CREDS, "s3", bbdaemon.REGION, expires=300).add_auth(req)
        return req.url

    def test_presigned_signed_checksum_is_checked(self):
        data = b"hello presigned checksum"
        url = self._hoisted_url("pre/ck-good.txt", crc32_b64(data))
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method="PUT")) as r:
            self.assertEqual(r.status, 200)
        head = self.s3.head_object(Bucket=RAW, Key="pre/ck-good.txt", ChecksumMode="ENABLED")
        self.assertEqual(head["ChecksumCRC32"], crc32_b64(data))
        self.assertEqual(head["Metadata"], {"color": "blue"})
        # the checksum of an empty body (localstack#12169 / floci#4188): rejected
        url = self._hoisted_url("pre/ck-bad.txt", "AAAAAA==")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(urllib.request.Request(url, data=data, method="PUT"))
        self.assertEqual(cm.exception.code, 400)
        self.assertIn(b"<Code>BadDigest</Code>", cm.exception.read())
        self.assertNoObject("pre/ck-bad.txt")
        self.assertTmpEmpty()

    def test_expired_and_tampered(self):
        self.s3.put_object(Bucket=RAW, Key="pre/x.txt", Body=b"x")
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": RAW,
                                                                   "Key": "pre/x.txt"},
                                             ExpiresIn=1)
        time.sleep(2.1)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(url)
        self.assertEqual(cm.exception.code, 403)
        body = cm.exception.read()
        self.assertIn(b"<Code>AccessDenied</Code>", body)
        self.assertIn(b"expired", body)
        # a presigned PUT pointed at another key
        url = self.s3.generate_presigned_url("put_object", Params={"Bucket": RAW,
                                                                   "Key": "pre/a.txt"},
                                             ExpiresIn=300)
        bad = url.replace("/pre/a.txt?", "/pre/b.txt?")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(urllib.request.Request(bad, data=b"evil", method="PUT"))
        self.assertEqual(cm.exception.code, 403)
        self.assertIn(b"SignatureDoesNotMatch", cm.exception.read())
        self.assertNoObject("pre/b.txt")
        # a flipped signature digit
        i = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
        flipped = url[:i] + ("0" if url[i] != "0" else "1") + url[i + 1:]
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(urllib.request.Request(flipped, data=b"evil", method="PUT"))
        self.assertEqual(cm.exception.code, 403)
        self.assertNoObject("pre/a.txt")

    def test_wrong_sigv2_signature(self):
        date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
        sts = f"PUT\n\n\n{date}\n/{RAW}/v2/bad.txt".encode()
        sig = base64.b64encode(hmac.new(b"wrong-secret", sts, hashlib.sha1).digest()).decode()
        st, _, body = self.raw("PUT", f"/{RAW}/v2/bad.txt",
                               {"Date": date, "Authorization": f"AWS test:{sig}"}, b"data")
        self.assertEqual(st, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)
        self.assertNoObject("v2/bad.txt")
        # the right one, virtual-host style: the resource is /bucket/key
        sig = base64.b64encode(hmac.new(b"test", sts, hashlib.sha1).digest()).decode()
        st, _, body = self.raw("PUT", "/v2/bad.txt",
                               {"Date": date, "Authorization": f"AWS test:{sig}"}, b"data",
                               host=f"{RAW}.s3.localhost:{self.d.port}")
        self.assertEqual(st, 200, body)
        self.assertEqual(self.s3.get_object(Bucket=RAW, Key="v2/bad.txt")["Body"].read(),
                         b"data")


class VirtualHostTest(FidelityBase):
    def test_boto3_virtual_host(self):
        for base in ("s3.localhost", "localhost"):
            c = self.client(endpoint=f"http://{base}:{self.d.port}", style="virtual")
            k = f"vh/{base}.txt"
            c.put_object(Bucket=RAW, Key=k, Body=b"virtual " + base.encode())
            self.assertEqual(c.get_object(Bucket=RAW, Key=k)["Body"].read(),
                             b"virtual " + base.encode())
            keys = [o["Key"] for o in c.list_objects_v2(Bucket=RAW, Prefix="vh/")["Contents"]]
            self.assertIn(k, keys)
            url = c.generate_presigned_url("get_object", Params={"Bucket": RAW, "Key": k})
            self.assertIn(f"//{RAW}.{base}:", url)
            with urllib.request.urlopen(url) as r:
                self.assertEqual(r.read(), b"virtual " + base.encode())
        self.assertEqual(self.s3.get_object(Bucket=RAW, Key="vh/s3.localhost.txt")["Body"].read(),
                         b"virtual s3.localhost")

    def test_foreign_host_refused(self):
        for host in ("example.com", f"{RAW}.s3.amazonaws.com", "evil.test:80"):
            st, _, body = self.raw("PUT", f"/{RAW}/vh/foreign.txt", {}, b"x", host=host)
            self.assertEqual(st, 403, host)
            self.assertIn(b"<Code>AccessDenied</Code>", body)
        self.assertNoObject("vh/foreign.txt")


class VirtualHostConfigTest(unittest.TestCase):
    def test_configured_domain(self):
        d = bbdaemon.Daemon(name="vhost-config",
                            config={"virtual_host_domains": ["s3.bb.test"],
                                    "https": {"enabled": False}})
        d.start()
        try:
            c = boto3.session.Session().client(
                "s3", endpoint_url=f"http://127.0.0.1:{d.port}", region_name="us-east-1",
                aws_access_key_id="test", aws_secret_access_key="test",
                config=Config(s3={"addressing_style": "path"}))
            c.put_object(Bucket=RAW, Key="k.txt", Body=b"configured")
            conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=5)
            req = AWSRequest(method="GET", url=f"http://{RAW}.s3.bb.test:{d.port}/k.txt",
                             headers={"x-amz-content-sha256": hashlib.sha256(b"").hexdigest()})
            S3SigV4Auth(CREDS, "s3", "us-east-1").add_auth(req)
            conn.request("GET", "/k.txt", headers={"Host": f"{RAW}.s3.bb.test:{d.port}",
                                                   **dict(req.headers.items())})
            r = conn.getresponse()
            self.assertEqual((r.status, r.read()), (200, b"configured"))
            conn.request("GET", "/k.txt", headers={"Host": f"{RAW}.s3.other.test"})
            r = conn.getresponse()
            self.assertEqual(r.status, 403)
            r.read()
            conn.close()
        finally:
            d.check_clean_exit()

    def test_bad_config_names_the_key(self):
        d = bbdaemon.Daemon(name="vhost-bad", config={"virtual_host_domains": ["Bad_Domain"]})
        with self.assertRaises(RuntimeError) as cm:
            d.start()
        self.assertIn("virtual_host_domains", str(cm.exception))
        d.cleanup()


class CorsTest(FidelityBase):
    ORIGIN = "http://app.example.test:3000"

    def preflight(self, origin, method="PUT", headers=None, key="cors/x.txt"):
        h = {"Origin": origin, "Access-Control-Request-Method": method}
        if headers:
            h["Access-Control-Request-Headers"] = headers
        return self.raw("OPTIONS", f"/{RAW}/{key}", h)

    def test_cors_configuration(self):
        self.s3.delete_bucket_cors(Bucket=RAW)
        with self.assertRaises(ClientError) as cm:
            self.s3.get_bucket_cors(Bucket=RAW)
        self.assertEqual(err(cm.exception), (404, "NoSuchCORSConfiguration"))
        st, h, body = self.preflight(self.ORIGIN)
        self.assertEqual(st, 403)
        self.assertIn(b"<Code>AccessForbidden</Code>", body)
        rules = [{"ID": "app", "AllowedOrigins": [self.ORIGIN, "http://*.allowed.test"],
                  "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["content-type",
                                                                       "x-amz-*"],
                  "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 120}]
        self.s3.put_bucket_cors(Bucket=RAW, CORSConfiguration={"CORSRules": rules})
        got = self.s3.get_bucket_cors(Bucket=RAW)["CORSRules"]
        self.assertEqual(got, rules)

        st, h, _ = self.preflight(self.ORIGIN, "PUT", "content-type, x-amz-meta-a")
        self.assertEqual(st, 200)
        self.assertEqual(h["access-control-allow-origin"], self.ORIGIN)
        self.assertIn("PUT", h["access-control-allow-methods"])
        self.assertEqual(h["access-control-max-age"], "120")
        self.assertEqual(h["access-control-expose-headers"], "ETag")
        st, h, _ = self.preflight("http://sub.allowed.test", "GET")
        self.assertEqual(st, 200)
        # disallowed origin, method, header
        for args in (("http://evil.test", "PUT"), (self.ORIGIN, "DELETE"),
                     (self.ORIGIN, "PUT", "x-custom")):
            st, h, body = self.preflight(*args)
            self.assertEqual(st, 403, args)
            self.assertIn(b"<Code>AccessForbidden</Code>", body)
            self.assertNotIn("access-control-allow-origin", h)
        # the actual request carries the headers; a foreign origin's does not
        self.s3.put_object(Bucket=RAW, Key="cors/x.txt", Body=b"cors")
        req = AWSRequest(method="GET", url=f"{self.d.endpoint}/{RAW}/cors/x.txt",
                         headers={"Origin": self.ORIGIN,
                                  "x-amz-content-sha256": hashlib.sha256(b"").hexdigest()})
        S3SigV4Auth(CREDS, "s3", bbdaemon.REGION).add_auth(req)
        st, h, body = self.raw("GET", f"/{RAW}/cors/x.txt", dict(req.headers.items()))
        self.assertEqual((st, body), (200, b"cors"))
        self.assertEqual(h["access-control-allow-origin"], self.ORIGIN)
        self.assertEqual(h["access-control-expose-headers"], "ETag")
        self.s3.delete_bucket_cors(Bucket=RAW)
        st, _, _ = self.preflight(self.ORIGIN)
        self.assertEqual(st, 403)

    def test_own_origin_allowed_by_default(self):
        for origin in (f"http://127.0.0.1:{self.d.port}", f"http://localhost:{self.d.port}",
                       f"https://localhost:{self.https_port}"):
            st, h, _ = self.preflight(origin, "PUT", "content-type")
            self.assertEqual(st, 200, origin)
            self.assertEqual(h["access-control-allow-origin"], origin)
            self.assertIn("ETag", h["access-control-expose-headers"])
        st, _, _ = self.preflight(f"http://127.0.0.1:{self.d.port + 1}")
        self.assertEqual(st, 403)

    def test_bad_cors_configuration(self):
        with self.assertRaises(ClientError) as cm:
            self.s3.put_bucket_cors(Bucket=RAW, CORSConfiguration={"CORSRules": [
                {"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]})
        self.assertEqual(err(cm.exception), (400, "InvalidRequest"))


def multipart_form(fields, filename, data, file_field="file"):
    boundary = "----bbform" + os.urandom(8).hex()
    out = []
    for k, v in fields:
        out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                   .encode() + v.encode() + b"\r\n")
    out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; "
               f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
               .encode() + data + b"\r\n")
    out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\n"
               f"ignored\r\n--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


class PostObjectTest(FidelityBase):
    def post(self, fields, filename, data, path=f"/{RAW}", host=None):
        body, ctype = multipart_form(fields, filename, data)
        return self.raw("POST", path, {"Content-Type": ctype}, body, host=host)

    def presigned_post(self, key, conditions=None, fields=None, expires=300):
        p = self.s3.generate_presigned_post(RAW, key, Fields=fields, Conditions=conditions,
                                            ExpiresIn=expires)
        return list(p["fields"].items())

    def test_post_sigv4(self):
        data = os.urandom(3 * MiB + 17)
        fields = self.presigned_post(
            "post/${filename}", fields={"success_action_status": "201",
                                        "Content-Type": "image/png",
                                        "x-amz-meta-origin": "form"},
            conditions=[["starts-with", "$key", "post/"], {"success_action_status": "201"},
                        {"Content-Type": "image/png"}, {"x-amz-meta-origin": "form"},
                        ["content-length-range", 1, 10 * MiB]])
        st, h, body = self.post(fields, "photo one.png", data)
        self.assertEqual(st, 201, body)
        self.assertIn(b"<Key>post/photo one.png</Key>", body)
        etag = '"' + hashlib.md5(data).hexdigest() + '"'
        self.assertEqual(h["etag"], etag)
        head = self.s3.head_object(Bucket=RAW, Key="post/photo one.png")
        self.assertEqual(head["ETag"], etag)
        self.assertEqual(head["ContentType"], "image/png")
        self.assertEqual(head["Metadata"], {"origin": "form"})
        self.assertEqual(self.s3.get_object(Bucket=RAW, Key="post/photo one.png")["Body"].read(),
                         data)
        ev = self.wait_event(lambda e: e["detail"]["object"].get("key") == "post/photo+one.png")
        self.assertTrue(ev, self.events())
        self.assertEqual(ev[0]["detail"]["reason"], "POST Object")
        self.assertEqual(ev[0]["detail-type"], "Object Created")
        self.assertTmpEmpty()

    def test_post_default_and_redirect(self):
        fields = self.presigned_post("post/plain.txt")
        st, _, _ = self.post(fields, "x.txt", b"plain")
        self.assertEqual(st, 204)
        fields = self.presigned_post(
            "post/redir.txt", fields={"success_action_redirect": "http://app.test/done?a=1"},
            conditions=[{"success_action_redirect": "http://app.test/done?a=1"}])
        st, h, _ = self.post(fields, "x.txt", b"redirected")
        self.assertEqual(st, 303)
        loc = urllib.parse.urlsplit(h["location"])
        q = urllib.parse.parse_qs(loc.query)
        self.assertEqual((loc.netloc, q["a"], q["bucket"], q["key"]),
                         ("app.test", ["1"], [RAW], ["post/redir.txt"]))
        self.assertEqual(q["etag"], ['"' + hashlib.md5(b"redirected").hexdigest() + '"'])

    def test_post_sigv2(self):
        exp = (datetime.now(timezone.utc) + timedelta(minutes=5)).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z")
        policy = base64.b64encode(json.dumps({
            "expiration": exp, "conditions": [{"bucket": RAW}, ["starts-with", "$key", "v2/"]],
        }).encode()).decode()
        sig = base64.b64encode(hmac.new(b"test", policy.encode(), hashlib.sha1).digest()).decode()
        fields = [("key", "v2/form.txt"), ("AWSAccessKeyId", "test"), ("policy", policy),
                  ("signature", sig)]
        st, _, body = self.post(fields, "f.txt", b"sigv2 form")
        self.assertEqual(st, 204, body)
        self.assertEqual(self.s3.get_object(Bucket=RAW, Key="v2/form.txt")["Body"].read(),
                         b"sigv2 form")
        bad = [(k, v if k != "signature" else "AAAA" + v[4:]) for k, v in fields]
        bad = [(k, "v2/bad.txt" if k == "key" else v) for k, v in bad]
        st, _, body = self.post(bad, "f.txt", b"bad")
        self.assertEqual(st, 403)
        self.assertIn(b"SignatureDoesNotMatch", body)
        self.assertNoObject("v2/bad.txt")

    def test_post_policy_violations(self):
        fields = self.presigned_post("post/ok.txt", conditions=[["starts-with", "$key", "post/"]])
        # the key field changed after signing: the policy says "eq"
        bad = [(k, "elsewhere/x.txt" if k == "key" else v) for k, v in fields]
        st, _, body = self.post(bad, "x", b"nope")
        self.assertEqual(st, 403)
        self.assertIn(b"Invalid according to Policy: Policy Condition failed", body)
        self.assertNoObject("elsewhere/x.txt")
        # an extra field not named by the policy
        st, _, body = self.post(fields + [("x-amz-meta-sneaky", "1")], "x", b"nope")
        self.assertEqual(st, 403)
        self.assertIn(b"Extra input fields: x-amz-meta-sneaky", body)
        # too large for content-length-range: stopped while streaming
        fields = self.presigned_post("post/big.bin", conditions=[["content-length-range", 0, 1000]])
        st, _, body = self.post(fields, "big.bin", os.urandom(2 * MiB))
        self.assertEqual(st, 400)
        self.assertIn(b"<Code>EntityTooLarge</Code>", body)
        self.assertNoObject("post/big.bin")
        # expired
        fields = self.presigned_post("post/late.txt", expires=-10)
        st, _, body = self.post(fields, "x", b"late")
        self.assertEqual(st, 403)
        self.assertIn(b"Policy expired", body)
        self.assertNoObject("post/late.txt")
        # not signed at all
        st, _, body = self.post([("key", "post/anon.txt")], "x", b"anon")
        self.assertIn(st, (400, 403))
        self.assertNoObject("post/anon.txt")
        # not multipart at all
        st, _, body = self.raw("POST", f"/{RAW}", {"Content-Type": "multipart/form-data; "
                                                   "boundary=zzz"}, b"garbage")
        self.assertEqual(st, 400)
        self.assertTmpEmpty()


class VersionsAndTaggingTest(FidelityBase):
    def test_list_object_versions(self):
        keys = [f"ver/{i}.txt" for i in range(5)]
        for k in keys:
            self.s3.put_object(Bucket=RAW, Key=k, Body=k.encode())
        seen = []
        kw = {"Bucket": RAW, "Prefix": "ver/", "MaxKeys": 2}
        while True:
            r = self.s3.list_object_versions(**kw)
            for v in r.get("Versions", []):
                self.assertEqual(v["VersionId"], "null")
                self.assertTrue(v["IsLatest"])
                seen.append(v["Key"])
            if not r["IsTruncated"]:
                break
            self.assertEqual(r["NextVersionIdMarker"], "null")
            kw.update(KeyMarker=r["NextKeyMarker"], VersionIdMarker=r["NextVersionIdMarker"])
        self.assertEqual(seen, keys)
        self.assertEqual(self.s3.get_object(Bucket=RAW, Key=keys[0],
                                            VersionId="null")["Body"].read(), keys[0].encode())
        self.s3.delete_object(Bucket=RAW, Key=keys[0], VersionId="null")
        r = self.s3.delete_objects(Bucket=RAW, Delete={"Objects": [
            {"Key": keys[1], "VersionId": "null"}, {"Key": keys[2]},
            {"Key": keys[3], "VersionId": "3HL4kqtJlcpXroDTDmJ"}]})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]), keys[1:3])
        self.assertEqual([e["Code"] for e in r["Errors"]], ["NoSuchVersion"])
        left = [v["Key"] for v in self.s3.list_object_versions(Bucket=RAW, Prefix="ver/")
                .get("Versions", [])]
        self.assertEqual(left, keys[3:])
        with self.assertRaises(ClientError) as cm:
            self.s3.delete_object(Bucket=RAW, Key=keys[3], VersionId="3HL4kqtJlcpXroDTDmJ")
        self.assertEqual(err(cm.exception), (400, "InvalidArgument"))

    def test_versioning_and_create_again(self):
        r = self.s3.get_bucket_versioning(Bucket=RAW)
        self.assertNotIn("Status", r)
        with self.assertRaises(ClientError) as cm:
            self.s3.put_bucket_versioning(Bucket=RAW,
                                          VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(err(cm.exception), (501, "NotImplemented"))
        self.assertIn("versioning", cm.exception.response["Error"]["Message"])
        r = self.s3.create_bucket(Bucket=RAW)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_tagging(self):
        k = "tags/obj.txt"
        self.s3.put_object(Bucket=RAW, Key=k, Body=b"tagged", Tagging="a=1&b=two%20words")
        self.assertEqual(self.s3.get_object_tagging(Bucket=RAW, Key=k)["TagSet"],
                         [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}])
        self.assertEqual(self.s3.get_object(Bucket=RAW, Key=k)["TagCount"], 2)
        self.s3.copy_object(Bucket=RAW, Key="tags/copy.txt", CopySource={"Bucket": RAW, "Key": k})
        self.assertEqual(len(self.s3.get_object_tagging(Bucket=RAW,
                                                        Key="tags/copy.txt")["TagSet"]), 2)
        etag = self.s3.put_object_tagging(Bucket=RAW, Key=k, Tagging={"TagSet": [
            {"Key": "project", "Value": "bb"}]}) and self.s3.head_object(Bucket=RAW,
                                                                          Key=k)["ETag"]
        self.assertEqual(self.s3.get_object_tagging(Bucket=RAW, Key=k)["TagSet"],
                         [{"Key": "project", "Value": "bb"}])
        ev = self.wait_event(lambda e: e["detail-type"] == "Object Tags Added")
        self.assertTrue(ev, self.events())
        obj = ev[0]["detail"]["object"]
        self.assertEqual(obj["key"], "tags/obj.txt")
        self.assertEqual(obj["etag"], etag.strip('"'))
        self.assertNotIn("size", obj)
        self.assertNotIn("sequencer", obj)
        self.s3.delete_object_tagging(Bucket=RAW, Key=k)
        self.assertEqual(self.s3.get_object_tagging(Bucket=RAW, Key=k)["TagSet"], [])
        ev = self.wait_event(lambda e: e["detail-type"] == "Object Tags Deleted")
        self.assertTrue(ev)
        self.assertEqual(ev[0]["detail"]["object"]["etag"], etag.strip('"'))
        # replacing the object drops its tags
        self.s3.put_object_tagging(Bucket=RAW, Key=k, Tagging={"TagSet": [{"Key": "x",
                                                                           "Value": "y"}]})
        self.s3.put_object(Bucket=RAW, Key=k, Body=b"new")
        self.assertEqual(self.s3.get_object_tagging(Bucket=RAW, Key=k)["TagSet"], [])
        # S3's limits
        for tagset in ([{"Key": f"k{i}", "Value": "v"} for i in range(11)],
                       [{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}],
                       [{"Key": "aws:x", "Value": "1"}]):
            with self.assertRaises(ClientError) as cm:
                self.s3.put_object_tagging(Bucket=RAW, Key=k, Tagging={"TagSet": tagset})
            self.assertEqual(err(cm.exception), (400, "InvalidTag"))
        with self.assertRaises(ClientError) as cm:
            self.s3.put_object_tagging(Bucket=RAW, Key="tags/none", Tagging={"TagSet": []})
        self.assertEqual(err(cm.exception), (404, "NoSuchKey"))


class HttpsTest(FidelityBase):
    def setUp(self):
        if not self.https_port:
            self.fail("the https listener did not start:\n" + self.d.log_tail(40))

    def test_ready_file(self):
        self.assertEqual(self.ready["https"], f"https://127.0.0.1:{self.https_port}")
        self.assertTrue(os.path.isfile(self.cert))
        self.assertTrue(self.cert.startswith(self.d.data_dir))
        self.assertIn(f"https://127.0.0.1:{self.https_port}", self.d.log_tail(400))

    def test_boto3_over_tls_streams_aws_chunked(self):
        c = self.client(endpoint=f"https://localhost:{self.https_port}", verify=self.cert)
        seen = []
        c.meta.events.register("before-send.s3.PutObject",
                               lambda request, **kw: seen.append(
                                   dict(request.headers.items())))
        data = os.urandom(MiB + 123)
        import io
        c.put_object(Bucket=RAW, Key="tls/chunked.bin", Body=io.BytesIO(data))
        sha = seen[0].get("X-Amz-Content-SHA256") or seen[0].get("x-amz-content-sha256")
        if isinstance(sha, bytes):
            sha = sha.decode()
        self.assertEqual(sha, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        self.assertEqual(c.get_object(Bucket=RAW, Key="tls/chunked.bin")["Body"].read(), data)
        self.assertEqual(self.d.read_object_file(RAW, "tls/chunked.bin"), data)

    def test_awscli_cp_100mb_over_https(self):
        aws = os.environ.get("BB_AWS_CLI") or shutil.which("aws")
        if not aws:
            self.skipTest("aws CLI not installed")
        src = os.path.join(self.tmp, "big.bin")
        back = os.path.join(self.tmp, "big.back")
        with open(src, "wb") as f:
            for _ in range(100):
                f.write(os.urandom(MiB))
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull,
                   AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CA_BUNDLE=self.cert)
        ep = ["--endpoint-url", f"https://localhost:{self.https_port}"]
        r = subprocess.run([aws, "s3", "cp", src, f"s3://{RAW}/tls/big.bin", *ep, "--debug"],
                           env=env, capture_output=True, text=True, timeout=240)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("STREAMING-UNSIGNED-PAYLOAD-TRAILER", r.stderr)
        self.assertIn("UploadPart", r.stderr)
        r = subprocess.run([aws, "s3", "cp", f"s3://{RAW}/tls/big.bin", back, *ep], env=env,
                           capture_output=True, text=True, timeout=240)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        with open(src, "rb") as a, open(back, "rb") as b:
            self.assertEqual(hashlib.sha256(a.read()).digest(), hashlib.sha256(b.read()).digest())
        with open(src, "rb") as a:
            self.assertEqual(hashlib.md5(a.read()).hexdigest(), hashlib.md5(
                self.d.read_object_file(RAW, "tls/big.bin")).hexdigest())
        os.unlink(src)
        os.unlink(back)
        self.assertTmpEmpty()

    def test_websocket_upgrade_over_tls(self):
        # wss: the upgrade is answered 101 on the TLS port as on the plain
        # one (tests/integration/test_wss.mjs drives the protocol over it);
        # without the token it gets the plain port's 403
        ctx = ssl.create_default_context(cafile=self.cert)
        key = base64.b64encode(os.urandom(16)).decode()
        hdrs = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": key}
        conn = http.client.HTTPSConnection("localhost", self.https_port, context=ctx, timeout=5)
        conn.request("GET", "/_bucketbridge/events", headers=hdrs)
        r = conn.getresponse()
        self.assertEqual(r.status, 403)
        self.assertIn(b"token", r.read())
        conn.close()
        conn = http.client.HTTPSConnection("localhost", self.https_port, context=ctx, timeout=5)
        conn.request("GET", "/_bucketbridge/events?token=" + urllib.parse.quote(self.ready["token"]),
                     headers=hdrs)
        r = conn.getresponse()
        self.assertEqual(r.status, 101)
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.assertEqual(r.getheader("Sec-WebSocket-Accept"), accept)
        conn.close()


def tool_env(d):
    # a CA bundle from the environment (AWS_CA_BUNDLE) makes rclone refuse to
    # build its HTTP client; these tools talk plain HTTP here
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return dict(env, HOME=d.base, S3_ACCESS_KEY_ID="test", S3_SECRET_ACCESS_KEY="test")


class ToolsTest(FidelityBase):
    def files(self, n=3):
        src = tempfile.mkdtemp(prefix="src-", dir=self.tmp)
        for i in range(n):
            os.makedirs(os.path.join(src, f"d{i % 2}"), exist_ok=True)
            with open(os.path.join(src, f"d{i % 2}", f"f{i}.bin"), "wb") as f:
                f.write(os.urandom(1000 * (i + 1)))
        return src

    def test_libs3(self):
        s3 = shutil.which("s3")
        if not s3:
            self.skipTest("libs3's s3 tool is not installed")
        data = os.urandom(200 * 1024)
        src = os.path.join(self.tmp, "libs3.bin")
        with open(src, "wb") as f:
            f.write(data)
        for style, host in (([], f"127.0.0.1:{self.d.port}"),
                            (["-h"], f"s3.localhost:{self.d.port}")):
            env = dict(tool_env(self.d), S3_HOSTNAME=host)
            run = lambda *a: subprocess.run([s3, "-u", *style, *a], env=env,  # noqa: E731
                                            capture_output=True, timeout=60)
            key = "libs3/vh.bin" if style else "libs3/path.bin"
            r = run("put", f"{RAW}/{key}", f"filename={src}", "contentType=application/x-bb",
                    "x-amz-meta-tool=libs3")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            head = self.s3.head_object(Bucket=RAW, Key=key)
            self.assertEqual(head["ContentType"], "application/x-bb")
            self.assertEqual(head["Metadata"], {"tool": "libs3"})
            out = os.path.join(self.tmp, "libs3.out")
            r = run("get", f"{RAW}/{key}", f"filename={out}")
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), data)
            r = run("list", RAW, "prefix=libs3/")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(key.encode(), r.stdout)
            r = run("copy", f"{RAW}/{key}", f"{RAW}/{key}.copy")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(self.s3.get_object(Bucket=RAW, Key=key + ".copy")["Body"].read(),
                             data)
            for k in (key, key + ".copy"):
                r = run("delete", f"{RAW}/{k}")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertNoObject(k)

    def test_s3cmd(self):
        s3cmd = shutil.which("s3cmd")
        if not s3cmd:
            self.skipTest("s3cmd is not installed")
        cfg = os.path.join(self.tmp, "s3cfg")
        with open(cfg, "w") as f:
            f.write(f"[default]\naccess_key = test\nsecret_key = test\n"
                    f"host_base = 127.0.0.1:{self.d.port}\nhost_bucket = 127.0.0.1:{self.d.port}\n"
                    f"use_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n"
                    f"check_ssl_certificate = False\n")
        run = lambda *a: subprocess.run([s3cmd, "-c", cfg, *a], env=tool_env(self.d),  # noqa
                                        capture_output=True, text=True, timeout=120)
        src = self.files()
        one = os.path.join(src, "d0", "f0.bin")
        r = run("put", one, f"s3://{RAW}/s3cmd/one.bin", "--mime-type=application/x-one",
                "--add-header=x-amz-meta-tool:s3cmd")
        self.assertEqual(r.returncode, 0, r.stderr)
        head = self.s3.head_object(Bucket=RAW, Key="s3cmd/one.bin")
        self.assertEqual(head["ContentType"], "application/x-one")
        self.assertEqual(head["Metadata"].get("tool"), "s3cmd")
        out = os.path.join(self.tmp, "s3cmd.out")
        r = run("get", "--force", f"s3://{RAW}/s3cmd/one.bin", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(one, "rb") as a, open(out, "rb") as b:
            self.assertEqual(a.read(), b.read())
        r = run("ls", f"s3://{RAW}/s3cmd/")
        self.assertIn("s3cmd/one.bin", r.stdout)
        r = run("sync", src + "/", f"s3://{RAW}/s3cmd/sync/")
        self.assertEqual(r.returncode, 0, r.stderr)
        for root, _, names in os.walk(src):
            for n in names:
                rel = os.path.relpath(os.path.join(root, n), src)
                with open(os.path.join(root, n), "rb") as f:
                    self.assertEqual(self.d.read_object_file(RAW, "s3cmd/sync/" + rel), f.read())
        r = run("sync", src + "/", f"s3://{RAW}/s3cmd/sync/")  # nothing to do the second time
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("del", f"s3://{RAW}/s3cmd/one.bin")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNoObject("s3cmd/one.bin")

    def test_rclone(self):
        rclone = shutil.which("rclone")
        if not rclone:
            self.skipTest("rclone is not installed")
        cfg = os.path.join(self.tmp, "rclone.conf")
        with open(cfg, "w") as f:
            f.write(f"[bb]\ntype = s3\nprovider = Other\naccess_key_id = test\n"
                    f"secret_access_key = test\nendpoint = http://127.0.0.1:{self.d.port}\n"
                    f"region = us-east-1\nforce_path_style = true\n")
        run = lambda *a: subprocess.run([rclone, "--config", cfg, *a], env=tool_env(self.d),  # noqa
                                        capture_output=True, text=True, timeout=120)
        src = self.files(5)
        r = run("copy", src, f"bb:{RAW}/rclone/copy")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("check", src, f"bb:{RAW}/rclone/copy")
        self.assertEqual(r.returncode, 0, r.stderr)
        os.unlink(os.path.join(src, "d0", "f0.bin"))
        with open(os.path.join(src, "d1", "new.bin"), "wb") as f:
            f.write(b"new file")
        r = run("sync", src, f"bb:{RAW}/rclone/copy")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("check", src, f"bb:{RAW}/rclone/copy")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNoObject("rclone/copy/d0/f0.bin")
        self.assertEqual(self.d.read_object_file(RAW, "rclone/copy/d1/new.bin"), b"new file")


if __name__ == "__main__":
    bbdaemon.main()
