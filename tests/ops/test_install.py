# SPDX-License-Identifier: MIT
"""ops/install: `cmake --install <build> --prefix <tmp>` gives the layout
docs/operations.md describes, and the installed daemon runs the seed
pipeline with the installed consumers.

Checked: bin/ holds the daemon and every consumer (executable);
share/man/man1/ the five man pages, share/doc/bucketbridge/ the docs,
lib/systemd/system/ the unit;
share/bucketbridge/ holds the systemd unit, whose ExecStart names the
installed daemon, and config.example.json, which the daemon accepts
(--print-config); `systemd-analyze verify` accepts the unit when it is
available. Then <tmp>/bin/bucketbridge --ephemeral --ready-file starts with
PATH=/usr/bin:/bin (so the consumers can only come from next to the daemon),
its health lists the thumbnail and logger consumers running from <tmp>/bin
and staying up, an uploaded JPEG gets its thumbnail and the logger drains
its queue, and SIGTERM stops everything with exit code 0 and removes the
ephemeral data dir.

Usage: test_install.py --cmake CMAKE --build-dir DIR --source-dir DIR
       [--expect-bin NAME ...]
Standard library only.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
READY_S = 30.0
CONSUMERS_S = 60.0
PIPELINE_S = 90.0
STOP_S = 20.0


def wait_until(pred, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


class InstallTest(unittest.TestCase):
    prefix = None
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bb-ops-install-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        r = subprocess.run([ARGS.cmake, "--install", ARGS.build_dir, "--prefix", cls.prefix],
                           capture_output=True, text=True)
        print(r.stdout + r.stderr, flush=True)
        if r.returncode != 0:
            raise AssertionError(f"cmake --install failed with {r.returncode}")

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("BB_OPS_KEEP") != "1":
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, *rel):
        return os.path.join(self.prefix, *rel)

    def test_1_layout(self):
        for name in ARGS.expect_bin:
            p = self.path("bin", name)
            self.assertTrue(os.path.isfile(p), f"{p} not installed")
            self.assertTrue(os.access(p, os.X_OK), f"{p} not executable")
        for rel in ("bucketbridge.service", "config.example.json"):
            p = self.path("share", "bucketbridge", rel)
            self.assertTrue(os.path.isfile(p), f"{p} not installed")
        for page in ("bucketbridge.1", "bucketbridge-cli.1", "bucketbridge-thumbnail.1",
                     "bucketbridge-logger.1", "bucketbridge-tail.1"):
            p = self.path("share", "man", "man1", page)
            self.assertTrue(os.path.isfile(p), f"{p} not installed")
        for rel in (("lib", "systemd", "system", "bucketbridge.service"),
                    ("share", "doc", "bucketbridge", "README.md"),
                    ("share", "doc", "bucketbridge", "configuration.md")):
            p = self.path(*rel)
            self.assertTrue(os.path.isfile(p), f"{p} not installed")

    def test_2_unit(self):
        unit = self.path("share", "bucketbridge", "bucketbridge.service")
        with open(unit) as f:
            text = f.read()
        lines = [ln.strip() for ln in text.splitlines()]
        exec_start = [ln for ln in lines if ln.startswith("ExecStart=")]
        self.assertEqual(len(exec_start), 1, exec_start)
        self.assertIn(f" {self.path('bin', 'bucketbridge')} ", exec_start[0])
        self.assertNotIn("/usr/local/bin/", text)  # every path names the prefix
        for want in ("User=bucketbridge", "Restart=on-failure", "NoNewPrivileges=yes",
                     "ProtectSystem=strict", "ReadWritePaths=/var/lib/bucketbridge",
                     "PrivateTmp=yes", "WantedBy=multi-user.target"):
            self.assertIn(want, lines, f"the unit lacks {want}")
        sa = shutil.which("systemd-analyze")
        if sa:
            r = subprocess.run([sa, "verify", unit], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, f"systemd-analyze verify: {r.stdout}{r.stderr}")

    def test_3_example_config(self):
        cfg = self.path("share", "bucketbridge", "config.example.json")
        with open(cfg) as f:
            example = json.load(f)
        r = subprocess.run([self.path("bin", "bucketbridge"), "--config", cfg, "--print-config"],
                           capture_output=True, text=True, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        # the effective configuration, as a file: the example's settings in it
        printed = json.loads(r.stdout)
        self.assertEqual(printed["listen"], example.get("listen", "127.0.0.1:4566"))
        self.assertEqual([x["Name"] for x in printed["rules"]],
                         [x["Name"] for x in example["rules"]])
        self.assertEqual([c["name"] for c in printed["consumers"]],
                         [c["name"] for c in example["consumers"]])

    def test_4_installed_daemon_runs_the_pipeline(self):
        ready = os.path.join(self.tmp, "ready.json")
        log_path = os.path.join(self.tmp, "daemon.log")
        run_tmp = os.path.join(self.tmp, "run")
        os.mkdir(run_tmp)
        env = {"PATH": "/usr/bin:/bin", "HOME": self.tmp, "TMPDIR": run_tmp,
               "BB_LOG_LEVEL": "info"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([self.path("bin", "bucketbridge"), "--ephemeral",
                                     "--ready-file", ready, "--auth", "none"],
                                    cwd=run_tmp, env=env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT)
        try:
            self._drive(proc, ready)
            os.kill(proc.pid, signal.SIGTERM)
            rc = proc.wait(STOP_S)
            self.assertEqual(rc, 0, "the daemon did not exit 0 on SIGTERM")
        except BaseException:
            with open(log_path, errors="replace") as f:
                print("----- daemon log -----\n" + f.read()[-20000:], flush=True)
            raise
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        with open(log_path, errors="replace") as f:
            log = f.read()
        self.assertNotIn("ERROR: AddressSanitizer", log)
        self.assertNotIn("runtime error:", log)
        self.assertFalse(os.path.exists(self.info["data_dir"]),
                         "the ephemeral data dir is left behind")
        for pid in self.consumer_pids:
            self.assertFalse(os.path.exists(f"/proc/{pid}") and _is_running(pid),
                             f"consumer {pid} outlived the daemon")

    # -- helpers
    def _http(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.info["port"], timeout=10)
        try:
            conn.request(method, path, body=body)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def _health(self):
        st, body = self._http("GET", "/_bucketbridge/health")
        self.assertEqual(st, 200, body)
        return json.loads(body)

    def _drive(self, proc, ready):
        def is_ready():
            self.assertIsNone(proc.poll(), "the daemon exited before it was ready")
            try:
                with open(ready) as f:
                    return json.loads(f.read())
            except (OSError, ValueError):
                return None

        self.info = wait_until(is_ready, READY_S)
        self.assertTrue(self.info, "no ready file")
        self.assertEqual(self.info["pid"], proc.pid)
        self.consumer_pids = []

        def consumers_up():
            h = self._health()
            cs = h.get("consumers") or []
            if not cs:
                return None
            for c in cs:
                if sum(1 for i in c["instances"] if i["state"] == "running") < c["min"]:
                    return None
            return h

        h = wait_until(consumers_up, CONSUMERS_S)
        self.assertTrue(h, f"consumers not running: {self._health()}")
        byname = {c["name"]: c for c in h["consumers"]}
        self.assertTrue({"thumbnail", "logger"} <= set(byname), byname)
        bindir = os.path.realpath(self.path("bin"))
        for name in ("thumbnail", "logger"):
            c = byname[name]
            self.assertEqual(c["command"], os.path.join(bindir, f"bucketbridge-{name}"),
                             "the supervisor did not take the consumer next to the daemon")
            self.assertNotIn("problem", c)
        pids = {(c["name"], i["instance"]): i["pid"] for c in h["consumers"]
                for i in c["instances"] if i["state"] == "running"}
        self.consumer_pids = list(pids.values())
        time.sleep(2.0)  # a consumer that dies on start shows up as restarting
        h2 = self._health()
        for c in h2["consumers"]:
            for i in c["instances"]:
                key = (c["name"], i["instance"])
                if key in pids:
                    self.assertEqual((i["state"], i["pid"], i["restarts"]),
                                     ("running", pids[key], 0), f"{c['name']}: {i}")

        # the pipeline: a JPEG gets its thumbnail; the logger drains its queue
        jpg = os.path.join(ARGS.source_dir, "fixtures", "images", "photo-320x240.jpg")
        with open(jpg, "rb") as f:
            st, body = self._http("PUT", "/my-raw-images/ops/photo.jpg", f.read())
        self.assertEqual(st, 200, body)
        got = wait_until(lambda: self._http("HEAD", "/my-thumbnails/ops/photo.jpg")[0] == 200,
                         PIPELINE_S, interval=0.2)
        self.assertTrue(got, f"no thumbnail from the installed consumer: {self._health()}")
        drained = wait_until(lambda: not any(self._health()["queue_depths"].values()),
                             PIPELINE_S, interval=0.2)
        self.assertTrue(drained, f"queues not drained: {self._health()}")


def _is_running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmake", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--expect-bin", nargs="*", default=["bucketbridge"])
    ARGS, rest = ap.parse_known_args()
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
