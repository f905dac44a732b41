# SPDX-License-Identifier: MIT
"""Multipart uploads and CopyObject against the real daemon: boto3 with its
current defaults (CRC32 composite checksums on multipart), the aws CLI, and
raw aws-chunked UploadPart requests. Parts use S3's real 5 MiB minimum."""

import base64
import binascii
import filecmp
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402
from bbdaemon import DaemonTestCase  # noqa: E402

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:  # pragma: no cover
    bbdaemon.skip_module(f"boto3 is not importable by {sys.executable}: {e}")

import test_bad_input as raw  # noqa: E402  (signer and aws-chunked builders)

RAW = "my-raw-images"
MiB = 1024 * 1024
PART = 5 * MiB


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def multipart_etag(parts):
    """S3's ETag of a multipart object: MD5 of the binary part MD5s, "-N"."""
    return '"' + md5_hex(b"".join(hashlib.md5(p).digest() for p in parts)) + f'-{len(parts)}"'


def crc32_raw(data):
    return binascii.crc32(data).to_bytes(4, "big")


def crc32_b64(data):
    return base64.b64encode(crc32_raw(data)).decode()


def composite_crc32(parts):
    raw_sums = b"".join(crc32_raw(p) for p in parts)
    return crc32_b64(raw_sums) + f"-{len(parts)}"


def err(e):
    return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])


def find_aws():
    exe = os.environ.get("BB_AWS_CLI") or shutil.which("aws")
    if exe:
        return [exe]
    try:
        import awscli  # noqa: F401
        return [sys.executable, "-m", "awscli"]
    except ImportError:
        return None


class MultipartTest(DaemonTestCase):
    _client = None
    _client_endpoint = None

    @property
    def s3(self):
        cls = type(self)
        if cls._client is None or cls._client_endpoint != self.d.endpoint:
            cls._client = boto3.session.Session().client(
                "s3", endpoint_url=self.d.endpoint, region_name=bbdaemon.REGION,
                aws_access_key_id=bbdaemon.ACCESS_KEY,
                aws_secret_access_key=bbdaemon.SECRET_KEY,
                config=Config(s3={"addressing_style": "path"},
                              retries={"total_max_attempts": 1}))
            cls._client_endpoint = self.d.endpoint
        return cls._client

    def assertClientError(self, status, code, fn, *a, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(*a, **kw)
        self.assertEqual(err(cm.exception), (status, code), cm.exception.response)
        return cm.exception

    @property
    def uploads_dir(self):
        return os.path.join(self.d.data_dir, ".bucketbridge", "uploads")

    def upload_dirs(self):
        try:
            return sorted(os.listdir(self.uploads_dir))
        except FileNotFoundError:
            return []

    def assertNoUpload(self, upload_id):
        self.assertNotIn(upload_id, self.upload_dirs())

    def put(self, key, body, **kw):
        return self.s3.put_object(Bucket=RAW, Key=key, Body=body, **kw)

    def get(self, key, **kw):
        r = self.s3.get_object(Bucket=RAW, Key=key, **kw)
        return r, r["Body"].read()

    def create(self, key, **kw):
        return self.s3.create_multipart_upload(Bucket=RAW, Key=key, **kw)["UploadId"]

    def upload_parts(self, key, uid, parts, **kw):
        out = []
        for i, p in enumerate(parts, 1):
            r = self.s3.upload_part(Bucket=RAW, Key=key, UploadId=uid, PartNumber=i, Body=p, **kw)
            self.assertEqual(r["ETag"], '"' + md5_hex(p) + '"')
            entry = {"PartNumber": i, "ETag": r["ETag"]}
            for k in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA256"):
                if k in r:
                    entry[k] = r[k]
            out.append(entry)
        return out

    def complete(self, key, uid, parts, **kw):
        return self.s3.complete_multipart_upload(Bucket=RAW, Key=key, UploadId=uid,
                                                 MultipartUpload={"Parts": parts}, **kw)

    # ---- high-level transfers --------------------------------------------
    def test_upload_file_20mb_and_part_get(self):
        key = "mp/twenty.bin"
        before = self.upload_dirs()
        with tempfile.TemporaryDirectory() as td:
            src, dst = os.path.join(td, "src"), os.path.join(td, "dst")
            data = os.urandom(20 * MiB + 12345)
            with open(src, "wb") as f:
                f.write(data)
            cfg = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART)
            self.s3.upload_file(src, RAW, key, Config=cfg)
            parts = [data[i:i + PART] for i in range(0, len(data), PART)]
            self.assertEqual(len(parts), 5)
            h = self.s3.head_object(Bucket=RAW, Key=key)
            self.assertEqual(h["ContentLength"], len(data))
            self.assertEqual(h["ETag"], multipart_etag(parts))
            self.s3.download_file(RAW, key, dst, Config=cfg)
            self.assertTrue(filecmp.cmp(src, dst, shallow=False), "downloaded bytes differ")
            self.assertTrue(filecmp.cmp(src, self.d.object_path(RAW, key), shallow=False),
                            "file on disk differs")
            listed = self.s3.list_objects_v2(Bucket=RAW, Prefix=key)["Contents"]
            self.assertEqual(listed[0]["ETag"], multipart_etag(parts))

        # GetObject / HeadObject ?partNumber=
        for n in (1, 3, 5):
            with self.subTest(part=n):
                r, got = self.get(key, PartNumber=n)
                self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206)
                self.assertEqual(got, parts[n - 1])
                self.assertEqual(r["PartsCount"], 5)
                first = (n - 1) * PART
                self.assertEqual(r["ContentRange"],
                                 f"bytes {first}-{first + len(parts[n - 1]) - 1}/{len(data)}")
                self.assertEqual(r["ETag"], multipart_etag(parts))
        h = self.s3.head_object(Bucket=RAW, Key=key, PartNumber=5)
        self.assertEqual(h["ContentLength"], len(parts[4]))
        self.assertEqual(h["PartsCount"], 5)
        self.assertClientError(416, "InvalidPartNumber", self.s3.get_object, Bucket=RAW, Key=key,
                               PartNumber=6)
        self.assertClientError(400, "InvalidArgument", self.s3.get_object, Bucket=RAW, Key=key,
                               PartNumber=0)
        # a single-part object has one part: itself
        self.put("mp/single.bin", b"single part body")
        r, got = self.get("mp/single.bin", PartNumber=1)
        self.assertEqual(got, b"single part body")
        self.assertClientError(416, "InvalidPartNumber", self.s3.get_object, Bucket=RAW,
                               Key="mp/single.bin", PartNumber=2)

        self.s3.delete_object(Bucket=RAW, Key=key)
        self.assertNoFile(RAW, key)
        self.assertEqual(self.upload_dirs(), before)
        self.assertTmpEmpty()

    def test_aws_cli_cp_20mb(self):
        aws = find_aws()
        if aws is None:
            self.skipTest("the aws CLI is not installed")
        work = tempfile.mkdtemp(prefix="bb-it-mp-cli-")
        before = self.upload_dirs()
        try:
            cfg = os.path.join(work, "config")
            with open(cfg, "w") as f:
                f.write("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"
                        "    multipart_threshold = 5MB\n    multipart_chunksize = 5MB\n")
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env.update(AWS_ACCESS_KEY_ID=bbdaemon.ACCESS_KEY,
                       AWS_SECRET_ACCESS_KEY=bbdaemon.SECRET_KEY,
                       AWS_DEFAULT_REGION=bbdaemon.REGION, AWS_CONFIG_FILE=cfg,
                       AWS_SHARED_CREDENTIALS_FILE=os.path.join(work, "nocreds"),
                       AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
            data = os.urandom(20 * MiB)
            src, dst = os.path.join(work, "src.bin"), os.path.join(work, "dst.bin")
            with open(src, "wb") as f:
                f.write(data)
            key = "mp-cli/big file.bin"

            def aws_run(*args):
                p = subprocess.run(aws + ["--endpoint-url", self.d.endpoint] + list(args),
                                   env=env, capture_output=True, timeout=240)
                self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))

            aws_run("s3", "cp", src, f"s3://{RAW}/{key}")
            self.assertTrue(filecmp.cmp(src, self.d.object_path(RAW, key), shallow=False))
            h = self.s3.head_object(Bucket=RAW, Key=key)
            self.assertEqual(h["ETag"], multipart_etag([data[i:i + PART]
                                                        for i in range(0, len(data), PART)]))
            aws_run("s3", "cp", f"s3://{RAW}/{key}", dst)
            self.assertTrue(filecmp.cmp(src, dst, shallow=False))
            aws_run("s3", "rm", f"s3://{RAW}/{key}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.assertEqual(self.upload_dirs(), before)
        self.assertTmpEmpty()

    # ---- checksums -------------------------------------------------------
    def test_crc32_composite_round_trip(self):
        key = "mp/crc32-composite.bin"
        parts = [os.urandom(PART), os.urandom(PART), os.urandom(1000)]
        r = self.s3.create_multipart_upload(Bucket=RAW, Key=key, ChecksumAlgorithm="CRC32")
        self.assertEqual(r.get("ChecksumAlgorithm"), "CRC32")
        uid = r["UploadId"]
        done = self.upload_parts(key, uid, parts, ChecksumAlgorithm="CRC32")
        for d, p in zip(done, parts):
            self.assertEqual(d["ChecksumCRC32"], crc32_b64(p))
        lp = self.s3.list_parts(Bucket=RAW, Key=key, UploadId=uid)
        self.assertEqual([p["ChecksumCRC32"] for p in lp["Parts"]], [crc32_b64(p) for p in parts])
        self.assertEqual(lp.get("ChecksumAlgorithm"), "CRC32")
        c = self.complete(key, uid, done)
        self.assertEqual(c["ETag"], multipart_etag(parts))
        self.assertEqual(c["ChecksumCRC32"], composite_crc32(parts))
        self.assertEqual(c.get("ChecksumType"), "COMPOSITE")
        h = self.s3.head_object(Bucket=RAW, Key=key, ChecksumMode="ENABLED")
        self.assertEqual(h["ChecksumCRC32"], composite_crc32(parts))
        self.assertEqual(h.get("ChecksumType"), "COMPOSITE")
        _, got = self.get(key, ChecksumMode="ENABLED")
        self.assertEqual(got, b"".join(parts))
        self.assertNoUpload(uid)

    def test_crc32_full_object(self):
        key = "mp/crc32-full.bin"
        parts = [os.urandom(PART), os.urandom(4096)]
        r = self.s3.create_multipart_upload(Bucket=RAW, Key=key, ChecksumAlgorithm="CRC32",
                                            ChecksumType="FULL_OBJECT")
        self.assertEqual(r.get("ChecksumType"), "FULL_OBJECT")
        uid = r["UploadId"]
        done = self.upload_parts(key, uid, parts, ChecksumAlgorithm="CRC32")
        whole = b"".join(parts)
        # a wrong full-object checksum is refused, the right one accepted
        self.assertClientError(400, "BadDigest", self.complete, key, uid, done,
                               ChecksumCRC32=crc32_b64(whole + b"x"), ChecksumType="FULL_OBJECT")
        c = self.complete(key, uid, done, ChecksumCRC32=crc32_b64(whole),
                          ChecksumType="FULL_OBJECT")
        self.assertEqual(c["ChecksumCRC32"], crc32_b64(whole))
        self.assertEqual(c.get("ChecksumType"), "FULL_OBJECT")
        r, got = self.get(key, ChecksumMode="ENABLED")  # botocore validates this one
        self.assertEqual(got, whole)

    def test_checksum_type_rules(self):
        self.assertClientError(400, "InvalidRequest", self.s3.create_multipart_upload,
                               Bucket=RAW, Key="mp/bad-type", ChecksumAlgorithm="CRC64NVME",
                               ChecksumType="COMPOSITE")
        self.assertClientError(400, "InvalidRequest", self.s3.create_multipart_upload,
                               Bucket=RAW, Key="mp/bad-type", ChecksumAlgorithm="SHA256",
                               ChecksumType="FULL_OBJECT")
        uid = self.create("mp/mismatch.bin", ChecksumAlgorithm="CRC32")
        self.assertClientError(400, "InvalidRequest", self.s3.upload_part, Bucket=RAW,
                               Key="mp/mismatch.bin", UploadId=uid, PartNumber=1, Body=b"x",
                               ChecksumAlgorithm="SHA256")
        # a wrong part checksum in CompleteMultipartUpload: InvalidPart
        done = self.upload_parts("mp/mismatch.bin", uid, [b"abc"], ChecksumAlgorithm="CRC32")
        done[0]["ChecksumCRC32"] = crc32_b64(b"abd")
        self.assertClientError(400, "InvalidPart", self.complete, "mp/mismatch.bin", uid, done)
        self.s3.abort_multipart_upload(Bucket=RAW, Key="mp/mismatch.bin", UploadId=uid)

    # ---- aws-chunked parts -----------------------------------------------
    def raw_part(self, key, uid, number, payload, mode):
        """UploadPart sent as an aws-chunked body (signed chunks, or unsigned
        chunks with a CRC32 trailer)."""
        path = "/" + RAW + "/" + urllib.parse.quote(key, safe="/~")
        query = f"partNumber={number}&uploadId={uid}"
        chunks = raw.split_chunks(payload, 8192)
        headers = {"Content-Encoding": "aws-chunked",
                   "x-amz-decoded-content-length": str(len(payload))}
        if mode == "signed":
            headers["Content-Length"] = str(raw.signed_chunked_length(chunks))
            payload_hash = raw.STREAMING_SIGNED
        else:
            body = raw.unsigned_trailer_body(chunks, "x-amz-checksum-crc32", crc32_b64(payload))
            headers.update({"Content-Length": str(len(body)),
                            "x-amz-trailer": "x-amz-checksum-crc32",
                            "x-amz-sdk-checksum-algorithm": "CRC32"})
            payload_hash = raw.STREAMING_UNSIGNED_TRAILER
        req = AWSRequest(method="PUT", url=self.d.endpoint + path + "?" + query,
                         headers=dict(headers), data=b"")
        signer = raw.Signer(bbdaemon.ACCESS_KEY, bbdaemon.SECRET_KEY, payload_hash=payload_hash)
        signer.add_auth(req)
        if mode == "signed":
            amz_date = req.context["timestamp"]
            seed = req.headers["Authorization"].rsplit("Signature=", 1)[1]
            body = raw.signed_chunked_body(chunks, raw.signing_key(bbdaemon.SECRET_KEY,
                                                                   amz_date[:8]),
                                           amz_date, signer.credential_scope(req), seed)
        lines = [f"PUT {path}?{query} HTTP/1.1", f"Host: 127.0.0.1:{self.d.port}"]
        for k, v in req.headers.items():
            if k.lower() != "host":
                lines.append(f"{k}: {v.decode() if isinstance(v, bytes) else v}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        return raw.raw_exchange(self.d.port, head, body)

    def test_upload_part_aws_chunked(self):
        key = "mp/chunked parts.bin"
        uid = self.create(key, ChecksumAlgorithm="CRC32")
        p1, p2 = os.urandom(PART), os.urandom(70000)
        r1 = self.raw_part(key, uid, 1, p1, "signed")
        self.assertEqual(r1.status, 200, r1)
        self.assertEqual(r1.headers.get("ETag"), '"' + md5_hex(p1) + '"')
        self.assertEqual(r1.headers.get("x-amz-checksum-crc32"), crc32_b64(p1))
        r2 = self.raw_part(key, uid, 2, p2, "unsigned-trailer")
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.headers.get("x-amz-checksum-crc32"), crc32_b64(p2))
        c = self.complete(key, uid, [
            {"PartNumber": 1, "ETag": r1.headers["ETag"], "ChecksumCRC32": crc32_b64(p1)},
            {"PartNumber": 2, "ETag": r2.headers["ETag"], "ChecksumCRC32": crc32_b64(p2)}])
        self.assertEqual(c["ETag"], multipart_etag([p1, p2]))
        self.assertEqual(self.d.read_object_file(RAW, key), p1 + p2)
        self.assertTmpEmpty()

    # ---- CompleteMultipartUpload errors ----------------------------------
    def test_invalid_part_order(self):
        key = "mp/order.bin"
        uid = self.create(key)
        parts = [os.urandom(PART), b"tail"]
        done = self.upload_parts(key, uid, parts)
        self.assertClientError(400, "InvalidPartOrder", self.complete, key, uid,
                               list(reversed(done)))
        self.assertClientError(400, "InvalidPartOrder", self.complete, key, uid,
                               [done[0], done[0]])
        self.assertNoFile(RAW, key)
        c = self.complete(key, uid, done)  # the upload survived the errors
        self.assertEqual(c["ETag"], multipart_etag(parts))
        self.assertEqual(self.d.read_object_file(RAW, key), b"".join(parts))

    def test_invalid_part(self):
        key = "mp/invalid-part.bin"
        uid = self.create(key)
        done = self.upload_parts(key, uid, [os.urandom(PART), b"tail"])
        wrong = [dict(done[0]), done[1]]
        wrong[0]["ETag"] = '"' + "0" * 32 + '"'
        self.assertClientError(400, "InvalidPart", self.complete, key, uid, wrong)
        missing = [done[0], {"PartNumber": 3, "ETag": done[1]["ETag"]}]
        self.assertClientError(400, "InvalidPart", self.complete, key, uid, missing)
        # unquoted ETags are fine
        c = self.complete(key, uid, [{"PartNumber": d["PartNumber"],
                                      "ETag": d["ETag"].strip('"')} for d in done])
        self.assertTrue(c["ETag"].endswith('-2"'))
        self.assertNoUpload(uid)

    def test_entity_too_small(self):
        key = "mp/too-small.bin"
        uid = self.create(key)
        done = self.upload_parts(key, uid, [b"a" * 1024, b"b" * 1024])
        e = self.assertClientError(400, "EntityTooSmall", self.complete, key, uid, done)
        self.assertIn("MinSizeAllowed", e.response["Error"])
        self.assertNoFile(RAW, key)
        # one small part alone is a valid (last) part
        c = self.complete(key, uid, done[:1])
        self.assertEqual(c["ETag"], multipart_etag([b"a" * 1024]))
        self.assertEqual(self.d.read_object_file(RAW, key), b"a" * 1024)

    def test_no_such_upload(self):
        key = "mp/nope.bin"
        for uid in ("0" * 32, "not-an-id", "../../etc", "f" * 32):
            with self.subTest(upload_id=uid):
                self.assertClientError(404, "NoSuchUpload", self.s3.upload_part, Bucket=RAW,
                                       Key=key, UploadId=uid, PartNumber=1, Body=b"x")
                self.assertClientError(404, "NoSuchUpload", self.complete, key, uid,
                                       [{"PartNumber": 1, "ETag": '"' + md5_hex(b"x") + '"'}])
                self.assertClientError(404, "NoSuchUpload", self.s3.list_parts, Bucket=RAW,
                                       Key=key, UploadId=uid)
                self.assertClientError(404, "NoSuchUpload", self.s3.abort_multipart_upload,
                                       Bucket=RAW, Key=key, UploadId=uid)
        # an upload id is bound to its key
        uid = self.create("mp/bound.bin")
        self.assertClientError(404, "NoSuchUpload", self.s3.upload_part, Bucket=RAW,
                               Key="mp/other.bin", UploadId=uid, PartNumber=1, Body=b"x")
        self.assertClientError(400, "InvalidArgument", self.s3.upload_part, Bucket=RAW,
                               Key="mp/bound.bin", UploadId=uid, PartNumber=10001, Body=b"x")
        self.s3.abort_multipart_upload(Bucket=RAW, Key="mp/bound.bin", UploadId=uid)
        self.assertTmpEmpty()

    def test_abort_leaves_nothing(self):
        key = "mp/abort.bin"
        before = self.upload_dirs()
        uid = self.create(key)
        self.assertIn(uid, self.upload_dirs())
        self.upload_parts(key, uid, [os.urandom(PART), b"x" * 100])
        r = self.s3.abort_multipart_upload(Bucket=RAW, Key=key, UploadId=uid)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.upload_dirs(), before)
        self.assertFalse(os.path.exists(os.path.join(self.uploads_dir, uid)))
        self.assertNoFile(RAW, key)
        with self.assertRaises(ClientError) as cm:
            self.s3.head_object(Bucket=RAW, Key=key)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertClientError(404, "NoSuchUpload", self.s3.list_parts, Bucket=RAW, Key=key,
                               UploadId=uid)
        ups = self.s3.list_multipart_uploads(Bucket=RAW).get("Uploads", [])
        self.assertNotIn(uid, [u["UploadId"] for u in ups])
        self.assertTmpEmpty()

    def test_nothing_visible_before_complete(self):
        key = "mp/invisible.bin"
        uid = self.create(key)
        self.upload_parts(key, uid, [b"hello"])
        self.assertNoFile(RAW, key)
        self.assertClientError(404, "NoSuchKey", self.s3.get_object, Bucket=RAW, Key=key)
        listed = self.s3.list_objects_v2(Bucket=RAW, Prefix=key).get("Contents", [])
        self.assertEqual(listed, [])
        # parts replace earlier parts of the same number
        done = self.upload_parts(key, uid, [b"world"])
        c = self.complete(key, uid, done)
        self.assertEqual(c["ETag"], multipart_etag([b"world"]))
        self.assertEqual(self.get(key)[1], b"world")

    def events_for(self, key):
        """reason of every journalled S3 event for @key (read-only look at
        the events table of state.db; skips when there is none)."""
        import json
        import sqlite3
        db = os.path.join(self.d.data_dir, ".bucketbridge", "state.db")
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute("SELECT body FROM events WHERE source='aws.s3' ORDER BY seq")
            out = []
            # the event may carry the key form-encoded, as S3 notifications do
            names = (key, urllib.parse.quote_plus(key, safe="/"))
            for (body,) in rows:
                detail = json.loads(body).get("detail", {})
                if detail.get("object", {}).get("key") in names:
                    out.append(detail.get("reason"))
            return out
        except sqlite3.OperationalError as e:
            self.skipTest(f"no event journal to look at: {e}")
        finally:
            con.close()

    def test_one_event_per_completed_upload(self):
        key = "mp-ev/one event.bin"
        uid = self.create(key)
        done = self.upload_parts(key, uid, [os.urandom(PART), b"tail"])
        self.s3.list_parts(Bucket=RAW, Key=key, UploadId=uid)
        self.assertEqual(self.events_for(key), [])
        self.complete(key, uid, done)
        self.assertEqual(self.events_for(key), ["CompleteMultipartUpload"])
        # an aborted upload emits nothing
        uid = self.create("mp-ev/aborted.bin")
        self.upload_parts("mp-ev/aborted.bin", uid, [b"x"])
        self.s3.abort_multipart_upload(Bucket=RAW, Key="mp-ev/aborted.bin", UploadId=uid)
        self.assertEqual(self.events_for("mp-ev/aborted.bin"), [])
        # CopyObject: one event, for the destination
        self.s3.copy_object(Bucket=RAW, Key="mp-ev/copy.bin",
                            CopySource={"Bucket": RAW, "Key": key})
        self.assertEqual(self.events_for("mp-ev/copy.bin"), ["CopyObject"])
        self.assertEqual(self.events_for(key), ["CompleteMultipartUpload"])

    # ---- listings --------------------------------------------------------
    def test_list_parts_and_uploads(self):
        keys = ["mp-list/a.bin", "mp-list/b.bin", "mp-list/sub/c.bin", "mp-list/a.bin"]
        uids = [self.create(k) for k in keys]
        parts = [b"1" * 10, b"22" * 10, b"333" * 10]
        self.upload_parts(keys[0], uids[0], parts)

        lp = self.s3.list_parts(Bucket=RAW, Key=keys[0], UploadId=uids[0])
        self.assertEqual([p["PartNumber"] for p in lp["Parts"]], [1, 2, 3])
        self.assertEqual([p["Size"] for p in lp["Parts"]], [len(p) for p in parts])
        self.assertEqual([p["ETag"] for p in lp["Parts"]],
                         ['"' + md5_hex(p) + '"' for p in parts])
        self.assertFalse(lp["IsTruncated"])
        page = self.s3.list_parts(Bucket=RAW, Key=keys[0], UploadId=uids[0], MaxParts=2)
        self.assertTrue(page["IsTruncated"])
        self.assertEqual([p["PartNumber"] for p in page["Parts"]], [1, 2])
        self.assertEqual(page["NextPartNumberMarker"], 2)
        page = self.s3.list_parts(Bucket=RAW, Key=keys[0], UploadId=uids[0],
                                  PartNumberMarker=2)
        self.assertEqual([p["PartNumber"] for p in page["Parts"]], [3])

        lu = self.s3.list_multipart_uploads(Bucket=RAW, Prefix="mp-list/")
        got = [(u["Key"], u["UploadId"]) for u in lu["Uploads"]]
        want = sorted(zip(keys, uids), key=lambda kv: (kv[0], kv[1]))
        self.assertEqual(got, want)
        lu = self.s3.list_multipart_uploads(Bucket=RAW, Prefix="mp-list/", Delimiter="/")
        self.assertEqual([u["Key"] for u in lu["Uploads"]],
                         ["mp-list/a.bin", "mp-list/a.bin", "mp-list/b.bin"])
        self.assertEqual([p["Prefix"] for p in lu["CommonPrefixes"]], ["mp-list/sub/"])
        page = self.s3.list_multipart_uploads(Bucket=RAW, Prefix="mp-list/", MaxUploads=2)
        self.assertTrue(page["IsTruncated"])
        self.assertEqual([(u["Key"], u["UploadId"]) for u in page["Uploads"]], want[:2])
        rest = self.s3.list_multipart_uploads(Bucket=RAW, Prefix="mp-list/",
                                              KeyMarker=page["NextKeyMarker"],
                                              UploadIdMarker=page["NextUploadIdMarker"])
        self.assertEqual([(u["Key"], u["UploadId"]) for u in rest["Uploads"]], want[2:])
        # uploads of another bucket stay out
        other = self.s3.list_multipart_uploads(Bucket="my-thumbnails").get("Uploads", [])
        self.assertEqual(other, [])
        for k, u in zip(keys, uids):
            self.s3.abort_multipart_upload(Bucket=RAW, Key=k, UploadId=u)
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=RAW, Prefix="mp-list/")
                         .get("Uploads", []), [])

    # ---- UploadPartCopy --------------------------------------------------
    def test_upload_part_copy_with_range(self):
        src_key = "mp-copy/source object+é.bin"
        data = os.urandom(12 * MiB)
        self.put(src_key, data)
        key = "mp-copy/assembled.bin"
        uid = self.create(key, ChecksumAlgorithm="CRC32")
        src = {"Bucket": RAW, "Key": src_key}
        r1 = self.s3.upload_part_copy(Bucket=RAW, Key=key, UploadId=uid, PartNumber=1,
                                      CopySource=src, CopySourceRange=f"bytes=0-{PART - 1}")
        self.assertEqual(r1["CopyPartResult"]["ETag"], '"' + md5_hex(data[:PART]) + '"')
        self.assertEqual(r1["CopyPartResult"]["ChecksumCRC32"], crc32_b64(data[:PART]))
        r2 = self.s3.upload_part_copy(Bucket=RAW, Key=key, UploadId=uid, PartNumber=2,
                                      CopySource=src,
                                      CopySourceRange=f"bytes={PART}-{len(data) - 1}")
        tail = os.urandom(1000)
        r3 = self.s3.upload_part(Bucket=RAW, Key=key, UploadId=uid, PartNumber=3, Body=tail,
                                 ChecksumAlgorithm="CRC32")
        parts = [data[:PART], data[PART:], tail]
        c = self.complete(key, uid, [
            {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"],
             "ChecksumCRC32": r1["CopyPartResult"]["ChecksumCRC32"]},
            {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"],
             "ChecksumCRC32": r2["CopyPartResult"]["ChecksumCRC32"]},
            {"PartNumber": 3, "ETag": r3["ETag"], "ChecksumCRC32": r3["ChecksumCRC32"]}])
        self.assertEqual(c["ETag"], multipart_etag(parts))
        self.assertEqual(c["ChecksumCRC32"], composite_crc32(parts))
        self.assertEqual(self.get(key)[1], data + tail)
        # whole-object copy (no range) and bad ranges
        uid = self.create("mp-copy/whole.bin")
        r = self.s3.upload_part_copy(Bucket=RAW, Key="mp-copy/whole.bin", UploadId=uid,
                                     PartNumber=1, CopySource=src)
        self.assertEqual(r["CopyPartResult"]["ETag"], '"' + md5_hex(data) + '"')
        for bad in (f"bytes=0-{len(data)}", "bytes=10-5", "bytes=5-", "items=0-1"):
            with self.subTest(range=bad):
                self.assertClientError(400, "InvalidArgument", self.s3.upload_part_copy,
                                       Bucket=RAW, Key="mp-copy/whole.bin", UploadId=uid,
                                       PartNumber=2, CopySource=src, CopySourceRange=bad)
        self.assertClientError(404, "NoSuchKey", self.s3.upload_part_copy, Bucket=RAW,
                               Key="mp-copy/whole.bin", UploadId=uid, PartNumber=2,
                               CopySource={"Bucket": RAW, "Key": "mp-copy/missing"})
        self.s3.abort_multipart_upload(Bucket=RAW, Key="mp-copy/whole.bin", UploadId=uid)
        self.assertTmpEmpty()

    # ---- CopyObject ------------------------------------------------------
    def test_copy_object_copy_directive(self):
        body = os.urandom(100_000)
        self.put("cp/src.bin", body, Metadata={"color": "red"}, ContentType="image/png",
                 CacheControl="max-age=60")
        r = self.s3.copy_object(Bucket=RAW, Key="cp/dst.bin",
                                CopySource={"Bucket": RAW, "Key": "cp/src.bin"})
        self.assertEqual(r["CopyObjectResult"]["ETag"], '"' + md5_hex(body) + '"')
        h = self.s3.head_object(Bucket=RAW, Key="cp/dst.bin")
        self.assertEqual(h["Metadata"], {"color": "red"})
        self.assertEqual(h["ContentType"], "image/png")
        self.assertEqual(h["CacheControl"], "max-age=60")
        self.assertEqual(self.d.read_object_file(RAW, "cp/dst.bin"), body)
        # across buckets
        self.s3.copy_object(Bucket="my-thumbnails", Key="from-raw.bin",
                            CopySource={"Bucket": RAW, "Key": "cp/src.bin"})
        self.assertEqual(self.d.read_object_file("my-thumbnails", "from-raw.bin"), body)
        # a multipart source becomes a single-part copy
        parts = [os.urandom(PART), b"end"]
        uid = self.create("cp/mp-src.bin")
        self.complete("cp/mp-src.bin", uid, self.upload_parts("cp/mp-src.bin", uid, parts))
        r = self.s3.copy_object(Bucket=RAW, Key="cp/mp-dst.bin",
                                CopySource={"Bucket": RAW, "Key": "cp/mp-src.bin"})
        self.assertEqual(r["CopyObjectResult"]["ETag"], '"' + md5_hex(b"".join(parts)) + '"')
        self.assertTmpEmpty()

    def test_copy_object_replace_directive(self):
        self.put("cp/r-src.bin", b"replace me", Metadata={"a": "1", "b": "2"},
                 ContentType="text/plain")
        self.s3.copy_object(Bucket=RAW, Key="cp/r-dst.bin", MetadataDirective="REPLACE",
                            Metadata={"c": "3"}, ContentType="application/json",
                            CopySource={"Bucket": RAW, "Key": "cp/r-src.bin"})
        h = self.s3.head_object(Bucket=RAW, Key="cp/r-dst.bin")
        self.assertEqual(h["Metadata"], {"c": "3"})
        self.assertEqual(h["ContentType"], "application/json")
        # REPLACE without a Content-Type: the default
        self.s3.copy_object(Bucket=RAW, Key="cp/r-dst2.bin", MetadataDirective="REPLACE",
                            CopySource={"Bucket": RAW, "Key": "cp/r-src.bin"})
        h = self.s3.head_object(Bucket=RAW, Key="cp/r-dst2.bin")
        self.assertEqual(h.get("Metadata"), {})
        self.assertEqual(h["ContentType"], "binary/octet-stream")
        # source metadata is untouched
        h = self.s3.head_object(Bucket=RAW, Key="cp/r-src.bin")
        self.assertEqual(h["Metadata"], {"a": "1", "b": "2"})

    def test_copy_onto_itself(self):
        key = "cp/self.bin"
        self.put(key, b"self body", Metadata={"v": "1"})
        etag = self.s3.head_object(Bucket=RAW, Key=key)["ETag"]
        self.assertClientError(400, "InvalidRequest", self.s3.copy_object, Bucket=RAW, Key=key,
                               CopySource={"Bucket": RAW, "Key": key})
        self.s3.copy_object(Bucket=RAW, Key=key, CopySource={"Bucket": RAW, "Key": key},
                            MetadataDirective="REPLACE", Metadata={"v": "2"})
        h = self.s3.head_object(Bucket=RAW, Key=key)
        self.assertEqual(h["Metadata"], {"v": "2"})
        self.assertEqual(h["ETag"], etag)
        self.assertEqual(self.get(key)[1], b"self body")
        self.assertTmpEmpty()

    def test_copy_source_needing_encoding(self):
        keys = ["cp-enc/with space.txt", "cp-enc/plus+sign.txt", "cp-enc/ünïcødé 日本.txt",
                "cp-enc/per%cent&amp=eq?.txt", "cp-enc/mixed +=%&é.txt"]
        for i, k in enumerate(keys):
            with self.subTest(key=k):
                body = f"body {i}".encode()
                self.put(k, body)
                dst = k.replace("cp-enc/", "cp-enc-dst/")
                self.s3.copy_object(Bucket=RAW, Key=dst, CopySource={"Bucket": RAW, "Key": k})
                self.assertEqual(self.get(dst)[1], body)
                # the header as a string (botocore encodes it), with and
                # without a leading '/'
                for src in (f"{RAW}/{k}", f"/{RAW}/{k}"):
                    self.s3.copy_object(Bucket=RAW, Key=dst + ".2", CopySource=src)
                    self.assertEqual(self.get(dst + ".2")[1], body)
        self.assertClientError(404, "NoSuchKey", self.s3.copy_object, Bucket=RAW,
                               Key="cp-enc/x", CopySource=f"{RAW}/cp-enc/no%20such")
        self.assertClientError(404, "NoSuchBucket", self.s3.copy_object, Bucket=RAW,
                               Key="cp-enc/x", CopySource="no-such-bucket-xyz/a")
        self.assertClientError(400, "InvalidArgument", self.s3.copy_object, Bucket=RAW,
                               Key="cp-enc/x", CopySource=f"{RAW}")

    def test_copy_source_conditions(self):
        key = "cp-cond/src.bin"
        self.put(key, b"conditional")
        h = self.s3.head_object(Bucket=RAW, Key=key)
        etag = h["ETag"]
        past = datetime.now(timezone.utc) - timedelta(days=1)
        future = datetime.now(timezone.utc) + timedelta(days=1)
        src = {"Bucket": RAW, "Key": key}
        dst = "cp-cond/dst.bin"
        fails = [{"CopySourceIfMatch": '"' + "0" * 32 + '"'},
                 {"CopySourceIfNoneMatch": etag},
                 {"CopySourceIfUnmodifiedSince": past},
                 {"CopySourceIfModifiedSince": future}]
        for kw in fails:
            with self.subTest(**{k: str(v) for k, v in kw.items()}):
                self.assertClientError(412, "PreconditionFailed", self.s3.copy_object,
                                       Bucket=RAW, Key=dst, CopySource=src, **kw)
                self.assertNoFile(RAW, dst)
        passes = [{"CopySourceIfMatch": etag},
                  {"CopySourceIfMatch": etag.strip('"')},
                  {"CopySourceIfNoneMatch": '"' + "0" * 32 + '"'},
                  {"CopySourceIfModifiedSince": past},
                  {"CopySourceIfUnmodifiedSince": future},
                  # a true If-Match wins over a false If-Unmodified-Since
                  {"CopySourceIfMatch": etag, "CopySourceIfUnmodifiedSince": past}]
        for kw in passes:
            with self.subTest(**{k: str(v) for k, v in kw.items()}):
                r = self.s3.copy_object(Bucket=RAW, Key=dst, CopySource=src, **kw)
                self.assertEqual(r["CopyObjectResult"]["ETag"], etag)
        # UploadPartCopy honours the same conditions
        uid = self.create("cp-cond/mp.bin")
        self.assertClientError(412, "PreconditionFailed", self.s3.upload_part_copy, Bucket=RAW,
                               Key="cp-cond/mp.bin", UploadId=uid, PartNumber=1, CopySource=src,
                               CopySourceIfMatch='"' + "0" * 32 + '"')
        self.s3.abort_multipart_upload(Bucket=RAW, Key="cp-cond/mp.bin", UploadId=uid)
        self.assertTmpEmpty()


if __name__ == "__main__":
    bbdaemon.main()
