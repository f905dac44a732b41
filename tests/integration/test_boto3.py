# SPDX-License-Identifier: MIT
"""boto3 against the real daemon, with boto3's current defaults (no
when_required checksum settings): every request carries the SDK's default
checksums and is SigV4 signed with test/test."""

import base64
import binascii
import filecmp
import hashlib
import os
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402
from bbdaemon import DaemonTestCase  # noqa: E402

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:  # pragma: no cover
    bbdaemon.skip_module(f"boto3 is not importable by {sys.executable}: {e}")

RAW = "my-raw-images"
MiB = 1024 * 1024

# Keys that exercise the signer and the path decoder (shared/reference/s3.md 2C).
SPECIAL_KEYS = [
    "b3-special/with space.txt",
    "b3-special/plus+sign.txt",
    "b3-special/eq=ual=.txt",
    "b3-special/per%cent%20.txt",
    "b3-special/amp&ersand.txt",
    "b3-special/dollar$tilde~star*.txt",
    "b3-special/ünïcødé/日本語 ファイル.txt",
    "b3-special/emoji-\U0001F600.txt",
    "b3-special/mixed +=%&é.txt",
    "b3-special-dbl//double-slash.txt",
    "/b3-leading-slash/x.txt",
]


def crc32_b64(data):
    return base64.b64encode(binascii.crc32(data).to_bytes(4, "big")).decode()


def md5_etag(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def err(e):
    """(HTTP status, Error Code) of a ClientError."""
    return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])


class Boto3Test(DaemonTestCase):
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
                # Path style; no retries so that a daemon error is seen as is.
                config=Config(s3={"addressing_style": "path"},
                              retries={"total_max_attempts": 1}))
            cls._client_endpoint = self.d.endpoint
        return cls._client

    def assertClientError(self, status, code, fn, *a, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(*a, **kw)
        self.assertEqual(err(cm.exception), (status, code), cm.exception.response)
        return cm.exception

    def put(self, key, body, bucket=RAW, **kw):
        return self.s3.put_object(Bucket=bucket, Key=key, Body=body, **kw)

    def get(self, key, bucket=RAW, **kw):
        r = self.s3.get_object(Bucket=bucket, Key=key, **kw)
        return r, r["Body"].read()

    # ---- buckets ---------------------------------------------------------
    def test_default_buckets_exist(self):
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        for b in bbdaemon.DEFAULT_BUCKETS:
            self.assertIn(b, names)
            self.assertTrue(os.path.isdir(os.path.join(self.d.data_dir, b)))
        self.assertNotIn(".bucketbridge", names)

    def test_bucket_lifecycle(self):
        b = "it-boto3-lifecycle"
        r = self.s3.create_bucket(Bucket=b)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertTrue(os.path.isdir(os.path.join(self.d.data_dir, b)))
        self.assertEqual(self.s3.head_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"], 200)
        loc = self.s3.get_bucket_location(Bucket=b)
        self.assertIn(loc.get("LocationConstraint"), (None, "", "us-east-1"))
        self.assertIn(b, [x["Name"] for x in self.s3.list_buckets()["Buckets"]])
        # Creating it again: us-east-1 answers BucketAlreadyOwnedByYou (409) or 200.
        try:
            self.s3.create_bucket(Bucket=b)
        except ClientError as e:
            self.assertEqual(err(e), (409, "BucketAlreadyOwnedByYou"))

        self.put("k.txt", b"x", bucket=b)
        self.assertClientError(409, "BucketNotEmpty", self.s3.delete_bucket, Bucket=b)
        self.assertTrue(os.path.isdir(os.path.join(self.d.data_dir, b)))
        self.s3.delete_object(Bucket=b, Key="k.txt")
        r = self.s3.delete_bucket(Bucket=b)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, b)))
        with self.assertRaises(ClientError) as cm:
            self.s3.head_bucket(Bucket=b)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertNotIn(b, [x["Name"] for x in self.s3.list_buckets()["Buckets"]])

    def test_no_such_bucket(self):
        nb = "it-boto3-does-not-exist"
        self.assertClientError(404, "NoSuchBucket", self.s3.get_object, Bucket=nb, Key="k")
        self.assertClientError(404, "NoSuchBucket", self.s3.put_object, Bucket=nb, Key="k",
                               Body=b"x")
        self.assertClientError(404, "NoSuchBucket", self.s3.list_objects_v2, Bucket=nb)
        self.assertClientError(404, "NoSuchBucket", self.s3.list_objects, Bucket=nb)
        self.assertClientError(404, "NoSuchBucket", self.s3.delete_bucket, Bucket=nb)
        self.assertClientError(404, "NoSuchBucket", self.s3.get_bucket_location, Bucket=nb)
        with self.assertRaises(ClientError) as cm:
            self.s3.head_bucket(Bucket=nb)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, nb)))

    def test_no_such_key(self):
        e = self.assertClientError(404, "NoSuchKey", self.s3.get_object, Bucket=RAW,
                                   Key="b3-missing/nothing.txt")
        self.assertEqual(e.response["Error"].get("Key"), "b3-missing/nothing.txt")
        with self.assertRaises(ClientError) as cm:
            self.s3.head_object(Bucket=RAW, Key="b3-missing/nothing.txt")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

    # ---- objects ---------------------------------------------------------
    def test_put_get_head_delete(self):
        key, body = "b3-basic/hello.txt", b"hello world\n"
        r = self.put(key, body)
        self.assertEqual(r["ETag"], md5_etag(body))
        self.assertEqual(self.d.read_object_file(RAW, key), body)
        r, got = self.get(key)
        self.assertEqual(got, body)
        self.assertEqual(r["ETag"], md5_etag(body))
        self.assertEqual(r["ContentLength"], len(body))
        h = self.s3.head_object(Bucket=RAW, Key=key)
        self.assertEqual(h["ContentLength"], len(body))
        self.assertEqual(h["ETag"], md5_etag(body))
        self.assertIsNotNone(h.get("LastModified"))
        # Overwrite.
        body2 = b"second version"
        self.put(key, body2)
        self.assertEqual(self.get(key)[1], body2)
        self.assertEqual(self.d.read_object_file(RAW, key), body2)
        r = self.s3.delete_object(Bucket=RAW, Key=key)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertNoFile(RAW, key)
        self.assertClientError(404, "NoSuchKey", self.s3.get_object, Bucket=RAW, Key=key)
        # Deleting a missing key is a 204 too.
        r = self.s3.delete_object(Bucket=RAW, Key=key)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertTmpEmpty()

    def test_empty_object(self):
        key = "b3-basic/empty"
        r = self.put(key, b"")
        self.assertEqual(r["ETag"], md5_etag(b""))
        r, got = self.get(key)
        self.assertEqual(got, b"")
        self.assertEqual(r["ContentLength"], 0)
        self.assertEqual(self.d.read_object_file(RAW, key), b"")

    def test_special_keys_round_trip(self):
        for i, key in enumerate(SPECIAL_KEYS):
            with self.subTest(key=key):
                body = f"body {i} of {key}".encode()
                self.put(key, body)
                r, got = self.get(key)
                self.assertEqual(got, body)
                h = self.s3.head_object(Bucket=RAW, Key=key)
                self.assertEqual(h["ContentLength"], len(body))
                lst = self.s3.list_objects_v2(Bucket=RAW, Prefix=key)
                self.assertEqual([c["Key"] for c in lst.get("Contents", [])], [key])
                lst = self.s3.list_objects(Bucket=RAW, Prefix=key)
                self.assertEqual([c["Key"] for c in lst.get("Contents", [])], [key])
                if "//" not in key and not key.startswith("/"):
                    self.assertEqual(self.d.read_object_file(RAW, key), body)
                self.s3.delete_object(Bucket=RAW, Key=key)
                self.assertClientError(404, "NoSuchKey", self.s3.get_object, Bucket=RAW,
                                       Key=key)
                if "//" not in key and not key.startswith("/"):
                    self.assertNoFile(RAW, key)

    def test_double_slash_and_leading_slash_are_distinct_keys(self):
        # "x//y" and "x/y" (and "/z" and "z") are different S3 keys. A
        # filesystem mapping may refuse the second one with an S3 error, but
        # must never merge them (the second PUT overwriting the first).
        pairs = [("b3-distinct//y.txt", "b3-distinct/y.txt"),
                 ("/b3-distinct-lead.txt", "b3-distinct-lead.txt")]
        for a, b in pairs:
            with self.subTest(a=a, b=b):
                self.put(a, b"A")
                try:
                    self.put(b, b"B")
                    second = True
                except ClientError as e:
                    status = e.response["ResponseMetadata"]["HTTPStatusCode"]
                    self.assertTrue(400 <= status < 500 and e.response["Error"]["Code"],
                                    e.response)
                    second = False
                self.assertEqual(self.get(a)[1], b"A")
                if second:
                    self.assertEqual(self.get(b)[1], b"B")
                    lst = self.s3.list_objects_v2(Bucket=RAW, Prefix=a)
                    self.assertEqual([c["Key"] for c in lst.get("Contents", [])], [a])
                    self.s3.delete_object(Bucket=RAW, Key=b)
                self.s3.delete_object(Bucket=RAW, Key=a)

    def test_folder_marker_keys(self):
        # Consoles create empty "folder/" objects next to "folder/file".
        self.put("b3-folder/", b"")
        # (A GET between the two PUTs: an empty PUT followed by another PUT
        # on the same connection is test_empty_put_then_put_on_one_connection.)
        self.assertEqual(self.get("b3-folder/")[1], b"")
        self.put("b3-folder/x.txt", b"x")
        self.assertEqual(self.get("b3-folder/")[1], b"")
        self.assertEqual(self.get("b3-folder/x.txt")[1], b"x")
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-folder/")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["b3-folder/", "b3-folder/x.txt"])
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-fold", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r.get("CommonPrefixes", [])], ["b3-folder/"])
        self.s3.delete_object(Bucket=RAW, Key="b3-folder/")
        self.assertEqual(self.get("b3-folder/x.txt")[1], b"x")
        self.assertClientError(404, "NoSuchKey", self.s3.get_object, Bucket=RAW, Key="b3-folder/")

    def test_key_that_is_also_a_prefix(self):
        # "a" and "a/b" are both valid S3 keys; a directory store may refuse
        # the second with an S3 error but must keep the first intact.
        for first, second in (("b3-conf1/a", "b3-conf1/a/b"), ("b3-conf2/a/b", "b3-conf2/a")):
            with self.subTest(first=first, second=second):
                self.put(first, b"first")
                try:
                    self.put(second, b"second")
                    ok = True
                except ClientError as e:
                    status = e.response["ResponseMetadata"]["HTTPStatusCode"]
                    self.assertTrue(400 <= status < 500 and e.response["Error"]["Code"],
                                    e.response)
                    print(f"\n  note: PUT {second!r} after {first!r} refused: "
                          f"{status} {e.response['Error']['Code']}", flush=True)
                    ok = False
                self.assertEqual(self.get(first)[1], b"first")
                if ok:
                    self.assertEqual(self.get(second)[1], b"second")
                self.assertTmpEmpty()

    def test_metadata_and_content_type(self):
        key = "b3-meta/m.bin"
        self.put(key, b"meta", Metadata={"color": "blue", "Multi-Word": "x y z"})
        h = self.s3.head_object(Bucket=RAW, Key=key)
        self.assertEqual(h["Metadata"], {"color": "blue", "multi-word": "x y z"})
        self.assertEqual(h["ContentType"], "binary/octet-stream")
        r, _ = self.get(key)
        self.assertEqual(r["Metadata"], {"color": "blue", "multi-word": "x y z"})
        self.assertEqual(r["ContentType"], "binary/octet-stream")

        key2 = "b3-meta/typed.jpg"
        self.put(key2, b"\xff\xd8\xff", ContentType="image/jpeg")
        h = self.s3.head_object(Bucket=RAW, Key=key2)
        self.assertEqual(h["ContentType"], "image/jpeg")
        self.assertEqual(h.get("Metadata"), {})
        r, _ = self.get(key2)
        self.assertEqual(r["ContentType"], "image/jpeg")

    def test_standard_headers_round_trip(self):
        key2 = "b3-meta/std-headers.jpg"
        self.put(key2, b"\xff\xd8\xff", ContentType="image/jpeg",
                 CacheControl="max-age=60", ContentDisposition='attachment; filename="a.jpg"')
        h = self.s3.head_object(Bucket=RAW, Key=key2)
        self.assertEqual(h.get("CacheControl"), "max-age=60")
        self.assertEqual(h.get("ContentDisposition"), 'attachment; filename="a.jpg"')
        self.assertEqual(h.get("Metadata"), {})

    def test_checksum_round_trip(self):
        key = "b3-sum/crc.bin"
        body = os.urandom(100_000)
        r = self.put(key, body)  # boto3 default: CRC32 header
        self.assertEqual(r.get("ChecksumCRC32"), crc32_b64(body))
        r, got = self.get(key, ChecksumMode="ENABLED")
        self.assertEqual(got, body)
        self.assertEqual(r.get("ChecksumCRC32"), crc32_b64(body))
        h = self.s3.head_object(Bucket=RAW, Key=key, ChecksumMode="ENABLED")
        self.assertEqual(h.get("ChecksumCRC32"), crc32_b64(body))

        key2 = "b3-sum/sha.bin"
        r = self.put(key2, body, ChecksumAlgorithm="SHA256")
        want = base64.b64encode(hashlib.sha256(body).digest()).decode()
        self.assertEqual(r.get("ChecksumSHA256"), want)
        h = self.s3.head_object(Bucket=RAW, Key=key2, ChecksumMode="ENABLED")
        self.assertEqual(h.get("ChecksumSHA256"), want)
        r, got = self.get(key2, ChecksumMode="ENABLED")
        self.assertEqual(got, body)

    def test_range_get(self):
        key = "b3-range/r.bin"
        body = bytes(range(100))
        self.put(key, body)
        cases = [("bytes=0-9", 0, 9), ("bytes=10-19", 10, 19), ("bytes=-5", 95, 99),
                 ("bytes=5-", 5, 99), ("bytes=90-1000", 90, 99), ("bytes=99-99", 99, 99)]
        for rng, a, b in cases:
            with self.subTest(range=rng):
                r, got = self.get(key, Range=rng)
                self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206)
                self.assertEqual(got, body[a:b + 1])
                self.assertEqual(r["ContentRange"], f"bytes {a}-{b}/100")
                self.assertEqual(r["ContentLength"], b - a + 1)
        for rng in ("bytes=100-", "bytes=200-300", "bytes=100-100"):
            with self.subTest(range=rng):
                self.assertClientError(416, "InvalidRange", self.s3.get_object, Bucket=RAW,
                                       Key=key, Range=rng)

    def test_50mb_single_put_byte_for_byte(self):
        key = "b3-big/fifty.bin"
        with tempfile.TemporaryDirectory() as td:
            src, dst = os.path.join(td, "src"), os.path.join(td, "dst")
            data = os.urandom(50 * MiB)
            with open(src, "wb") as f:
                f.write(data)
            cfg = TransferConfig(multipart_threshold=64 * MiB)
            self.s3.upload_file(src, RAW, key, Config=cfg)
            h = self.s3.head_object(Bucket=RAW, Key=key)
            self.assertEqual(h["ContentLength"], 50 * MiB)
            self.assertEqual(h["ETag"], md5_etag(data))
            self.s3.download_file(RAW, key, dst, Config=cfg)
            self.assertTrue(filecmp.cmp(src, dst, shallow=False), "downloaded bytes differ")
            self.assertTrue(filecmp.cmp(src, self.d.object_path(RAW, key), shallow=False),
                            "file on disk differs")
            r, got = self.get(key)
            self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(data).digest())
            # Default TransferConfig: s3transfer downloads in parallel ranged GETs.
            dst2 = os.path.join(td, "dst2")
            self.s3.download_file(RAW, key, dst2)
            self.assertTrue(filecmp.cmp(src, dst2, shallow=False), "ranged download differs")
        self.s3.delete_object(Bucket=RAW, Key=key)
        self.assertNoFile(RAW, key)
        self.assertTmpEmpty()

    def test_multipart_upload_file(self):
        key = "b3-big/multipart.bin"
        with tempfile.TemporaryDirectory() as td:
            src, dst = os.path.join(td, "src"), os.path.join(td, "dst")
            data = os.urandom(20 * MiB)
            with open(src, "wb") as f:
                f.write(data)
            cfg = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB)
            self.s3.upload_file(src, RAW, key, Config=cfg)
            h = self.s3.head_object(Bucket=RAW, Key=key)
            self.assertEqual(h["ContentLength"], 20 * MiB)
            parts = [data[i:i + 8 * MiB] for i in range(0, len(data), 8 * MiB)]
            want = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
            self.assertEqual(h["ETag"], f'"{want}-{len(parts)}"')
            self.s3.download_file(RAW, key, dst)
            self.assertTrue(filecmp.cmp(src, dst, shallow=False), "downloaded bytes differ")
            self.assertTrue(filecmp.cmp(src, self.d.object_path(RAW, key), shallow=False))
        self.s3.delete_object(Bucket=RAW, Key=key)
        self.assertTmpEmpty()

    def test_upload_fileobj_small(self):
        key = "b3-basic/fileobj.bin"
        data = os.urandom(3 * MiB + 17)
        with tempfile.TemporaryFile() as f:
            f.write(data)
            f.seek(0)
            self.s3.upload_fileobj(f, RAW, key)
        self.assertEqual(self.get(key)[1], data)
        self.assertEqual(self.d.read_object_file(RAW, key), data)

    def test_empty_put_then_put_on_one_connection(self):
        # botocore sends Expect: 100-continue on every PUT, also with an
        # empty body. If the server answers such a PUT with its final status
        # and no "100 Continue", botocore keeps a stale status line on the
        # pooled connection and the next Expect PUT on it stalls until the
        # read timeout (boto/botocore#3755). aws s3 sync of a tree with an
        # empty file hits this; the server must not leave such a connection
        # poisoned (send 100 Continue first, or close the connection).
        c = boto3.session.Session().client(
            "s3", endpoint_url=self.d.endpoint, region_name=bbdaemon.REGION,
            aws_access_key_id=bbdaemon.ACCESS_KEY, aws_secret_access_key=bbdaemon.SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                          max_pool_connections=1, read_timeout=5, connect_timeout=5))
        c.put_object(Bucket=RAW, Key="b3-expect/empty", Body=b"")
        c.put_object(Bucket=RAW, Key="b3-expect/one", Body=b"one")
        c.put_object(Bucket=RAW, Key="b3-expect/empty2", Body=b"")
        c.put_object(Bucket=RAW, Key="b3-expect/two", Body=b"two" * 1000)
        self.assertEqual(self.get("b3-expect/one")[1], b"one")
        self.assertEqual(self.get("b3-expect/two")[1], b"two" * 1000)
        self.assertEqual(self.get("b3-expect/empty")[1], b"")

    def test_concurrent_puts_and_gets(self):
        import concurrent.futures as cf
        c = boto3.session.Session().client(
            "s3", endpoint_url=self.d.endpoint, region_name=bbdaemon.REGION,
            aws_access_key_id=bbdaemon.ACCESS_KEY, aws_secret_access_key=bbdaemon.SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                          max_pool_connections=16, read_timeout=30))
        blobs = {f"b3-conc/{i:02d}.bin": os.urandom(256 * 1024 + i) for i in range(24)}

        def put(kv):
            c.put_object(Bucket=RAW, Key=kv[0], Body=kv[1])

        def get(k):
            return c.get_object(Bucket=RAW, Key=k)["Body"].read()

        with cf.ThreadPoolExecutor(8) as ex:
            list(ex.map(put, blobs.items()))
            got = dict(zip(blobs, ex.map(get, blobs)))
        for k, v in blobs.items():
            self.assertEqual(got[k], v, k)
            self.assertEqual(self.d.read_object_file(RAW, k), v, k)
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-conc/")
        self.assertEqual([x["Key"] for x in r["Contents"]], sorted(blobs))
        self.assertTmpEmpty()

    def test_presigned_url_boto3_default(self):
        # boto3's generate_presigned_url with no signature_version config
        # gives a SigV2 query URL (AWSAccessKeyId, Signature, Expires); the
        # design says SigV2 is verified too.
        import urllib.request
        key = "b3-presign/default.txt"
        self.put(key, b"default presign")
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": RAW, "Key": key},
                                             ExpiresIn=300)
        with urllib.request.urlopen(url, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), b"default presign")

    def test_presigned_urls_sigv4(self):
        import urllib.error
        import urllib.request
        s3v4 = boto3.session.Session().client(
            "s3", endpoint_url=self.d.endpoint, region_name=bbdaemon.REGION,
            aws_access_key_id=bbdaemon.ACCESS_KEY, aws_secret_access_key=bbdaemon.SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
        key = "b3-presign/a b+c=d&é.txt"
        body = b"presigned body"
        self.put(key, body)
        url = s3v4.generate_presigned_url("get_object", Params={"Bucket": RAW, "Key": key},
                                          ExpiresIn=300)
        self.assertIn("X-Amz-Signature=", url)
        with urllib.request.urlopen(url, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), body)
        # PUT through a presigned URL.
        key2 = "b3-presign/put=me.txt"
        url = s3v4.generate_presigned_url("put_object", Params={"Bucket": RAW, "Key": key2},
                                             ExpiresIn=300)
        req = urllib.request.Request(url, data=b"via presigned put", method="PUT")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)
        self.assertEqual(self.d.read_object_file(RAW, key2), b"via presigned put")
        # A tampered signature.
        url = s3v4.generate_presigned_url("get_object", Params={"Bucket": RAW, "Key": key},
                                             ExpiresIn=300)
        sig = url.rsplit("X-Amz-Signature=", 1)[1][:64]
        bad = url.replace(sig, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(bad, timeout=10)
        self.assertEqual(cm.exception.code, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", cm.exception.read())
        # An expired one (signed two hours ago, valid one hour).
        from datetime import datetime, timedelta, timezone
        from unittest import mock
        import botocore.auth
        past = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=2)
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=past):
            url = s3v4.generate_presigned_url("get_object",
                                                 Params={"Bucket": RAW, "Key": key},
                                                 ExpiresIn=3600)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(url, timeout=10)
        self.assertEqual(cm.exception.code, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", cm.exception.read())

    # ---- listing ---------------------------------------------------------
    LIST_KEYS = ["b3-list/a.txt", "b3-list/b/1.txt", "b3-list/b/2.txt", "b3-list/c/3.txt",
                 "b3-list/d.txt", "b3-list/e f+g=h&.txt", "b3-list/é.txt"]

    def _put_list_keys(self):
        for k in self.LIST_KEYS:
            self.put(k, k.encode())
        return sorted(self.LIST_KEYS, key=lambda k: k.encode())

    def test_list_objects_v2(self):
        keys = self._put_list_keys()
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-list/")
        self.assertEqual([c["Key"] for c in r["Contents"]], keys)
        self.assertEqual(r["KeyCount"], len(keys))
        self.assertFalse(r["IsTruncated"])
        for c in r["Contents"]:
            self.assertEqual(c["ETag"], md5_etag(c["Key"].encode()))
            self.assertEqual(c["Size"], len(c["Key"].encode()))
            self.assertIsNotNone(c.get("LastModified"))

        # Delimiter: CommonPrefixes.
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-list/", Delimiter="/")
        self.assertEqual([c["Key"] for c in r["Contents"]],
                         [k for k in keys if k.count("/") == 1])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["b3-list/b/", "b3-list/c/"])
        self.assertEqual(r["KeyCount"], len(r["Contents"]) + 2)
        self.assertEqual(r.get("Delimiter"), "/")

        # Top-level delimiter listing shows our prefix as a CommonPrefix.
        r = self.s3.list_objects_v2(Bucket=RAW, Delimiter="/", Prefix="b3-l")
        self.assertIn("b3-list/", [p["Prefix"] for p in r.get("CommonPrefixes", [])])

        # max-keys + continuation tokens.
        got, token, pages = [], None, 0
        while True:
            kw = {"Bucket": RAW, "Prefix": "b3-list/", "MaxKeys": 2}
            if token:
                kw["ContinuationToken"] = token
            r = self.s3.list_objects_v2(**kw)
            pages += 1
            self.assertLessEqual(r["KeyCount"], 2)
            self.assertEqual(r["MaxKeys"], 2)
            got += [c["Key"] for c in r.get("Contents", [])]
            if not r["IsTruncated"]:
                self.assertNotIn("NextContinuationToken", r)
                break
            token = r["NextContinuationToken"]
            self.assertTrue(token)
            self.assertLess(pages, 10)
        self.assertEqual(got, keys)
        self.assertEqual(pages, 4)

        # CommonPrefixes count towards max-keys.
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-list/", Delimiter="/", MaxKeys=2)
        self.assertEqual(r["KeyCount"], 2)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual([c["Key"] for c in r.get("Contents", [])], ["b3-list/a.txt"])
        self.assertEqual([p["Prefix"] for p in r.get("CommonPrefixes", [])], ["b3-list/b/"])
        r2 = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-list/", Delimiter="/", MaxKeys=2,
                                     ContinuationToken=r["NextContinuationToken"])
        self.assertEqual([p["Prefix"] for p in r2.get("CommonPrefixes", [])], ["b3-list/c/"])
        self.assertEqual([c["Key"] for c in r2.get("Contents", [])], ["b3-list/d.txt"])

        # start-after.
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-list/", StartAfter="b3-list/b/2.txt")
        self.assertEqual([c["Key"] for c in r["Contents"]],
                         [k for k in keys if k.encode() > b"b3-list/b/2.txt"])
        self.assertEqual(r.get("StartAfter"), "b3-list/b/2.txt")

        # max-keys=0.
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-list/", MaxKeys=0)
        self.assertEqual(r.get("Contents", []), [])
        self.assertFalse(r["IsTruncated"])

        # Prefix that matches nothing.
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-list/zzz")
        self.assertEqual(r["KeyCount"], 0)
        self.assertNotIn("Contents", r)

    def test_list_objects_v2_encoding_type_url(self):
        keys = self._put_list_keys()
        # Explicit EncodingType: botocore does not decode, we see the wire form.
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-list/", EncodingType="url")
        self.assertEqual(r.get("EncodingType"), "url")
        raw = [c["Key"] for c in r["Contents"]]
        self.assertEqual([urllib.parse.unquote_plus(k) for k in raw], keys)
        for k in raw:
            self.assertTrue(k.isascii(), k)
            self.assertNotIn(" ", k)
            self.assertNotIn("&", k)
        # "+" must be sent as %2B so that it is not read back as a space.
        self.assertTrue(any("%2B" in k for k in raw), raw)
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-list/", Delimiter="/",
                                    EncodingType="url")
        self.assertEqual(sorted(urllib.parse.unquote_plus(p["Prefix"])
                                for p in r["CommonPrefixes"]), ["b3-list/b/", "b3-list/c/"])
        # Prefix with characters to encode.
        r = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-list/e f+", EncodingType="url")
        self.assertEqual([urllib.parse.unquote_plus(c["Key"]) for c in r["Contents"]],
                         ["b3-list/e f+g=h&.txt"])
        self.assertEqual(urllib.parse.unquote_plus(r["Prefix"]), "b3-list/e f+")

    def test_list_objects_v1(self):
        keys = self._put_list_keys()
        r = self.s3.list_objects(Bucket=RAW, Prefix="b3-list/")
        self.assertEqual([c["Key"] for c in r["Contents"]], keys)
        self.assertFalse(r["IsTruncated"])
        for c in r["Contents"]:
            self.assertTrue(c["ETag"].startswith('"') and c["ETag"].endswith('"'), c["ETag"])
        # Marker paging (no delimiter: no NextMarker, use the last key).
        got, marker = [], ""
        for _ in range(10):
            r = self.s3.list_objects(Bucket=RAW, Prefix="b3-list/", MaxKeys=3, Marker=marker)
            page = [c["Key"] for c in r.get("Contents", [])]
            self.assertLessEqual(len(page), 3)
            got += page
            if not r["IsTruncated"]:
                break
            marker = page[-1]
        self.assertEqual(got, keys)
        r = self.s3.list_objects(Bucket=RAW, Prefix="b3-list/", Marker="b3-list/c/3.txt")
        self.assertEqual([c["Key"] for c in r["Contents"]],
                         [k for k in keys if k.encode() > b"b3-list/c/3.txt"])
        self.assertEqual(r.get("Marker"), "b3-list/c/3.txt")
        # Delimiter + truncation: NextMarker is returned.
        r = self.s3.list_objects(Bucket=RAW, Prefix="b3-list/", Delimiter="/", MaxKeys=2)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual([c["Key"] for c in r.get("Contents", [])], ["b3-list/a.txt"])
        self.assertEqual([p["Prefix"] for p in r.get("CommonPrefixes", [])], ["b3-list/b/"])
        self.assertEqual(r.get("NextMarker"), "b3-list/b/")
        r = self.s3.list_objects(Bucket=RAW, Prefix="b3-list/", Delimiter="/", MaxKeys=2,
                                 Marker=r["NextMarker"])
        self.assertEqual([p["Prefix"] for p in r.get("CommonPrefixes", [])], ["b3-list/c/"])
        self.assertEqual([c["Key"] for c in r.get("Contents", [])], ["b3-list/d.txt"])

    def test_quoted_etags_in_lists(self):
        key = "b3-etag/e.txt"
        body = b"etag body"
        self.put(key, body)
        h = self.s3.head_object(Bucket=RAW, Key=key)
        v2 = self.s3.list_objects_v2(Bucket=RAW, Prefix=key)["Contents"][0]["ETag"]
        v1 = self.s3.list_objects(Bucket=RAW, Prefix=key)["Contents"][0]["ETag"]
        self.assertEqual(h["ETag"], md5_etag(body))
        self.assertEqual(v2, md5_etag(body))
        self.assertEqual(v1, md5_etag(body))

    def test_delete_objects(self):
        keys = [f"b3-multidel/{i} x+y.txt" for i in range(3)]
        for k in keys:
            self.put(k, b"d")
        objs = [{"Key": k} for k in keys] + [{"Key": "b3-multidel/never-existed"}]
        r = self.s3.delete_objects(Bucket=RAW, Delete={"Objects": objs})
        self.assertEqual(sorted(x["Key"] for x in r.get("Deleted", [])),
                         sorted(o["Key"] for o in objs))
        self.assertEqual(r.get("Errors", []), [])
        for k in keys:
            self.assertNoFile(RAW, k)
            self.assertClientError(404, "NoSuchKey", self.s3.get_object, Bucket=RAW, Key=k)
        # Quiet mode: no Deleted entries.
        self.put(keys[0], b"d")
        r = self.s3.delete_objects(Bucket=RAW, Delete={"Objects": [{"Key": keys[0]}],
                                                       "Quiet": True})
        self.assertEqual(r.get("Deleted", []), [])
        self.assertNoFile(RAW, keys[0])

    # ---- persistence -----------------------------------------------------
    def test_zz_restart_keeps_objects(self):
        key = "b3-restart/keep me.txt"
        body = os.urandom(4096)
        self.put(key, body, Metadata={"k": "v"}, ContentType="text/x-test")
        etag = md5_etag(body)
        self.d.restart()
        r, got = self.get(key)
        self.assertEqual(got, body)
        self.assertEqual(r["ETag"], etag)
        self.assertEqual(r["Metadata"], {"k": "v"})
        self.assertEqual(r["ContentType"], "text/x-test")
        lst = self.s3.list_objects_v2(Bucket=RAW, Prefix="b3-restart/")
        self.assertEqual([c["Key"] for c in lst["Contents"]], [key])
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        for b in bbdaemon.DEFAULT_BUCKETS:
            self.assertIn(b, names)


if __name__ == "__main__":
    bbdaemon.main()
