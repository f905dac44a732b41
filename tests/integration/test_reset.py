# SPDX-License-Identifier: MIT
"""POST /_bucketbridge/reset: back to the configured state (issue 10).

One daemon (default configuration, no consumers). State is made through
real clients (boto3 S3 and EventBridge, files dropped into a bucket
directory), then reset: the configured buckets are there and empty, an
extra bucket is gone, the journal is empty, rules made through the API are
gone and the configured ones stay; uploads and events work at once after
it; the trees moved aside are removed in the background; a reset without
the token changes nothing."""

import json
import os
import sqlite3
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402

try:
    import boto3
    from botocore.config import Config
except ImportError:  # pragma: no cover
    bbdaemon.skip_module("boto3 is not installed")

RAW = "my-raw-images"


def client(d, service):
    return boto3.client(service, endpoint_url=d.endpoint, aws_access_key_id=bbdaemon.ACCESS_KEY,
                        aws_secret_access_key=bbdaemon.SECRET_KEY, region_name=bbdaemon.REGION,
                        config=Config(retries={"max_attempts": 1}))


def reset(d, token="test"):
    req = urllib.request.Request(d.endpoint + "/_bucketbridge/reset", data=b"", method="POST",
                                 headers={"X-Bucketbridge-Token": token} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, {}


def journal_count(d):
    db = os.path.join(d.data_dir, ".bucketbridge", "state.db")
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return c.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        c.close()


class ResetTest(bbdaemon.DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = bbdaemon.Daemon(name=cls.__name__, extra_args=["--no-consumers"]).start()

    def make_state(self):
        s3 = client(self.d, "s3")
        ev = client(self.d, "events")
        s3.create_bucket(Bucket="extra-bucket")
        for i in range(20):
            s3.put_object(Bucket=RAW, Key=f"deep/er/k{i}.txt", Body=b"x" * i)
        s3.put_object(Bucket="extra-bucket", Key="e.txt", Body=b"e")
        os.makedirs(self.d.object_path(RAW, "dropped"), exist_ok=True)
        with open(self.d.object_path(RAW, "dropped/f.txt"), "wb") as f:
            f.write(b"dropped")
        ev.put_rule(Name="api-rule", EventPattern=json.dumps({"source": ["t.reset"]}))
        r = ev.put_events(Entries=[{"Source": "t.reset", "DetailType": "d", "Detail": "{}"}])
        self.assertEqual(r["FailedEntryCount"], 0)
        def dropped_indexed():
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket=RAW).get("Contents", [])]
            return "dropped/f.txt" in keys
        self.assertTrue(bbdaemon.wait_until(dropped_indexed, 10, what="the dropped file indexed"))
        return s3, ev

    def count_objects(self, s3):
        return sum(s3.list_objects_v2(Bucket=b["Name"]).get("KeyCount", 0)
                   for b in s3.list_buckets()["Buckets"])

    def test_reset_restores_the_configured_state(self):
        s3, ev = self.make_state()
        config_rules = {r["Name"] for r in ev.list_rules()["Rules"]} - {"api-rule"}
        self.assertGreater(journal_count(self.d), 0)
        stored = self.count_objects(s3)
        self.assertGreaterEqual(stored, 22)

        status, body = reset(self.d)
        self.assertEqual(status, 200, body)
        self.assertEqual(body.get("objects_removed"), stored, body)

        names = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
        self.assertEqual(names, sorted(bbdaemon.DEFAULT_BUCKETS))
        self.assertEqual(s3.list_objects_v2(Bucket=RAW).get("KeyCount"), 0)
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, "extra-bucket")))
        self.assertEqual(os.listdir(os.path.join(self.d.data_dir, RAW)), [])
        self.assertEqual(journal_count(self.d), 0)
        self.assertEqual({r["Name"] for r in ev.list_rules()["Rules"]}, config_rules)

        # the trees moved aside go, in the background
        trash = os.path.join(self.d.data_dir, ".bucketbridge", "trash")
        self.assertTrue(bbdaemon.wait_until(
            lambda: not os.path.exists(trash) or os.listdir(trash) == [], 10),
            "the trees moved aside by the reset were not removed")

        # works at once: a PUT is stored and gives exactly one event
        s3.put_object(Bucket=RAW, Key="deep/er/after.txt", Body=b"after")
        self.assertEqual(self.d.read_object_file(RAW, "deep/er/after.txt"), b"after")
        self.assertTrue(bbdaemon.wait_until(lambda: journal_count(self.d) >= 1, 10),
                        "no event for the PUT after the reset")
        self.assertEqual(journal_count(self.d), 1)
        self.assertEqual([o["Key"] for o in s3.list_objects_v2(Bucket=RAW)["Contents"]],
                         ["deep/er/after.txt"])
        self.assertAlive()

    def test_reset_needs_the_token(self):
        s3 = client(self.d, "s3")
        s3.put_object(Bucket=RAW, Key="kept.txt", Body=b"kept")
        for token in (None, "wrong"):
            status, _ = reset(self.d, token)
            self.assertEqual(status, 403)
        self.assertEqual(s3.get_object(Bucket=RAW, Key="kept.txt")["Body"].read(), b"kept")


if __name__ == "__main__":
    bbdaemon.main()
