# SPDX-License-Identifier: MIT
"""Crash consistency under load (issue 8): the real daemon with its default
configuration (thumbnail and logger consumers running) under sustained mixed
load, killed with SIGKILL at random moments and restarted on the same data
dir; then the same load with the thumbnail consumer killed instead.

Load, from several threads at once:
  - PutObject of random bytes (unique per write) and of fixture images,
  - multipart uploads (a 5 MiB part and a small one; an upload cut by a
    kill is continued in the next round: parts and meta.json must survive),
  - DeleteObject of earlier keys,
  - PutEvents through the EventBridge API,
  - files written outside the data dir and renamed into
    <data>/my-raw-images/ (the watcher), and some of them removed again;
    this goes on while the daemon is down too.
Every key is written by one thread only, so the order of operations on a
key is known. Retries are off: a request either got an answer or not.

Checked at the end (the daemon running, everything drained):
  - per key, the journal's Object Created / Object Deleted events replay
    the key's history: each acknowledged PUT / CompleteMultipartUpload /
    DELETE / file drop has exactly one event (an API write's event carries
    its request id), a write cut by a kill has at most one, nothing else
    has any; the object now there is the last acknowledged write or a later
    cut one, with exactly its bytes (SHA-256 of GET and of the file) and
    ETag, or absent after a delete; no object exists that no write made;
  - every acknowledged PutEvents entry is in the journal exactly once, a
    cut one at most once;
  - every event reached the logger (its id in the JSON Lines log), or is
    still queued or dead-lettered; every event the thumbnail rule matched
    has its thumbnail (source-etag = the event's ETag), a Thumbnail Failed,
    or a dead letter; every good image has a decodable thumbnail and log
    records of its upload and of its thumbnail; the corrupt one is in the
    thumbnail DLQ;
  - no request goes unanswered while the daemon is not being killed, and
    none gets an error status; the daemon stops cleanly at the end with no
    sanitizer report. The consumers of a killed daemon exit within
    --orphan-wait-s (those left are a failure, and are killed by PID).

--power-cut replaces the kill rounds by one simulated power cut: the data
dir on a loop-mounted ext4 image, the block device copied while the daemon
and its consumers are frozen (SIGSTOP), the daemon restarted on the copy,
the same checks (with --durability fast only a corrupt database fails; the
rest is reported in "violations").

Usage (ctest runs the short mode; docs/reliability.md has the long runs):
  BB_DAEMON=build/emulator/bucketbridge python3 tests/integration/test_crash.py \
      [--rounds 3] [--consumer-kills 3] [--min-s 1.5] [--max-s 3.5] [--threads 4] \
      [--durability fast|full] [--power-cut] [--seed N] [--json FILE]
Exit 0 = every check passed, 1 = a check failed (printed), 77 = a tool is
missing.
"""

import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import random
import signal
import sqlite3
import shutil
import statistics
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("BB_IT_LOG_LEVEL", "info")  # debug logs are large under load
import bbdaemon  # noqa: E402
from bbdaemon import Daemon  # noqa: E402

try:
    import boto3
    import botocore.exceptions as bexc
    from botocore.config import Config
except ImportError as e:  # pragma: no cover
    bbdaemon.skip_module(f"boto3 is not importable by {sys.executable}: {e}")

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "fixtures", "images")
RAW = "my-raw-images"
THUMBS = "my-thumbnails"
THUMB_DLQ = "arn:aws:sqs:us-east-1:000000000000:thumbnail-dlq"
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tga")
GOOD_IMAGES = ["photo-320x240.jpg", "photo-1024x768.jpg", "progressive.jpg", "gray.jpg",
               "phone-orient-6.jpg", "orient-3.jpg", "anim.gif", "image.bmp", "alpha.png"]
BAD_IMAGES = ["corrupt.jpg"]
MIB = 1024 * 1024
CTYPE = "application/x-bb-crash"  # set on API writes of .bin keys; the watcher cannot know it

# The restart after a kill may replay a WAL and reconcile the data dir.
bbdaemon.HEALTH_TIMEOUT_S = 60.0


def md5_etag(data):
    return hashlib.md5(data).hexdigest()


def sha(data):
    return hashlib.sha256(data).hexdigest()


# ---- the model: what was attempted, and what got an answer ------------------------------
class Op:
    """One mutation of one key. acked: True (2xx), False (no answer: cut by
    a kill), or "error" (an error status: must not have taken effect)."""

    __slots__ = ("kind", "key", "etag", "sha", "size", "acked", "rid", "round", "t", "alt",
                 "ctype")

    def __init__(self, kind, key, etag=None, sha_=None, size=None, alt=None, ctype=None):
        self.kind = kind  # put, mpu, delete, drop, rm
        self.key = key
        self.etag = etag
        self.sha = sha_
        self.size = size
        # a write cut between its rename and its commit is indexed again by
        # the watcher at the next start: with the plain MD5 of its bytes as
        # ETag (alt; differs for multipart) and without its Content-Type
        self.alt = alt or etag
        self.ctype = ctype
        self.acked = None
        self.rid = None
        self.round = None
        self.t = time.time()

    def __repr__(self):
        return (f"{self.kind}({self.key} etag={self.etag} acked={self.acked} "
                f"rid={self.rid} round={self.round})")


class Model:
    def __init__(self):
        self.lock = threading.Lock()
        self.keys = {}  # key -> [Op] in order
        self.events = []  # [(marker, acked, event_id)]
        self.errors = []  # unexpected error answers
        self.round = 0

    def add(self, op):
        op.round = self.round
        with self.lock:
            self.keys.setdefault(op.key, []).append(op)
        return op

    def ops(self):
        with self.lock:
            return [o for v in self.keys.values() for o in v]


def classify(exc):
    """False for a request cut by the kill (no answer); raises for anything else."""
    if isinstance(exc, bexc.BotoCoreError) and not isinstance(exc, bexc.ClientError):
        return False  # connection refused/reset/closed, a body cut short
    if isinstance(exc, (ConnectionError, OSError)):
        return False
    raise exc


# ---- load ----------------------------------------------------------------------------------
class Worker:
    """A load thread's state; it lives across rounds (its keys, a multipart
    upload cut by a kill)."""

    def __init__(self, idx, model, images, rng_seed):
        self.idx = idx
        self.model = model
        self.images = images
        self.rng = random.Random(rng_seed)
        self.n = 0
        self.mpu = None  # dict(key, upload_id, parts={n: (bytes, acked)})
        self.counts = {}

    def newkey(self, ext):
        self.n += 1
        return f"t{self.idx}-{self.n}{ext}"

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    def live_keys(self):
        """Own non-image keys whose last op is a put that was acked."""
        with self.model.lock:
            return [k for k, v in self.model.keys.items()
                    if k.startswith(f"t{self.idx}-") and k.endswith(".bin")
                    and v[-1].kind in ("put", "mpu") and v[-1].acked is True]

    def any_keys(self):
        with self.model.lock:
            return [k for k in self.model.keys if k.startswith(f"t{self.idx}-")
                    and k.endswith(".bin")]

    def run(self, s3, events, stop, killed):
        """Operations until @stop; a request without an answer is expected
        only once @killed is set (the daemon is being killed)."""
        while not stop.is_set():
            try:
                self.one(s3, events)
            except bexc.ClientError as e:
                code = e.response.get("Error", {}).get("Code")
                status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if stop.is_set() and status == 503:
                    continue
                with self.model.lock:
                    self.model.errors.append(f"t{self.idx}: {status} {code}: {e}")
            except Exception as e:  # noqa: BLE001 (a cut request or a bug in this file)
                try:
                    classify(e)
                except Exception:  # noqa: BLE001
                    with self.model.lock:
                        self.model.errors.append(f"t{self.idx}: {traceback.format_exc()}")
                    return
                if not killed.is_set():
                    with self.model.lock:
                        self.model.errors.append(f"t{self.idx}: no answer while the daemon "
                                                 f"was not being killed: {e!r}")
                if not stop.is_set():
                    time.sleep(0.05)

    def one(self, s3, events):
        if self.mpu is not None:
            return self.do_mpu(s3)
        r = self.rng.random()
        if r < 0.35:
            self.do_put(s3, self.newkey(".bin"), self.rng.randrange(0, 256 * 1024))
        elif r < 0.45:
            keys = self.any_keys()
            if keys:
                self.do_put(s3, self.rng.choice(keys), self.rng.randrange(1, 64 * 1024))
        elif r < 0.60:
            keys = self.live_keys() if self.rng.random() < 0.8 else self.any_keys()
            if keys:
                self.do_delete(s3, self.rng.choice(keys))
        elif r < 0.75:
            name = self.rng.choice(self.images)
            data = self.model_images[name]
            self.do_put(s3, self.newkey(os.path.splitext(name)[1]), data=data)
        elif r < 0.80:
            self.mpu = {"key": self.newkey(".bin"), "id": None, "parts": {}}
            self.do_mpu(s3)
        else:
            self.do_put_events(events)

    def _answered(self, op, resp):
        op.acked = True
        op.rid = resp["ResponseMetadata"]["RequestId"]

    def _call(self, op, fn):
        try:
            resp = fn()
        except bexc.ClientError:
            op.acked = "error"
            raise
        except Exception as e:
            op.acked = classify(e)
            raise
        self._answered(op, resp)
        return resp

    def do_put(self, s3, key, size=0, data=None):
        if data is None:
            data = os.urandom(size)
        ctype = CTYPE if key.endswith(".bin") else None
        op = self.model.add(Op("put", key, md5_etag(data), sha(data), len(data), ctype=ctype))
        extra = {"ContentType": ctype} if ctype else {}
        resp = self._call(op, lambda: s3.put_object(Bucket=RAW, Key=key, Body=data, **extra))
        got = resp["ETag"].strip('"')
        if got != op.etag:
            with self.model.lock:
                self.model.errors.append(f"PUT {key}: ETag {got}, want {op.etag}")
        self.count("put")

    def do_delete(self, s3, key):
        op = self.model.add(Op("delete", key))
        self._call(op, lambda: s3.delete_object(Bucket=RAW, Key=key))
        self.count("delete")

    def do_mpu(self, s3):
        m = self.mpu
        if m["id"] is None:
            try:
                r = s3.create_multipart_upload(Bucket=RAW, Key=m["key"], ContentType=CTYPE)
            except Exception:
                self.mpu = None  # not known to exist: abandon
                raise
            m["id"] = r["UploadId"]
            m["sizes"] = [self.rng.randrange(1, 512 * 1024)]
            if self.rng.random() < 0.3:
                m["sizes"].insert(0, 5 * MIB)  # the smallest part that may have another after it
        for n, size in enumerate(m["sizes"], 1):
            if m["parts"].get(n, (None, False))[1]:
                continue
            data = m["parts"][n][0] if n in m["parts"] else os.urandom(size)
            m["parts"][n] = (data, False)
            try:
                r = s3.upload_part(Bucket=RAW, Key=m["key"], UploadId=m["id"], PartNumber=n,
                                   Body=data)
            except bexc.ClientError as e:
                if e.response.get("Error", {}).get("Code") == "NoSuchUpload":
                    with self.model.lock:
                        self.model.errors.append(
                            f"multipart {m['key']}: upload {m['id']} lost after a restart")
                    self.mpu = None
                raise
            if r["ETag"].strip('"') != md5_etag(data):
                with self.model.lock:
                    self.model.errors.append(f"part {n} of {m['key']}: ETag {r['ETag']}")
            m["parts"][n] = (data, True)
            if m.get("cut"):
                self.count("mpu_part_after_restart")
        body = b"".join(m["parts"][n][0] for n in sorted(m["parts"]))
        digests = b"".join(hashlib.md5(m["parts"][n][0]).digest() for n in sorted(m["parts"]))
        etag = f"{hashlib.md5(digests).hexdigest()}-{len(m['parts'])}"
        op = self.model.add(Op("mpu", m["key"], etag, sha(body), len(body), alt=md5_etag(body),
                               ctype=CTYPE))
        self.mpu = None  # whatever the answer, the upload is done or unknown
        parts = [{"PartNumber": n, "ETag": '"' + md5_etag(m["parts"][n][0]) + '"'}
                 for n in sorted(m["parts"])]
        resp = self._call(op, lambda: s3.complete_multipart_upload(
            Bucket=RAW, Key=m["key"], UploadId=m["id"], MultipartUpload={"Parts": parts}))
        if resp["ETag"].strip('"') != etag:
            with self.model.lock:
                self.model.errors.append(f"multipart {m['key']}: ETag {resp['ETag']}, want {etag}")
        self.count("mpu")
        if m.get("cut"):
            self.count("mpu_completed_after_restart")

    def do_put_events(self, events):
        n = self.rng.randint(1, 3)
        self.n += 1
        markers = [f"t{self.idx}-e{self.n}-{i}" for i in range(n)]
        entries = [{"Source": "crash.test", "DetailType": "Crash Probe",
                    "Detail": json.dumps({"marker": mk})} for mk in markers]
        recs = [[mk, False, None] for mk in markers]
        with self.model.lock:
            self.model.events.extend(recs)
        try:
            r = events.put_events(Entries=entries)
        except bexc.ClientError:
            for rec in recs:
                rec[1] = "error"
            raise
        except Exception as e:
            classify(e)
            raise
        for rec, ent in zip(recs, r["Entries"]):
            if ent.get("EventId"):
                rec[1], rec[2] = True, ent["EventId"]
            else:
                rec[1] = "error"
                with self.model.lock:
                    self.model.errors.append(f"PutEvents entry refused: {ent}")
        self.count("put_events")


class Dropper:
    """Drops files into <data>/my-raw-images/ by rename (and removes some
    of them), whether the daemon is up or not."""

    def __init__(self, d, model, images, seed):
        self.d = d
        self.model = model
        self.images = images
        self.rng = random.Random(seed)
        self.stage = os.path.join(d.base, "stage")
        os.makedirs(self.stage, exist_ok=True)
        self.n = 0
        self.dropped = []  # non-image keys dropped and not removed
        self.stop = threading.Event()
        self.thread = None
        self.counts = {"drop": 0, "rm": 0}
        self.error = None

    def start(self):
        self.thread = threading.Thread(target=self.loop, name="dropper", daemon=True)
        self.thread.start()

    def finish(self):
        self.stop.set()
        self.thread.join(30)

    def loop(self):
        try:
            while not self.stop.wait(self.rng.uniform(0.05, 0.25)):
                if self.dropped and self.rng.random() < 0.15:
                    key = self.dropped.pop(self.rng.randrange(len(self.dropped)))
                    op = self.model.add(Op("rm", key))
                    os.unlink(os.path.join(self.d.data_dir, RAW, key))
                    op.acked = True
                    self.counts["rm"] += 1
                    continue
                self.n += 1
                if self.rng.random() < 0.3:
                    name = self.rng.choice(self.images)
                    data = self.model_images[name]
                    key = f"drop-{self.n}{os.path.splitext(name)[1]}"
                else:
                    data = os.urandom(self.rng.randrange(0, 128 * 1024))
                    key = f"drop-{self.n}.bin"
                tmp = os.path.join(self.stage, f"{key}.part")
                with open(tmp, "wb") as f:
                    f.write(data)
                op = self.model.add(Op("drop", key, md5_etag(data), sha(data), len(data)))
                os.rename(tmp, os.path.join(self.d.data_dir, RAW, key))
                op.acked = True
                self.counts["drop"] += 1
                if key.endswith(".bin"):
                    self.dropped.append(key)
        except Exception:  # noqa: BLE001
            self.error = traceback.format_exc()


# ---- the daemon and its consumers ----------------------------------------------------------
def health(d, timeout=30.0):
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=timeout)
    try:
        conn.request("GET", "/_bucketbridge/health")
        r = conn.getresponse()
        return json.loads(r.read())
    finally:
        conn.close()


def consumer_pids(h, name):
    for c in h.get("consumers", []):
        if c.get("name") == name:
            return [i["pid"] for i in c.get("instances", []) if i.get("pid", 0) > 0]
    return []


def own_consumers(data_dir):
    """PIDs of processes started with BUCKETBRIDGE_DATA_DIR = this test's
    data dir (consumers our daemons spawned), from /proc."""
    want = f"BUCKETBRIDGE_DATA_DIR={data_dir}".encode()
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if want in env:
            out.append(int(p))
    return out


def s3_clients(d):
    cfg = Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                 connect_timeout=10, read_timeout=120, max_pool_connections=4)
    kw = dict(endpoint_url=d.endpoint, aws_access_key_id=bbdaemon.ACCESS_KEY,
              aws_secret_access_key=bbdaemon.SECRET_KEY, region_name=bbdaemon.REGION, config=cfg)
    return boto3.client("s3", **kw), boto3.client("events", **kw)


# ---- a simulated power cut: the data dir on a loop-mounted ext4 image -------------------------
def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout.strip()


def power_cut_possible():
    """Why a loop mount cannot be made here, or None."""
    if os.geteuid() != 0:
        return "not root (mount -o loop needs it)"
    for tool in ("mkfs.ext4", "mount", "umount", "findmnt", "losetup"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    if not os.path.exists("/dev/loop-control"):
        return "no /dev/loop-control"
    return None


def device_writes(dev):
    """(write I/Os, in flight, flushes) of a block device from /sys/block."""
    with open(f"/sys/block/{os.path.basename(dev)}/stat") as f:
        v = [int(x) for x in f.read().split()]
    return (v[4], v[8], v[15] if len(v) > 15 else 0)


def snapshot_device(dev, out):
    """Copies what @dev holds now (what the file system above it has
    written; not its page cache) to @out. The copy is retried until no write
    reached the device while it ran, so it is one instant's state."""
    for attempt in range(20):
        before = device_writes(dev)
        if before[1] == 0:
            sh("dd", f"if={dev}", f"of={out}", "bs=4M", "iflag=direct", "conv=sparse",
               "status=none")
            if device_writes(dev) == before:
                return attempt
        time.sleep(0.05)
    raise RuntimeError(f"{dev} kept being written; no consistent snapshot")


class Skip(Exception):
    pass


class Run:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.model = Model()
        self.images = {}
        for name in GOOD_IMAGES + BAD_IMAGES:
            with open(os.path.join(FIXTURES, name), "rb") as f:
                self.images[name] = f.read()
        self.d = Daemon(name="crash", extra_args=["--durability", args.durability])
        self.workers = []
        for i in range(args.threads):
            w = Worker(i, self.model, list(self.images), self.rng.randrange(1 << 30))
            w.model_images = self.images
            self.workers.append(w)
        self.dropper = Dropper(self.d, self.model, list(self.images), self.rng.randrange(1 << 30))
        self.dropper.model_images = self.images
        self.failures = []
        self.killed = threading.Event()
        self.fig = {"restart_s": [], "orphans_left": 0, "orphans_exited": 0, "daemon_kills": 0,
                    "consumer_kills": 0, "consumer_restart_s": [], "round_s": []}

    def fail(self, msg):
        self.failures.append(msg)
        print(f"FAIL: {msg}", flush=True)

    def note(self, msg):
        """Something to report that is not a failure of the daemon."""
        self.fig.setdefault("notes", []).append(msg)
        print(f"NOTE: {msg}", flush=True)

    # -- one round of load ------------------------------------------------------------------
    def load(self, seconds, during=None):
        """Runs the workers against the current daemon for @seconds, then
        calls during() (the kill) while they still run, then stops them."""
        stop = threading.Event()
        self.killed.clear()
        threads = []
        for w in self.workers:
            s3, ev = s3_clients(self.d)
            t = threading.Thread(target=w.run, args=(s3, ev, stop, self.killed), name=f"w{w.idx}",
                                 daemon=True)
            t.start()
            threads.append(t)
        time.sleep(seconds)
        if during is not None:
            during()
        stop.set()
        for t in threads:
            t.join(180)
            if t.is_alive():
                self.fail(f"load thread {t.name} did not stop within 180 s")

    def kill_daemon(self):
        self.killed.set()
        self.d.kill()
        self.fig["daemon_kills"] += 1
        for w in self.workers:
            if w.mpu is not None and w.mpu["id"] is not None:
                w.mpu["cut"] = True

    def reap_orphans(self):
        """Consumers whose daemon was SIGKILLed: they should notice and exit.
        Waits up to --orphan-wait-s, then kills the ones left (by PID) and counts them."""
        before = own_consumers(self.d.data_dir)
        bbdaemon.wait_until(lambda: not own_consumers(self.d.data_dir), self.args.orphan_wait_s,
                            interval=0.1)
        left = own_consumers(self.d.data_dir)
        self.fig["orphans_exited"] += len(set(before) - set(left))
        self.fig["orphans_left"] += len(left)
        if left:
            self.fail(f"consumers {left} of the killed daemon still run after "
                      f"{self.args.orphan_wait_s} s (they get PR_SET_PDEATHSIG)")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def start_daemon(self):
        t0 = time.monotonic()
        self.d.start()
        self.fig["restart_s"].append(time.monotonic() - t0)

    def daemon_rounds(self):
        a = self.args
        for r in range(a.rounds):
            self.model.round = r
            secs = self.rng.uniform(a.min_s, a.max_s)
            self.fig["round_s"].append(secs)
            self.load(secs, during=self.kill_daemon)
            self.reap_orphans()
            time.sleep(self.rng.uniform(0.1, 0.8))  # drops go on while it is down
            self.start_daemon()
            print(f"round {r + 1}/{a.rounds}: killed after {secs:.2f} s, restarted in "
                  f"{self.fig['restart_s'][-1]:.2f} s; {len(self.model.ops())} key ops so far",
                  flush=True)

    def consumer_rounds(self):
        a = self.args

        def kill_thumbnail():
            h = health(self.d)
            pids = consumer_pids(h, "thumbnail")
            if not pids:
                self.fail(f"no thumbnail consumer running to kill: {h.get('consumers')}")
                return
            victim = self.rng.choice(pids)
            os.kill(victim, signal.SIGKILL)
            self.fig["consumer_kills"] += 1
            t0 = time.monotonic()

            def replaced():
                try:
                    p = consumer_pids(health(self.d), "thumbnail")
                except OSError:
                    return False  # a slow answer on a loaded machine: ask again
                return p and victim not in p
            if bbdaemon.wait_until(replaced, 60.0, interval=0.05):
                self.fig["consumer_restart_s"].append(time.monotonic() - t0)
            else:
                self.fail(f"thumbnail consumer {victim} not replaced within 60 s")

        for r in range(a.consumer_kills):
            self.model.round = a.rounds + r
            secs = self.rng.uniform(a.min_s, a.max_s)
            self.load(secs, during=kill_thumbnail)
            print(f"consumer round {r + 1}/{a.consumer_kills}: thumbnail killed after "
                  f"{secs:.2f} s", flush=True)
        # the consumer dies mid-flight once more, with nothing new arriving
        kill_thumbnail()

    # -- the end: drain, then check ---------------------------------------------------------
    def expected_final(self):
        """key -> set of acceptable final etags (None = absent)."""
        out = {}
        for key, ops in self.model.keys.items():
            last = None
            for i, o in enumerate(ops):
                if o.acked is True:
                    last = i
            opts = set()
            start = 0
            if last is None:
                opts.add(None)
            else:
                opts.add(None if ops[last].kind in ("delete", "rm") else ops[last].etag)
                if ops[last].kind not in ("delete", "rm") and ops[last].acked is False:
                    opts.add(ops[last].alt)
                start = last + 1
            for o in ops[start:]:
                if o.acked is False:
                    opts.add(None if o.kind in ("delete", "rm") else o.etag)
                    if o.kind not in ("delete", "rm"):
                        opts.add(o.alt)
            # a drop later removed may never have been indexed
            out[key] = opts
        return out

    def listing(self, s3, bucket):
        out = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                out[o["Key"]] = o["ETag"].strip('"')
        return out

    def drain(self, s3, listing=True):
        """Waits until the raw bucket lists what the model allows (or, with
        listing False, the same keys twice) and no delivery is pending (three
        polls in a row)."""
        exp = self.expected_final()
        deadline = time.monotonic() + self.args.drain_s
        calm = 0
        last = None
        prev = None
        while time.monotonic() < deadline:
            have = self.listing(s3, RAW)
            if listing:
                missing = [k for k, opts in exp.items() if have.get(k) not in opts]
            else:
                missing = [] if have == prev else ["(listing still changing)"]
                prev = have
            h = health(self.d)
            last = (len(missing), missing[:5], h.get("pending_deliveries"))
            if os.environ.get("BB_CRASH_VERBOSE"):
                print(f"drain: {last} {h.get('queue_depths')} {h.get('deliveries')}", flush=True)
            if not missing and h.get("pending_deliveries") == 0:
                calm += 1
                if calm >= 3:
                    return True
            else:
                calm = 0
            time.sleep(0.5)
        self.fail(f"not settled after {self.args.drain_s} s: {last[0]} keys off "
                  f"(e.g. {last[1]}), pending deliveries {last[2]}")
        return False

    def check_objects(self, s3):
        exp = self.expected_final()
        have = self.listing(s3, RAW)
        by_etag = {}
        for key, ops in self.model.keys.items():
            for o in ops:
                if o.etag:
                    by_etag[(key, o.etag)] = o
                    if o.acked is False:
                        by_etag.setdefault((key, o.alt), o)
        for key in sorted(set(have) - set(exp)):
            self.fail(f"{RAW}/{key} exists but no write made it")
        fetch = []
        for key, opts in sorted(exp.items()):
            got = have.get(key)
            if got not in opts:
                acked = [o for o in self.model.keys[key] if o.acked is True]
                self.fail(f"{RAW}/{key}: final ETag {got}, acceptable {opts}; "
                          f"history {self.model.keys[key]} (acked: {len(acked)})")
                continue
            path = self.d.object_path(RAW, key)
            if got is None:
                if os.path.exists(path):
                    self.fail(f"{RAW}/{key}: deleted but {path} is still on disk")
                continue
            fetch.append((key, path, by_etag[(key, got)]))

        def one(item, s3):
            key, path, op = item
            out = []
            r = s3.get_object(Bucket=RAW, Key=key)
            body = r["Body"].read()
            if op.ctype and r.get("ContentType") != op.ctype:
                if op.acked is True:
                    out.append(f"{RAW}/{key}: Content-Type {r.get('ContentType')!r}, "
                               f"written as {op.ctype!r} by {op}")
                else:
                    out.append(("reindexed", key))
            if sha(body) != op.sha or len(body) != op.size:
                out.append(f"{RAW}/{key}: GET returns {len(body)} bytes that are not the "
                           f"{op.size} bytes written by {op}")
            try:
                with open(path, "rb") as f:
                    if sha(f.read()) != op.sha:
                        out.append(f"{path}: file bytes differ from {op}")
            except OSError as e:
                out.append(f"{path}: {e}")
            return out
        reindexed = []
        for msgs in self.parallel(one, fetch):
            for m in msgs:
                if isinstance(m, tuple):
                    reindexed.append(m[1])
                else:
                    self.fail(m)
        self.fig["objects_checked"] = len(fetch)
        # present, whole, one event, but indexed by the watcher: metadata lost
        self.fig["cut_writes_reindexed_without_metadata"] = len(reindexed)
        if reindexed:
            self.note(f"cut writes present but re-indexed by the watcher (Content-Type lost, "
                      f"a multipart ETag replaced by the MD5): {reindexed[:10]}")
        return have

    def parallel(self, fn, items):
        """fn(item, s3 client) over items on a few threads (one client each)."""
        local = threading.local()

        def call(item):
            if not hasattr(local, "s3"):
                local.s3 = s3_clients(self.d)[0]
            return fn(item, local.s3)
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            return list(ex.map(call, items))

    def check_thumbnails(self, s3, have):
        thumbs = self.listing(s3, THUMBS)
        self.fig["thumbnails"] = len(thumbs)
        good = {k for k in have if k.endswith(IMAGE_EXT)
                and any(self.images[n] and md5_etag(self.images[n]) == have[k]
                        for n in GOOD_IMAGES)}
        for key in sorted(good - set(thumbs)):
            self.fail(f"image {key} has no thumbnail")

        def one(key, s3):
            out = []
            r = s3.get_object(Bucket=THUMBS, Key=key)
            src = r.get("Metadata", {}).get("source-etag", "").strip('"')
            if src != have[key]:
                out.append(f"thumbnail {key}: source-etag {src!r}, image ETag {have[key]}")
            body = r["Body"].read()
            whole = ((body[:2] == b"\xff\xd8" and body.rstrip(b"\0")[-2:] == b"\xff\xd9")
                     or (body[:8] == b"\x89PNG\r\n\x1a\n" and body[-8:-4] == b"IEND"))
            if not whole:
                out.append(f"thumbnail {key}: {len(body)} bytes, not a whole JPEG/PNG")
            return out
        for msgs in self.parallel(one, sorted(good & set(thumbs))):
            for m in msgs:
                self.fail(m)
        for key in sorted(set(thumbs) - set(have)):
            self.fail(f"thumbnail {key} has no image")
        self.fig["good_images"] = len(good)
        return good

    def check_journal(self, have, good):
        db = os.path.join(self.d.data_dir, ".bucketbridge", "state.db")
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT seq, id, source, detail_type, body FROM events"
                               " ORDER BY seq").fetchall()
            pending = con.execute("SELECT seq, arn, state, attempts FROM deliveries").fetchall()
            dlq = con.execute("SELECT seq, arn FROM dlq").fetchall()
        finally:
            con.close()
        self.fig["journal_events"] = len(rows)
        per_key = {}
        probes = {}
        thumb_done = {}
        ids = {}
        for seq, eid, source, dt, body in rows:
            ev = json.loads(body)
            ids[eid] = (seq, source, dt, ev)
            det = ev.get("detail", {})
            if source == "aws.s3" and det.get("bucket", {}).get("name") == RAW:
                if dt in ("Object Created", "Object Deleted"):
                    per_key.setdefault(det["object"]["key"], []).append(
                        (seq, dt, det["object"].get("etag"), det.get("request-id"),
                         det.get("reason"), eid))
                else:
                    self.fail(f"unexpected S3 event {dt} for {det}")
            elif source == "crash.test":
                probes.setdefault(det.get("marker"), []).append(eid)
            elif source == "bucketbridge.thumbnail":
                thumb_done.setdefault(det.get("source_event_id"), []).append(dt)
        # S3 events replay each key's history
        for key in sorted(set(per_key) - set(self.model.keys)):
            self.fail(f"events for {key}, which nothing wrote: {per_key[key]}")
        for key, ops in sorted(self.model.keys.items()):
            evs = per_key.get(key, [])
            why = self.match_history(ops, evs, have.get(key))
            if why:
                self.fail(f"{RAW}/{key}: events do not match its history ({why}):\n"
                          f"  ops:    {ops}\n  events: {evs}")
        # PutEvents
        n_ack = 0
        for marker, acked, eid in self.model.events:
            got = probes.get(marker, [])
            if acked is True:
                n_ack += 1
                if got != [eid]:
                    self.fail(f"PutEvents {marker} (EventId {eid}): journal has {got}")
            elif len(got) > (0 if acked == "error" else 1):
                self.fail(f"PutEvents {marker} ({acked}): journal has {got}")
        self.fig["put_events_acked"] = n_ack
        # deliveries: logger gets every event; thumbnail every matching one
        logged = self.logger_records()
        queued = {(s, a) for s, a, _, _ in pending}
        dead = {(s, a) for s, a in dlq}
        logger_arn = "arn:aws:sqs:us-east-1:000000000000:logger"
        thumb_arn = "arn:aws:sqs:us-east-1:000000000000:thumbnail"
        self.fig["pending_at_end"] = len(pending)
        self.fig["dead_letters"] = len(dlq)
        lost = [eid for eid, (seq, _, _, _) in ids.items()
                if eid not in logged and (seq, logger_arn) not in queued
                and (seq, logger_arn) not in dead]
        self.fig["logger_records_missing"] = len(lost)
        # after a power cut the logger's own file (appended, never fsynced)
        # loses its last records although their deliveries were acked
        logger_fail = self.fail if not self.args.power_cut else self.note
        if lost:
            logger_fail(f"{len(lost)} of {len(ids)} events never reached the logger, are not "
                        f"queued and not dead-lettered: {lost[:5]}")
        thumb_events = 0
        for eid, (seq, source, dt, ev) in ids.items():
            det = ev.get("detail", {})
            if not (source == "aws.s3" and dt == "Object Created"
                    and det.get("bucket", {}).get("name") == RAW
                    and det["object"]["key"].lower().endswith(IMAGE_EXT)):
                continue
            thumb_events += 1
            key = det["object"]["key"]
            ok = (eid in thumb_done or (seq, thumb_arn) in queued
                  or (seq, THUMB_DLQ) in dead
                  or (key in good and have.get(key) == det["object"].get("etag")))
            if not ok:
                self.fail(f"thumbnail event {eid} (seq {seq}, {key}) was neither handled, "
                          f"queued nor dead-lettered")
        self.fig["thumbnail_rule_events"] = thumb_events
        # every good image: log records of its upload and its thumbnail; bad ones dead-lettered
        by_key = {}
        for rec in logged.values():
            by_key.setdefault((rec.get("bucket"), rec.get("key")), []).append(rec)
        no_created = []
        for key in sorted(good):
            recs = by_key.get((RAW, key), [])
            if not any(r.get("detail_type") == "Object Created" for r in recs):
                logger_fail(f"image {key}: no log record of its upload")
            if not any(r.get("detail_type") == "Object Created"
                       for r in by_key.get((THUMBS, key), [])):
                logger_fail(f"image {key}: no log record of its thumbnail's upload")
            if not any(r.get("status") == "ok" for r in recs):
                no_created.append(key)
        # bucketbridge-thumbnail killed between its PUT and its publish: the
        # redelivery finds the thumbnail made and publishes nothing, so
        # "Thumbnail Created" (and the logger's "ok" record) never comes
        self.fig["thumbnail_created_missing"] = len(no_created)
        if no_created and self.args.strict_thumbnail_events:
            self.fail(f"{len(no_created)} images without a Thumbnail Created record: "
                      f"{no_created[:5]}")
        bad_etag = {md5_etag(self.images[n]) for n in BAD_IMAGES}
        dead_seqs = {s for s, a in dlq if a == THUMB_DLQ}
        for key, etag in have.items():
            if etag in bad_etag:
                seqs = [s for s, dt, e, _, _, _ in per_key.get(key, [])
                        if dt == "Object Created" and e == etag]
                if not any(s in dead_seqs for s in seqs):
                    self.fail(f"corrupt image {key} (events {seqs}) is not in the thumbnail DLQ")

    def logger_records(self):
        out = {}
        d = os.path.join(self.d.data_dir, ".bucketbridge", "logs")
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if not name.endswith(".jsonl"):
                continue
            with open(os.path.join(d, name), "rb") as f:
                for n, line in enumerate(f, 1):
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        self.fail(f"{name}:{n}: not a JSON line: {line[:120]!r}")
                        continue
                    out[rec.get("id")] = rec
        self.fig["log_records"] = len(out)
        return out

    @staticmethod
    def match_history(ops, evs, final):
        """Does the event list replay the ops? Backtracking over the cut ops
        (which may or may not have happened). Returns None or a reason."""
        best = ["no match"]

        def ev_matches(op, ev):
            _, dt, etag, rid, _, _ = ev
            if op.kind in ("put", "mpu", "drop"):
                if dt != "Object Created":
                    return False
                if etag != op.etag and not (op.acked is False and etag == op.alt):
                    return False
                return not (op.acked is True and op.kind != "drop" and rid != op.rid)
            return dt == "Object Deleted"

        def go(i, j, state):
            if i == len(ops):
                if j != len(evs):
                    best[0] = f"{len(evs) - j} extra event(s) from {evs[j]}"
                    return False
                if state != final:
                    best[0] = f"replayed state {state} but the object is {final}"
                    return False
                return True
            op = ops[i]
            creates = op.kind in ("put", "mpu", "drop")
            new = op.etag if creates else None
            effect = creates or state is not None  # a delete of nothing has no event
            if op.acked is True:
                if op.kind == "drop" and any(o.kind == "rm" for o in ops[i + 1:]):
                    # dropped and removed: the watcher may have seen neither
                    if go(i + 1, j, state):
                        return True
                if not effect:
                    return go(i + 1, j, state)
                if j < len(evs) and ev_matches(op, evs[j]):
                    return go(i + 1, j + 1, new)
                best[0] = f"acknowledged {op} has no event at position {j}"
                return False
            # cut by the kill (or an error answer): happened or not
            if go(i + 1, j, state):
                return True
            if op.acked is False and effect and j < len(evs) and ev_matches(op, evs[j]):
                return go(i + 1, j + 1, evs[j][2] if creates else None)
            return False

        sys.setrecursionlimit(max(10000, 4 * len(ops) + 1000))
        return None if go(0, 0, None) else best[0]

    # -- a power cut ---------------------------------------------------------------------------
    def mount_image(self, img):
        sh("mount", "-o", "loop", img, self.d.data_dir)
        self.loopdev = sh("findmnt", "-n", "-o", "SOURCE", self.d.data_dir)

    def umount(self):
        if os.path.ismount(self.d.data_dir):
            bbdaemon.wait_until(lambda: not own_consumers(self.d.data_dir), 10.0)
            for attempt in range(50):
                r = subprocess.run(["umount", self.d.data_dir], capture_output=True, text=True)
                if r.returncode == 0:
                    return
                time.sleep(0.2)
            raise RuntimeError(f"umount {self.d.data_dir}: {r.stderr.strip()}")

    def cut(self, snap):
        """Freezes the daemon and its consumers (SIGSTOP), copies the block
        device as it is (the page cache is what a power cut loses), then
        kills them all."""
        pids = [self.d.proc.pid] + own_consumers(self.d.data_dir)
        self.killed.set()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            self.fig["snapshot_retries"] = snapshot_device(self.loopdev, snap)
        finally:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.d.kill()
        self.fig["daemon_kills"] += 1

    def power_cut(self):
        """One trial: load on a fresh ext4 image, a cut at a random moment,
        the daemon restarted on the image as the cut left it, then every
        check. Returns the failures the checks found."""
        a = self.args
        img = os.path.join(self.d.base, "disk.img")
        snap = os.path.join(self.d.base, "cut.img")
        sh("truncate", "-s", f"{a.image_mb}M", img)
        sh("mkfs.ext4", "-q", "-F", img)
        self.mount_image(img)
        try:
            self.start_daemon()
            secs = self.rng.uniform(a.min_s, a.max_s)
            self.fig["round_s"].append(secs)
            self.load(secs, during=lambda: self.cut(snap))
            self.umount()
            os.unlink(img)
            self.mount_image(snap)
            # the model: only what was acknowledged before the cut counts
            self.start_daemon()
            s3, _ = s3_clients(self.d)
            self.drain(s3, listing=False)
            have = self.check_objects(s3)
            good = self.check_thumbnails(s3, have)
            rc = self.d.stop()
            if rc != 0:
                self.fail(f"STRICT: daemon exit code {rc} on SIGTERM")
            db = os.path.join(self.d.data_dir, ".bucketbridge", "state.db")
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                ic = con.execute("PRAGMA integrity_check").fetchall()
            finally:
                con.close()
            if ic != [("ok",)]:
                self.fail(f"STRICT: state.db integrity_check: {ic[:5]}")
            self.check_journal(have, good)
        finally:
            if self.d.proc is not None:
                self.d.kill()
            self.umount()

    # -- the whole run ------------------------------------------------------------------------
    def main(self):
        a = self.args
        t_start = time.monotonic()
        if a.power_cut:
            self.power_cut()
            self.fig["ops"] = {}
            for o in self.model.ops():
                k = f"{o.kind}_{'acked' if o.acked is True else 'cut' if o.acked is False else o.acked}"
                self.fig["ops"][k] = self.fig["ops"].get(k, 0) + 1
            self.fig["violations"] = [f for f in self.failures if not f.startswith("STRICT")]
            if a.durability == "fast":
                # fast promises no corruption, not the last writes: count them
                self.failures = [f for f in self.failures if f.startswith("STRICT")]
            self.fig["wall_s"] = time.monotonic() - t_start
            self.summary()
            return 0 if not self.failures else 1
        self.start_daemon()
        h = health(self.d)
        for name in ("thumbnail", "logger"):
            c = [x for x in h.get("consumers", []) if x.get("name") == name]
            if not c or c[0].get("problem"):
                raise Skip(f"the {name} consumer cannot run next to {self.d.binary}: "
                           f"{c[0].get('problem') if c else 'not configured'}")
        self.dropper.start()
        try:
            self.daemon_rounds()
            self.consumer_rounds()
        finally:
            self.dropper.finish()
        if self.dropper.error:
            self.fail(f"dropper: {self.dropper.error}")
        s3, _ = s3_clients(self.d)
        t0 = time.monotonic()
        self.drain(s3)
        self.fig["drain_s"] = round(time.monotonic() - t0, 2)
        t0 = time.monotonic()
        # unsettled (reported above) or not: the checks say what is off
        have = self.check_objects(s3)
        good = self.check_thumbnails(s3, have)
        self.fig["check_s"] = round(time.monotonic() - t0, 2)
        try:
            seen = consumer_pids(health(self.d), "thumbnail") + consumer_pids(health(self.d),
                                                                              "logger")
        except OSError:
            seen = []
        rc = self.d.stop()
        if rc != 0:
            self.fail(f"daemon exit code {rc} on SIGTERM")
        left = [p for p in seen if os.path.exists(f"/proc/{p}")]
        if bbdaemon.wait_until(lambda: not [p for p in left if os.path.exists(f"/proc/{p}")],
                               10.0) is False:
            self.fail(f"consumers {left} still running after the daemon stopped")
        self.check_journal(have, good)
        reports = self.d.sanitizer_reports()
        if reports:
            self.fail(f"sanitizer reports: {reports[:5]}")
        for e in self.model.errors:
            self.fail(f"unexpected answer: {e}")
        ops = self.model.ops()
        self.fig["ops"] = {}
        for o in ops:
            k = f"{o.kind}_{'acked' if o.acked is True else 'cut' if o.acked is False else o.acked}"
            self.fig["ops"][k] = self.fig["ops"].get(k, 0) + 1
        self.fig["keys"] = len(self.model.keys)
        self.fig["put_events_cut"] = sum(1 for _, ak, _ in self.model.events if ak is False)
        self.fig["multipart_continued_after_kill"] = sum(
            w.counts.get("mpu_completed_after_restart", 0) for w in self.workers)
        self.fig["wall_s"] = time.monotonic() - t_start
        self.summary()
        return 0 if not self.failures else 1

    def summary(self):
        f = dict(self.fig)
        for k in ("restart_s", "consumer_restart_s", "round_s"):
            v = f.pop(k)
            if v:
                f[k + "_median"] = round(statistics.median(v), 3)
                f[k + "_max"] = round(max(v), 3)
        f["durability"] = self.args.durability
        f["failures"] = len(self.failures)
        print("SUMMARY " + json.dumps(f, sort_keys=True), flush=True)
        if self.args.json:
            with open(self.args.json, "w") as out:
                json.dump(f, out, indent=2, sort_keys=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="daemon SIGKILL rounds")
    p.add_argument("--consumer-kills", type=int, default=3,
                   help="rounds with the thumbnail consumer SIGKILLed")
    p.add_argument("--min-s", type=float, default=1.5, help="shortest load before a kill")
    p.add_argument("--max-s", type=float, default=3.5, help="longest load before a kill")
    p.add_argument("--threads", type=int, default=4, help="load threads (plus the dropper)")
    p.add_argument("--durability", choices=("fast", "full"), default="fast")
    p.add_argument("--drain-s", type=float, default=120.0, help="settle time allowed at the end")
    p.add_argument("--strict-thumbnail-events", action="store_true",
                   help="fail when an image's thumbnail exists but its Thumbnail Created event "
                        "is missing (the consumer killed between its PUT and its publish)")
    p.add_argument("--orphan-wait-s", type=float, default=10.0,
                   help="how long consumers of a killed daemon get to exit by themselves")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--power-cut", action="store_true",
                   help="one simulated power cut instead of the kill rounds: the data dir on a "
                        "loop-mounted ext4 image, copied from the block device while the daemon "
                        "is frozen (needs root and mount -o loop; exits 77 without)")
    p.add_argument("--image-mb", type=int, default=768, help="size of the ext4 image")
    p.add_argument("--json", help="write the figures here")
    a = p.parse_args()
    if a.seed is None:
        a.seed = random.randrange(1 << 31)
    return a


def main():
    a = parse_args()
    bbdaemon.require_daemon()
    if a.power_cut and power_cut_possible():
        bbdaemon.skip_module(f"no simulated power cut: {power_cut_possible()}")
    print(f"seed {a.seed} (rerun with --seed {a.seed})", flush=True)
    run = Run(a)
    rc = 1
    try:
        rc = run.main()
    except Skip as e:
        run.d.cleanup()
        bbdaemon.skip_module(str(e))
    except Exception:  # noqa: BLE001
        run.fail(traceback.format_exc())
    finally:
        for pid in own_consumers(run.d.data_dir):  # children of our daemon, if any remain
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if run.failures:
        print(f"\n{len(run.failures)} failure(s); data dir {run.d.base} kept\n"
              + run.d.log_tail(60), flush=True)
        run.d.cleanup(keep=True)
        sys.exit(1)
    run.d.cleanup()
    sys.exit(rc)


if __name__ == "__main__":
    main()
