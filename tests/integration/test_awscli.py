# SPDX-License-Identifier: MIT
"""The aws CLI (as installed, current defaults: no when_required checksum
settings) against the real daemon: `aws s3` high-level commands and
`aws s3api` calls."""

import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402
from bbdaemon import DaemonTestCase  # noqa: E402

RAW = "my-raw-images"
MiB = 1024 * 1024


def find_aws():
    exe = os.environ.get("BB_AWS_CLI") or shutil.which("aws")
    if exe:
        return [exe]
    try:
        import awscli  # noqa: F401
        return [sys.executable, "-m", "awscli"]
    except ImportError:
        return None


AWS = find_aws()


class AwsCliTest(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="bb-it-cli-")
        # An isolated config: only the addressing style, nothing about checksums.
        cfg = os.path.join(cls.work, "config")
        with open(cfg, "w") as f:
            f.write("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=bbdaemon.ACCESS_KEY,
                   AWS_SECRET_ACCESS_KEY=bbdaemon.SECRET_KEY,
                   AWS_DEFAULT_REGION=bbdaemon.REGION, AWS_CONFIG_FILE=cfg,
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(cls.work, "nocreds"),
                   AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
        cls.env = env

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    def aws(self, *args, check=True, timeout=240):
        # A short read timeout so that a stalled response fails in seconds
        # (with AWS_MAX_ATTEMPTS=1 nothing is retried behind our back).
        cmd = AWS + ["--endpoint-url", self.d.endpoint, "--cli-read-timeout", "20"] + list(args)
        p = subprocess.run(cmd, env=self.env, capture_output=True, timeout=timeout)
        out, errout = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        if check and p.returncode != 0:
            self.fail(f"{' '.join(args)} -> exit {p.returncode}\nstdout: {out}\nstderr: {errout}")
        return p.returncode, out, errout

    def api(self, *args):
        _, out, _ = self.aws("s3api", *args, "--output", "json")
        return json.loads(out) if out.strip() else {}

    def write(self, rel, data):
        p = os.path.join(self.work, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    # ---- aws s3 ----------------------------------------------------------
    def test_s3_mb_ls_cp_rm_rb(self):
        b = "it-cli-bucket"
        self.aws("s3", "mb", f"s3://{b}")
        self.assertTrue(os.path.isdir(os.path.join(self.d.data_dir, b)))
        _, out, _ = self.aws("s3", "ls")
        self.assertIn(b, out.split())
        for name in bbdaemon.DEFAULT_BUCKETS:
            self.assertIn(name, out.split())

        data = os.urandom(300_000)
        src = self.write("cp/src.bin", data)
        key = "dir/with space+plus=eq&amp%pct ü.bin"
        self.aws("s3", "cp", src, f"s3://{b}/{key}")
        self.assertEqual(self.d.read_object_file(b, key), data)
        _, out, _ = self.aws("s3", "ls", f"s3://{b}/dir/")
        self.assertIn("with space+plus=eq&amp%pct ü.bin", out)
        self.assertIn(str(len(data)), out)
        _, out, _ = self.aws("s3", "ls", f"s3://{b}/")
        self.assertIn("PRE dir/", out)
        _, out, _ = self.aws("s3", "ls", "--recursive", f"s3://{b}")
        self.assertIn(key, out)

        dst = os.path.join(self.work, "cp", "dst.bin")
        self.aws("s3", "cp", f"s3://{b}/{key}", dst)
        self.assertTrue(filecmp.cmp(src, dst, shallow=False))

        # rb on a non-empty bucket fails with BucketNotEmpty.
        rc, _, err = self.aws("s3", "rb", f"s3://{b}", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("BucketNotEmpty", err)

        self.aws("s3", "rm", f"s3://{b}/{key}")
        self.assertFalse(os.path.exists(self.d.object_path(b, key)))
        _, out, _ = self.aws("s3", "ls", "--recursive", f"s3://{b}")
        self.assertNotIn(key, out)
        self.aws("s3", "rb", f"s3://{b}")
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, b)))
        self.assertTmpEmpty()

    def test_s3_sync_round_trip(self):
        tree = {
            "a.txt": b"a" * 10,
            "sub/b.bin": os.urandom(200_000),
            "sub/deeper/c d+e=f.txt": b"special names",
            "ünï/日本.txt": "unicode".encode(),
            "empty": b"",
        }
        srcdir = os.path.join(self.work, "sync-src")
        for rel, data in tree.items():
            self.write(os.path.join("sync-src", rel), data)
        self.aws("s3", "sync", srcdir, f"s3://{RAW}/cli-sync/")
        for rel, data in tree.items():
            self.assertEqual(self.d.read_object_file(RAW, "cli-sync/" + rel), data, rel)
        # A second sync has nothing to do.
        _, out, _ = self.aws("s3", "sync", srcdir, f"s3://{RAW}/cli-sync/")
        self.assertNotIn("upload:", out)
        dstdir = os.path.join(self.work, "sync-dst")
        self.aws("s3", "sync", f"s3://{RAW}/cli-sync/", dstdir)
        for rel, data in tree.items():
            with open(os.path.join(dstdir, rel), "rb") as f:
                self.assertEqual(f.read(), data, rel)
        # --delete removes what is gone locally.
        os.remove(os.path.join(srcdir, "a.txt"))
        self.aws("s3", "sync", "--delete", srcdir, f"s3://{RAW}/cli-sync/")
        self.assertFalse(os.path.exists(self.d.object_path(RAW, "cli-sync/a.txt")))
        self.assertTrue(os.path.exists(self.d.object_path(RAW, "cli-sync/sub/b.bin")))
        self.aws("s3", "rm", "--recursive", f"s3://{RAW}/cli-sync/")
        for rel in tree:
            self.assertFalse(os.path.exists(self.d.object_path(RAW, "cli-sync/" + rel)), rel)
        _, out, _ = self.aws("s3", "ls", "--recursive", f"s3://{RAW}/cli-sync/", check=False)
        self.assertEqual(out.strip(), "")
        self.assertTmpEmpty()

    def test_s3_cp_multipart(self):
        # aws s3 cp switches to multipart above 8 MiB.
        data = os.urandom(12 * MiB)
        src = self.write("mp/src.bin", data)
        rc, out, err = self.aws("s3", "cp", src, f"s3://{RAW}/cli-mp/big.bin", check=False)
        self.assertEqual(rc, 0, err)
        self.assertTrue(filecmp.cmp(src, self.d.object_path(RAW, "cli-mp/big.bin"),
                                    shallow=False))
        dst = os.path.join(self.work, "mp", "dst.bin")
        self.aws("s3", "cp", f"s3://{RAW}/cli-mp/big.bin", dst)
        self.assertTrue(filecmp.cmp(src, dst, shallow=False))
        self.aws("s3", "rm", f"s3://{RAW}/cli-mp/big.bin")
        self.assertTmpEmpty()

    # ---- aws s3api -------------------------------------------------------
    def test_s3api_object_calls(self):
        data = os.urandom(50_000)
        src = self.write("api/src.bin", data)
        key = "cli-api/obj €+ =.bin"
        r = self.api("put-object", "--bucket", RAW, "--key", key, "--body", src,
                     "--metadata", "color=red,size=big", "--content-type", "image/png")
        self.assertEqual(r["ETag"], '"' + hashlib.md5(data).hexdigest() + '"')
        self.assertEqual(self.d.read_object_file(RAW, key), data)

        dst = os.path.join(self.work, "api", "dst.bin")
        r = self.api("get-object", "--bucket", RAW, "--key", key, dst)
        self.assertEqual(r["ContentLength"], len(data))
        self.assertEqual(r["Metadata"], {"color": "red", "size": "big"})
        self.assertTrue(filecmp.cmp(src, dst, shallow=False))

        r = self.api("get-object", "--bucket", RAW, "--key", key, "--range", "bytes=-5", dst)
        self.assertEqual(r["ContentRange"], f"bytes {len(data) - 5}-{len(data) - 1}/{len(data)}")
        with open(dst, "rb") as f:
            self.assertEqual(f.read(), data[-5:])

        r = self.api("head-object", "--bucket", RAW, "--key", key)
        self.assertEqual(r["ContentLength"], len(data))
        self.assertEqual(r["ContentType"], "image/png")
        self.assertEqual(r["Metadata"], {"color": "red", "size": "big"})

        self.write("api/k2", b"two")
        self.api("put-object", "--bucket", RAW, "--key", "cli-api/sub/k2",
                 "--body", os.path.join(self.work, "api/k2"))
        r = self.api("list-objects-v2", "--bucket", RAW, "--prefix", "cli-api/")
        self.assertEqual([c["Key"] for c in r["Contents"]], sorted(
            [key, "cli-api/sub/k2"], key=lambda k: k.encode()))
        for c in r["Contents"]:
            self.assertTrue(c["ETag"].startswith('"') and c["ETag"].endswith('"'))
        r = self.api("list-objects-v2", "--bucket", RAW, "--prefix", "cli-api/",
                     "--delimiter", "/")
        self.assertEqual([c["Key"] for c in r["Contents"]], [key])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["cli-api/sub/"])

        self.api("delete-object", "--bucket", RAW, "--key", key)
        self.assertFalse(os.path.exists(self.d.object_path(RAW, key)))
        rc, _, err = self.aws("s3api", "head-object", "--bucket", RAW, "--key", key, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("404", err)
        rc, _, err = self.aws("s3api", "get-object", "--bucket", RAW, "--key", key,
                              os.path.join(self.work, "api", "nothing"), check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("NoSuchKey", err)

    def test_s3api_delete_objects(self):
        keys = ["cli-del/one", "cli-del/two words", "cli-del/three+3"]
        body = self.write("del/body", b"x")
        for k in keys:
            self.api("put-object", "--bucket", RAW, "--key", k, "--body", body)
        spec = json.dumps({"Objects": [{"Key": k} for k in keys]})
        r = self.api("delete-objects", "--bucket", RAW, "--delete", spec)
        self.assertEqual(sorted(x["Key"] for x in r.get("Deleted", [])), sorted(keys))
        self.assertEqual(r.get("Errors", []), [])
        for k in keys:
            self.assertFalse(os.path.exists(self.d.object_path(RAW, k)), k)
        r = self.api("list-objects-v2", "--bucket", RAW, "--prefix", "cli-del/")
        self.assertEqual(r.get("Contents", []), [])

    def test_s3api_errors(self):
        rc, _, err = self.aws("s3api", "list-objects-v2", "--bucket", "it-cli-missing",
                              check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("NoSuchBucket", err)
        rc, _, err = self.aws("s3api", "create-bucket", "--bucket", "Bad_Bucket_Name",
                              check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("InvalidBucketName", err)
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, "Bad_Bucket_Name")))


if __name__ == "__main__":
    if AWS is None:
        bbdaemon.skip_module("the aws CLI is not installed (no `aws` on PATH, no awscli module)")
    bbdaemon.main()
