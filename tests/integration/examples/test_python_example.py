# SPDX-License-Identifier: MIT
"""Example (docs/testing.md): bucketbridge in a Python test suite.

One daemon per test session (--ephemeral --ready-file), a reset before each
test, `bucketbridge-cli events wait` instead of sleep. Written with unittest
so it runs anywhere; docs/testing.md shows the same as pytest fixtures.

ctest runs it as integration/examples/python with BB_DAEMON and BB_CLI set;
in your own CI, `bucketbridge` and `bucketbridge-cli` are on PATH.
Exits 77 (skip) when boto3 or a binary is missing.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = os.path.join(HERE, "..", "..", "..", "fixtures", "images", "photo-320x240.jpg")
DAEMON = os.environ.get("BB_DAEMON") or shutil.which("bucketbridge")
CLI = os.environ.get("BB_CLI") or shutil.which("bucketbridge-cli")

try:
    import boto3
    from botocore.config import Config
except ImportError:
    print("SKIP: boto3 is not installed", flush=True)
    sys.exit(SKIP)
if not DAEMON or not CLI:
    print("SKIP: bucketbridge / bucketbridge-cli not found (BB_DAEMON, BB_CLI, PATH)", flush=True)
    sys.exit(SKIP)


class Bucketbridge:
    """The session fixture: one ephemeral daemon, its ready-file values, and
    the CLI pointed at it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bb-example-")
        self.ready_path = os.path.join(self.dir, "ready.json")
        self.log = open(os.path.join(self.dir, "daemon.log"), "wb")
        self.proc = subprocess.Popen([DAEMON, "--ephemeral", "--ready-file", self.ready_path],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.ready_path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("bucketbridge did not start: " + self.log_text())
            time.sleep(0.02)
        with open(self.ready_path) as f:
            self.ready = json.load(f)

    def cli(self, *args, check=True, timeout=90):
        """Runs bucketbridge-cli against this daemon; returns the CompletedProcess."""
        r = subprocess.run([CLI, "--ready-file", self.ready_path, *args], capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"bucketbridge-cli {' '.join(args)} exited {r.returncode}: "
                                 f"{r.stderr.strip()}")
        return r

    def wait_for(self, pattern, count=1, timeout="30s", since=None):
        """The events matching pattern (a dict), as dicts, once count arrived."""
        args = ["events", "wait", "--pattern", json.dumps(pattern), "--count", str(count),
                "--timeout", timeout]
        if since is not None:
            args += ["--since", str(since)]
        out = self.cli(*args).stdout
        return [json.loads(line) for line in out.splitlines() if line]

    def reset(self):
        return json.loads(self.cli("reset").stdout)

    def s3(self):
        return boto3.client("s3", endpoint_url=self.ready["endpoint"],
                            aws_access_key_id=self.ready["access_key"],
                            aws_secret_access_key=self.ready["secret_key"],
                            region_name=self.ready["region"],
                            config=Config(s3={"addressing_style": "path"}))

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


BB = None


def setUpModule():
    global BB
    BB = Bucketbridge()


def tearDownModule():
    if BB is not None:
        BB.stop()


class ThumbnailPipelineTest(unittest.TestCase):
    def setUp(self):
        # Each test starts from the configured buckets and an empty journal,
        # so `events wait` (default --since earliest) sees only its own events.
        self.reset = BB.reset()
        self.s3 = BB.s3()

    def test_upload_gets_a_thumbnail(self):
        with open(IMAGE, "rb") as f:
            self.s3.put_object(Bucket="my-raw-images", Key="cats/tom.jpg", Body=f.read())
        [created] = BB.wait_for({"source": ["bucketbridge.thumbnail"],
                                 "detail-type": ["Thumbnail Created"],
                                 "detail": {"key": ["cats/tom.jpg"]}}, timeout="60s")
        detail = created["detail"]
        self.assertEqual(detail["output_bucket"], "my-thumbnails")
        thumb = self.s3.get_object(Bucket=detail["output_bucket"], Key=detail["output_key"])
        self.assertGreater(len(thumb["Body"].read()), 0)

    def test_each_test_starts_empty(self):
        self.assertEqual(self.s3.list_objects_v2(Bucket="my-raw-images")["KeyCount"], 0)
        # nothing from the other tests is left in the journal either
        r = BB.cli("events", "wait", "--timeout", "500ms", "--pattern",
                   '{"source": ["aws.s3"]}', check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("timed out", r.stderr)

    def test_custom_events_and_since(self):
        # --since a sequence number: only what comes after it counts
        before = int(BB.cli("events", "seq").stdout)
        for n in (1, 2):
            BB.cli("events", "put", "--source", "myapp.orders", "--detail-type", "Order Placed",
                   "--detail", json.dumps({"id": n}))
        events = BB.wait_for({"source": ["myapp.orders"]}, count=2, since=before)
        self.assertEqual([e["detail"]["id"] for e in events], [1, 2])


if __name__ == "__main__":
    result = unittest.main(exit=False).result
    if BB is not None:
        if not result.wasSuccessful():
            print("--- daemon log ---\n" + BB.log_text())
        BB.remove()
    sys.exit(0 if result.wasSuccessful() else 1)
