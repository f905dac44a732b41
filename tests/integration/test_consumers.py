# SPDX-License-Identifier: MIT
"""The daemon's consumer supervisor under stress, with the real
bucketbridge-thumbnail and bucketbridge-logger it starts itself:

- test_1_kill_mid_work: a large PNG (6000x4000, written here with zlib) is
  uploaded; once /_bucketbridge/health shows the thumbnail group's delivery
  in flight and no thumbnail yet, the thumbnail process (its pid from
  health) gets SIGKILL. The supervisor restarts it (health: a new pid,
  restarts 1; metrics: bucketbridge_consumer_restarts_total 1), the event
  is redelivered, and exactly one thumbnail results, written after the
  kill; the logger has one "received" and one "ok" record
  for the upload, nothing in the dead-letter queue. The same bytes uploaded
  again make no new thumbnail and a "skipped" record, not a second "ok".
- test_2_burst_scales_up_and_down: 200 uploads at once (boto3, 32 threads),
  every fourth a generated 1600x1200 PNG so the backlog builds.
  Health, sampled every 100 ms, shows the thumbnail consumer running at its
  configured maximum while the backlog is deep, and back at its minimum once
  the queue has been idle for idle_seconds; every upload gets its thumbnail
  (a sample decoded and checked pixel by pixel) and exactly one "received"
  and one "ok" log record; no instance was restarted (scale-down stops are
  not crashes).

SupervisorTest runs a second daemon whose consumers misbehave on purpose:
the consumer's "env" reaching it and its output captured with a
`name[instance]` prefix; the thumbnail consumer with S3 unreachable (nacked
as transient, retried 5 times under the seed rule's RetryPolicy with
retry_time_scale 0.01, then dead-lettered, no "Thumbnail Failed"); a command
that exits at once restarted with backoff (2 to 4 restarts in 8 s, not one
per 200 ms tick); a missing command reported as a "problem" in health; a
consumer that ignores SIGTERM killed after the 5 s grace when the daemon
stops, and the daemon exiting 0.

ConsumersTest's daemon runs with a configuration file that keeps the default rules and
buckets and sets the consumers: thumbnail with one worker thread per
instance (so a backlog builds), instances 1..4, scale_depth 2, idle_seconds
1 (the default of 30 s would make the test wait). The consumer binaries come
from BB_THUMBNAIL and BB_LOGGER, or from the build tree next to BB_DAEMON.
Needs boto3 and djpeg (libjpeg-turbo-progs); exits 77 (skip) without them.
"""

import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402
from bbdaemon import Daemon  # noqa: E402

try:
    import boto3
    from botocore.config import Config
except ImportError as e:  # pragma: no cover
    bbdaemon.skip_module(f"boto3 is not importable by {sys.executable}: {e}")

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "fixtures", "images")
RAW = "my-raw-images"
THUMBS = "my-thumbnails"
DLQ_ARN = "arn:aws:sqs:us-east-1:000000000000:thumbnail-dlq"
TOKEN = bbdaemon.SECRET_KEY

MAX_INSTANCES = 4
SCALE_DEPTH = 2
IDLE_SECONDS = 1
BURST = 200
DEADLINE_S = 90.0
BIG_W, BIG_H = 6000, 4000
MID_NAME, MID_SIZE, MID_THUMB = "mid-1600x1200.png", (1600, 1200), (256, 192)

# small fixtures showing the four quadrants upright, and their thumbnail sizes
SMALL = {
    "photo-320x240.jpg": (256, 192),
    "progressive.jpg": (256, 192),
    "anim.gif": (160, 120),
    "image.bmp": (100, 76),
}
SMALL.update({f"orient-{o}.jpg": (120, 80) for o in range(1, 9)})
QUADRANTS = [((0.25, 0.25), (255, 0, 0)), ((0.75, 0.25), (0, 255, 0)),
             ((0.25, 0.75), (0, 0, 255)), ((0.75, 0.75), (255, 255, 0))]


def consumer_binary(env_name, sub, name):
    path = os.environ.get(env_name)
    if not path:
        daemon = os.environ.get("BB_DAEMON", "")
        path = os.path.join(os.path.dirname(os.path.dirname(daemon)), "consumers", sub, name)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        bbdaemon.skip_module(f"{name} not found at {path} (set {env_name})")
    return os.path.abspath(path)


def png_quadrants(w, h):
    """An RGB PNG of w x h showing red, lime, blue and yellow quadrants: cheap
    to write (two distinct rows, deflated), costly to decode and resize."""
    hw = w // 2

    def chunk(kind, data):
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))
    top = b"\0" + b"\xff\x00\x00" * hw + b"\x00\xff\x00" * (w - hw)
    bottom = b"\0" + b"\x00\x00\xff" * hw + b"\xff\xff\x00" * (w - hw)
    raw = top * (h // 2) + bottom * (h - h // 2)
    ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


def parse_ppm(data):
    """(width, height, rows of RGB tuples) from djpeg's binary P6/P5 output."""
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    w, h = int(fields[1]), int(fields[2])
    ch = 3 if fields[0] == b"P6" else 1
    px = data[pos:pos + w * h * ch]
    return w, h, [[tuple(px[(y * w + x) * ch:(y * w + x) * ch + 3]) * (3 if ch == 1 else 1)
                   for x in range(w)] for y in range(h)]


def decode_jpeg(data):
    p = subprocess.run(["djpeg", "-pnm"], input=data, capture_output=True, timeout=30)
    if p.returncode != 0 or p.stderr:
        raise AssertionError(f"djpeg: exit {p.returncode}: {p.stderr.decode(errors='replace')}")
    return parse_ppm(p.stdout)


class ConsumersTest(unittest.TestCase):
    """One daemon for the class; it supervises both consumers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not shutil.which("djpeg"):
            bbdaemon.skip_module("djpeg (libjpeg-turbo-progs) is needed to check thumbnails")
        thumb = consumer_binary("BB_THUMBNAIL", "thumbnail", "bucketbridge-thumbnail")
        logger = consumer_binary("BB_LOGGER", "logger", "bucketbridge-logger")
        config = {"consumers": [
            {"name": "thumbnail", "command": thumb, "group": "thumbnail",
             "args": ["--workers", "1"],
             "instances": {"min": 1, "max": MAX_INSTANCES},
             "scale_depth": SCALE_DEPTH, "idle_seconds": IDLE_SECONDS},
            {"name": "logger", "command": logger, "group": "logger",
             "instances": {"min": 1, "max": 1}},
        ]}
        cls.d = Daemon(name=cls.__name__, config=config).start()
        cls.s3 = boto3.session.Session().client(
            "s3", endpoint_url=cls.d.endpoint, region_name=bbdaemon.REGION,
            aws_access_key_id=bbdaemon.ACCESS_KEY, aws_secret_access_key=bbdaemon.SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, max_pool_connections=32,
                          retries={"total_max_attempts": 3}))

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.check_clean_exit()
        finally:
            super().tearDownClass()
        reports = []
        logs = os.path.join(cls.d.data_dir, ".bucketbridge", "logs")
        for name in ("thumbnail.log", "logger.log"):
            try:
                with open(os.path.join(logs, name), errors="replace") as f:
                    reports += [f"{name}: {line.strip()}" for line in f
                                if "ERROR: AddressSanitizer" in line or "runtime error:" in line
                                or "ERROR: LeakSanitizer" in line]
            except OSError:
                pass
        if reports:
            raise AssertionError("consumer sanitizer reports: " + "; ".join(reports[:5]))

    # ---- helpers ----
    def health(self):
        with urllib.request.urlopen(self.d.endpoint + "/_bucketbridge/health", timeout=10) as r:
            return json.loads(r.read())

    def consumer(self, name, h=None):
        h = h or self.health()
        [c] = [c for c in h["consumers"] if c["name"] == name]
        return c

    def records(self):
        out = []
        logs = os.path.join(self.d.data_dir, ".bucketbridge", "logs")
        for n in sorted(os.listdir(logs)):
            if n.startswith("processing-") and n.endswith(".jsonl"):
                with open(os.path.join(logs, n)) as f:
                    out += [json.loads(line) for line in f if line.strip()]
        return out

    def statuses(self, key, recs=None):
        """status -> count of the key's records (source bucket RAW)."""
        counts = {}
        for r in self.records() if recs is None else recs:
            if r["key"] == key and r["bucket"] == RAW:
                counts[r["status"]] = counts.get(r["status"], 0) + 1
        return counts

    def dlq_depth(self):
        req = urllib.request.Request(self.d.endpoint + "/_bucketbridge/dlq?arn=" + DLQ_ARN,
                                     headers={"X-Bucketbridge-Token": TOKEN})
        with urllib.request.urlopen(req, timeout=10) as r:
            return len(json.loads(r.read())["Messages"])

    def consumer_log_tail(self, lines=40):
        out = []
        logs = os.path.join(self.d.data_dir, ".bucketbridge", "logs")
        for name in ("thumbnail.log", "logger.log"):
            try:
                with open(os.path.join(logs, name), errors="replace") as f:
                    text = f.read().splitlines()
            except OSError:
                continue
            out.append(f"----- {name} -----")
            out.extend(text[-lines:])
        return "\n".join(out)

    def wait_for(self, pred, timeout, what, interval=0.1):
        v = bbdaemon.wait_until(pred, timeout, interval=interval)
        if not v:
            self.fail(f"timed out after {timeout}s waiting for {what}\n"
                      + self.consumer_log_tail())
        return v

    def thumb_path(self, key):
        return os.path.join(self.d.data_dir, THUMBS, key)

    def assert_quadrants(self, rows, what):
        h, w = len(rows), len(rows[0])
        for (fx, fy), want in QUADRANTS:
            got = rows[int(fy * h)][int(fx * w)]
            self.assertTrue(all(abs(g - v) <= 48 for g, v in zip(got, want)),
                            f"{what}: pixel at ({fx}, {fy}) is {got}, want {want}")

    def wait_quiet(self):
        """Every delivery acked (the logger's included) and the DLQ empty."""
        self.wait_for(lambda: self.health()["pending_deliveries"] == 0, DEADLINE_S,
                      "no pending deliveries")

    # ---- the tests ----
    def test_1_kill_mid_work(self):
        key = "kill/big-6000x4000.png"
        self.wait_for(lambda: self.consumer("thumbnail")["running"] == 1, DEADLINE_S,
                      "the thumbnail consumer running")
        before = self.consumer("thumbnail")
        [inst] = [i for i in before["instances"] if i["state"] == "running"]
        self.assertEqual(before["restarts"], 0, before)
        body = png_quadrants(BIG_W, BIG_H)
        self.s3.put_object(Bucket=RAW, Key=key, Body=body, ContentType="image/png")

        # the delivery is in flight and no thumbnail exists yet: kill the worker
        def in_flight():
            c = self.consumer("thumbnail")
            return c["in_flight"] == 1 and c["pending"] == 0
        self.wait_for(in_flight, DEADLINE_S, "the delivery in flight", interval=0.02)
        self.assertFalse(os.path.exists(self.thumb_path(key)),
                         "the thumbnail was done before the kill: the image is too small to "
                         "catch the consumer mid-work")
        killed = time.time()
        os.kill(inst["pid"], signal.SIGKILL)

        def restarted():
            c = self.consumer("thumbnail")
            i = c["instances"][inst["instance"]]
            return i["state"] == "running" and i["pid"] not in (0, inst["pid"]) and c
        after = self.wait_for(restarted, DEADLINE_S, "the restarted thumbnail instance")
        self.assertEqual(after["instances"][inst["instance"]]["restarts"], 1, after)
        self.assertEqual(after["restarts"], 1, after)
        with urllib.request.urlopen(self.d.endpoint + "/_bucketbridge/metrics", timeout=10) as r:
            metrics = r.read().decode().splitlines()
        self.assertIn('bucketbridge_consumer_restarts_total{consumer="thumbnail"} 1', metrics)

        self.wait_for(lambda: os.path.exists(self.thumb_path(key)), DEADLINE_S,
                      "the thumbnail of the redelivered event")
        self.wait_for(lambda: self.statuses(key).get("ok"), DEADLINE_S, "the ok record")
        self.wait_quiet()
        # made after the kill, by the new instance: the event was redelivered
        self.assertGreater(os.stat(self.thumb_path(key)).st_mtime, killed)
        listed = self.s3.list_objects_v2(Bucket=THUMBS, Prefix="kill/")["Contents"]
        self.assertEqual([o["Key"] for o in listed], [key])
        r = self.s3.get_object(Bucket=THUMBS, Key=key)
        self.assertEqual(r["ContentType"], "image/jpeg")
        self.assertEqual(r["Metadata"].get("source-key"), key)
        w, h, rows = decode_jpeg(r["Body"].read())
        self.assertEqual((w, h), (256, 171))
        self.assert_quadrants(rows, key)
        # one record per status: no duplicate "received", "ok" or any "failed"
        self.assertEqual(self.statuses(key), {"received": 1, "ok": 1})
        self.assertEqual(self.dlq_depth(), 0)
        # the one completed attempt logs the whole time and the image work in it
        done = [x for x in self.consumer_log_tail(10000).splitlines()
                if "thumbnail created" in x and f'out="{key}"' in x]
        self.assertEqual(len(done), 1, done)
        ms = float(re.search(r" ms=(\d+)", done[0]).group(1))
        image_ms = float(re.search(r" image_ms=([\d.]+)", done[0]).group(1))
        self.assertGreater(image_ms, 0)
        self.assertLessEqual(image_ms, ms + 1)

        # the same bytes again: found done, no new thumbnail; the consumer still
        # publishes (already_existed), which the logger records as "skipped"
        made = os.stat(self.thumb_path(key)).st_mtime_ns
        self.s3.put_object(Bucket=RAW, Key=key, Body=body, ContentType="image/png")
        self.wait_for(lambda: self.statuses(key).get("skipped"), DEADLINE_S,
                      "the skipped record of the identical upload")
        self.wait_quiet()
        self.assertEqual(self.statuses(key), {"received": 2, "ok": 1, "skipped": 1})
        self.assertEqual(os.stat(self.thumb_path(key)).st_mtime_ns, made)

    def test_2_burst_scales_up_and_down(self):
        names = sorted(SMALL)
        blobs = {}
        for n in names:
            with open(os.path.join(FIXTURES, n), "rb") as f:
                blobs[n] = f.read()
        # every fourth upload a 1600x1200 PNG (tens of ms of work each), so the
        # backlog outgrows one instance however fast the small ones go
        blobs[MID_NAME] = png_quadrants(*MID_SIZE)
        sizes = dict(SMALL, **{MID_NAME: MID_THUMB})
        pick = [MID_NAME if i % 4 == 0 else names[i % len(names)] for i in range(BURST)]
        expect = {f"burst/{i:03d}-{pick[i]}": sizes[pick[i]] for i in range(BURST)}
        restarts0 = self.consumer("thumbnail")["restarts"]
        samples, stop = [], threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    c = self.consumer("thumbnail")
                    samples.append((time.monotonic(), c["running"], c["desired"], c["pending"]))
                except OSError:
                    pass
                stop.wait(0.1)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(32) as pool:
                futs = [pool.submit(self.s3.put_object, Bucket=RAW, Key=k,
                                    Body=blobs[k.split("-", 1)[1]]) for k in expect]
                for f in futs:
                    f.result()
            uploaded = time.monotonic() - t0
            missing = set(expect)

            def all_thumbs():
                for k in list(missing):
                    if os.path.exists(self.thumb_path(k)):
                        missing.discard(k)
                return not missing
            self.wait_for(all_thumbs, DEADLINE_S, f"{BURST} thumbnails")
            made = time.monotonic() - t0

            def scaled_down():
                c = self.consumer("thumbnail")
                return c["desired"] == 1 and c["running"] == 1 and all(
                    i["state"] in ("running", "stopped") for i in c["instances"])
            self.wait_for(scaled_down, DEADLINE_S, "the thumbnail consumer back to 1 instance")
            idle = time.monotonic() - t0
        finally:
            stop.set()
            sampler.join(5)
        peak = max(s[1] for s in samples)
        deepest = max(s[3] for s in samples)
        print(f"\n{BURST} uploads in {uploaded:.1f} s, thumbnails done at {made:.1f} s, back to "
              f"1 instance at {idle:.1f} s; peak {peak} instances, deepest backlog {deepest}",
              flush=True)
        self.assertEqual(peak, MAX_INSTANCES,
                         f"never ran {MAX_INSTANCES} instances; samples {samples[:50]}")
        self.assertEqual(self.consumer("thumbnail")["peak"], MAX_INSTANCES)
        # the scale-up came from the backlog: deep at the time
        self.assertGreater(deepest, SCALE_DEPTH * (MAX_INSTANCES - 1))
        # stopping surplus instances is not a crash
        self.assertEqual(self.consumer("thumbnail")["restarts"], restarts0)
        # the added instances took work: thumbnails made by several of them
        workers = {m.group(1) for m in (re.search(r" thumbnail\[(\d+)\] .*thumbnail created.*"
                                                  r'out="burst/', x)
                                        for x in self.consumer_log_tail(100000).splitlines())
                   if m}
        self.assertGreaterEqual(len(workers), 2, workers)

        self.wait_quiet()
        recs = self.records()
        bad = {k: self.statuses(k, recs) for k in expect}
        bad = {k: v for k, v in bad.items() if v != {"received": 1, "ok": 1}}
        self.assertEqual(bad, {}, f"{len(bad)} uploads without exactly one received and one ok "
                                  f"record")
        self.assertEqual(self.dlq_depth(), 0)
        for key in sorted(expect)[::20]:
            data = self.s3.get_object(Bucket=THUMBS, Key=key)["Body"].read()
            w, h, rows = decode_jpeg(data)
            self.assertEqual((w, h), expect[key], key)
            self.assert_quadrants(rows, key)


class SupervisorTest(unittest.TestCase):
    """A second daemon whose consumers misbehave on purpose: the thumbnail
    consumer with its S3 endpoint pointed at a closed port (through the
    consumer's "env"), a shell that ignores SIGTERM, one that exits at once,
    and a command that does not exist."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        thumb = consumer_binary("BB_THUMBNAIL", "thumbnail", "bucketbridge-thumbnail")
        logger = consumer_binary("BB_LOGGER", "logger", "bucketbridge-logger")
        cls.dead_s3 = f"http://127.0.0.1:{bbdaemon.free_port()}"
        config = {
            "eventbridge": {"retry_time_scale": 0.01},
            "consumers": [
                {"name": "thumbnail", "command": thumb, "group": "thumbnail",
                 "env": {"AWS_ENDPOINT_URL": cls.dead_s3}},
                {"name": "logger", "command": logger, "group": "logger"},
                {"name": "stubborn", "command": "/bin/sh",
                 "args": ["-c", "trap '' TERM; echo \"mark=$BB_MARK\"; "
                                "while :; do sleep 1; done"],
                 "env": {"BB_MARK": "from-the-config"}},
                {"name": "crasher", "command": "/bin/sh", "args": ["-c", "echo boom; exit 3"]},
                {"name": "missing", "command": "/nonexistent/bucketbridge-nothing"},
            ]}
        cls.d = Daemon(name=cls.__name__, config=config).start()
        cls.started = time.monotonic()
        cls.s3 = boto3.session.Session().client(
            "s3", endpoint_url=cls.d.endpoint, region_name=bbdaemon.REGION,
            aws_access_key_id=bbdaemon.ACCESS_KEY, aws_secret_access_key=bbdaemon.SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}))

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.check_clean_exit()
        finally:
            super().tearDownClass()

    health = ConsumersTest.health
    consumer = ConsumersTest.consumer
    records = ConsumersTest.records
    statuses = ConsumersTest.statuses
    consumer_log_tail = ConsumersTest.consumer_log_tail
    wait_for = ConsumersTest.wait_for

    def log_lines(self, name):
        try:
            with open(os.path.join(self.d.data_dir, ".bucketbridge", "logs", f"{name}.log"),
                      errors="replace") as f:
                return f.read().splitlines()
        except OSError:
            return []

    def test_1_env_and_output_with_prefix(self):
        """The consumer's "env" reaches it; its output lands in <name>.log with
        a time and name[instance] prefix."""
        line = self.wait_for(
            lambda: [x for x in self.log_lines("stubborn") if x.endswith("mark=from-the-config")],
            DEADLINE_S, "the stubborn consumer's output")[0]
        self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ stubborn\[0\] "
                               r"mark=from-the-config$")

    def test_2_transient_failures_are_retried_then_dead_lettered(self):
        """S3 unreachable: nacked as transient, retried under the rule's
        RetryPolicy (MaximumRetryAttempts 5), then in the DLQ; no Thumbnail
        Failed event, since nothing was wrong with the image."""
        key = "transient/photo.jpg"
        with open(os.path.join(FIXTURES, "photo-320x240.jpg"), "rb") as f:
            self.s3.put_object(Bucket=RAW, Key=key, Body=f.read())

        def dead_lettered():
            req = urllib.request.Request(self.d.endpoint + "/_bucketbridge/dlq?arn=" + DLQ_ARN,
                                         headers={"X-Bucketbridge-Token": TOKEN})
            with urllib.request.urlopen(req, timeout=10) as r:
                msgs = json.loads(r.read())["Messages"]
            return [m for m in msgs if json.loads(m["Body"])["detail"]["object"]["key"] == key]
        [msg] = self.wait_for(dead_lettered, DEADLINE_S, "the upload in the thumbnail DLQ")
        attrs = msg["MessageAttributes"]
        self.assertEqual(attrs["RETRY_ATTEMPTS"], "5", attrs)
        self.assertEqual(attrs["ERROR_CODE"], "ERROR_FROM_TARGET", attrs)
        retried = [x for x in self.log_lines("thumbnail") if "will be retried" in x]
        self.assertEqual(len(retried), 6, "\n".join(retried))  # the first attempt and 5 retries
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, THUMBS, key)))
        self.wait_for(lambda: self.health()["pending_deliveries"] == 0, DEADLINE_S,
                      "no pending deliveries")
        self.assertEqual(self.statuses(key), {"received": 1})

    def test_3_restarts_back_off_and_missing_commands_are_reported(self):
        """A consumer that exits at once is restarted after 1 s, 2 s, 4 s...
        (not every 200 ms tick); one that cannot be run shows a problem."""
        missing = self.wait_for(lambda: self.consumer("missing").get("problem"), DEADLINE_S,
                                "the missing command's problem in health")
        self.assertIn("could not be run", missing)
        time.sleep(max(0.0, self.started + 8.0 - time.monotonic()))
        crasher = self.consumer("crasher")
        # without backoff: about 40 restarts in 8 s; with it at most 1+2+4 s
        self.assertGreaterEqual(crasher["restarts"], 2, crasher)
        self.assertLessEqual(crasher["restarts"], 4, crasher)
        booms = [x for x in self.log_lines("crasher") if x.endswith("crasher[0] boom")]
        self.assertGreaterEqual(len(booms), crasher["restarts"])

    def test_4_shutdown_kills_a_consumer_that_ignores_sigterm(self):
        """SIGTERM to the daemon: consumers get SIGTERM, and SIGKILL after the
        5 s grace; the daemon then exits 0."""
        [inst] = self.consumer("stubborn")["instances"]
        self.assertEqual(inst["state"], "running")
        p = self.d.proc
        t0 = time.monotonic()
        os.kill(p.pid, signal.SIGTERM)
        rc = p.wait(60)
        took = time.monotonic() - t0
        self.d.proc = None
        self.d.exit_codes.append(rc)
        self.assertEqual(rc, 0)
        self.assertGreaterEqual(took, 4.5, "the daemon did not give SIGTERM its grace")
        with self.assertRaises(ProcessLookupError):
            os.kill(inst["pid"], 0)

if __name__ == "__main__":
    bbdaemon.main()
