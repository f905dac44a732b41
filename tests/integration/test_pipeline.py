# SPDX-License-Identifier: MIT
"""The seed pipeline end to end: the daemon with its default configuration,
bucketbridge-thumbnail and bucketbridge-logger, images uploaded with
`aws s3 cp`.

The daemon starts the consumers itself when its health JSON has a
"consumers" field (the supervisor); with an older daemon this test starts
them as child processes with the environment the supervisor would give
them (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION, BUCKETBRIDGE_WS_URL, BUCKETBRIDGE_TOKEN,
BUCKETBRIDGE_DATA_DIR). The consumer binaries come from BB_THUMBNAIL and
BB_LOGGER, or from the build tree next to BB_DAEMON. BB_PIPELINE_SELF_START=1
runs the daemon with --no-consumers and takes the fallback anyway.

Checked: every fixture image gets a thumbnail in my-thumbnails under the same
key, fitted in 256x256, upright (the pixels of the quadrant fixtures are
read back: red top-left, lime top-right, blue bottom-left, yellow
bottom-right), a valid JPEG (djpeg decodes it without a warning) or a PNG
with alpha for alpha.png, with metadata naming the source; broken files
land in the thumbnail-dlq with "Thumbnail Failed" records in the logger's
JSON Lines; a second upload of the same bytes does no work; 200 uploads at
once all get a thumbnail and a log record.

Needs boto3, the aws CLI, and djpeg (libjpeg-turbo-progs) or ImageMagick's
convert to decode thumbnails; exits 77 (skip) without them.
"""

import glob
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
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
    from botocore.exceptions import ClientError
except ImportError as e:  # pragma: no cover
    bbdaemon.skip_module(f"boto3 is not importable by {sys.executable}: {e}")

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "fixtures", "images")
RAW = "my-raw-images"
THUMBS = "my-thumbnails"
DLQ_ARN = "arn:aws:sqs:us-east-1:000000000000:thumbnail-dlq"
TOKEN = bbdaemon.SECRET_KEY  # the daemon's default WebSocket/admin token

DEADLINE_S = 60.0
BULK = 200
BULK_DEADLINE_S = 240.0

# fixture -> (width, height, content check) of its 256x256 thumbnail
QUAD = "quadrants"
GOOD = {
    "photo-16x12.jpg": (16, 12, None),
    "photo-320x240.jpg": (256, 192, QUAD),
    "photo-1024x768.jpg": (256, 192, QUAD),
    "photo-3000x2000.jpg": (256, 171, QUAD),
    "phone-orient-6.jpg": (192, 256, QUAD),
    "progressive.jpg": (256, 192, QUAD),
    "cmyk.jpg": (256, 192, QUAD),
    "gray.jpg": (200, 150, None),
    "anim.gif": (160, 120, QUAD),
    "image.bmp": (100, 76, QUAD),
    "image.tga": (100, 76, QUAD),
    "alpha.png": (256, 171, "alpha"),
}
GOOD.update({f"orient-{o}.jpg": (120, 80, QUAD) for o in range(1, 9)})
BAD = {
    "truncated.jpg": "corrupt",
    "corrupt.jpg": "corrupt",
    "not-an-image.jpg": "not an image",
    "bomb.png": "over the limit",
    "bomb.jpg": "over the limit",
}

QUADRANTS = [((0.25, 0.25), (255, 0, 0)), ((0.75, 0.25), (0, 255, 0)),
             ((0.25, 0.75), (0, 0, 255)), ((0.75, 0.75), (255, 255, 0))]


def find_aws():
    exe = os.environ.get("BB_AWS_CLI") or shutil.which("aws")
    if exe:
        return [exe]
    try:
        import awscli  # noqa: F401
        return [sys.executable, "-m", "awscli"]
    except ImportError:
        return None


def consumer_binary(env_name, sub, name):
    path = os.environ.get(env_name)
    if not path:
        daemon = os.environ.get("BB_DAEMON", "")
        path = os.path.join(os.path.dirname(os.path.dirname(daemon)), "consumers", sub, name)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        bbdaemon.skip_module(f"{name} not found at {path} (set {env_name})")
    return path


# ---- decoding thumbnails -----------------------------------------------------------
def parse_pnm(data):
    """(width, height, rows of RGB tuples) from binary P6 (or P5) data."""
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    magic, w, h = fields[0], int(fields[1]), int(fields[2])
    ch = 3 if magic == b"P6" else 1
    px = data[pos:pos + w * h * ch]
    if ch == 1:
        px = bytes(b for v in px for b in (v, v, v))
    return w, h, [[tuple(px[(y * w + x) * 3:(y * w + x) * 3 + 3]) for x in range(w)]
                  for y in range(h)]


def decode_jpeg(data):
    """Decodes with djpeg (strict: a warning is a failure) or ImageMagick."""
    djpeg = shutil.which("djpeg")
    if djpeg:
        p = subprocess.run([djpeg, "-pnm"], input=data, capture_output=True, timeout=30)
        if p.returncode != 0 or p.stderr:
            raise AssertionError(f"djpeg: exit {p.returncode}: {p.stderr.decode(errors='replace')}")
        return parse_pnm(p.stdout)
    p = subprocess.run(["/usr/bin/convert", "jpeg:-", "ppm:-"], input=data, capture_output=True,
                       timeout=30, check=True)
    return parse_pnm(p.stdout)


def decode_png(data):
    """8-bit RGB/RGBA, non-interlaced PNG (what the consumer writes):
    (width, height, channels, rows of tuples)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    ch = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = w * ch
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            b = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append([tuple(line[x * ch:(x + 1) * ch]) for x in range(w)])
        prev = line
    return w, h, ch, rows


def close_to(got, want, tol=48):
    return all(abs(g - v) <= tol for g, v in zip(got, want))


# ---- the test ------------------------------------------------------------------------
class PipelineTest(unittest.TestCase):
    """One daemon (default configuration) and its consumers for the class."""

    d = None
    children = []
    supervised = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.aws_cmd = find_aws()
        if cls.aws_cmd is None:
            bbdaemon.skip_module("the aws CLI is not installed")
        if not shutil.which("djpeg") and not os.path.exists("/usr/bin/convert"):
            bbdaemon.skip_module("needs djpeg (libjpeg-turbo-progs) or ImageMagick to check "
                                 "thumbnails")
        # BB_PIPELINE_SELF_START=1 tries the fallback with a supervising daemon
        self_start = os.environ.get("BB_PIPELINE_SELF_START") == "1"
        cls.d = Daemon(name=cls.__name__,
                       extra_args=["--no-consumers"] if self_start else None).start()
        cls.children = []
        health = cls.health_json()
        cls.supervised = "consumers" in health and not self_start
        if not cls.supervised:
            cls.start_consumers()
        cls.s3 = boto3.session.Session().client(
            "s3", endpoint_url=cls.d.endpoint, region_name=bbdaemon.REGION,
            aws_access_key_id=bbdaemon.ACCESS_KEY, aws_secret_access_key=bbdaemon.SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 3}))
        cls.work = tempfile.mkdtemp(prefix="bb-it-pipeline-")

    @classmethod
    def tearDownClass(cls):
        problems = []
        try:
            for name, p, log in cls.children:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(10)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
                        problems.append(f"{name} ignored SIGTERM for 10 s")
                if p.returncode not in (0, None):
                    problems.append(f"{name} exited with {p.returncode}")
            cls.d.check_clean_exit()
        finally:
            for name, p, log in cls.children:
                log.close()
            shutil.rmtree(getattr(cls, "work", ""), ignore_errors=True)
            super().tearDownClass()
        problems += cls.consumer_sanitizer_reports()
        if problems:
            raise AssertionError("consumers: " + "; ".join(problems))

    # ---- set-up helpers ----
    @classmethod
    def health_json(cls):
        with urllib.request.urlopen(cls.d.endpoint + "/_bucketbridge/health", timeout=10) as r:
            return json.loads(r.read())

    @classmethod
    def consumer_env(cls):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ENDPOINT_URL=cls.d.endpoint, AWS_ACCESS_KEY_ID=bbdaemon.ACCESS_KEY,
                   AWS_SECRET_ACCESS_KEY=bbdaemon.SECRET_KEY,
                   AWS_DEFAULT_REGION=bbdaemon.REGION,
                   BUCKETBRIDGE_WS_URL=f"ws://127.0.0.1:{cls.d.port}/_bucketbridge/events",
                   BUCKETBRIDGE_TOKEN=TOKEN, BUCKETBRIDGE_DATA_DIR=cls.d.data_dir,
                   BB_LOG_LEVEL="info")
        return env

    @classmethod
    def start_consumers(cls):
        env = cls.consumer_env()
        for name, var, sub in (("thumbnail", "BB_THUMBNAIL", "thumbnail"),
                               ("logger", "BB_LOGGER", "logger")):
            exe = consumer_binary(var, sub, f"bucketbridge-{name}")
            log_path = os.path.join(cls.d.base, f"{name}.log")
            log = open(log_path, "wb")
            p = subprocess.Popen([exe], env=env, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT)
            cls.children.append((name, p, log))

    @classmethod
    def consumer_logs(cls):
        if cls.supervised:
            return glob.glob(os.path.join(cls.d.data_dir, ".bucketbridge", "logs", "*.log"))
        return [os.path.join(cls.d.base, f"{n}.log") for n, _, _ in cls.children]

    @classmethod
    def consumer_sanitizer_reports(cls):
        out = []
        for path in cls.consumer_logs():
            try:
                with open(path, errors="replace") as f:
                    for line in f:
                        if ("ERROR: AddressSanitizer" in line or "runtime error:" in line
                                or "ERROR: LeakSanitizer" in line):
                            out.append(f"{os.path.basename(path)}: {line.strip()}")
            except OSError:
                pass
        return out

    def consumer_log_tail(self, lines=60):
        out = []
        for path in self.consumer_logs():
            try:
                with open(path, errors="replace") as f:
                    text = f.read().splitlines()
            except OSError:
                continue
            out.append(f"----- {path} -----")
            out.extend(text[-lines:])
        return "\n".join(out)

    # ---- helpers ----
    def aws(self, *args):
        work = tempfile.mkdtemp(prefix="bb-it-cli-")
        self.addCleanup(shutil.rmtree, work, True)
        cfg = os.path.join(work, "config")
        with open(cfg, "w") as f:
            f.write("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"
                    "    max_concurrent_requests = 20\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=bbdaemon.ACCESS_KEY,
                   AWS_SECRET_ACCESS_KEY=bbdaemon.SECRET_KEY, AWS_DEFAULT_REGION=bbdaemon.REGION,
                   AWS_CONFIG_FILE=cfg, AWS_SHARED_CREDENTIALS_FILE=os.path.join(work, "nocreds"),
                   AWS_PAGER="")
        p = subprocess.run(self.aws_cmd + ["--endpoint-url", self.d.endpoint] + list(args),
                           env=env, capture_output=True, timeout=300)
        if p.returncode != 0:
            self.fail(f"aws {' '.join(args)} -> exit {p.returncode}\n"
                      f"{p.stdout.decode(errors='replace')}{p.stderr.decode(errors='replace')}")

    def upload_dir(self, local_dir, prefix):
        """aws s3 cp --recursive: the CLI uploads the files concurrently."""
        self.aws("s3", "cp", "--recursive", "--quiet", local_dir, f"s3://{RAW}/{prefix}")

    def records(self):
        """Every JSON Lines record the logger wrote so far."""
        out = []
        pattern = os.path.join(self.d.data_dir, ".bucketbridge", "logs", "processing-*.jsonl")
        for path in sorted(glob.glob(pattern)):
            with open(path) as f:
                for line in f:
                    if line.endswith("\n"):
                        out.append(json.loads(line))
        return out

    def records_for(self, key, bucket=RAW):
        return [r for r in self.records() if r.get("bucket") == bucket and r.get("key") == key]

    def thumb(self, key):
        """(bytes, content type, metadata) of the thumbnail, or None."""
        try:
            r = self.s3.get_object(Bucket=THUMBS, Key=key)
        except ClientError as e:
            if e.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return r["Body"].read(), r["ContentType"], r["Metadata"]

    def dlq_keys(self):
        req = urllib.request.Request(self.d.endpoint + "/_bucketbridge/dlq?arn=" + DLQ_ARN,
                                     headers={"X-Bucketbridge-Token": TOKEN})
        with urllib.request.urlopen(req, timeout=10) as r:
            msgs = json.loads(r.read())["Messages"]
        keys = {}
        for m in msgs:
            body = json.loads(m["Body"])
            keys[body["detail"]["object"]["key"]] = m
        return keys

    def wait_for(self, pred, timeout, what):
        v = bbdaemon.wait_until(pred, timeout, interval=0.1)
        if not v:
            self.fail(f"timed out after {timeout}s waiting for {what}\n"
                      + self.consumer_log_tail())
        return v

    def wait_thumbs(self, keys, timeout):
        missing = set(keys)

        def done():
            for k in list(missing):
                if os.path.exists(os.path.join(self.d.data_dir, THUMBS, k)):
                    missing.discard(k)
            return not missing
        if not bbdaemon.wait_until(done, timeout, interval=0.1):
            self.fail(f"no thumbnail after {timeout}s for {sorted(missing)[:10]} "
                      f"({len(missing)} missing)\n" + self.consumer_log_tail())

    def source_etag(self, key):
        return self.s3.head_object(Bucket=RAW, Key=key)["ETag"].strip('"')

    def assert_quadrants(self, rows, what):
        h, w = len(rows), len(rows[0])
        for (fx, fy), want in QUADRANTS:
            got = rows[int(fy * h)][int(fx * w)][:3]
            self.assertTrue(close_to(got, want),
                            f"{what}: pixel at ({fx}, {fy}) is {got}, want {want}")

    # ---- the tests ----
    def test_1_fixtures(self):
        """Each fixture: a correct thumbnail, or the DLQ and a failed record."""
        src = os.path.join(self.work, "fixtures")
        os.mkdir(src)
        for name in list(GOOD) + list(BAD):
            shutil.copy(os.path.join(FIXTURES, name), os.path.join(src, name))
        self.upload_dir(src, "fx/")
        self.wait_thumbs([f"fx/{n}" for n in GOOD], DEADLINE_S)

        for name, (w, h, check) in sorted(GOOD.items()):
            key = f"fx/{name}"
            with self.subTest(fixture=name):
                data, ctype, meta = self.thumb(key)
                self.assertEqual(meta.get("source-bucket"), RAW)
                self.assertEqual(meta.get("source-key"), key)
                self.assertEqual(meta.get("source-etag"), self.source_etag(key))
                if check == "alpha":
                    self.assertEqual(ctype, "image/png")
                    pw, ph, ch, rows = decode_png(data)
                    self.assertEqual((pw, ph, ch), (w, h, 4))
                    left, right = rows[10][30], rows[10][200]
                    self.assertTrue(close_to(left, (255, 0, 0, 255), 8), left)
                    self.assertEqual(right[3], 0, right)
                    continue
                self.assertEqual(ctype, "image/jpeg")
                self.assertEqual(data[:2], b"\xff\xd8")
                self.assertEqual(data[-2:], b"\xff\xd9")
                pw, ph, rows = decode_jpeg(data)
                self.assertEqual((pw, ph), (w, h))
                if check == QUAD:
                    self.assert_quadrants(rows, name)

        # broken files: dead-lettered at once (no retries), failed records
        bad_keys = {f"fx/{n}" for n in BAD}
        self.wait_for(lambda: bad_keys <= set(self.dlq_keys()), DEADLINE_S,
                      "the broken files in the thumbnail DLQ")
        dlq = self.dlq_keys()
        for name, why in BAD.items():
            key = f"fx/{name}"
            with self.subTest(fixture=name):
                self.assertIsNone(self.thumb(key))
                attrs = dlq[key]["MessageAttributes"]
                self.assertIn(why, attrs["ERROR_MESSAGE"])
                self.assertEqual(attrs["RETRY_ATTEMPTS"], "0")
                recs = self.wait_for(
                    lambda: [r for r in self.records_for(key) if r["status"] == "failed"],
                    DEADLINE_S, f"a failed record for {key}")
                self.assertEqual(recs[0]["detail_type"], "Thumbnail Failed")
                self.assertIn(why, recs[0]["error"])
                self.assertIsInstance(recs[0]["processing_ms"], (int, float))

        # every upload has its "received" record; every good one its "ok"
        for name in list(GOOD) + list(BAD):
            key = f"fx/{name}"
            self.wait_for(lambda: any(r["status"] == "received" for r in self.records_for(key)),
                          DEADLINE_S, f"a received record for {key}")
        for name in GOOD:
            key = f"fx/{name}"
            ok = self.wait_for(
                lambda: [r for r in self.records_for(key) if r["status"] == "ok"], DEADLINE_S,
                f"an ok record for {key}")[0]
            self.assertEqual(ok["detail_type"], "Thumbnail Created")
            self.assertEqual(ok["output_bucket"], THUMBS)
            self.assertEqual(ok["output_key"], key)
            self.assertGreaterEqual(ok["latency_ms"], 0)
            self.assertGreaterEqual(ok["processing_ms"], 0)
            self.assertEqual(ok["sizes"], [f"{GOOD[name][0]}x{GOOD[name][1]}"])

    def test_2_same_bytes_again_do_no_work(self):
        """A second upload with the same ETag is acked without a new thumbnail."""
        key = "again/photo.jpg"
        path = os.path.join(FIXTURES, "photo-320x240.jpg")
        self.aws("s3", "cp", "--quiet", path, f"s3://{RAW}/{key}")
        self.wait_thumbs([key], DEADLINE_S)
        self.wait_for(lambda: [r for r in self.records_for(key) if r["status"] == "ok"],
                      DEADLINE_S, "the first ok record")
        first = os.stat(os.path.join(self.d.data_dir, THUMBS, key)).st_mtime_ns
        self.aws("s3", "cp", "--quiet", path, f"s3://{RAW}/{key}")
        self.wait_for(lambda: len([r for r in self.records_for(key)
                                   if r["status"] == "received"]) == 2,
                      DEADLINE_S, "the second received record")
        # the second delivery is acked once the consumer looked: nothing pending
        self.wait_for(lambda: self.health_json()["pending_deliveries"] == 0, DEADLINE_S,
                      "no pending deliveries")
        self.assertEqual(os.stat(os.path.join(self.d.data_dir, THUMBS, key)).st_mtime_ns, first)
        self.assertEqual(len([r for r in self.records_for(key) if r["status"] == "ok"]), 1)

    def test_3_bulk_uploads(self):
        """BULK uploads at once: each gets a thumbnail and an ok record."""
        src = os.path.join(self.work, "bulk")
        os.mkdir(src)
        names = sorted(n for n, (_, _, c) in GOOD.items() if c == QUAD)
        expect = {}
        for i in range(BULK):
            name = names[i % len(names)]
            key = f"bulk/{i:03d}-{name}"
            shutil.copy(os.path.join(FIXTURES, name), os.path.join(src, key[5:]))
            expect[key] = GOOD[name][:2]
        t0 = time.monotonic()
        self.upload_dir(src, "bulk/")
        self.wait_thumbs(expect, BULK_DEADLINE_S)
        elapsed = time.monotonic() - t0
        self.wait_for(lambda: {r["key"] for r in self.records()
                               if r["status"] == "ok" and r["key"] in expect} == set(expect),
                      BULK_DEADLINE_S, "an ok record for every bulk upload")
        print(f"\n{BULK} uploads -> {BULK} thumbnails in {elapsed:.1f} s "
              f"({'supervised' if self.supervised else 'consumers started by the test'})",
              flush=True)
        for key in sorted(expect)[:: max(1, BULK // 10)]:
            data, _, _ = self.thumb(key)
            w, h, rows = decode_jpeg(data)
            self.assertEqual((w, h), expect[key], key)
            self.assert_quadrants(rows, key)

    def test_4_key_with_space(self):
        """Keys are form-encoded in events; the consumer decodes them."""
        key = "with space/caf\u00e9 photo.jpg"
        self.aws("s3", "cp", "--quiet", os.path.join(FIXTURES, "orient-3.jpg"),
                 f"s3://{RAW}/{key}")
        self.wait_for(lambda: self.records_for(key), DEADLINE_S, "the received record")
        got = bbdaemon.wait_until(
            lambda: [r for r in self.records_for(key) if r["status"] in ("ok", "failed")],
            DEADLINE_S, interval=0.1)
        self.assertTrue(got, "no ok/failed record for the key with a space")
        self.assertEqual(got[0]["status"], "ok", got[0])
        self.wait_thumbs([key], DEADLINE_S)
        data, _, meta = self.thumb(key)
        self.assertEqual(meta.get("source-key"), "with%20space/caf%C3%A9%20photo.jpg")
        w, h, rows = decode_jpeg(data)
        self.assertEqual((w, h), (120, 80))
        self.assert_quadrants(rows, key)


if __name__ == "__main__":
    bbdaemon.main()
