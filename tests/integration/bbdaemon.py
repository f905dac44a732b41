# SPDX-License-Identifier: MIT
"""Harness for the integration tests: starts the real bucketbridge daemon on
a free loopback port with a fresh data dir, waits for /_bucketbridge/health,
stops it with SIGTERM (SIGKILL after 5 s) and offers helpers to look at the
data dir.

The daemon binary comes from the environment variable BB_DAEMON. A test
module calls main() instead of unittest.main(): it exits 77 (ctest SKIP) when
the daemon or a needed tool is missing, and prints the daemon's stderr when a
test failed.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SKIP = 77
ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"
DEFAULT_BUCKETS = ("my-raw-images", "my-thumbnails")

HEALTH_POLL_S = 0.020
HEALTH_TIMEOUT_S = 10.0
STOP_GRACE_S = 5.0

# Every daemon started by this process, so main() can show their logs.
_ALL = []


def skip_module(why):
    """Prints why and exits with the ctest skip code."""
    print(f"SKIP: {why}", flush=True)
    sys.exit(SKIP)


def require_daemon():
    path = os.environ.get("BB_DAEMON", "")
    if not path:
        skip_module("BB_DAEMON is not set (path to the bucketbridge binary)")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        # Set but missing: the build did not produce it. A failure, not a skip.
        print(f"FAIL: BB_DAEMON={path!r} is not an executable file "
              f"(build the bucketbridge target first)", flush=True)
        sys.exit(1)
    return path


def free_port():
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, interval=0.02, what="condition"):
    """Polls pred() until it returns a true value or the deadline passes.
    Returns the last value (falsy on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


class Daemon:
    """One bucketbridge process. The temp base dir holds data/ (the
    --data-dir) and the stderr log, so anything written beside data/ is a
    path-traversal escape."""

    def __init__(self, binary=None, name="daemon", config=None, extra_args=None):
        """config (optional): a dict, written as JSON to <base>/config.json, or
        the path of a file; passed as --config. extra_args (optional): more
        command-line arguments, appended after the harness's own."""
        self.binary = binary or require_daemon()
        self.name = name
        self.base = tempfile.mkdtemp(prefix="bb-it-")
        self.data_dir = os.path.join(self.base, "data")
        os.mkdir(self.data_dir)
        self.config_path = None
        if isinstance(config, dict):
            self.config_path = os.path.join(self.base, "config.json")
            with open(self.config_path, "w") as f:
                json.dump(config, f, indent=2)
        elif config is not None:
            self.config_path = str(config)
        self.extra_args = list(extra_args or [])
        self.proc = None
        self.port = None
        self.log_paths = []
        self.exit_codes = []
        _ALL.append(self)

    # ---- lifecycle -------------------------------------------------------
    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self):
        return "127.0.0.1"

    def start(self, port=None):
        """Starts on @port, or on a free one when None."""
        assert self.proc is None, "already running"
        self.port = port or free_port()
        log_path = os.path.join(self.base, f"stderr.{len(self.log_paths)}.log")
        self.log_paths.append(log_path)
        args = [self.binary, "--listen", f"127.0.0.1:{self.port}",
                "--data-dir", self.data_dir, "--auth", f"{ACCESS_KEY}:{SECRET_KEY}"]
        level = os.environ.get("BB_IT_LOG_LEVEL", "debug")
        if level:
            args += ["--log-level", level]
        if self.config_path is not None:
            args += ["--config", self.config_path]
        args += self.extra_args
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                self.exit_codes.append(rc)
                raise RuntimeError(f"daemon exited with {rc} before it was healthy:\n"
                                   + self.log_tail())
            try:
                st = self.health_status(timeout=1.0)
                if st == 200:
                    return self
                last = f"status {st}"
            except OSError as e:
                last = repr(e)
            time.sleep(HEALTH_POLL_S)
        self._kill()
        raise RuntimeError(f"daemon not healthy after {HEALTH_TIMEOUT_S}s (last: {last}):\n"
                           + self.log_tail())

    def health_status(self, timeout=2.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", "/_bucketbridge/health")
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            conn.close()

    def alive(self):
        """True when the process runs and answers health with 200."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            return self.health_status() == 200
        except OSError:
            return False

    def stop(self):
        """SIGTERM by pid, SIGKILL after 5 s. Returns the exit code."""
        if self.proc is None:
            return None
        p = self.proc
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
            try:
                p.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
                self.proc = None
                self.exit_codes.append("SIGKILL after SIGTERM timeout")
                return "killed"
        self.proc = None
        self.exit_codes.append(p.returncode)
        return p.returncode

    def kill(self):
        """SIGKILL by pid (a simulated crash). Not counted as an unclean exit
        by check_clean_exit; returns the wait status."""
        if self.proc is None:
            return None
        p = self.proc
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
        rc = p.wait()
        self.proc = None
        return rc

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def restart(self, same_port=False):
        """Stops and starts again on the same data dir: on a new port, or
        with @same_port on the old one, so that clients reconnect."""
        port = self.port if same_port else None
        self.stop()
        return self.start(port)

    def cleanup(self, keep=False):
        self.stop()
        if not keep and os.environ.get("BB_IT_KEEP") != "1":
            shutil.rmtree(self.base, ignore_errors=True)

    def sanitizer_reports(self):
        """Lines of the logs that look like ASan/UBSan reports."""
        out = []
        for p in self.log_paths:
            try:
                with open(p, "r", errors="replace") as f:
                    for line in f:
                        if ("ERROR: AddressSanitizer" in line or "runtime error:" in line
                                or "ERROR: LeakSanitizer" in line):
                            out.append(f"{os.path.basename(p)}: {line.rstrip()}")
            except OSError:
                pass
        return out

    def check_clean_exit(self):
        """Stops the daemon; raises AssertionError unless every run exited 0
        without sanitizer reports."""
        self.stop()
        bad = [c for c in self.exit_codes if c != 0]
        reports = self.sanitizer_reports()
        if bad or reports:
            raise AssertionError(f"daemon did not exit cleanly on SIGTERM: exit codes "
                                 f"{self.exit_codes}, sanitizer: {reports[:5]}\n"
                                 + self.log_tail())
        try:
            left = sorted(os.listdir(self.tmp_dir))
        except FileNotFoundError:
            left = []
        if left:
            raise AssertionError(f"upload temp files left after a clean stop: {left[:10]}")

    def log_tail(self, lines=150):
        out = []
        for p in self.log_paths:
            try:
                with open(p, "r", errors="replace") as f:
                    text = f.read().splitlines()
            except OSError:
                continue
            out.append(f"----- {p} (last {min(lines, len(text))} of {len(text)} lines) -----")
            out.extend(text[-lines:])
        return "\n".join(out)

    # ---- the data dir ----------------------------------------------------
    @property
    def tmp_dir(self):
        return os.path.join(self.data_dir, ".bucketbridge", "tmp")

    def tmp_entries(self):
        """The upload temp files in use or left behind: the empty spares the
        daemon keeps ready for the next upload (spare-*) do not count; a
        clean stop removes those too (check_clean_exit checks)."""
        out = []
        try:
            names = os.listdir(self.tmp_dir)
        except FileNotFoundError:
            return []
        for n in names:
            if n.startswith("spare-"):
                try:
                    if os.path.getsize(os.path.join(self.tmp_dir, n)) == 0:
                        continue
                except FileNotFoundError:
                    continue
            out.append(n)
        return sorted(out)

    def wait_tmp_empty(self, timeout=5.0):
        """Polls until .bucketbridge/tmp is empty; returns what is left."""
        wait_until(lambda: not self.tmp_entries(), timeout)
        return self.tmp_entries()

    def object_path(self, bucket, key):
        return os.path.join(self.data_dir, bucket, key)

    def read_object_file(self, bucket, key):
        with open(self.object_path(bucket, key), "rb") as f:
            return f.read()

    def tree(self, ignore_state=True):
        """Every file and dir under the base dir (relative), minus the
        daemon's own state and logs when ignore_state."""
        out = set()
        for root, dirs, files in os.walk(self.base):
            rel = os.path.relpath(root, self.base)
            for n in dirs + files:
                p = os.path.normpath(os.path.join(rel, n))
                if ignore_state and (p.startswith("data/.bucketbridge")
                                     or p.startswith("stderr.")):
                    continue
                out.add(p)
        return out


class DaemonTestCase(unittest.TestCase):
    """Starts one daemon for the class; self.d is the Daemon."""

    d = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(name=cls.__name__).start()

    @classmethod
    def tearDownClass(cls):
        d = cls.d
        try:
            d.check_clean_exit()
        finally:
            super().tearDownClass()

    def assertTmpEmpty(self, timeout=5.0):
        left = self.d.wait_tmp_empty(timeout)
        self.assertEqual(left, [], f"{self.d.tmp_dir} not empty: {left}")

    def assertNoFile(self, bucket, key):
        p = self.d.object_path(bucket, key)
        self.assertFalse(os.path.lexists(p), f"{p} exists on disk")

    def assertAlive(self):
        self.assertTrue(self.d.alive(), "daemon is not alive/healthy:\n" + self.d.log_tail(50))


def main():
    """unittest.main() that prints daemon logs on failure and cleans up."""
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    require_daemon()
    prog = unittest.main(exit=False, verbosity=2)
    ok = prog.result.wasSuccessful()
    r = prog.result
    print(f"{max(0, r.testsRun - len(r.failures) - len(r.errors) - len(r.skipped))} passed, "
          f"{len(r.failures) + len(r.errors)} failed, {len(r.skipped)} skipped", flush=True)
    for d in _ALL:
        if not ok:
            print(f"\n===== daemon {d.name}: base dir {d.base} (kept), exit codes "
                  f"{d.exit_codes} =====\n{d.log_tail()}", flush=True)
        d.cleanup(keep=not ok)
    sys.exit(0 if ok else 1)
