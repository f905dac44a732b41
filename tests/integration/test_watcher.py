# SPDX-License-Identifier: MIT
"""The bucket-directory watcher (emulator/watch.c, emulator/watch_scan.c):
files copied, moved, saved, deleted directly in <data>/<bucket>/ become
"Object Created"/"Object Deleted" events (requester "local-file"), temp and
hidden names are ignored, the daemon's own writes give one event, and what
changed while the daemon was stopped is found at start.

Events are read from the journal (<data>/.bucketbridge/state.db, table
events, opened read-only). Every wait polls against a deadline; the only
fixed waits are the quiet periods that check nothing more arrives.
"""

import hashlib
import json
import os
import signal
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402

BUCKET = "my-raw-images"
EXTRA = ["--no-consumers"]
EVENT_TIMEOUT_S = 20.0
TREE_TIMEOUT_S = 60.0
# How long the journal must stay unchanged before "nothing more" is believed:
# well over the 150 ms deletion grace.
QUIET_S = 0.8
QUIET_MAX_S = 8.0


class Journal:
    """Reads the events table of a daemon's state.db."""

    def __init__(self, d):
        self.d = d

    def _con(self):
        db = os.path.join(self.d.data_dir, ".bucketbridge", "state.db")
        return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)

    def rows(self, after=0):
        """[(seq, detail_type, bucket, key, ingested_ms, detail)] with seq > after."""
        try:
            con = self._con()
        except sqlite3.OperationalError:
            return []
        try:
            cur = con.execute("SELECT seq, detail_type, ingested_ms, body FROM events "
                              "WHERE seq > ? ORDER BY seq", (after,))
            out = []
            for seq, dt, ing, body in cur.fetchall():
                b = json.loads(body)
                det = b.get("detail", {})
                key = urllib.parse.unquote_plus(det.get("object", {}).get("key", ""))
                bucket = det.get("bucket", {}).get("name", "")
                out.append((seq, dt, bucket, key, ing, det))
            return out
        except sqlite3.OperationalError:
            return []
        finally:
            con.close()

    def last_seq(self):
        r = self.rows(0)
        return r[-1][0] if r else 0

    def wait_for(self, after, pred, count=1, timeout=EVENT_TIMEOUT_S):
        """Polls until at least count rows after seq `after` match pred;
        returns the matching rows (possibly fewer on timeout)."""
        got = []

        def check():
            got[:] = [r for r in self.rows(after) if pred(r)]
            return len(got) >= count
        bbdaemon.wait_until(check, timeout, interval=0.05)
        return list(got)

    def settle(self, after):
        """Waits until no new row has arrived for QUIET_S (at most
        QUIET_MAX_S); returns all rows after `after`."""
        deadline = time.monotonic() + QUIET_MAX_S
        last = self.rows(after)
        since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.rows(after)
            if len(now) != len(last):
                last = now
                since = time.monotonic()
            elif time.monotonic() - since >= QUIET_S:
                break
        return last


def created(key, bucket=BUCKET):
    return lambda r: r[1] == "Object Created" and r[2] == bucket and r[3] == key


def deleted(key, bucket=BUCKET):
    return lambda r: r[1] == "Object Deleted" and r[2] == bucket and r[3] == key


def under(prefix, bucket=BUCKET):
    return lambda r: r[2] == bucket and r[3].startswith(prefix)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def s3_client(d):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=d.endpoint, region_name=bbdaemon.REGION,
                        aws_access_key_id=bbdaemon.ACCESS_KEY,
                        aws_secret_access_key=bbdaemon.SECRET_KEY,
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


class WatcherTest(unittest.TestCase):
    d = None

    @classmethod
    def setUpClass(cls):
        cls.d = bbdaemon.Daemon(name=cls.__name__, extra_args=EXTRA).start()
        cls.j = Journal(cls.d)
        cls.outside = os.path.join(cls.d.base, "outside")  # <data>/../outside
        os.makedirs(cls.outside, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.d.check_clean_exit()

    def bpath(self, key):
        return self.d.object_path(BUCKET, key)

    def summary(self, rows):
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def assertAlive(self):
        self.assertTrue(self.d.alive(), "daemon is not alive:\n" + self.d.log_tail(50))

    # ------------------------------------------------------------------
    def test_cp_large_file(self):
        data = os.urandom(200 * 1024 * 1024)
        md5 = hashlib.md5(data).hexdigest()
        src = os.path.join(self.outside, "big photo.bin")
        write(src, data)
        key = "big photo.bin"
        base = self.j.last_seq()
        shutil.copyfile(src, self.bpath(key))
        copy_end_ms = time.time() * 1000.0
        got = self.j.wait_for(base, created(key), timeout=45)
        self.assertTrue(got, "no Object Created for the 200 MB copy:\n" + self.d.log_tail(30))
        rows = [r for r in self.j.settle(base) if r[3] == key]
        self.assertEqual(len(rows), 1, f"want exactly one event: {self.summary(rows)}")
        seq, dt, bucket, k, ing, det = rows[0]
        self.assertEqual(dt, "Object Created")
        # The close ends the copy; python reads the clock just after it.
        self.assertGreaterEqual(ing, copy_end_ms - 20,
                                f"event ingested at {ing}, copy ended at {copy_end_ms:.0f}")
        self.assertEqual(det["object"]["size"], len(data))
        self.assertEqual(det["object"]["etag"].strip('"'), md5)
        self.assertEqual(det["object"]["key"], "big+photo.bin")
        self.assertEqual(det.get("requester"), "local-file")
        self.assertEqual(det.get("reason"), "PutObject")
        body = s3_client(self.d).get_object(Bucket=BUCKET, Key=key)["Body"].read()
        self.assertEqual(len(body), len(data))
        self.assertEqual(hashlib.md5(body).hexdigest(), md5)
        os.remove(src)

    def test_mv_in_and_out(self):
        key = "moved.txt"
        src = os.path.join(self.outside, "moved.txt")
        write(src, b"moved in\n")
        base = self.j.last_seq()
        os.rename(src, self.bpath(key))
        self.assertTrue(self.j.wait_for(base, created(key)),
                        "no Object Created after mv in:\n" + self.d.log_tail(30))
        os.rename(self.bpath(key), src)
        self.assertTrue(self.j.wait_for(base, deleted(key)),
                        "no Object Deleted after mv out:\n" + self.d.log_tail(30))
        rows = [r for r in self.j.settle(base) if r[3] == key]
        self.assertEqual([r[1] for r in rows], ["Object Created", "Object Deleted"],
                         self.summary(rows))
        os.remove(src)

    def test_mv_directory_in_and_out(self):
        """A directory moved in announces every file in it (nested too); moved
        out, every file is deleted; the same tree moved back in is announced
        again."""
        tree = os.path.join(self.outside, "album")
        names = ["a.jpg", "b.jpg", "deep/c.jpg", "deep/er/d.txt"]
        for n in names:
            write(os.path.join(tree, n), n.encode() * 3)
        keys = ["album/" + n for n in names]
        base = self.j.last_seq()
        os.rename(tree, self.bpath("album"))
        got = self.j.wait_for(base, lambda r: r[1] == "Object Created" and r[3] in keys,
                              count=len(keys))
        self.assertEqual(sorted(r[3] for r in got), sorted(keys),
                         "moved-in directory:\n" + self.d.log_tail(30))
        rows = [r for r in self.j.settle(base) if r[3].startswith("album/")]
        self.assertEqual(sorted((r[1], r[3]) for r in rows),
                         sorted(("Object Created", k) for k in keys), self.summary(rows))
        for r in rows:
            n = r[3][len("album/"):]
            self.assertEqual(r[5]["object"]["size"], len(n.encode() * 3), r[3])
            self.assertEqual(r[5]["object"]["etag"].strip('"'),
                             hashlib.md5(n.encode() * 3).hexdigest(), r[3])
        base = self.j.last_seq()
        os.rename(self.bpath("album"), tree)
        got = self.j.wait_for(base, lambda r: r[1] == "Object Deleted" and r[3] in keys,
                              count=len(keys))
        self.assertEqual(sorted(r[3] for r in got), sorted(keys),
                         "moved-out directory:\n" + self.d.log_tail(30))
        rows = [r for r in self.j.settle(base) if r[3].startswith("album/")]
        self.assertEqual(sorted((r[1], r[3]) for r in rows),
                         sorted(("Object Deleted", k) for k in keys), self.summary(rows))
        listed = s3_client(self.d).list_objects_v2(Bucket=BUCKET, Prefix="album/")
        self.assertEqual(listed.get("KeyCount"), 0, listed.get("Contents"))
        # the tree is no longer watched: writes in it, now outside, say nothing
        base = self.j.last_seq()
        write(os.path.join(tree, "deep", "later.jpg"), b"later")
        write(os.path.join(tree, "later.jpg"), b"later")
        rows = [r for r in self.j.settle(base) if r[3].startswith("album/")]
        self.assertEqual(rows, [], "events from a directory moved out: " +
                         str(self.summary(rows)))
        os.remove(os.path.join(tree, "deep", "later.jpg"))
        os.remove(os.path.join(tree, "later.jpg"))
        # back in under another name: announced again, listed again
        base = self.j.last_seq()
        os.rename(tree, self.bpath("album2"))
        keys2 = ["album2/" + n for n in names]
        got = self.j.wait_for(base, lambda r: r[1] == "Object Created" and r[3] in keys2,
                              count=len(keys2))
        self.assertEqual(sorted(r[3] for r in got), sorted(keys2), self.d.log_tail(30))
        listed = s3_client(self.d).list_objects_v2(Bucket=BUCKET, Prefix="album2/")
        self.assertEqual(sorted(o["Key"] for o in listed.get("Contents", [])), sorted(keys2))
        shutil.rmtree(self.bpath("album2"))
        self.assertTrue(len(self.j.wait_for(base, lambda r: r[1] == "Object Deleted" and
                                            r[3] in keys2, count=len(keys2))) == len(keys2),
                        "rm -r of the moved-in tree:\n" + self.d.log_tail(30))

    def test_rm(self):
        key = "to-remove.txt"
        base = self.j.last_seq()
        write(self.bpath(key), b"bye\n")
        self.assertTrue(self.j.wait_for(base, created(key)), "no Object Created")
        os.remove(self.bpath(key))
        got = self.j.wait_for(base, deleted(key))
        self.assertTrue(got, "no Object Deleted after rm:\n" + self.d.log_tail(30))
        self.assertEqual(got[0][5].get("reason"), "DeleteObject")
        self.assertEqual(got[0][5].get("requester"), "local-file")
        rows = [r for r in self.j.settle(base) if r[3] == key]
        self.assertEqual([r[1] for r in rows], ["Object Created", "Object Deleted"],
                         self.summary(rows))

    def test_mkdir_p_then_file(self):
        key = "a/b/c/name.txt"
        base = self.j.last_seq()
        os.makedirs(self.bpath("a/b/c"), exist_ok=True)
        write(self.bpath(key), b"deep\n")
        self.assertTrue(self.j.wait_for(base, created(key)),
                        "no Object Created for a/b/c/name.txt:\n" + self.d.log_tail(30))
        rows = [r for r in self.j.settle(base) if r[3].startswith("a/")]
        self.assertEqual(self.summary(rows)[0][1:], ("Object Created", BUCKET, key))
        self.assertEqual(len(rows), 1, f"want one event: {self.summary(rows)}")

    def test_cp_r_tree(self):
        src = os.path.join(self.outside, "tree")
        want = set()
        for dnum in range(50):
            for fnum in range(20):
                rel = f"d{dnum:02d}/f{fnum:03d}.txt"
                write(os.path.join(src, rel), f"{dnum}-{fnum}\n".encode())
                want.add("tree/" + rel)
        self.assertEqual(len(want), 1000)
        base = self.j.last_seq()
        shutil.copytree(src, self.bpath("tree"))
        self.j.wait_for(base, under("tree/"), count=1000, timeout=TREE_TIMEOUT_S)
        rows = [r for r in self.j.settle(base) if under("tree/")(r)]
        keys = [r[3] for r in rows]
        dups = sorted({k for k in keys if keys.count(k) > 1})
        missing = sorted(want - set(keys))
        extra = sorted(set(keys) - want)
        others = [r for r in rows if r[1] != "Object Created"]
        self.assertEqual(missing, [], f"{len(missing)} missing, e.g. {missing[:10]}")
        # an event announced before cp closed the file has size 0
        bad = [(r[3], r[5]["object"]["size"]) for r in rows
               if r[5]["object"]["size"] != os.path.getsize(os.path.join(self.outside, r[3]))]
        self.assertEqual(bad, [], f"{len(bad)} events with the wrong size, e.g. {bad[:10]}")
        self.assertEqual(dups, [], f"{len(dups)} duplicated, e.g. {dups[:10]}")
        self.assertEqual(extra, [])
        self.assertEqual(others, [])
        self.assertEqual(len(rows), 1000)
        shutil.rmtree(src)

    def test_dirs_first_then_files(self):
        """100 directories made at once (mkdir -p, as a build or an unpacker
        does), then files written into them round-robin by another process:
        a directory made before its parent was watched, and missed by the
        library's recursive walk, lost every file written in it later."""
        writer = ("import os, sys\n"
                  "root = sys.argv[1]\n"
                  "for d in range(100):\n"
                  "    os.makedirs(os.path.join(root, f'd{d:03d}'), exist_ok=True)\n"
                  "for i in range(2000):\n"
                  "    with open(os.path.join(root, f'd{i % 100:03d}', f'f{i:05d}.bin'), 'wb') as f:\n"
                  "        f.write(b'x' * 64)\n")
        runs = 3  # the race needs the directories to come fast: a few rounds
        for run in range(runs):
            prefix = f"burst{run}/"
            want = {f"{prefix}d{i % 100:03d}/f{i:05d}.bin" for i in range(2000)}
            base = self.j.last_seq()
            subprocess.run([sys.executable, "-c", writer, self.bpath(prefix.rstrip("/"))],
                           check=True, timeout=120)
            self.j.wait_for(base, under(prefix), count=2000, timeout=TREE_TIMEOUT_S)
            rows = [r for r in self.j.settle(base) if under(prefix)(r)]
            keys = [r[3] for r in rows]
            missing = sorted(want - set(keys))
            dirs = sorted({k.split("/")[1] for k in missing})
            self.assertEqual(missing, [], f"run {run}: {len(missing)} missing in {dirs[:10]}")
            self.assertEqual(len(keys), len(set(keys)), f"run {run}: duplicated events")
            self.assertEqual({r[1] for r in rows}, {"Object Created"})
            shutil.rmtree(self.bpath(prefix.rstrip("/")))
            self.j.wait_for(base, lambda r: r[1] == "Object Deleted" and under(prefix)(r),
                            count=2000, timeout=TREE_TIMEOUT_S)

    def test_editor_save(self):
        key = "doc.txt"
        write(self.bpath(key), b"version 1\n")
        self.assertTrue(self.j.wait_for(0, created(key)), "no Object Created for version 1")
        self.j.settle(0)
        base = self.j.last_seq()
        # vim-style: swap file, backup by rename, 4913 probe, new file
        write(self.bpath(".doc.txt.swp"), b"swap")
        write(self.bpath("4913"), b"")
        os.remove(self.bpath("4913"))
        os.rename(self.bpath(key), self.bpath("doc.txt~"))
        write(self.bpath(key), b"version 2\n")
        os.remove(self.bpath("doc.txt~"))
        os.remove(self.bpath(".doc.txt.swp"))
        self.assertTrue(self.j.wait_for(base, created(key)),
                        "no Object Created after vim-style save:\n" + self.d.log_tail(30))
        rows = self.j.settle(base)
        self.assertEqual([(r[1], r[3]) for r in rows], [("Object Created", key)],
                         f"vim-style save: {self.summary(rows)}")
        # write-temp-then-rename (gedit/VS Code style): temp is a hidden name
        base = self.j.last_seq()
        tmp = self.bpath(".doc.txt.tmp")
        write(tmp, b"version 3\n")
        os.replace(tmp, self.bpath(key))
        self.assertTrue(self.j.wait_for(base, created(key)),
                        "no Object Created after replace-by-rename:\n" + self.d.log_tail(30))
        rows = self.j.settle(base)
        self.assertEqual([(r[1], r[3]) for r in rows], [("Object Created", key)],
                         f"temp-then-rename save: {self.summary(rows)}")
        self.assertEqual(rows[0][5]["object"]["etag"].strip('"'),
                         hashlib.md5(b"version 3\n").hexdigest())
        self.assertEqual(rows[0][5]["object"]["size"], len(b"version 3\n"))

    def test_ignored_names(self):
        base = self.j.last_seq()
        for n in (".hidden", "x~", "x.swp", "x.part", "x.crdownload", "4913"):
            write(self.bpath("ign/" + n), b"ignored")
        write(self.bpath("ign/sentinel.txt"), b"s")
        self.assertTrue(self.j.wait_for(base, created("ign/sentinel.txt")), "no sentinel event")
        rows = [r for r in self.j.settle(base) if under("ign/")(r)]
        self.assertEqual([r[3] for r in rows], ["ign/sentinel.txt"], self.summary(rows))

    @unittest.skipUnless(shutil.which("rsync"), "rsync is not installed")
    def test_rsync(self):
        src = os.path.join(self.outside, "rs")
        want = set()
        for i in range(30):
            rel = f"sub{i % 3}/file{i:02d}.dat"
            write(os.path.join(src, rel), os.urandom(2000 + i))
            want.add("rs/" + rel)
        base = self.j.last_seq()
        subprocess.run(["rsync", "-a", src + "/", self.bpath("rs") + "/"], check=True)
        self.j.wait_for(base, under("rs/"), count=len(want), timeout=EVENT_TIMEOUT_S)
        rows = [r for r in self.j.settle(base) if under("rs/")(r)]
        keys = [r[3] for r in rows]
        self.assertEqual(sorted(keys), sorted(want),
                         f"extra/temp: {sorted(set(keys) - want)[:10]}, "
                         f"missing: {sorted(want - set(keys))[:10]}, "
                         f"dup: {sorted({k for k in keys if keys.count(k) > 1})[:10]}")
        self.assertTrue(all(r[1] == "Object Created" for r in rows), self.summary(rows))
        shutil.rmtree(src)

    def test_api_put_one_event(self):
        key = "api put.txt"
        base = self.j.last_seq()
        s3_client(self.d).put_object(Bucket=BUCKET, Key=key, Body=b"from the API\n")
        self.assertTrue(self.j.wait_for(base, created(key)), "no event for the API PUT")
        rows = [r for r in self.j.settle(base) if r[3] == key]
        self.assertEqual(len(rows), 1, f"API PUT gave {len(rows)} events: {self.summary(rows)}")
        self.assertNotEqual(rows[0][5].get("requester"), "local-file",
                            "the API PUT was reported as a local file")

    def test_identical_overwrite(self):
        key = "same.txt"
        write(self.bpath(key), b"same bytes\n")
        self.assertTrue(self.j.wait_for(0, created(key)), "no event for the first write")
        self.j.settle(0)
        base = self.j.last_seq()
        # rewriting identical bytes is a write: S3 announces it, so do we
        write(self.bpath(key), b"same bytes\n")
        self.assertTrue(self.j.wait_for(base, created(key)),
                        "no event for an overwrite with identical content")
        rows = [r for r in self.j.settle(base) if r[3] == key]
        self.assertEqual(len(rows), 1, f"identical overwrite gave {len(rows)} events")

    def test_symlink_outside_ignored(self):
        target = os.path.join(self.outside, "secret.txt")
        write(target, b"secret\n")
        base = self.j.last_seq()
        os.symlink(target, self.bpath("link.txt"))
        write(self.bpath("after-link.txt"), b"sentinel")
        self.assertTrue(self.j.wait_for(base, created("after-link.txt")), "no sentinel event")
        rows = [r for r in self.j.settle(base) if r[3] == "link.txt"]
        self.assertEqual(rows, [], f"symlink gave events: {self.summary(rows)}")
        self.assertAlive()


class WatcherRestartTest(unittest.TestCase):
    """Files added and deleted while the daemon is stopped."""

    def test_changes_while_stopped(self):
        d = bbdaemon.Daemon(name=type(self).__name__, extra_args=EXTRA).start()
        j = Journal(d)
        try:
            gone = d.object_path(BUCKET, "will-go.txt")
            write(gone, b"soon gone\n")
            touched = d.object_path(BUCKET, "touched.txt")
            write(touched, b"same bytes, new times\n")
            self.assertTrue(j.wait_for(0, created("will-go.txt")), "no event for will-go.txt")
            self.assertTrue(j.wait_for(0, created("touched.txt")), "no event for touched.txt")
            j.settle(0)
            base = j.last_seq()
            d.stop()
            # a change of times alone (touch, cp -p) is not a write: the
            # reconciliation at start sees the new mtime, hashes, stays quiet
            os.utime(touched, (1_600_000_000, 1_600_000_000))
            names = ["offline1.txt", "offline dir/offline2.txt", "offline3.bin"]
            for n in names:
                write(d.object_path(BUCKET, n), n.encode() * 10)
            os.remove(gone)
            d.start()
            for n in names:
                self.assertTrue(j.wait_for(base, created(n)),
                                f"no Object Created at start for {n}:\n" + d.log_tail(30))
            self.assertTrue(j.wait_for(base, deleted("will-go.txt")),
                            "no Object Deleted at start for will-go.txt:\n" + d.log_tail(30))
            rows = j.settle(base)
            got = sorted((r[1], r[3]) for r in rows)
            want = sorted([("Object Created", n) for n in names]
                          + [("Object Deleted", "will-go.txt")])
            self.assertEqual(got, want)
        finally:
            d.check_clean_exit()


QUEUED_EVENTS = "/proc/sys/fs/inotify/max_queued_events"


class WatcherOverflowTest(unittest.TestCase):
    """IN_Q_OVERFLOW: the kernel drops events, the watcher rescans and
    reconciles, nothing is lost. The queue limit is read when an inotify
    instance is created, so it is lowered just while the daemon starts and
    restored at once (needs root; skipped, saying so, otherwise)."""

    def test_overflow_rescans_and_loses_nothing(self):
        try:
            with open(QUEUED_EVENTS) as f:
                saved = f.read().strip()
            with open(QUEUED_EVENTS, "w") as f:
                f.write("16")
        except OSError as e:
            self.skipTest(f"cannot lower {QUEUED_EVENTS} ({e}); needs root")
        try:
            d = bbdaemon.Daemon(name=type(self).__name__, extra_args=EXTRA).start()
        finally:
            with open(QUEUED_EVENTS, "w") as f:
                f.write(saved)
        j = Journal(d)
        try:
            base = j.last_seq()
            names = [f"flood/f{i:03d}.txt" for i in range(200)]
            os.makedirs(d.object_path(BUCKET, "flood"), exist_ok=True)
            # the daemon is stopped while the first half is written, so the
            # 16-event queue overflows for certain; the second half is
            # written while it rescans, so the rescan meets files mid-write
            # the first file's event proves flood/ is watched before the stop
            write(d.object_path(BUCKET, names[0]), names[0].encode())
            self.assertTrue(j.wait_for(base, created(names[0])),
                            "no event for the first file:\n" + d.log_tail(30))
            half = len(names) // 2
            d.proc.send_signal(signal.SIGSTOP)
            try:
                for n in names[1:half]:
                    write(d.object_path(BUCKET, n), n.encode())
            finally:
                d.proc.send_signal(signal.SIGCONT)
            for n in names[half:]:
                write(d.object_path(BUCKET, n), n.encode())
            j.wait_for(base, under("flood/"), count=len(names), timeout=TREE_TIMEOUT_S)
            rows = [r for r in j.settle(base) if under("flood/")(r)]
            keys = [r[3] for r in rows]
            self.assertEqual(sorted(set(keys)), sorted(names),
                             "files lost after the overflow:\n" + d.log_tail(30))
            self.assertEqual(len(keys), len(names),
                             f"duplicated events: {sorted({k for k in keys if keys.count(k) > 1})[:10]}")
            log = d.log_tail(100000)
            self.assertIn("inotify queue overflowed", log,
                          "the queue never overflowed, so the rescan path was not tested")
        finally:
            d.check_clean_exit()


if __name__ == "__main__":
    bbdaemon.main()
