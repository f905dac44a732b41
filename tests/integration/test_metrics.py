# SPDX-License-Identifier: MIT
"""GET /_bucketbridge/metrics and /_bucketbridge/health (docs/operations.md).

The exposition text is parsed strictly: every line is a HELP/TYPE comment or
`name{labels} value`; a family's TYPE comes before its samples, its lines
are contiguous, no series repeats; counters are non-negative; histogram
buckets are cumulative, ascending in `le`, end with +Inf equal to _count,
and have a _sum. Every family the daemon exposes is listed in
docs/operations.md and every one listed there is exposed.

Then S3 requests (unsigned: the daemon runs with --auth none), PutEvents,
command targets that succeed and fail into a dead-letter queue, and a file
dropped into a bucket directory move the counters and gauges by exactly the
expected amounts. The health JSON's fields are checked, with and without the
seed pipeline's consumers.

Standard library only. BB_DAEMON names the daemon (bbdaemon.py).
"""

import base64
import http.client
import json
import math
import os
import re
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402
from bbdaemon import Daemon, wait_until  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OPS_DOC = os.path.join(os.path.dirname(os.path.dirname(HERE)), "docs", "operations.md")
REGION = "us-east-1"
ACCOUNT = "000000000000"
BUCKET = "my-raw-images"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ops-queue"
DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ops-dlq"
WAIT_S = 30.0


def lambda_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


# Every event goes to ops-queue, which no consumer reads (--no-consumers), so
# its pending depth counts events; ops.ok events go to a command that
# succeeds, ops.fail events to one that fails (1 + 1 attempts, then the DLQ).
CONFIG = {
    "https": {"enabled": False},  # not the fixed default port 4567
    "eventbridge": {"retry_time_scale": 0.001, "command_timeout_seconds": 20},
    "functions": {
        "ops-ok": {"command": "cat >/dev/null"},
        "ops-fail": {"command": "cat >/dev/null; exit 3"},
    },
    "rules": [
        {"Name": "ops-all", "EventPattern": {"source": [{"prefix": ""}]},
         "Targets": [{"Id": "q", "Arn": QUEUE}]},
        {"Name": "ops-ok", "EventPattern": {"source": ["ops.ok"]},
         "Targets": [{"Id": "ok", "Arn": lambda_arn("ops-ok")}]},
        {"Name": "ops-fail", "EventPattern": {"source": ["ops.fail"]},
         "Targets": [{"Id": "fail", "Arn": lambda_arn("ops-fail"),
                      "RetryPolicy": {"MaximumRetryAttempts": 1},
                      "DeadLetterConfig": {"Arn": DLQ}}]},
    ],
}

# ---- the exposition format -------------------------------------------------

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class ExpositionError(AssertionError):
    pass


def parse_value(s, lineno):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    try:
        return float(s)
    except ValueError:
        raise ExpositionError(f"line {lineno}: bad value {s!r}") from None


def parse_labels(s, i, lineno):
    """Parses `{a="x",b="y"}` from s[i] == '{'. Returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = LABEL_NAME_RE.match(s, i)
        if not m:
            raise ExpositionError(f"line {lineno}: bad label name at {s[i:]!r}")
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ExpositionError(f"line {lineno}: want =\" after label {name}")
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise ExpositionError(f"line {lineno}: unterminated label value")
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ExpositionError(f"line {lineno}: bad escape \\{nxt}")
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ExpositionError(f"line {lineno}: newline in a label value")
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise ExpositionError(f"line {lineno}: label {name} twice")
        labels[name] = "".join(val)
        if i < len(s) and s[i] == ",":
            i += 1
        elif i < len(s) and s[i] == "}":
            continue
        else:
            raise ExpositionError(f"line {lineno}: want , or }} after a label")


class Exposition:
    """A parsed scrape: families {name: {"type", "help", "samples": [(name,
    labels, value)]}} in order, and value lookups."""

    def __init__(self, text):
        self.text = text
        self.families = {}
        self.order = []
        self._series = {}
        self._parse()
        self._check_histograms()

    def _family_of(self, sample_name, lineno):
        if sample_name in self.families:
            return sample_name
        for suffix in ("_bucket", "_sum", "_count"):
            if sample_name.endswith(suffix):
                base = sample_name[:-len(suffix)]
                f = self.families.get(base)
                if f is not None and f["type"] in ("histogram", "summary"):
                    if suffix == "_bucket" and f["type"] != "histogram":
                        break
                    return base
        raise ExpositionError(f"line {lineno}: sample {sample_name} before its # TYPE line")

    def _parse(self):
        if self.text and not self.text.endswith("\n"):
            raise ExpositionError("the text does not end with a newline")
        closed = set()  # families whose lines have ended
        current = None
        for lineno, line in enumerate(self.text.split("\n")[:-1], 1):
            if line.strip() == "":
                continue
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                    name = parts[2]
                    if not NAME_RE.fullmatch(name):
                        raise ExpositionError(f"line {lineno}: bad metric name {name!r}")
                    if name in closed:
                        raise ExpositionError(f"line {lineno}: {name} again after other families")
                    f = self.families.get(name)
                    if f is None:
                        f = self.families[name] = {"type": None, "help": None, "samples": []}
                        self.order.append(name)
                    if current is not None and current != name:
                        closed.add(current)
                    current = name
                    if parts[1] == "TYPE":
                        if f["type"] is not None:
                            raise ExpositionError(f"line {lineno}: second TYPE for {name}")
                        if f["samples"]:
                            raise ExpositionError(f"line {lineno}: TYPE after samples of {name}")
                        if len(parts) != 4 or parts[3] not in TYPES:
                            raise ExpositionError(f"line {lineno}: bad TYPE line {line!r}")
                        f["type"] = parts[3]
                    else:
                        if f["help"] is not None:
                            raise ExpositionError(f"line {lineno}: second HELP for {name}")
                        f["help"] = parts[3] if len(parts) == 4 else ""
                continue  # any other comment is allowed
            m = NAME_RE.match(line)
            if not m:
                raise ExpositionError(f"line {lineno}: not a comment or sample: {line!r}")
            name = m.group(0)
            i = m.end()
            labels = {}
            if i < len(line) and line[i] == "{":
                labels, i = parse_labels(line, i, lineno)
            rest = line[i:]
            if not rest.startswith(" "):
                raise ExpositionError(f"line {lineno}: want a space before the value: {line!r}")
            fields = rest.split()
            if len(fields) not in (1, 2):
                raise ExpositionError(f"line {lineno}: want `value [timestamp]`: {line!r}")
            value = parse_value(fields[0], lineno)
            if len(fields) == 2 and not re.fullmatch(r"-?[0-9]+", fields[1]):
                raise ExpositionError(f"line {lineno}: bad timestamp {fields[1]!r}")
            fam = self._family_of(name, lineno)
            f = self.families[fam]
            if f["type"] is None:
                raise ExpositionError(f"line {lineno}: sample {name} before its # TYPE line")
            if fam in closed or (current is not None and current != fam):
                raise ExpositionError(f"line {lineno}: {name} is not with the rest of {fam}")
            current = fam
            key = (name, tuple(sorted(labels.items())))
            if key in self._series:
                raise ExpositionError(f"line {lineno}: series {name}{labels} twice")
            self._series[key] = value
            if f["type"] == "counter":
                if not name.endswith("_total"):
                    raise ExpositionError(f"line {lineno}: counter {name} does not end in _total")
                if not value >= 0:
                    raise ExpositionError(f"line {lineno}: counter {name} is {value}")
            if f["type"] == "histogram" and name == fam:
                raise ExpositionError(f"line {lineno}: histogram sample without a suffix")
            f["samples"].append((name, labels, value))

    def _check_histograms(self):
        for fam, f in self.families.items():
            if f["type"] != "histogram":
                continue
            groups = {}
            for name, labels, value in f["samples"]:
                rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
                g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
                if name == fam + "_bucket":
                    if "le" not in labels:
                        raise ExpositionError(f"{fam}{dict(rest)}: a bucket without le")
                    g["buckets"].append((parse_value(labels["le"], 0), value))
                elif name == fam + "_sum":
                    g["sum"] = value
                elif name == fam + "_count":
                    g["count"] = value
            for rest, g in groups.items():
                where = f"{fam}{dict(rest)}"
                b = g["buckets"]
                if not b:
                    raise ExpositionError(f"{where}: no buckets")
                les = [le for le, _ in b]
                if les != sorted(les) or len(set(les)) != len(les):
                    raise ExpositionError(f"{where}: le not strictly ascending: {les}")
                if les[-1] != math.inf:
                    raise ExpositionError(f"{where}: the last bucket is not +Inf: {les}")
                counts = [c for _, c in b]
                if any(x > y for x, y in zip(counts, counts[1:])):
                    raise ExpositionError(f"{where}: buckets not cumulative: {counts}")
                if g["count"] is None or g["sum"] is None:
                    raise ExpositionError(f"{where}: _count or _sum missing")
                if counts[-1] != g["count"]:
                    raise ExpositionError(f"{where}: +Inf bucket {counts[-1]} != _count "
                                          f"{g['count']}")
                if g["sum"] < 0:
                    raise ExpositionError(f"{where}: negative _sum")

    def get(self, name, **labels):
        """The value of one series; 0 when absent (counters start unexposed)."""
        return self._series.get((name, tuple(sorted(labels.items()))), 0.0)

    def total(self, name):
        """The sum over every series named name."""
        return sum(v for (n, _), v in self._series.items() if n == name)


class ParserSelfTest(unittest.TestCase):
    """The parser refuses what it should (so a passing scrape means something)."""

    GOOD = ("# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n"
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
            "h_sum 0.5\nh_count 2\n")

    def test_good(self):
        e = Exposition(self.GOOD)
        self.assertEqual(e.get("a_total", x="1"), 2)
        self.assertEqual(e.get("h_count"), 2)

    def test_bad(self):
        bad = {
            "no TYPE": "a_total 1\n",
            "junk": "# TYPE a gauge\na = 1\n",
            "no newline": "# TYPE a gauge\na 1",
            "TYPE after sample": "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n",
            "not cumulative": "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                              "h_sum 1\nh_count 1\n",
            "Inf != count": "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",
            "no Inf": "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
            "duplicate": "# TYPE a gauge\na 1\na 1\n",
            "bad label": "# TYPE a gauge\na{x=1} 1\n",
            "negative counter": "# TYPE a_total counter\na_total -1\n",
        }
        for why, text in bad.items():
            with self.subTest(why):
                with self.assertRaises(ExpositionError):
                    Exposition(text)


# ---- the daemon ------------------------------------------------------------


class MetricsTest(unittest.TestCase):
    d = None

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(name="metrics", config=CONFIG,
                       extra_args=["--auth", "none", "--no-consumers"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.check_clean_exit()

    # -- HTTP helpers
    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
        finally:
            conn.close()

    def scrape(self):
        st, h, body = self.request("GET", "/_bucketbridge/metrics")
        self.assertEqual(st, 200, body[:500])
        self.assertEqual(h.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        return Exposition(body.decode("utf-8")), len(body)

    def health(self):
        st, h, body = self.request("GET", "/_bucketbridge/health")
        self.assertEqual(st, 200, body[:500])
        return json.loads(body)

    def put_object(self, key, data):
        st, _, body = self.request("PUT", f"/{BUCKET}/{key}", body=data,
                                   headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(st, 200, body)

    def put_events(self, entries):
        body = json.dumps({"Entries": entries}).encode()
        st, _, resp = self.request("POST", "/", body=body, headers={
            "X-Amz-Target": "AWSEvents.PutEvents",
            "Content-Type": "application/x-amz-json-1.1"})
        self.assertEqual(st, 200, resp)
        self.assertEqual(json.loads(resp)["FailedEntryCount"], 0, resp)
        return len(body)

    def wait_health(self, pred, what):
        got = wait_until(lambda: (lambda h: h if pred(h) else None)(self.health()), WAIT_S,
                         interval=0.05)
        self.assertTrue(got, f"timed out waiting for {what}: {self.health()}")
        return got

    def wait_sequence(self, n):
        return self.wait_health(lambda h: h["last_sequence"] >= n, f"sequence {n}")

    # -- tests
    def test_exposition_format_and_docs(self):
        self.put_object("fmt.bin", b"x" * 10)
        self.request("GET", f"/{BUCKET}/fmt.bin")
        e, _ = self.scrape()
        want = {
            "bucketbridge_requests_total": "counter",
            "bucketbridge_request_duration_seconds": "histogram",
            "bucketbridge_bytes_received_total": "counter",
            "bucketbridge_bytes_sent_total": "counter",
            "bucketbridge_events_total": "counter",
            "bucketbridge_rule_matches_total": "counter",
            "bucketbridge_deliveries_total": "counter",
            "bucketbridge_queue_depth": "gauge",
            "bucketbridge_dead_letters": "gauge",
            "bucketbridge_connections": "gauge",
            "bucketbridge_journal_last_sequence": "gauge",
            "bucketbridge_watcher_notes_total": "counter",
            "bucketbridge_watcher_rescans_total": "counter",
            "bucketbridge_sqlite_commit_seconds": "histogram",
        }
        for name, typ in want.items():
            self.assertIn(name, e.families, f"family {name} missing")
            self.assertEqual(e.families[name]["type"], typ, name)
        for name, f in e.families.items():
            self.assertTrue(name.startswith("bucketbridge_"), name)
            self.assertTrue(f["help"], f"{name} has no HELP text")
        # the operations doc lists exactly the exposed families
        with open(OPS_DOC, encoding="utf-8") as fh:
            doc = fh.read()
        documented = set(re.findall(r"^\|\s*`(bucketbridge_[a-z_]+)`", doc, re.M))
        self.assertEqual(documented, set(e.families),
                         "docs/operations.md's metric table and /_bucketbridge/metrics differ")

    def test_s3_and_events_move_the_counters(self):
        h0 = self.health()
        e0, scrape0_len = self.scrape()
        seq0 = h0["last_sequence"]
        objs = {f"m/{i}.jpg": os.urandom(1000 + 37 * i) for i in range(3)}
        for k, v in objs.items():
            self.put_object(k, v)
        got = 0
        for k in list(objs)[:2]:
            st, _, body = self.request("GET", f"/{BUCKET}/{k}")
            self.assertEqual(st, 200)
            self.assertEqual(body, objs[k])
            got += len(body)
        st, _, _ = self.request("GET", f"/{BUCKET}/m/missing.jpg")
        self.assertEqual(st, 404)
        ev_bytes = self.put_events([
            {"Source": "ops.test", "DetailType": "Ping", "Detail": json.dumps({"i": i})}
            for i in range(2)])
        h1 = self.wait_sequence(seq0 + 5)
        e1, _ = self.scrape()

        def delta(name, **labels):
            return e1.get(name, **labels) - e0.get(name, **labels)

        rq = "bucketbridge_requests_total"
        self.assertEqual(delta(rq, operation="PutObject", status="200"), 3)
        self.assertEqual(delta(rq, operation="GetObject", status="200"), 2)
        self.assertEqual(delta(rq, operation="GetObject", status="404"), 1)
        self.assertEqual(delta(rq, operation="EventBridge", status="200"), 1)
        self.assertEqual(delta(rq, operation="Metrics", status="200"), 1)  # scrape e0
        self.assertGreaterEqual(delta(rq, operation="Health", status="200"), 2)
        dur = "bucketbridge_request_duration_seconds"
        self.assertEqual(delta(dur + "_count", operation="PutObject"), 3)
        self.assertEqual(delta(dur + "_count", operation="GetObject"), 3)
        self.assertEqual(delta(dur + "_bucket", operation="PutObject", le="+Inf"), 3)
        self.assertGreater(delta(dur + "_sum", operation="PutObject"), 0)
        # every request is in both families
        self.assertEqual(e1.total(rq), e1.total(dur + "_count"))

        ev = "bucketbridge_events_total"
        self.assertEqual(delta(ev, source="aws.s3", detail_type="Object Created"), 3)
        self.assertEqual(delta(ev, source="ops.test", detail_type="Ping"), 2)
        self.assertEqual(e1.total(ev), e1.get("bucketbridge_journal_last_sequence"))
        self.assertEqual(delta("bucketbridge_journal_last_sequence"), 5)
        self.assertEqual(e1.get("bucketbridge_journal_last_sequence"), h1["last_sequence"])
        # ops-all matches each of the five once; nothing else matches them
        self.assertEqual(delta("bucketbridge_rule_matches_total"), 5)
        self.assertEqual(delta("bucketbridge_queue_depth", target=QUEUE, state="pending"), 5)
        self.assertEqual(e1.get("bucketbridge_queue_depth", target=QUEUE, state="in_flight"), 0)
        self.assertEqual(h1["queue_depths"].get("ops-queue"),
                         e1.get("bucketbridge_queue_depth", target=QUEUE, state="pending"))
        # bodies: exactly what was sent; at least what was read back
        self.assertEqual(delta("bucketbridge_bytes_received_total"),
                         sum(map(len, objs.values())) + ev_bytes)
        self.assertGreaterEqual(delta("bucketbridge_bytes_sent_total"), got + scrape0_len)
        self.assertGreaterEqual(delta("bucketbridge_sqlite_commit_seconds_count"), 1)
        self.assertGreaterEqual(e1.get("bucketbridge_connections"), 1)

    def test_deliveries_and_dead_letters(self):
        h0 = self.health()
        e0, _ = self.scrape()
        d0 = h0["deliveries"]
        self.put_events([{"Source": "ops.ok", "DetailType": "Fine", "Detail": "{}"}
                         for _ in range(2)])
        self.put_events([{"Source": "ops.fail", "DetailType": "Doomed", "Detail": "{}"}])
        h1 = self.wait_health(
            lambda h: h["deliveries"]["delivered"] >= d0["delivered"] + 2
            and h["deliveries"]["dead_lettered"] >= d0["dead_lettered"] + 1,
            "two deliveries and one dead letter")
        e1, _ = self.scrape()

        def delta(name, **labels):
            return e1.get(name, **labels) - e0.get(name, **labels)

        dl = "bucketbridge_deliveries_total"
        self.assertEqual(delta(dl, result="delivered"), 2)
        self.assertEqual(delta(dl, result="failed_attempt"), 2)  # 1 + MaximumRetryAttempts
        self.assertEqual(delta(dl, result="dead_lettered"), 1)
        self.assertEqual(delta(dl, result="dropped"), 0)
        self.assertEqual(delta("bucketbridge_dead_letters"), 1)
        self.assertEqual(e1.get("bucketbridge_dead_letters"), h1["dead_letters"])
        for k, res in (("delivered", "delivered"), ("failed_attempts", "failed_attempt"),
                       ("dead_lettered", "dead_lettered"), ("dropped", "dropped")):
            self.assertEqual(h1["deliveries"][k], e1.get(dl, result=res), k)
        # the same outcomes by target: the succeeding command got both
        # deliveries, the failing one its attempts and the dead letter
        tl = "bucketbridge_target_deliveries_total"
        ok, fail = lambda_arn("ops-ok"), lambda_arn("ops-fail")
        self.assertEqual(delta(tl, target=ok, result="delivered"), 2)
        self.assertEqual(delta(tl, target=ok, result="failed_attempt"), 0)
        self.assertEqual(delta(tl, target=fail, result="delivered"), 0)
        self.assertEqual(delta(tl, target=fail, result="failed_attempt"), 2)
        self.assertEqual(delta(tl, target=fail, result="dead_lettered"), 1)
        for res in ("delivered", "failed_attempt", "dead_lettered", "dropped"):
            by_target = sum(v for (name, labels), v in e1._series.items()
                            if name == tl and dict(labels).get("result") == res)
            self.assertLessEqual(by_target, e1.get(dl, result=res), res)
        # each event: ops-all, plus its own rule
        self.assertEqual(delta("bucketbridge_rule_matches_total"), 6)
        st, _, body = self.request("GET", "/_bucketbridge/dlq?arn=" + DLQ)
        self.assertEqual(st, 200)
        self.assertGreaterEqual(len(json.loads(body)["Messages"]), 1)

    def test_watcher_counts_notes(self):
        h0 = self.health()
        e0, _ = self.scrape()
        path = self.d.object_path(BUCKET, "dropped-in.txt")
        with open(path + ".part", "wb") as f:
            f.write(b"from the file system\n")
        os.rename(path + ".part", path)
        self.wait_sequence(h0["last_sequence"] + 1)
        e1, _ = self.scrape()
        self.assertGreaterEqual(e1.get("bucketbridge_watcher_notes_total")
                                - e0.get("bucketbridge_watcher_notes_total"), 1)
        self.assertEqual(e1.get("bucketbridge_events_total", source="aws.s3",
                                detail_type="Object Created")
                         - e0.get("bucketbridge_events_total", source="aws.s3",
                                  detail_type="Object Created"), 1)

    def test_websocket_connections(self):
        """A WebSocket upgrade moves the connection gauge and counter; closing
        it brings the gauge back."""
        e0, _ = self.scrape()
        open0 = e0.get("bucketbridge_websocket_connections")
        total0 = e0.get("bucketbridge_websocket_connections_total")
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            s.sendall((f"GET /_bucketbridge/events HTTP/1.1\r\nHost: 127.0.0.1:{self.d.port}\r\n"
                       f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}"
                       "\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                self.assertTrue(chunk, "connection closed during the upgrade")
                head += chunk
            self.assertTrue(head.startswith(b"HTTP/1.1 101"), head[:200])
            e1 = wait_until(lambda: (lambda e: e if e.get("bucketbridge_websocket_connections")
                                     == open0 + 1 else None)(self.scrape()[0]), WAIT_S)
            self.assertTrue(e1, "the WebSocket connection gauge did not count the connection")
            self.assertEqual(e1.get("bucketbridge_websocket_connections_total"), total0 + 1)
            self.assertEqual(e1.get("bucketbridge_websocket_lagged_total"), 0)
        finally:
            s.close()
        closed = wait_until(lambda: self.scrape()[0].get("bucketbridge_websocket_connections")
                            == open0, WAIT_S)
        self.assertTrue(closed, "the WebSocket connection gauge did not go back down")

    def test_health_fields(self):
        st, hdr, body = self.request("GET", "/_bucketbridge/health")
        self.assertEqual(st, 200)
        self.assertEqual(hdr.get("content-type"), "application/json")
        self.assertEqual(hdr.get("cache-control"), "no-store")
        h = json.loads(body)
        for key, typ in (("status", str), ("version", str), ("uptime_s", (int, float)),
                         ("data_dir", str), ("port", int), ("connections", int),
                         ("rules", int), ("last_sequence", int),
                         ("pending_deliveries", int), ("dead_letters", int),
                         ("queue_depths", dict), ("consumers", list),
                         ("deliveries", dict), ("listeners", dict), ("buckets", list)):
            self.assertIn(key, h)
            self.assertIsInstance(h[key], typ, key)
        self.assertEqual(h["status"], "ok")
        ver = subprocess.run([self.d.binary, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()
        self.assertEqual(ver[-1], h["version"])
        self.assertTrue(os.path.samefile(h["data_dir"], self.d.data_dir))
        self.assertEqual(h["port"], self.d.port)
        self.assertGreaterEqual(h["connections"], 1)
        self.assertEqual(h["rules"], len(CONFIG["rules"]))
        self.assertEqual(h["consumers"], [])  # --no-consumers
        # https is off in CONFIG: plain listeners only, on the bound port
        self.assertEqual(h["listeners"], {
            "http": f"http://127.0.0.1:{self.d.port}",
            "websocket": f"ws://127.0.0.1:{self.d.port}/_bucketbridge/events"})
        self.assertIn({"name": BUCKET, "eventbridge": True}, h["buckets"])
        st, _, _ = self.request("PUT", "/ops-health-bucket")
        self.assertEqual(st, 200)
        names = [b["name"] for b in self.health()["buckets"]]
        self.assertIn("ops-health-bucket", names)
        self.assertEqual(names, sorted(names))
        self.assertEqual(set(h["deliveries"]),
                         {"delivered", "failed_attempts", "dead_lettered", "dropped"})
        self.assertGreater(h["uptime_s"], 0)
        time.sleep(0.3)
        self.assertGreater(self.health()["uptime_s"], h["uptime_s"])
        # HEAD: the status without a body
        st, _, body = self.request("HEAD", "/_bucketbridge/health")
        self.assertEqual((st, body), (200, b""))
        # a foreign web origin is refused (CSRF guard)
        st, _, _ = self.request("GET", "/_bucketbridge/metrics",
                                headers={"Origin": "http://evil.example"})
        self.assertEqual(st, 403)


class ConsumersHealthTest(unittest.TestCase):
    """The seed pipeline's consumers, started by the daemon's supervisor from
    the build tree, show up in health as running; the logger drains its
    queue (the depth gauge goes back to 0)."""

    d = None

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(name="consumers", config={"https": {"enabled": False}},
                       extra_args=["--auth", "none"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.check_clean_exit()

    def health(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        try:
            conn.request("GET", "/_bucketbridge/health")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def test_consumers_running_and_draining(self):
        h = self.health()
        if not h.get("consumers"):
            self.skipTest("this daemon has no consumer supervisor")
        names = {c["name"] for c in h["consumers"]}
        self.assertEqual(names, {"thumbnail", "logger"})
        for c in h["consumers"]:
            if c.get("problem") or not os.path.isabs(c["command"]):
                self.skipTest(f"consumer {c['name']} is not built next to the daemon "
                              f"({c['command']}): {c.get('problem', '')}")

        def all_running():
            h = self.health()
            for c in h["consumers"]:
                run = [i for i in c["instances"] if i["state"] == "running" and i["pid"] > 0]
                if len(run) < c["min"]:
                    return None
            return h

        h = wait_until(all_running, WAIT_S, interval=0.1)
        self.assertTrue(h, f"consumers not running: {self.health()}")
        for c in h["consumers"]:
            self.assertTrue(os.access(c["command"], os.X_OK), c)
            self.assertEqual(c["group"], c["name"])
            self.assertLessEqual(c["min"], c["desired"])
            self.assertLessEqual(c["desired"], c["max"])
            self.assertEqual(len(c["instances"]), c["max"])
            self.assertTrue(all(i["restarts"] == 0 for i in c["instances"]), c)
        # the same processes in the metrics: instances by state, no restarts
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        conn.request("GET", "/_bucketbridge/metrics")
        expo = Exposition(conn.getresponse().read().decode("utf-8"))
        conn.close()
        h = self.health()
        for c in h["consumers"]:
            for state in ("running", "stopping", "restarting", "stopped"):
                want = sum(1 for i in c["instances"] if i["state"] == state)
                self.assertEqual(expo.get("bucketbridge_consumer_instances",
                                          consumer=c["name"], state=state), want,
                                 f"{c['name']} {state}: {c}")
            self.assertEqual(expo.get("bucketbridge_consumer_restarts_total",
                                      consumer=c["name"]), 0)
        # an event for the logger only; its queue empties again
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        conn.request("PUT", "/my-raw-images/notes.txt", body=b"hi")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()
        drained = wait_until(lambda: self.health()["queue_depths"].get("logger", 0) == 0
                             and self.health()["last_sequence"] >= 1, WAIT_S, interval=0.1)
        self.assertTrue(drained, f"the logger did not drain its queue: {self.health()}")


if __name__ == "__main__":
    bbdaemon.main()
