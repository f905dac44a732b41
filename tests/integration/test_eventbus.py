# SPDX-License-Identifier: MIT
"""The event bus against the real daemon: the EventBridge API through boto3's
`events` client, the aws CLI and raw signed requests; S3 changes turned into
EventBridge events (their shape field by field) and classic notifications;
delivery to webhook targets (a ThreadingHTTPServer in this process) and
command targets (helpers/cmd_target.py); retries, dead-letter queues and
redrive (/_bucketbridge/dlq); input transformation; archive and replay; and a
daemon killed with SIGKILL while deliveries are in flight.

Every wait polls with a deadline. "Nothing more arrives" is decided with the
daemon's health counter pending_deliveries: a delivery row lives until its
target acked it (or it was dead-lettered), so once it reads 0 everything
that was queued has reached its target. Backoffs are milliseconds
(eventbridge.retry_time_scale 0.001).

Tests that need the event-pattern matcher to say "no" (a rule that must not
match, TestEventPattern false, invalid patterns, key filters of classic
notifications) are marked with NEEDS_MATCHER in their docstring: they fail
while the daemon is built with the match-everything pattern shim.
"""

import base64
import datetime
import hashlib
import http.client
import http.server
import json
import os
import queue
import re
import signal
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbdaemon  # noqa: E402
from bbdaemon import Daemon  # noqa: E402

try:
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
    from botocore.exceptions import ClientError
except ImportError as e:  # pragma: no cover
    bbdaemon.skip_module(f"boto3 is not importable by {sys.executable}: {e}")

HERE = os.path.dirname(os.path.abspath(__file__))
CMD_HELPER = os.path.join(HERE, "helpers", "cmd_target.py")

ACCOUNT = "111122223333"  # not the default, so a hard-coded account shows
REGION = bbdaemon.REGION
RAW = "my-raw-images"
THUMBS = "my-thumbnails"
BUS_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"

DEADLINE_S = 20.0
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
HEX_RE = re.compile(r"^[0-9A-Fa-f]+$")
ENVELOPE_KEYS = ["version", "id", "detail-type", "source", "account", "time", "region",
                 "resources", "detail"]
DLQ_ATTRS = {"RULE_ARN", "TARGET_ARN", "ERROR_CODE", "ERROR_MESSAGE",
             "EXHAUSTED_RETRY_CONDITION", "RETRY_ATTEMPTS"}


def lambda_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def rule_arn(name):
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"


def sqs_arn(name):
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def wait_for(pred, timeout=DEADLINE_S, interval=0.02):
    return bbdaemon.wait_until(pred, timeout, interval)


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def seq_key(s, width=64):
    """A sequencer made comparable: right-padded with zeros (reference 1.7)."""
    return s.upper().ljust(width, "0")


def sample_event(source="it.sample", detail_type="Sample", detail=None, **extra):
    ev = {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type,
          "source": source, "account": ACCOUNT, "time": "2026-01-01T00:00:00Z",
          "region": REGION, "resources": [], "detail": detail or {}}
    ev.update(extra)
    return ev


# ---- webhook receiver -------------------------------------------------------
class Hit:
    def __init__(self, path, headers, body):
        self.path = path
        self.headers = headers
        self.body = body
        self.status = None  # what was (or is to be) answered
        self.complete = True

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            return {"__unparsable__": self.body.decode("utf-8", "replace")}

    def __repr__(self):
        return f"<{self.status} {self.path} {self.body[:200]!r}>"


class Receiver:
    """A webhook endpoint in the test process. Per path: a script of statuses
    consumed one per request, then a default status (200). A held path
    blocks its requests until released (they are then answered 503)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.hits = []
        self.plans = {}
        self.modes = {}
        self.holds = {}
        rx = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                path = self.path.split("?", 1)[0]
                hit = Hit(path, {k.lower(): v for k, v in self.headers.items()}, body)
                hit.complete = len(body) == n  # short: the sender died mid-request
                with rx.lock:
                    hold = rx.holds.get(path)
                    plan = rx.plans.get(path)
                    if hold is not None:
                        hit.status = "held"
                    elif plan:
                        hit.status = plan.pop(0)
                    else:
                        hit.status = rx.modes.get(path, 200)
                    rx.hits.append(hit)
                if hold is not None:
                    hold.wait(30)
                    hit.status = 503
                self._answer(hit.status)

            def _answer(self, status):
                data = b"{}" if 200 <= status < 300 else b'{"error":"scripted"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path, statuses, then=200):
        with self.lock:
            self.plans[path] = list(statuses)
            self.modes[path] = then

    def set_mode(self, path, status):
        with self.lock:
            self.plans.pop(path, None)
            self.modes[path] = status

    def hold(self, path):
        with self.lock:
            self.holds[path] = threading.Event()

    def release(self, path):
        with self.lock:
            ev = self.holds.pop(path, None)
        if ev is not None:
            ev.set()

    def requests(self, path):
        with self.lock:
            return [h for h in self.hits if h.path == path]

    def ok(self, path):
        """Parsed bodies of the requests answered 2xx."""
        return [h.json() for h in self.requests(path)
                if isinstance(h.status, int) and 200 <= h.status < 300]

    def close(self):
        with self.lock:
            holds = list(self.holds.values())
            self.holds.clear()
        for ev in holds:
            ev.set()
        self.server.shutdown()
        self.server.server_close()


# ---- command targets ----------------------------------------------------------
class Commands:
    """State dir of helpers/cmd_target.py: NAME.jsonl records, NAME.fail."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bb-it-cmd-")

    def function(self, name):
        return {"command": [sys.executable, "-S", CMD_HELPER, self.dir, name]}

    def set_fail(self, name, spec):
        p = os.path.join(self.dir, name + ".fail")
        with open(p + ".tmp", "w") as f:
            f.write(str(spec))
        os.replace(p + ".tmp", p)

    def records(self, name):
        try:
            with open(os.path.join(self.dir, name + ".jsonl")) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass  # a line being written
        return out

    def ok_events(self, name):
        return [json.loads(r["body"]) for r in self.records(name) if r["exit"] == 0]

    def path(self, name):
        return os.path.join(self.dir, name)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


FUNCTIONS = ("cmd-record", "cmd-flaky", "cmd-dlq", "cmd-s3")


def daemon_config(rx, cmds):
    fns = {n: cmds.function(n) for n in FUNCTIONS}
    # the shell-string form of a command
    fns["cmd-sh"] = {"command": "cat >> '%s'; echo >> '%s'" % (cmds.path("sh.out"),
                                                              cmds.path("sh.out"))}
    # a cheap one (no python start-up) for the crash test's retry storm: fails
    # while crash.fail exists, else keeps the payload in crash.d/<delivery>.<pid>
    os.makedirs(cmds.path("crash.d"), exist_ok=True)
    fns["cmd-crash"] = {"command": "test -e '%s' && exit 1; cat > '%s'/$BUCKETBRIDGE_DELIVERY_ID.$$"
                                   % (cmds.path("crash.fail"), cmds.path("crash.d"))}
    return {
        "account_id": ACCOUNT,
        "eventbridge": {"retry_time_scale": 0.001, "command_timeout_seconds": 20},
        "functions": fns,
        "webhooks": {
            "hook-s3cli": {"url": rx.url("/s3cli")},
            "hook-classic": {"url": rx.url("/classic")},
        },
        "rules": [],
    }


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


# ---- base ------------------------------------------------------------------------
class BusTestCase(unittest.TestCase):
    """One daemon per class with the receiver and commands configured."""

    d = None
    rx = None
    cmds = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rx = Receiver()
        cls.cmds = Commands()
        cls.d = Daemon(name=cls.__name__, config=daemon_config(cls.rx, cls.cmds)).start()
        cls._clients = {}

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.check_clean_exit()
        finally:
            cls.rx.close()
            cls.cmds.close()
            super().tearDownClass()

    # ---- clients ----
    def client(self, service):
        key = (service, self.d.endpoint)
        c = self._clients.get(key)
        if c is None:
            c = boto3.session.Session().client(
                service, endpoint_url=self.d.endpoint, region_name=REGION,
                aws_access_key_id=bbdaemon.ACCESS_KEY,
                aws_secret_access_key=bbdaemon.SECRET_KEY,
                config=Config(s3={"addressing_style": "path"},
                              retries={"total_max_attempts": 1}))
            self._clients[key] = c
        return c

    @property
    def events(self):
        return self.client("events")

    @property
    def s3(self):
        return self.client("s3")

    def raw_events(self, op, payload):
        """A signed awsJson1_1 call: (status, headers, parsed body or raw)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1",
                   "X-Amz-Target": f"AWSEvents.{op}"}
        req = AWSRequest(method="POST", url=self.d.endpoint + "/", data=body, headers=headers)
        SigV4Auth(Credentials(bbdaemon.ACCESS_KEY, bbdaemon.SECRET_KEY), "events",
                  REGION).add_auth(req)
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        try:
            conn.request("POST", "/", body=body, headers=dict(req.headers.items()))
            r = conn.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = data
        return r.status, hdrs, parsed

    def admin(self, method, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        try:
            # mutating admin calls carry the token (the secret key by default)
            conn.request(method, path, headers={"X-Bucketbridge-Token": "test"})
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        self.assertEqual(r.status, 200, f"{method} {path} -> {r.status} {data!r}")
        return json.loads(data)

    def health(self):
        return self.admin("GET", "/_bucketbridge/health")

    def dlq(self, arn):
        return self.admin("GET", "/_bucketbridge/dlq?arn=" + arn)["Messages"]

    def redrive(self, arn):
        return self.admin("POST", "/_bucketbridge/dlq/redrive?arn=" + arn)

    def wait_quiet(self, timeout=DEADLINE_S):
        """Until no delivery row is left (all acked or dead-lettered)."""
        last = {}

        def quiet():
            last.update(self.health())
            return last["pending_deliveries"] == 0
        self.assertTrue(wait_for(quiet, timeout),
                        f"deliveries still pending after {timeout}s: {last}")

    def wait(self, pred, what, timeout=DEADLINE_S):
        v = wait_for(pred, timeout)
        self.assertTrue(v, f"timed out after {timeout}s waiting for {what}")
        return v

    # ---- rules ----
    def make_rule(self, name, pattern, targets, state="ENABLED", **kw):
        arn = self.events.put_rule(Name=name, EventPattern=json.dumps(pattern), State=state,
                                   **kw)["RuleArn"]
        self.addCleanup(self.drop_rule, name)
        if targets:
            r = self.events.put_targets(Rule=name, Targets=targets)
            self.assertEqual(r["FailedEntryCount"], 0, r)
        return arn

    def drop_rule(self, name):
        try:
            ids = [t["Id"] for t in self.events.list_targets_by_rule(Rule=name)["Targets"]]
            if ids:
                self.events.remove_targets(Rule=name, Ids=ids)
            self.events.delete_rule(Name=name)
        except ClientError:
            pass

    def put_event(self, source, detail_type, detail, **kw):
        r = self.events.put_events(Entries=[dict(Source=source, DetailType=detail_type,
                                                 Detail=json.dumps(detail), **kw)])
        self.assertEqual(r["FailedEntryCount"], 0, r)
        return r["Entries"][0]["EventId"]

    def assertClientError(self, code, fn, *a, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(*a, **kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code, cm.exception.response)
        return cm.exception

    # ---- aws CLI ----
    def aws(self, *args):
        if AWS is None:
            self.skipTest("the aws CLI is not installed")
        work = tempfile.mkdtemp(prefix="bb-it-cli-")
        self.addCleanup(shutil.rmtree, work, True)
        cfg = os.path.join(work, "config")
        with open(cfg, "w") as f:
            f.write("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=bbdaemon.ACCESS_KEY,
                   AWS_SECRET_ACCESS_KEY=bbdaemon.SECRET_KEY,
                   AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE=cfg,
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(work, "nocreds"),
                   AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
        cmd = AWS + ["--endpoint-url", self.d.endpoint, "--cli-read-timeout", "20",
                     "--output", "json"] + list(args)
        p = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
        out, errout = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        if p.returncode != 0:
            self.fail(f"aws {' '.join(args)} -> exit {p.returncode}\nstdout: {out}\n"
                      f"stderr: {errout}")
        if not out.strip():
            return {}
        try:
            return json.loads(out)
        except ValueError:
            return out  # the high-level `aws s3` commands print text


# ---- the API -----------------------------------------------------------------------
class EventsApiTest(BusTestCase):

    def test_rule_crud(self):
        pattern = {"source": ["it.crud"], "detail": {"k": [{"prefix": "a"}]}}
        arn = self.make_rule("it-crud", pattern, None, Description="first")
        self.assertEqual(arn, rule_arn("it-crud"))
        r = self.events.describe_rule(Name="it-crud")
        self.assertEqual(r["Name"], "it-crud")
        self.assertEqual(r["Arn"], arn)
        self.assertEqual(json.loads(r["EventPattern"]), pattern)
        self.assertEqual(r["State"], "ENABLED")
        self.assertEqual(r["Description"], "first")
        self.assertEqual(r["EventBusName"], "default")

        # PutRule replaces: omitted attributes are gone
        arn2 = self.events.put_rule(Name="it-crud", EventPattern=json.dumps(pattern),
                                    State="DISABLED")["RuleArn"]
        self.assertEqual(arn2, arn)
        r = self.events.describe_rule(Name="it-crud")
        self.assertEqual(r["State"], "DISABLED")
        self.assertNotIn("Description", r)
        self.events.enable_rule(Name="it-crud")
        self.assertEqual(self.events.describe_rule(Name="it-crud")["State"], "ENABLED")
        self.events.disable_rule(Name="it-crud")
        self.assertEqual(self.events.describe_rule(Name="it-crud")["State"], "DISABLED")

        rules = self.events.list_rules(NamePrefix="it-crud")["Rules"]
        self.assertEqual([x["Name"] for x in rules], ["it-crud"])
        self.assertEqual(rules[0]["Arn"], arn)
        self.assertEqual(json.loads(rules[0]["EventPattern"]), pattern)

        # paging
        names = [f"it-page-{i}" for i in range(3)]
        for n in names:
            self.make_rule(n, {"source": [n]}, None)
        p1 = self.events.list_rules(NamePrefix="it-page-", Limit=2)
        self.assertEqual(len(p1["Rules"]), 2, p1)
        self.assertIn("NextToken", p1)
        p2 = self.events.list_rules(NamePrefix="it-page-", Limit=2, NextToken=p1["NextToken"])
        self.assertEqual(len(p2["Rules"]), 1, p2)
        self.assertNotIn("NextToken", p2)
        self.assertEqual(sorted(x["Name"] for x in p1["Rules"] + p2["Rules"]), names)

        # targets round trip
        t1 = {"Id": "one", "Arn": "http://127.0.0.1:9/x",
              "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 120},
              "DeadLetterConfig": {"Arn": sqs_arn("crud-dlq")}}
        t2 = {"Id": "two", "Arn": lambda_arn("cmd-record"), "Input": '{"x": 1}'}
        r = self.events.put_targets(Rule="it-crud", Targets=[t1, t2])
        self.assertEqual((r["FailedEntryCount"], r["FailedEntries"]), (0, []))
        got = {t["Id"]: t for t in self.events.list_targets_by_rule(Rule="it-crud")["Targets"]}
        self.assertEqual(set(got), {"one", "two"})
        self.assertEqual(got["one"]["Arn"], t1["Arn"])
        self.assertEqual(got["one"]["RetryPolicy"], t1["RetryPolicy"])
        self.assertEqual(got["one"]["DeadLetterConfig"], t1["DeadLetterConfig"])
        self.assertEqual(json.loads(got["two"]["Input"]), {"x": 1})
        r = self.events.remove_targets(Rule="it-crud", Ids=["two", "nope"])
        self.assertEqual(r["FailedEntryCount"], 1, r)
        self.assertEqual(r["FailedEntries"][0]["TargetId"], "nope")
        got = self.events.list_targets_by_rule(Rule="it-crud")["Targets"]
        self.assertEqual([t["Id"] for t in got], ["one"])

    def test_describe_missing_rule(self):
        e = self.assertClientError("ResourceNotFoundException", self.events.describe_rule,
                                   Name="it-no-such-rule")
        self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(e.response["Error"]["Message"],
                         "Rule it-no-such-rule does not exist on EventBus default.")
        self.assertClientError("ResourceNotFoundException", self.events.put_targets,
                               Rule="it-no-such-rule",
                               Targets=[{"Id": "t", "Arn": "http://127.0.0.1:9/"}])

    def test_delete_rule_with_targets(self):
        self.make_rule("it-del", {"source": ["it.del"]},
                       [{"Id": "t", "Arn": "http://127.0.0.1:9/x"}])
        e = self.assertClientError("ValidationException", self.events.delete_rule, Name="it-del")
        self.assertEqual(e.response["Error"]["Message"],
                         "Rule can't be deleted since it has targets.")
        self.assertEqual(self.events.describe_rule(Name="it-del")["Name"], "it-del")
        self.events.remove_targets(Rule="it-del", Ids=["t"])
        self.events.delete_rule(Name="it-del")
        self.assertClientError("ResourceNotFoundException", self.events.describe_rule,
                               Name="it-del")
        self.events.delete_rule(Name="it-del")  # idempotent

    def test_put_targets_limit(self):
        self.make_rule("it-limit", {"source": ["it.limit"]}, None)
        targets = [{"Id": f"t{i}", "Arn": f"http://127.0.0.1:9/{i}"} for i in range(5)]
        r = self.events.put_targets(Rule="it-limit", Targets=targets)
        self.assertEqual(r["FailedEntryCount"], 0, r)
        e = self.assertClientError("LimitExceededException", self.events.put_targets,
                                   Rule="it-limit",
                                   Targets=[{"Id": "t5", "Arn": "http://127.0.0.1:9/5"}])
        self.assertEqual(e.response["Error"]["Message"],
                         "The requested resource exceeds the maximum number allowed.")
        # updating one of the five is fine
        r = self.events.put_targets(Rule="it-limit",
                                    Targets=[{"Id": "t0", "Arn": "http://127.0.0.1:9/new"}])
        self.assertEqual(r["FailedEntryCount"], 0, r)
        got = {t["Id"]: t["Arn"] for t in
               self.events.list_targets_by_rule(Rule="it-limit")["Targets"]}
        self.assertEqual(len(got), 5, got)
        self.assertEqual(got["t0"], "http://127.0.0.1:9/new")

    def test_put_events_entry_errors(self):
        self.make_rule("it-errors", {"source": ["it.errors"]},
                       [{"Id": "hook", "Arn": self.rx.url("/errors")}])
        ok = {"Source": "it.errors", "DetailType": "T", "Detail": '{"a": 1}'}
        entries = [
            ok,
            {"DetailType": "T", "Detail": "{}"},
            {"Source": "it.errors", "DetailType": "T", "Detail": "[1, 2]"},
            {"Source": "it.errors", "DetailType": "T", "Detail": '"a string"'},
            {"Source": "it.errors", "DetailType": "T", "Detail": "{not json"},
            {"Source": "aws.s3", "DetailType": "Object Created", "Detail": "{}"},
            {"Source": "it.errors", "Detail": "{}"},
            {"Source": "it.errors", "DetailType": "T"},
            dict(ok, Detail='{"a": 2}'),
        ]
        want = [
            None,
            ("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required "
                                "argument."),
            ("MalformedDetail", "Detail is malformed."),
            ("MalformedDetail", "Detail is malformed."),
            ("MalformedDetail", "Detail is malformed."),
            ("NotAuthorizedForSourceException", None),
            ("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a "
                                "required argument."),
            ("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required "
                                "argument."),
            None,
        ]
        r = self.events.put_events(Entries=entries)
        self.assertEqual(r["FailedEntryCount"], 7, r)
        self.assertEqual(len(r["Entries"]), len(entries), r)
        ids = []
        for i, (got, w) in enumerate(zip(r["Entries"], want)):
            if w is None:
                self.assertRegex(got.get("EventId", ""), UUID4_RE, (i, got))
                self.assertNotIn("ErrorCode", got, (i, got))
                ids.append(got["EventId"])
            else:
                self.assertNotIn("EventId", got, (i, got))
                self.assertEqual(got.get("ErrorCode"), w[0], (i, got))
                if w[1] is not None:
                    self.assertEqual(got.get("ErrorMessage"), w[1], (i, got))
        # only the two good entries were published and delivered
        self.wait(lambda: len(self.rx.ok("/errors")) >= 2, "the two good events")
        self.wait_quiet()
        got = self.rx.ok("/errors")
        self.assertEqual(sorted(e["id"] for e in got), sorted(ids), got)
        self.assertEqual(sorted(e["detail"]["a"] for e in got), [1, 2])

    def test_put_events_request_limits(self):
        seq0 = self.health()["last_sequence"]
        entry = {"Source": "it.limits", "DetailType": "T", "Detail": "{}"}
        e = self.assertClientError("ValidationException", self.events.put_events,
                                   Entries=[entry] * 11)
        self.assertIn("Member must have length less than or equal to 10",
                      e.response["Error"]["Message"])
        st, _, body = self.raw_events("PutEvents", {"Entries": []})
        self.assertEqual((st, body.get("__type")), (400, "ValidationException"), body)
        big = {"Source": "it.limits", "DetailType": "T",
               "Detail": json.dumps({"pad": "x" * (140 * 1024)})}
        e = self.assertClientError("ValidationException", self.events.put_events,
                                   Entries=[big, big])
        self.assertEqual(e.response["Error"]["Message"],
                         "Total size of the entries in the request is over the limit.")
        self.assertEqual(self.health()["last_sequence"], seq0, "a refused request published")

    def test_put_events_time_and_resources(self):
        self.make_rule("it-time", {"source": ["it.time"]},
                       [{"Id": "hook", "Arn": self.rx.url("/time")}])
        when = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)
        eid = self.put_event("it.time", "Timed", {"k": "v"}, Time=when,
                             Resources=["arn:aws:s3:::x", "r2"])
        ev = self.wait(lambda: self.rx.ok("/time"), "the event")[0]
        self.assertEqual(list(ev.keys()), ENVELOPE_KEYS)
        self.assertEqual(ev["id"], eid)
        self.assertEqual(ev["version"], "0")
        self.assertEqual(ev["time"], "2024-01-02T03:04:05Z")
        self.assertEqual(ev["resources"], ["arn:aws:s3:::x", "r2"])
        self.assertEqual(ev["account"], ACCOUNT)
        self.assertEqual(ev["region"], REGION)
        self.assertEqual(ev["source"], "it.time")
        self.assertEqual(ev["detail-type"], "Timed")
        self.assertEqual(ev["detail"], {"k": "v"})

    def test_wire_protocol(self):
        st, h, body = self.raw_events("ListRules", {})
        self.assertEqual(st, 200, body)
        self.assertTrue(h.get("content-type", "").startswith("application/x-amz-json-1.1"), h)
        self.assertTrue(h.get("x-amzn-requestid"), h)
        self.assertIn("Rules", body)
        st, h, body = self.raw_events("DescribeRule", {"Name": "it-wire-missing"})
        self.assertEqual(st, 400, body)
        self.assertTrue(h.get("content-type", "").startswith("application/x-amz-json-1.1"), h)
        self.assertEqual(body.get("__type"), "ResourceNotFoundException", body)
        self.assertEqual(body.get("message"),
                         "Rule it-wire-missing does not exist on EventBus default.")
        st, _, body = self.raw_events("DeleteRule", {"Name": "it-wire-missing"})
        self.assertEqual((st, body), (200, {}))
        st, _, body = self.raw_events("PutEvents", b"[not json")
        self.assertEqual(st, 400, body)
        self.assertIn("__type", body)

    def test_test_event_pattern_true(self):
        pattern = {"source": ["it.tep"], "detail": {"color": ["red", "green"]}}
        ev = sample_event("it.tep", detail={"color": "red"})
        r = self.events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(ev))
        self.assertIs(r["Result"], True)
        # the event must carry the mandatory envelope fields
        bad = dict(ev)
        del bad["account"]
        e = self.assertClientError("ValidationException", self.events.test_event_pattern,
                                   EventPattern=json.dumps(pattern), Event=json.dumps(bad))
        self.assertIn("account", e.response["Error"]["Message"])

    def test_test_event_pattern_false(self):
        """NEEDS_MATCHER: a pattern that does not match gives Result false."""
        pattern = {"source": ["it.tep"], "detail": {"color": ["red", "green"]}}
        for ev in (sample_event("it.tep", detail={"color": "blue"}),
                   sample_event("it.other", detail={"color": "red"}),
                   sample_event("it.tep", detail={})):
            r = self.events.test_event_pattern(EventPattern=json.dumps(pattern),
                                               Event=json.dumps(ev))
            self.assertIs(r["Result"], False, ev)

    def test_invalid_patterns(self):
        """NEEDS_MATCHER: patterns that are JSON objects but not valid patterns."""
        self.assertClientError("InvalidEventPatternException", self.events.test_event_pattern,
                               EventPattern="[1]", Event=json.dumps(sample_event()))
        for bad in ({"source": "it.bad"}, {"source": [{"prefix": 5}]},
                    {"detail": {"n": [{"numeric": [">"]}]}}):
            self.assertClientError("InvalidEventPatternException", self.events.put_rule,
                                   Name="it-bad-pattern", EventPattern=json.dumps(bad))
            self.assertClientError("InvalidEventPatternException",
                                   self.events.test_event_pattern, EventPattern=json.dumps(bad),
                                   Event=json.dumps(sample_event()))
        self.assertClientError("ResourceNotFoundException", self.events.describe_rule,
                               Name="it-bad-pattern")

    def test_aws_cli(self):
        name = "it-cli-rule"
        pattern = {"source": ["it.cli"], "detail-type": ["CliEvent"]}
        r = self.aws("events", "put-rule", "--name", name, "--event-pattern",
                     json.dumps(pattern), "--description", "from the CLI")
        self.addCleanup(self.drop_rule, name)
        self.assertEqual(r["RuleArn"], rule_arn(name))
        r = self.aws("events", "put-targets", "--rule", name, "--targets",
                     json.dumps([{"Id": "hook", "Arn": self.rx.url("/cli")}]))
        self.assertEqual(r["FailedEntryCount"], 0, r)
        r = self.aws("events", "list-rules", "--name-prefix", "it-cli-")
        self.assertEqual([x["Name"] for x in r["Rules"]], [name], r)
        self.assertEqual(r["Rules"][0]["State"], "ENABLED")
        self.assertEqual(r["Rules"][0]["Description"], "from the CLI")
        self.assertEqual(json.loads(r["Rules"][0]["EventPattern"]), pattern)
        r = self.aws("events", "test-event-pattern", "--event-pattern", json.dumps(pattern),
                     "--event", json.dumps(sample_event("it.cli", "CliEvent")))
        self.assertIs(r["Result"], True)
        r = self.aws("events", "put-events", "--entries", json.dumps(
            [{"Source": "it.cli", "DetailType": "CliEvent", "Detail": json.dumps({"via": "cli"})}]))
        self.assertEqual(r["FailedEntryCount"], 0, r)
        eid = r["Entries"][0]["EventId"]
        got = self.wait(lambda: self.rx.ok("/cli"), "the CLI event at the webhook")
        self.assertEqual(got[0]["id"], eid)
        self.assertEqual(got[0]["detail"], {"via": "cli"})
        self.assertEqual(got[0]["source"], "it.cli")
        self.assertEqual(got[0]["detail-type"], "CliEvent")


# ---- delivery ----------------------------------------------------------------------
class DeliveryTest(BusTestCase):

    def test_webhook_fails_then_succeeds(self):
        path = "/flaky"
        self.rx.script(path, [500, 503, 429, 502], then=200)
        self.make_rule("it-flaky-hook", {"source": ["it.flaky.hook"]},
                       [{"Id": "hook", "Arn": self.rx.url(path),
                         "RetryPolicy": {"MaximumRetryAttempts": 6}}])
        before = self.health()["deliveries"]
        eid = self.put_event("it.flaky.hook", "Flaky", {"n": 1})
        self.wait(lambda: self.rx.ok(path), "the delivery after four failures")
        self.wait_quiet()
        hits = self.rx.requests(path)
        self.assertEqual([h.status for h in hits], [500, 503, 429, 502, 200], hits)
        self.assertEqual({h.json()["id"] for h in hits}, {eid})
        self.assertEqual(hits[0].headers.get("content-type"), "application/json")
        after = self.health()["deliveries"]
        self.assertGreaterEqual(after["delivered"] - before["delivered"], 1)
        self.assertGreaterEqual(after["failed_attempts"] - before["failed_attempts"], 4)
        self.assertEqual(after["dead_lettered"], before["dead_lettered"])
        self.assertEqual(after["dropped"], before["dropped"])

    def test_command_fails_then_succeeds(self):
        self.cmds.set_fail("cmd-flaky", 2)
        self.make_rule("it-flaky-cmd", {"source": ["it.flaky.cmd"]},
                       [{"Id": "cmd", "Arn": lambda_arn("cmd-flaky"),
                         "RetryPolicy": {"MaximumRetryAttempts": 4}}])
        eid = self.put_event("it.flaky.cmd", "Flaky", {"n": 2})
        self.wait(lambda: self.cmds.ok_events("cmd-flaky"), "the command's success")
        self.wait_quiet()
        recs = self.cmds.records("cmd-flaky")
        self.assertEqual([r["exit"] for r in recs], [1, 1, 0], recs)
        self.assertEqual({json.loads(r["body"])["id"] for r in recs}, {eid})
        self.assertEqual(len({r["delivery"] for r in recs}), 1, "one delivery, three attempts")
        self.assertEqual(recs[0]["target"], "cmd")
        self.assertEqual(recs[0]["function"], "cmd-flaky")

    def test_dead_letter_queue_and_redrive(self):
        dlq = sqs_arn("it-dlq-main")
        path = "/dead"
        self.rx.set_mode(path, 500)
        self.cmds.set_fail("cmd-dlq", "always")
        arn = self.make_rule("it-dlq", {"source": ["it.dlq"]}, [
            {"Id": "hook", "Arn": self.rx.url(path),
             "RetryPolicy": {"MaximumRetryAttempts": 2}, "DeadLetterConfig": {"Arn": dlq}},
            {"Id": "cmd", "Arn": lambda_arn("cmd-dlq"),
             "RetryPolicy": {"MaximumRetryAttempts": 1}, "DeadLetterConfig": {"Arn": dlq}}])
        self.assertEqual(arn, rule_arn("it-dlq"))
        before = self.health()["deliveries"]
        eids = [self.put_event("it.dlq", "Doomed", {"i": i}) for i in range(2)]
        self.wait(lambda: len(self.dlq(dlq)) >= 4, "four dead letters")
        self.wait_quiet()
        msgs = self.dlq(dlq)
        self.assertEqual(len(msgs), 4, msgs)
        hook_arn, cmd_arn = self.rx.url(path), lambda_arn("cmd-dlq")
        by_target = {}
        for m in msgs:
            a = m["MessageAttributes"]
            self.assertEqual(set(a), DLQ_ATTRS, m)
            self.assertEqual(a["RULE_ARN"], arn, m)
            self.assertEqual(a["ERROR_CODE"], "ERROR_FROM_TARGET", m)
            self.assertTrue(a["ERROR_MESSAGE"], m)
            self.assertEqual(a["EXHAUSTED_RETRY_CONDITION"], "MaximumRetryAttempts", m)
            body = json.loads(m["Body"])
            self.assertEqual(body["source"], "it.dlq")
            self.assertIn(body["id"], eids)
            by_target.setdefault(a["TARGET_ARN"], []).append((body["id"], a))
        self.assertEqual(set(by_target), {hook_arn, cmd_arn}, by_target)
        for tarn, retries in ((hook_arn, "2"), (cmd_arn, "1")):
            self.assertEqual(sorted(i for i, _ in by_target[tarn]), sorted(eids))
            for _, a in by_target[tarn]:
                self.assertEqual(a["RETRY_ATTEMPTS"], retries, a)
        self.assertIn("500", by_target[hook_arn][0][1]["ERROR_MESSAGE"])
        # attempts: 1 + MaximumRetryAttempts per event
        hits = self.rx.requests(path)
        for eid in eids:
            self.assertEqual(sum(1 for h in hits if h.json()["id"] == eid), 3, hits)
            self.assertEqual(sum(1 for r in self.cmds.records("cmd-dlq")
                                 if json.loads(r["body"])["id"] == eid), 2)
        after = self.health()
        self.assertGreaterEqual(after["deliveries"]["dead_lettered"] - before["dead_lettered"],
                                4)
        self.assertGreaterEqual(after["dead_letters"], 4)

        # the fix, then the redrive
        self.rx.set_mode(path, 200)
        self.cmds.set_fail("cmd-dlq", 0)
        r = self.redrive(dlq)
        self.assertEqual(r["Redriven"], 4, r)
        self.wait(lambda: len(self.rx.ok(path)) >= 2 and len(self.cmds.ok_events("cmd-dlq")) >= 2,
                  "the redriven deliveries")
        self.wait_quiet()
        self.assertEqual(sorted(e["id"] for e in self.rx.ok(path)), sorted(eids))
        self.assertEqual(sorted(e["id"] for e in self.cmds.ok_events("cmd-dlq")), sorted(eids))
        self.assertEqual(self.dlq(dlq), [])
        self.assertEqual(self.redrive(dlq)["Redriven"], 0)

    def test_non_retryable_status_dead_letters_at_once(self):
        dlq = sqs_arn("it-dlq-reject")
        self.rx.set_mode("/reject", 400)
        self.rx.set_mode("/reject-nodlq", 403)
        self.make_rule("it-reject", {"source": ["it.reject"]}, [
            {"Id": "hook", "Arn": self.rx.url("/reject"),
             "RetryPolicy": {"MaximumRetryAttempts": 5}, "DeadLetterConfig": {"Arn": dlq}},
            {"Id": "nodlq", "Arn": self.rx.url("/reject-nodlq")}])
        before = self.health()["deliveries"]
        eid = self.put_event("it.reject", "Rejected", {})
        self.wait(lambda: self.dlq(dlq), "the dead letter")
        self.wait_quiet()
        self.assertEqual(len(self.rx.requests("/reject")), 1, "a 400 is not retried")
        self.assertEqual(len(self.rx.requests("/reject-nodlq")), 1, "a 403 is not retried")
        (m,) = self.dlq(dlq)
        a = m["MessageAttributes"]
        self.assertEqual(json.loads(m["Body"])["id"], eid)
        self.assertEqual(a["ERROR_CODE"], "ERROR_FROM_TARGET")
        self.assertEqual(a["RETRY_ATTEMPTS"], "0")
        self.assertEqual(a["TARGET_ARN"], self.rx.url("/reject"))
        after = self.health()["deliveries"]
        self.assertGreaterEqual(after["dropped"] - before["dropped"], 1, "no DLQ: dropped")

    def test_input_modes(self):
        rx = self.rx
        template = ('{"who": <uid>, "count": <n>, "msg": "from <src>", '
                    '"rule": <aws.events.rule-name>, "arn": "<aws.events.rule-arn>", '
                    '"missing": <nothere>}')
        arn = self.make_rule("it-input", {"source": ["it.input"]}, [
            {"Id": "const", "Arn": rx.url("/in-const"), "Input": '{"const": true}'},
            {"Id": "path", "Arn": rx.url("/in-path"), "InputPath": "$.detail"},
            {"Id": "scalar", "Arn": rx.url("/in-scalar"), "InputPath": "$.detail.user.id"},
            {"Id": "xform", "Arn": rx.url("/in-xform"), "InputTransformer": {
                "InputPathsMap": {"uid": "$.detail.user.id", "n": "$.detail.n",
                                  "src": "$.source", "nothere": "$.detail.absent"},
                "InputTemplate": template}},
            {"Id": "text", "Arn": rx.url("/in-text"), "InputTransformer": {
                "InputPathsMap": {"uid": "$.detail.user.id", "tags": "$.detail.tags"},
                "InputTemplate": '"User <uid> has <tags>"'}},
        ])
        detail = {"user": {"id": "u1", "tier": "gold"}, "n": 42, "tags": ["a", "b"]}
        self.put_event("it.input", "InputTest", detail)
        paths = ["/in-const", "/in-path", "/in-scalar", "/in-xform", "/in-text"]
        self.wait(lambda: all(rx.ok(p) for p in paths), "all five transformed deliveries")
        self.wait_quiet()
        self.assertEqual(rx.ok("/in-const"), [{"const": True}])
        self.assertEqual(rx.ok("/in-path"), [detail])
        self.assertEqual(rx.ok("/in-scalar"), ["u1"])
        self.assertEqual(rx.ok("/in-xform"), [{"who": "u1", "count": 42, "msg": "from it.input",
                                               "rule": "it-input", "arn": arn, "missing": ""}])
        self.assertEqual(rx.ok("/in-text"), ["User u1 has [a,b]"])

    def test_disabled_rule_delivers_nothing(self):
        pattern = {"source": ["it.disabled"]}
        self.make_rule("it-disabled", pattern, [{"Id": "hook", "Arn": self.rx.url("/disabled")}],
                       state="DISABLED")
        self.make_rule("it-disabled-witness", pattern,
                       [{"Id": "hook", "Arn": self.rx.url("/disabled-witness")}])
        first = self.put_event("it.disabled", "Off", {"n": 1})
        self.wait(lambda: self.rx.ok("/disabled-witness"), "the witness delivery")
        self.wait_quiet()
        self.assertEqual(self.rx.requests("/disabled"), [])
        self.events.enable_rule(Name="it-disabled")
        second = self.put_event("it.disabled", "On", {"n": 2})
        self.wait(lambda: self.rx.ok("/disabled"), "the delivery once enabled")
        self.wait_quiet()
        self.assertEqual([e["id"] for e in self.rx.ok("/disabled")], [second])
        self.assertNotEqual(first, second)

    def test_rule_that_must_not_match(self):
        """NEEDS_MATCHER: only matching events reach a rule's targets."""
        self.make_rule("it-match", {"source": ["it.match"], "detail": {"color": ["red"]}},
                       [{"Id": "hook", "Arn": self.rx.url("/match")}])
        self.make_rule("it-match-witness", {"source": ["it.match"]},
                       [{"Id": "hook", "Arn": self.rx.url("/match-witness")}])
        red = self.put_event("it.match", "Color", {"color": "red"})
        self.put_event("it.match", "Color", {"color": "blue"})
        self.put_event("it.other", "Color", {"color": "red"})
        self.wait(lambda: len(self.rx.ok("/match-witness")) >= 2, "the witness deliveries")
        self.wait_quiet()
        self.assertEqual(len(self.rx.ok("/match-witness")), 2)
        self.assertEqual([e["id"] for e in self.rx.ok("/match")], [red])

    def test_archive_and_replay(self):
        rx = self.rx
        arn = self.make_rule("it-replay", {"source": ["it.replay"]},
                             [{"Id": "hook", "Arn": rx.url("/replay")}])
        t0 = time.time()
        a = self.events.create_archive(ArchiveName="it-archive", EventSourceArn=BUS_ARN,
                                       EventPattern=json.dumps({"source": ["it.replay"]}))
        self.addCleanup(self.events.delete_archive, ArchiveName="it-archive")
        self.assertEqual(a["ArchiveArn"], f"arn:aws:events:{REGION}:{ACCOUNT}:archive/it-archive")
        self.assertIn(a["State"], ("ENABLED", "CREATING"))
        self.assertClientError("ResourceAlreadyExistsException", self.events.create_archive,
                               ArchiveName="it-archive", EventSourceArn=BUS_ARN)
        eids = [self.put_event("it.replay", "Archived", {"i": i}) for i in range(3)]
        self.wait(lambda: len(rx.ok("/replay")) >= 3, "the original deliveries")
        originals = {e["id"]: e for e in rx.ok("/replay")}
        self.assertEqual(set(originals), set(eids))
        for e in originals.values():
            self.assertNotIn("replay-name", e)

        start = datetime.datetime.fromtimestamp(int(t0) - 5, tz=datetime.timezone.utc)
        end = datetime.datetime.fromtimestamp(int(time.time()) + 2, tz=datetime.timezone.utc)
        r = self.events.start_replay(ReplayName="it-replay-1", EventSourceArn=a["ArchiveArn"],
                                     EventStartTime=start, EventEndTime=end,
                                     Destination={"Arn": BUS_ARN, "FilterArns": [arn]})
        self.assertEqual(r["ReplayArn"], f"arn:aws:events:{REGION}:{ACCOUNT}:replay/it-replay-1")
        self.assertIn(r["State"], ("STARTING", "RUNNING"))
        self.wait(lambda: self.events.describe_replay(ReplayName="it-replay-1")["State"]
                  == "COMPLETED", "the replay to complete")
        self.wait(lambda: len(rx.ok("/replay")) >= 6, "the replayed deliveries")
        self.wait_quiet()
        got = rx.ok("/replay")
        self.assertEqual(len(got), 6, got)
        replayed = [e for e in got if "replay-name" in e]
        self.assertEqual(len(replayed), 3, got)
        for e in replayed:
            self.assertEqual(e["replay-name"], "it-replay-1")
            keys = list(e.keys())
            self.assertEqual(keys[keys.index("region") + 1], "replay-name", keys)
            orig = originals[e["id"]]
            self.assertEqual({k: v for k, v in e.items() if k != "replay-name"}, orig)
        d = self.events.describe_replay(ReplayName="it-replay-1")
        self.assertEqual(d["EventSourceArn"], a["ArchiveArn"])
        self.assertEqual(d["Destination"]["Arn"], BUS_ARN)
        # replayed events are not archived again
        da = self.events.describe_archive(ArchiveName="it-archive")
        if "EventCount" in da:
            self.assertEqual(da["EventCount"], 3, da)
        # errors
        self.assertClientError("ResourceAlreadyExistsException", self.events.start_replay,
                               ReplayName="it-replay-1", EventSourceArn=a["ArchiveArn"],
                               EventStartTime=start, EventEndTime=end,
                               Destination={"Arn": BUS_ARN})
        self.assertClientError("ValidationException", self.events.start_replay,
                               ReplayName="it-replay-2", EventSourceArn=a["ArchiveArn"],
                               EventStartTime=end, EventEndTime=start,
                               Destination={"Arn": BUS_ARN})



# ---- custom event buses ------------------------------------------------------------
def bus_arn(name):
    return f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"


class CustomBusTest(BusTestCase):
    """CreateEventBus .. DeleteEventBus, and every operation that names a bus."""

    def make_bus(self, name, **kw):
        r = self.events.create_event_bus(Name=name, **kw)
        self.addCleanup(self.drop_bus, name)
        return r

    def drop_bus(self, name):
        try:
            self.events.delete_event_bus(Name=name)
        except ClientError:
            pass

    def bus_rule(self, bus, name, pattern, targets):
        arn = self.events.put_rule(Name=name, EventBusName=bus,
                                   EventPattern=json.dumps(pattern))["RuleArn"]
        if targets:
            r = self.events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
            self.assertEqual(r["FailedEntryCount"], 0, r)
        return arn

    def test_create_describe_list_delete(self):
        t0 = time.time()
        r = self.make_bus("it-orders", Description="orders of the shop")
        self.assertEqual(r["EventBusArn"], bus_arn("it-orders"))
        for name in ("it-orders", bus_arn("it-orders")):
            d = self.events.describe_event_bus(Name=name)
            self.assertEqual(d["Name"], "it-orders")
            self.assertEqual(d["Arn"], bus_arn("it-orders"))
            self.assertEqual(d["Description"], "orders of the shop")
            self.assertNotIn("Policy", d)
            created = d["CreationTime"].timestamp()
            self.assertGreaterEqual(created, t0 - 2)
            self.assertLessEqual(created, time.time() + 2)
        # without a name: the default bus
        d = self.events.describe_event_bus()
        self.assertEqual(d["Name"], "default")
        self.assertEqual(d["Arn"], BUS_ARN)
        self.assertIn("CreationTime", d)
        self.assertNotIn("Policy", d)
        # the list: both, in name order
        self.make_bus("it-orders-eu")
        names = [b["Name"] for b in self.events.list_event_buses()["EventBuses"]]
        self.assertEqual(names, sorted(names))
        self.assertIn("default", names)
        self.assertIn("it-orders", names)
        buses = {b["Name"]: b for b in self.events.list_event_buses()["EventBuses"]}
        self.assertEqual(buses["it-orders"]["Arn"], bus_arn("it-orders"))
        self.assertEqual(buses["default"]["Arn"], BUS_ARN)
        r = self.events.list_event_buses(NamePrefix="it-ord")
        self.assertEqual([b["Name"] for b in r["EventBuses"]], ["it-orders", "it-orders-eu"])
        self.assertNotIn("NextToken", r)
        # pages of one
        r = self.events.list_event_buses(NamePrefix="it-ord", Limit=1)
        self.assertEqual([b["Name"] for b in r["EventBuses"]], ["it-orders"])
        self.assertIn("NextToken", r)
        r2 = self.events.list_event_buses(NamePrefix="it-ord", Limit=1, NextToken=r["NextToken"])
        self.assertEqual([b["Name"] for b in r2["EventBuses"]], ["it-orders-eu"])
        self.assertNotIn("NextToken", r2)
        # a second create of the same name
        e = self.assertClientError("ResourceAlreadyExistsException",
                                   self.events.create_event_bus, Name="it-orders")
        self.assertEqual(e.response["Error"]["Message"], "Event bus it-orders already exists.")
        # delete, then it is gone (and a second delete is no error)
        self.assertEqual(self.events.delete_event_bus(Name="it-orders-eu")["ResponseMetadata"]
                         ["HTTPStatusCode"], 200)
        e = self.assertClientError("ResourceNotFoundException", self.events.describe_event_bus,
                                   Name="it-orders-eu")
        self.assertEqual(e.response["Error"]["Message"], "Event bus it-orders-eu does not exist.")
        self.events.delete_event_bus(Name="it-orders-eu")
        self.assertNotIn("it-orders-eu",
                         [b["Name"] for b in self.events.list_event_buses()["EventBuses"]])
        # the default bus cannot be deleted
        e = self.assertClientError("ValidationException", self.events.delete_event_bus,
                                   Name="default")
        self.assertEqual(e.response["Error"]["Message"], "Cannot delete event bus default.")
        self.assertEqual(self.events.describe_event_bus(Name="default")["Name"], "default")

    def test_name_rules(self):
        ok = "it-Name_1.x"
        self.assertEqual(self.make_bus(ok)["EventBusArn"], bus_arn(ok))
        long_ok = "b" * 256
        self.assertEqual(self.make_bus(long_ok)["EventBusArn"], bus_arn(long_ok))
        cases = [
            ("default", "ResourceAlreadyExistsException"),
            ("b" * 257, "ValidationException"),
            ("has space", "ValidationException"),
            ("star*", "ValidationException"),
            ("a/b", "ValidationException"),
            ("aws.mine", "ValidationException"),
            ("s3-notifications", "ValidationException"),  # bucketbridge's internal bus
        ]
        for name, code in cases:
            with self.subTest(name=name[:20]):
                self.assertClientError(code, self.events.create_event_bus, Name=name)
        # what botocore does not check on the client side
        for body in ({}, {"Name": ""}):
            status, _, parsed = self.raw_events("CreateEventBus", body)
            self.assertEqual(status, 400, parsed)
            self.assertEqual(parsed["__type"], "ValidationException", parsed)
        # a partner bus needs a partner event source; there are none
        self.assertClientError("ResourceNotFoundException", self.events.create_event_bus,
                               Name="aws.partner/example.com/123/src",
                               EventSourceName="aws.partner/example.com/123/src")
        names = {b["Name"] for b in self.events.list_event_buses()["EventBuses"]}
        for name, _ in cases[1:]:
            self.assertNotIn(name, names)

    def test_at_most_100_buses(self):
        have = []
        token = None
        while True:
            r = self.events.list_event_buses(**({"NextToken": token} if token else {}))
            have += [b["Name"] for b in r["EventBuses"]]
            token = r.get("NextToken")
            if not token:
                break
        self.assertIn("default", have)
        for i in range(100 - len(have)):
            self.make_bus(f"it-quota-{i:03d}")
        e = self.assertClientError("LimitExceededException", self.events.create_event_bus,
                                   Name="it-quota-over")
        self.assertEqual(e.response["Error"]["Message"],
                         "The requested resource exceeds the maximum number allowed.")
        # a deleted bus makes room
        self.events.delete_event_bus(Name="it-quota-000")
        self.make_bus("it-quota-over")
        r = self.events.list_event_buses(NamePrefix="it-quota-", Limit=100)
        self.assertEqual(len(r["EventBuses"]), 100 - len(have))

    def test_operations_on_an_unknown_bus(self):
        bus = "it-no-such-bus"
        msg = f"Event bus {bus} does not exist."
        ev = self.events
        calls = [
            (ev.put_rule, dict(Name="r", EventBusName=bus, EventPattern='{"source":["x"]}')),
            (ev.describe_rule, dict(Name="r", EventBusName=bus)),
            (ev.list_rules, dict(EventBusName=bus)),
            (ev.delete_rule, dict(Name="r", EventBusName=bus)),
            (ev.enable_rule, dict(Name="r", EventBusName=bus)),
            (ev.disable_rule, dict(Name="r", EventBusName=bus)),
            (ev.put_targets, dict(Rule="r", EventBusName=bus,
                                  Targets=[{"Id": "t", "Arn": sqs_arn("g")}])),
            (ev.remove_targets, dict(Rule="r", EventBusName=bus, Ids=["t"])),
            (ev.list_targets_by_rule, dict(Rule="r", EventBusName=bus)),
            (ev.list_rule_names_by_target, dict(TargetArn=sqs_arn("g"), EventBusName=bus)),
            (ev.describe_event_bus, dict(Name=bus)),
            (ev.create_archive, dict(ArchiveName="it-a-unknown", EventSourceArn=bus_arn(bus))),
            (ev.list_rules, dict(EventBusName=bus_arn(bus))),
        ]
        for fn, kw in calls:
            with self.subTest(op=fn.__name__):
                e = self.assertClientError("ResourceNotFoundException", fn, **kw)
                self.assertEqual(e.response["Error"]["Message"], msg)
        # a rule of the same name on the default bus does not answer for it
        self.make_rule("r", {"source": ["x"]}, [])
        self.assertClientError("ResourceNotFoundException", ev.describe_rule, Name="r",
                               EventBusName=bus)

    def test_rules_and_targets_on_a_custom_bus(self):
        self.make_bus("it-rt")
        arn = self.bus_rule("it-rt", "it-rt-rule", {"source": ["it.rt"]},
                            [{"Id": "g", "Arn": sqs_arn("it-rt-group")}])
        self.assertEqual(arn, f"arn:aws:events:{REGION}:{ACCOUNT}:rule/it-rt/it-rt-rule")
        d = self.events.describe_rule(Name="it-rt-rule", EventBusName=bus_arn("it-rt"))
        self.assertEqual(d["EventBusName"], "it-rt")
        self.assertEqual(d["Arn"], arn)
        self.assertEqual(d["State"], "ENABLED")
        # not on the default bus
        self.assertClientError("ResourceNotFoundException", self.events.describe_rule,
                               Name="it-rt-rule")
        self.assertNotIn("it-rt-rule", [r["Name"] for r in self.events.list_rules()["Rules"]])
        self.assertEqual([r["Name"] for r in
                          self.events.list_rules(EventBusName="it-rt")["Rules"]], ["it-rt-rule"])
        self.events.disable_rule(Name="it-rt-rule", EventBusName="it-rt")
        self.assertEqual(self.events.describe_rule(Name="it-rt-rule", EventBusName="it-rt")
                         ["State"], "DISABLED")
        self.events.enable_rule(Name="it-rt-rule", EventBusName="it-rt")
        t = self.events.list_targets_by_rule(Rule="it-rt-rule", EventBusName="it-rt")["Targets"]
        self.assertEqual([x["Id"] for x in t], ["g"])
        self.assertEqual(self.events.list_rule_names_by_target(
            TargetArn=sqs_arn("it-rt-group"), EventBusName="it-rt")["RuleNames"], ["it-rt-rule"])
        self.assertEqual(self.events.list_rule_names_by_target(
            TargetArn=sqs_arn("it-rt-group"))["RuleNames"], [])
        # a rule with targets is not deleted; its bus is, with the rule
        e = self.assertClientError("ValidationException", self.events.delete_rule,
                                   Name="it-rt-rule", EventBusName="it-rt")
        self.assertEqual(e.response["Error"]["Message"],
                         "Rule can't be deleted since it has targets.")
        # an event queued for the consumer group, never taken...
        self.put_event("it.rt", "Queued", {"n": 1}, EventBusName="it-rt")
        self.wait(lambda: self.health()["queue_depths"].get("it-rt-group") == 1,
                  "the consumer group's delivery")
        self.events.delete_event_bus(Name="it-rt")
        # ...goes with the bus and its rules
        self.assertEqual(self.health()["queue_depths"].get("it-rt-group", 0), 0)
        self.make_bus("it-rt")
        self.assertEqual(self.events.list_rules(EventBusName="it-rt")["Rules"], [])
        self.assertClientError("ResourceNotFoundException", self.events.describe_rule,
                               Name="it-rt-rule", EventBusName="it-rt")

    def test_events_reach_only_their_bus(self):
        rx = self.rx
        self.make_bus("it-iso")
        pattern = {"source": ["it.iso"]}
        self.bus_rule("it-iso", "it-iso", pattern, [{"Id": "hook", "Arn": rx.url("/iso-custom")}])
        self.make_rule("it-iso", pattern, [{"Id": "hook", "Arn": rx.url("/iso-default")}])
        seq0 = self.health()["last_sequence"]
        custom = [self.put_event("it.iso", "Custom", {"i": 1}, EventBusName="it-iso"),
                  self.put_event("it.iso", "Custom", {"i": 2}, EventBusName=bus_arn("it-iso"))]
        default = [self.put_event("it.iso", "Default", {"i": 3}),
                   self.put_event("it.iso", "Default", {"i": 4}, EventBusName="default")]
        self.wait(lambda: len(rx.ok("/iso-custom")) >= 2 and len(rx.ok("/iso-default")) >= 2,
                  "the deliveries on both buses")
        self.wait_quiet()
        got_custom = rx.ok("/iso-custom")
        got_default = rx.ok("/iso-default")
        self.assertEqual(sorted(e["id"] for e in got_custom), sorted(custom))
        self.assertEqual(sorted(e["id"] for e in got_default), sorted(default))
        self.assertEqual({e["detail-type"] for e in got_custom}, {"Custom"})
        self.assertEqual({e["detail-type"] for e in got_default}, {"Default"})
        self.assertEqual(self.health()["last_sequence"], seq0 + 4)
        # S3 changes stay on the default bus
        self.bus_rule("it-iso", "it-iso-s3", {"source": ["aws.s3"]},
                      [{"Id": "hook", "Arn": rx.url("/iso-custom-s3")}])
        self.make_rule("it-iso-s3", {"source": ["aws.s3"],
                                     "detail": {"object": {"key": ["iso/k.txt"]}}},
                       [{"Id": "hook", "Arn": rx.url("/iso-default-s3")}])
        self.s3.put_object(Bucket=RAW, Key="iso/k.txt", Body=b"k")
        self.wait(lambda: rx.ok("/iso-default-s3"), "the S3 event on the default bus")
        self.wait_quiet()
        self.assertEqual(rx.requests("/iso-custom-s3"), [])

    def test_put_events_to_an_unknown_bus(self):
        """As AWS (reference 5.4): the entry gets an EventId and is dropped."""
        rx = self.rx
        self.make_rule("it-unknown-bus", {"source": ["it.unknown-bus"]},
                       [{"Id": "hook", "Arn": rx.url("/unknown-bus")}])
        seq0 = self.health()["last_sequence"]
        r = self.events.put_events(Entries=[
            {"Source": "it.unknown-bus", "DetailType": "X", "Detail": "{}",
             "EventBusName": "it-never-created"},
            {"Source": "it.unknown-bus", "DetailType": "X", "Detail": "{}",
             "EventBusName": bus_arn("it-never-created")},
            {"Source": "it.unknown-bus", "DetailType": "X", "Detail": "{}"},
            {"DetailType": "X", "Detail": "{}", "EventBusName": "it-never-created"},
        ])
        self.assertEqual(r["FailedEntryCount"], 1, r)
        for e in r["Entries"][:3]:
            self.assertRegex(e.get("EventId", ""), UUID4_RE)
        self.assertEqual(r["Entries"][3]["ErrorCode"], "InvalidArgument")
        self.wait(lambda: rx.ok("/unknown-bus"), "the default bus's delivery")
        self.wait_quiet()
        self.assertEqual([e["id"] for e in rx.ok("/unknown-bus")], [r["Entries"][2]["EventId"]])
        # only the default bus's entry was journalled
        self.assertEqual(self.health()["last_sequence"], seq0 + 1)

    def test_archive_and_replay_of_a_custom_bus(self):
        rx = self.rx
        self.make_bus("it-arch")
        rule = self.bus_rule("it-arch", "it-arch", {"source": ["it.arch"]},
                             [{"Id": "hook", "Arn": rx.url("/arch")}])
        self.addCleanup(self.events.delete_archive, ArchiveName="it-arch-archive")
        t0 = time.time()
        a = self.events.create_archive(ArchiveName="it-arch-archive",
                                       EventSourceArn=bus_arn("it-arch"))
        d = self.events.describe_archive(ArchiveName="it-arch-archive")
        self.assertEqual(d["EventSourceArn"], bus_arn("it-arch"))
        eids = [self.put_event("it.arch", "A", {"i": i}, EventBusName="it-arch")
                for i in range(2)]
        self.put_event("it.arch", "OnDefault", {"i": 9})  # not archived: another bus
        self.wait(lambda: len(rx.ok("/arch")) >= 2, "the original deliveries")
        self.wait(lambda: self.events.describe_archive(ArchiveName="it-arch-archive")
                  .get("EventCount") == 2, "two archived events")
        start = datetime.datetime.fromtimestamp(int(t0) - 5, tz=datetime.timezone.utc)
        end = datetime.datetime.fromtimestamp(int(time.time()) + 2, tz=datetime.timezone.utc)
        e = self.assertClientError("ValidationException", self.events.start_replay,
                                   ReplayName="it-arch-cross", EventSourceArn=a["ArchiveArn"],
                                   EventStartTime=start, EventEndTime=end,
                                   Destination={"Arn": BUS_ARN})
        self.assertIn("Cross event bus replay is not permitted", e.response["Error"]["Message"])
        self.events.start_replay(ReplayName="it-arch-replay", EventSourceArn=a["ArchiveArn"],
                                 EventStartTime=start, EventEndTime=end,
                                 Destination={"Arn": bus_arn("it-arch"), "FilterArns": [rule]})
        self.wait(lambda: self.events.describe_replay(ReplayName="it-arch-replay")["State"]
                  == "COMPLETED", "the replay to complete")
        self.wait(lambda: len(rx.ok("/arch")) >= 4, "the replayed deliveries")
        self.wait_quiet()
        got = rx.ok("/arch")
        self.assertEqual(len(got), 4, got)
        replayed = [x for x in got if x.get("replay-name") == "it-arch-replay"]
        self.assertEqual(sorted(x["id"] for x in replayed), sorted(eids))
        # a deleted bus is not replayed to
        self.events.delete_event_bus(Name="it-arch")
        e = self.assertClientError("ResourceNotFoundException", self.events.start_replay,
                                   ReplayName="it-arch-gone", EventSourceArn=a["ArchiveArn"],
                                   EventStartTime=start, EventEndTime=end,
                                   Destination={"Arn": bus_arn("it-arch")})
        self.assertEqual(e.response["Error"]["Message"], "Event bus it-arch does not exist.")

    def test_dead_letters_of_a_custom_bus_redrive_to_its_rule(self):
        rx = self.rx
        self.make_bus("it-dl")
        dlq = sqs_arn("it-dl-dlq")
        target = {"Id": "hook", "Arn": rx.url("/dl-custom"),
                  "RetryPolicy": {"MaximumRetryAttempts": 0}, "DeadLetterConfig": {"Arn": dlq}}
        # the same rule and target names on both buses, only the custom one fails
        self.bus_rule("it-dl", "it-dl", {"source": ["it.dl"]}, [target])
        self.make_rule("it-dl", {"source": ["it.dl"]},
                       [dict(target, Arn=rx.url("/dl-default"))])
        rx.set_mode("/dl-custom", 400)
        eid = self.put_event("it.dl", "Dl", {}, EventBusName="it-dl")
        self.wait(lambda: len(self.dlq(dlq)) == 1, "the dead letter")
        attrs = self.dlq(dlq)[0]["MessageAttributes"]
        self.assertEqual(attrs["RULE_ARN"], f"arn:aws:events:{REGION}:{ACCOUNT}:rule/it-dl/it-dl")
        rx.set_mode("/dl-custom", 200)
        self.redrive(dlq)
        self.wait(lambda: rx.ok("/dl-custom"), "the redriven delivery")
        self.wait_quiet()
        self.assertEqual([e["id"] for e in rx.ok("/dl-custom")], [eid])
        self.assertEqual(rx.requests("/dl-default"), [])

    def test_aws_cli(self):
        r = self.aws("events", "create-event-bus", "--name", "it-cli-bus")
        self.addCleanup(self.drop_bus, "it-cli-bus")
        self.assertEqual(r["EventBusArn"], bus_arn("it-cli-bus"))
        r = self.aws("events", "list-event-buses", "--name-prefix", "it-cli")
        self.assertEqual([b["Name"] for b in r["EventBuses"]], ["it-cli-bus"])
        r = self.aws("events", "put-rule", "--name", "it-cli-rule", "--event-bus-name",
                     "it-cli-bus", "--event-pattern", '{"source":["it.cli"]}')
        self.assertEqual(r["RuleArn"], f"arn:aws:events:{REGION}:{ACCOUNT}:rule/it-cli-bus/"
                                       "it-cli-rule")
        r = self.aws("events", "describe-event-bus", "--name", "it-cli-bus")
        self.assertEqual(r["Name"], "it-cli-bus")
        self.aws("events", "delete-event-bus", "--name", "it-cli-bus")
        r = self.aws("events", "list-event-buses", "--name-prefix", "it-cli")
        self.assertEqual(r["EventBuses"], [])


class MiniWebSocket:
    """A WebSocket client for the live stream: JSON text messages out
    (masked), JSON text messages in; pings answered."""

    def __init__(self, port, timeout=DEADLINE_S):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /_bucketbridge/events?token={bbdaemon.SECRET_KEY} HTTP/1.1\r\n"
                           f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.pending = b""
        while b"\r\n\r\n" not in self.pending:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the upgrade")
            self.pending += chunk
        head, _, self.pending = self.pending.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])

    def _frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        size = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
        masked = bytes(c ^ mask[i & 3] for i, c in enumerate(payload))
        self.sock.sendall(bytes([0x80 | opcode]) + size + mask + masked)

    def send(self, msg):
        self._frame(0x1, json.dumps(msg).encode())

    def _take(self, n):
        while len(self.pending) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the daemon closed the WebSocket")
            self.pending += chunk
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def recv(self):
        while True:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._take(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._take(8))[0]
            payload = self._take(n)
            if b0 & 0x0F == 0x1:
                return json.loads(payload)
            if b0 & 0x0F == 0x9:
                self._frame(0xA, payload)
            elif b0 & 0x0F == 0x8:
                raise ConnectionError("the daemon closed the WebSocket")

    def recv_type(self, kind):
        while True:
            m = self.recv()
            if m.get("type") == kind:
                return m

    def close(self):
        self.sock.close()


class CustomBusStreamTest(BusTestCase):
    """The WebSocket live stream's "bus" field."""

    def ws(self):
        w = MiniWebSocket(self.d.port)
        self.addCleanup(w.close)
        self.assertEqual(w.status, 101)
        return w

    def test_a_live_stream_follows_one_bus(self):
        self.events.create_event_bus(Name="it-ws")
        self.addCleanup(lambda: self.events.delete_event_bus(Name="it-ws"))
        w = self.ws()
        w.send({"type": "subscribe", "id": "custom", "bus": "it-ws"})
        self.assertEqual(w.recv_type("subscribed")["bus"], "it-ws")
        w.send({"type": "subscribe", "id": "by-arn", "bus": bus_arn("it-ws")})
        self.assertEqual(w.recv_type("subscribed")["bus"], "it-ws")
        w.send({"type": "subscribe", "id": "default"})
        self.assertEqual(w.recv_type("subscribed")["bus"], "default")
        custom = [self.put_event("it.ws", "C", {"i": 1}, EventBusName="it-ws")]
        default = [self.put_event("it.ws", "D", {"i": 2})]
        custom.append(self.put_event("it.ws", "C", {"i": 3}, EventBusName=bus_arn("it-ws")))
        default.append(self.put_event("it.ws", "D", {"i": 4}, EventBusName="default"))
        got = {"custom": [], "by-arn": [], "default": []}
        want = {"custom": custom, "by-arn": custom, "default": default}
        while any(len(got[k]) < len(want[k]) for k in got):
            m = w.recv_type("event")
            got[m["sub"]].append(m["event"]["id"])
        self.assertEqual(got, want)
        # from the start of the journal: from the ring now, and after a
        # restart (an empty ring) from the journal's catch-up read
        for restart in (False, True):
            if restart:
                w.close()
                self.d.restart()
            w2 = self.ws()
            w2.send({"type": "subscribe", "id": "old", "bus": "it-ws", "from": "earliest"})
            w2.recv_type("subscribed")
            self.assertEqual([w2.recv_type("event")["event"]["id"] for _ in custom], custom)
            # nothing of the default bus comes in between: the next is this bus's
            last = self.put_event("it.ws", "C", {"i": 5}, EventBusName="it-ws")
            self.put_event("it.ws", "D", {"i": 6})
            self.assertEqual(w2.recv_type("event")["event"]["id"], last)
            custom.append(last)
            w2.close()

    def test_publish_goes_to_the_bus_an_entry_names(self):
        self.events.create_event_bus(Name="it-wspub")
        self.addCleanup(lambda: self.events.delete_event_bus(Name="it-wspub"))
        w = self.ws()
        w.send({"type": "subscribe", "id": "custom", "bus": "it-wspub"})
        w.recv_type("subscribed")
        w.send({"type": "subscribe", "id": "default"})
        w.recv_type("subscribed")
        entry = {"Source": "it.wspub", "DetailType": "P", "Detail": "{}"}
        w.send({"type": "publish", "ref": "p1", "entries": [
            dict(entry, EventBusName="it-wspub"),
            dict(entry, EventBusName=bus_arn("it-wspub")),
            dict(entry),
            dict(entry, EventBusName="it-wspub-nope")]})
        res = w.recv_type("published")["entries"]
        self.assertEqual(len(res), 4, res)
        for r in res:
            self.assertIn("EventId", r, res)  # an unknown bus too, as PutEvents
        got = {"custom": [], "default": []}
        while len(got["custom"]) < 2 or len(got["default"]) < 1:
            m = w.recv_type("event")
            got[m["sub"]].append(m["event"]["id"])
        self.assertEqual(got, {"custom": [res[0]["EventId"], res[1]["EventId"]],
                               "default": [res[2]["EventId"]]})
        # the entry for the unknown bus was dropped: journaled nowhere
        mark = self.put_event("it.wspub", "M", {"i": 1})
        self.assertEqual(w.recv_type("event")["event"]["id"], mark)
        # bucketbridge-cli events put --bus publishes the same way
        cli = os.environ.get("BB_CLI") or os.path.join(
            os.path.dirname(os.path.dirname(os.environ.get("BB_DAEMON", ""))), "consumers",
            "cli", "bucketbridge-cli")
        self.assertTrue(os.access(cli, os.X_OK), f"bucketbridge-cli not found at {cli}")
        r = subprocess.run([cli, "--endpoint", f"http://127.0.0.1:{self.d.port}", "--token",
                            bbdaemon.SECRET_KEY, "events", "put", "--source", "it.wspub",
                            "--detail-type", "CLI", "--detail", '{"n": 1}', "--bus", "it-wspub"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        cli_id = json.loads(r.stdout)["EventId"]
        m = w.recv_type("event")
        self.assertEqual((m["sub"], m["event"]["id"], m["event"]["detail-type"]),
                         ("custom", cli_id, "CLI"))

    def test_subscribe_to_an_unknown_bus_is_an_error(self):
        w = self.ws()
        w.send({"type": "subscribe", "id": "nope", "bus": "it-ws-nope"})
        e = w.recv_type("error")
        self.assertEqual(e["message"], "event bus it-ws-nope does not exist")
        self.assertEqual(e["ref"], "nope")
        w.send({"type": "subscribe", "id": "num", "bus": 7})
        e = w.recv_type("error")
        self.assertEqual(e["message"], '"bus" must be an event bus name or ARN')
        # the connection goes on
        w.send({"type": "subscribe", "id": "ok"})
        self.assertEqual(w.recv_type("subscribed")["id"], "ok")


def consumer_binary(env, *rel):
    """A consumer program: $env, else beside the daemon's build directory."""
    path = os.environ.get(env) or os.path.join(
        os.path.dirname(os.path.dirname(os.environ.get("BB_DAEMON", ""))), "consumers", *rel)
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{rel[-1]} not found at {path} (set {env})")
    return path


class Follower:
    """A child process whose stdout lines arrive through a queue, so that a
    read can time out instead of hanging the test."""

    def __init__(self, args):
        self.args = args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.err = []
        self.pumps = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put),
                                       daemon=True),
                      threading.Thread(target=self._pump, args=(self.proc.stderr, self.err.append),
                                       daemon=True)]
        for t in self.pumps:
            t.start()

    @staticmethod
    def _pump(f, put):
        for line in f:
            put(line)

    def event(self, timeout=DEADLINE_S):
        """The next line, parsed as one event."""
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            raise AssertionError(f"{self.args[0]}: no line within {timeout} s (exit "
                                 f"{self.proc.poll()}); stderr:\n{''.join(self.err)}") from None

    def stop(self):
        """SIGINT, then the exit status; every line it printed is queued by then."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        for t in self.pumps:
            t.join(timeout=DEADLINE_S)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc

    def leftover(self):
        out = []
        while not self.lines.empty():
            out.append(self.lines.get())
        return out


class CustomBusFollowTest(BusTestCase):
    """bucketbridge-cli events tail/wait --bus and bucketbridge-tail --bus
    against the daemon: only the named bus's events, a reconnect that stays
    on it, and an unknown bus that ends them with the daemon's message."""

    def cli(self, *args):
        return [consumer_binary("BB_CLI", "cli", "bucketbridge-cli"), "--endpoint",
                self.d.endpoint, "--token", bbdaemon.SECRET_KEY] + list(args)

    def tail(self, *args):
        return [consumer_binary("BB_TAIL", "bucketbridge-tail"), "--endpoint",
                f"ws://127.0.0.1:{self.d.port}", "--token", bbdaemon.SECRET_KEY] + list(args)

    def run_cli(self, *args, timeout=60):
        return subprocess.run(self.cli(*args), capture_output=True, text=True, timeout=timeout)

    def follow(self, args):
        f = Follower(args)
        self.addCleanup(f.stop)
        return f

    def make_bus(self, name):
        self.events.create_event_bus(Name=name)
        self.addCleanup(lambda: self.events.delete_event_bus(Name=name))

    def seq(self):
        r = self.run_cli("events", "seq")
        self.assertEqual(r.returncode, 0, r.stderr)
        return int(r.stdout)

    def test_cli_events_tail_follows_one_bus_across_a_reconnect(self):
        bus = "it-clitail"
        self.make_bus(bus)
        seq = self.seq()
        t = self.follow(self.cli("events", "tail", "--bus", bus, "--since", str(seq)))
        custom = [self.put_event("it.clitail", "C", {"i": 1}, EventBusName=bus)]
        self.put_event("it.clitail", "D", {"i": 2})
        custom.append(self.put_event("it.clitail", "C", {"i": 3}, EventBusName=bus_arn(bus)))
        got = [t.event() for _ in custom]
        self.assertEqual([e["id"] for e in got], custom)
        self.assertEqual({e["detail-type"] for e in got}, {"C"})
        # the daemon restarts on the same port: the cli reconnects and
        # subscribes to the same bus again, after the last event it printed
        self.d.restart(same_port=True)
        self._clients.clear()
        self.put_event("it.clitail", "D", {"i": 4})
        last = self.put_event("it.clitail", "C", {"i": 5}, EventBusName=bus)
        self.put_event("it.clitail", "D", {"i": 6})
        mark = self.put_event("it.clitail", "C", {"i": 7}, EventBusName=bus)
        after = [t.event(), t.event()]
        self.assertEqual([e["id"] for e in after], [last, mark], after)
        self.assertEqual(t.stop(), 0, "".join(t.err))
        self.assertEqual(t.leftover(), [])  # no repeats, nothing of the default bus

    def test_cli_events_wait_counts_only_its_bus(self):
        bus = "it-cliwait"
        self.make_bus(bus)
        seq = self.seq()
        c = self.put_event("it.cliwait", "C", {"i": 1}, EventBusName=bus)
        d = self.put_event("it.cliwait", "D", {"i": 2})
        r = self.run_cli("events", "wait", "--bus", bus, "--since", str(seq), "--pattern",
                         '{"source":["it.cliwait"]}')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([json.loads(x)["id"] for x in r.stdout.splitlines()], [c])
        # the default bus's event is not on it: a timeout that counts this
        # bus's events only
        r = self.run_cli("events", "wait", "--bus", bus_arn(bus), "--since", str(seq),
                         "--pattern", '{"detail-type":["D"]}', "--timeout", "1s")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn(f"timed out after 1.0 s with 0 of 1 matching event; 1 event since {seq} "
                      f"on bus {bus_arn(bus)}: 1 x \"C\" (it.cliwait)", r.stderr)
        # without --bus it is the default bus's
        r = self.run_cli("events", "wait", "--since", str(seq), "--pattern",
                         '{"source":["it.cliwait"]}')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([json.loads(x)["id"] for x in r.stdout.splitlines()], [d])

    def test_bucketbridge_tail_follows_one_bus(self):
        bus = "it-bbtail"
        self.make_bus(bus)
        seq = self.seq()
        t = self.follow(self.tail("--since", str(seq), "--bus", bus_arn(bus)))
        custom = [self.put_event("it.bbtail", "C", {"i": 1}, EventBusName=bus)]
        self.put_event("it.bbtail", "D", {"i": 2})
        custom.append(self.put_event("it.bbtail", "C", {"i": 3}, EventBusName=bus))
        self.put_event("it.bbtail", "D", {"i": 4})
        custom.append(self.put_event("it.bbtail", "C", {"i": 5}, EventBusName=bus))
        got = [t.event() for _ in custom]
        self.assertEqual([e["id"] for e in got], custom)
        self.assertEqual({e["detail-type"] for e in got}, {"C"})
        self.assertEqual(t.stop(), 0, "".join(t.err))
        self.assertEqual(t.leftover(), [])
        # --bus is for live streams only
        r = subprocess.run(self.tail("--group", "g", "--bus", bus), capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--bus", r.stderr)

    def test_an_unknown_bus_ends_them_with_the_daemon_message(self):
        bus = "it-follow-nope"
        msg = f"event bus {bus} does not exist"
        cases = [
            ("events tail", self.cli("events", "tail", "--bus", bus),
             f"bucketbridge-cli: events tail: the daemon refused: {msg}\n"),
            # at once, not after its 60 s timeout
            ("events wait", self.cli("events", "wait", "--pattern", "{}", "--timeout", "60s",
                                     "--bus", bus),
             f"bucketbridge-cli: events wait: the daemon refused: {msg}\n"),
            ("bucketbridge-tail", self.tail("--bus", bus),
             f"bucketbridge-tail: the daemon refused: {msg}\n"),
        ]
        for what, args, want in cases:
            with self.subTest(what):
                t0 = time.monotonic()
                r = subprocess.run(args, capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(want, r.stderr)
                self.assertEqual(r.stdout, "")
                self.assertLess(time.monotonic() - t0, 20.0)


class CustomBusRestartTest(BusTestCase):
    def test_buses_rules_and_targets_survive_a_restart(self):
        rx = self.rx
        ev = self.events
        ev.create_event_bus(Name="it-keep", Description="kept")
        ev.create_event_bus(Name="it-dropped")
        ev.put_rule(Name="it-keep-rule", EventBusName="it-keep",
                    EventPattern=json.dumps({"source": ["it.keep"]}), State="ENABLED")
        ev.put_targets(Rule="it-keep-rule", EventBusName="it-keep",
                       Targets=[{"Id": "hook", "Arn": rx.url("/keep")}])
        ev.delete_event_bus(Name="it-dropped")
        before = ev.describe_event_bus(Name="it-keep")
        self.d.restart()
        ev = self.events  # the new port
        after = ev.describe_event_bus(Name="it-keep")
        self.assertEqual(after["Arn"], bus_arn("it-keep"))
        self.assertEqual(after["Description"], "kept")
        self.assertEqual(after["CreationTime"], before["CreationTime"])
        names = [b["Name"] for b in ev.list_event_buses()["EventBuses"]]
        self.assertIn("it-keep", names)
        self.assertNotIn("it-dropped", names)
        r = ev.describe_rule(Name="it-keep-rule", EventBusName="it-keep")
        self.assertEqual(r["EventBusName"], "it-keep")
        self.assertEqual(json.loads(r["EventPattern"]), {"source": ["it.keep"]})
        t = ev.list_targets_by_rule(Rule="it-keep-rule", EventBusName="it-keep")["Targets"]
        self.assertEqual([(x["Id"], x["Arn"]) for x in t], [("hook", rx.url("/keep"))])
        eid = self.put_event("it.keep", "Kept", {}, EventBusName="it-keep")
        self.wait(lambda: rx.ok("/keep"), "the delivery after the restart")
        self.assertEqual([e["id"] for e in rx.ok("/keep")], [eid])


# ---- S3 events ---------------------------------------------------------------------
class S3EventsTest(BusTestCase):

    def s3_rule(self, name, prefix, path, bucket=None):
        detail = {"object": {"key": [{"prefix": prefix}]}}
        if bucket:
            detail["bucket"] = {"name": [bucket]}
        return self.make_rule(name, {"source": ["aws.s3"], "detail": detail},
                              [{"Id": "hook", "Arn": self.rx.url(path)}])

    def events_for(self, path, key=None, detail_type=None):
        out = []
        for e in self.rx.ok(path):
            if key is not None and e.get("detail", {}).get("object", {}).get("key") != key:
                continue
            if detail_type is not None and e.get("detail-type") != detail_type:
                continue
            out.append(e)
        return out

    def test_put_and_delete_event_shape(self):
        path = "/s3shape"
        self.s3_rule("it-s3-shape", "shape/", path, bucket=RAW)
        key, enc = "shape/red flower.jpg", "shape/red+flower.jpg"
        body = b"hello, world\n"
        t_before = int(time.time())
        r = self.s3.put_object(Bucket=RAW, Key=key, Body=body)
        t_after = time.time()
        rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
        (ev,) = self.wait(lambda: self.events_for(path, enc, "Object Created"), "Object Created")
        self.assertEqual(list(ev.keys()), ENVELOPE_KEYS, ev)
        self.assertEqual(ev["version"], "0")
        self.assertRegex(ev["id"], UUID4_RE)
        self.assertEqual(ev["detail-type"], "Object Created")
        self.assertEqual(ev["source"], "aws.s3")
        self.assertEqual(ev["account"], ACCOUNT)
        self.assertRegex(ev["time"], TIME_RE)
        self.assertTrue(t_before - 1 <= parse_time(ev["time"]) <= t_after + 1, ev["time"])
        self.assertEqual(ev["region"], REGION)
        self.assertEqual(ev["resources"], [f"arn:aws:s3:::{RAW}"])
        d = ev["detail"]
        self.assertEqual(list(d.keys()), ["version", "bucket", "object", "request-id",
                                          "requester", "source-ip-address", "reason"], d)
        self.assertEqual(d["version"], "0")
        self.assertEqual(d["bucket"], {"name": RAW})
        o = d["object"]
        self.assertEqual(list(o.keys()), ["key", "size", "etag", "sequencer"], o)
        self.assertEqual(o["key"], enc)
        self.assertIs(type(o["size"]), int)
        self.assertEqual(o["size"], len(body))
        self.assertEqual(o["etag"], hashlib.md5(body).hexdigest())
        self.assertEqual(r["ETag"], '"' + o["etag"] + '"')
        self.assertRegex(o["sequencer"], HEX_RE)
        self.assertEqual(d["request-id"], rid)
        self.assertEqual(d["requester"], ACCOUNT)
        self.assertEqual(d["source-ip-address"], "127.0.0.1")
        self.assertEqual(d["reason"], "PutObject")

        r = self.s3.delete_object(Bucket=RAW, Key=key)
        rid2 = r["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
        (dv,) = self.wait(lambda: self.events_for(path, enc, "Object Deleted"), "Object Deleted")
        self.assertEqual(list(dv.keys()), ENVELOPE_KEYS, dv)
        self.assertRegex(dv["id"], UUID4_RE)
        self.assertNotEqual(dv["id"], ev["id"])
        self.assertEqual(dv["source"], "aws.s3")
        self.assertEqual(dv["resources"], [f"arn:aws:s3:::{RAW}"])
        dd = dv["detail"]
        self.assertEqual(set(dd["object"]), {"key", "sequencer"}, dd)
        self.assertEqual(dd["object"]["key"], enc)
        self.assertGreater(seq_key(dd["object"]["sequencer"]), seq_key(o["sequencer"]))
        self.assertEqual(dd["reason"], "DeleteObject")
        self.assertEqual(dd["deletion-type"], "Permanently Deleted")
        self.assertEqual(dd["request-id"], rid2)
        self.assertEqual(dd["requester"], ACCOUNT)
        self.assertEqual(dd["source-ip-address"], "127.0.0.1")
        # exactly one event per request
        self.wait_quiet()
        self.assertEqual(len(self.events_for(path, enc)), 2, self.events_for(path))

    def test_delete_objects_one_event_per_key(self):
        path = "/s3multi"
        self.s3_rule("it-s3-multi", "multi/", path, bucket=RAW)
        keys = ["multi/a.txt", "multi/b c.txt", "multi/d.txt"]
        for k in keys:
            self.s3.put_object(Bucket=RAW, Key=k, Body=k.encode())
        self.wait(lambda: len(self.events_for(path, detail_type="Object Created")) >= 3,
                  "three Object Created")
        r = self.s3.delete_objects(Bucket=RAW, Delete={"Objects": [{"Key": k} for k in keys]})
        self.assertEqual(sorted(x["Key"] for x in r.get("Deleted", [])), sorted(keys), r)
        rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
        self.wait(lambda: len(self.events_for(path, detail_type="Object Deleted")) >= 3,
                  "three Object Deleted")
        self.wait_quiet()
        dels = self.events_for(path, detail_type="Object Deleted")
        self.assertEqual(sorted(e["detail"]["object"]["key"] for e in dels),
                         sorted(k.replace(" ", "+") for k in keys), dels)
        for e in dels:
            self.assertEqual(e["detail"]["reason"], "DeleteObject")
            self.assertEqual(e["detail"]["deletion-type"], "Permanently Deleted")
            self.assertEqual(e["detail"]["request-id"], rid)
        self.assertEqual(len({e["id"] for e in dels}), 3)
        self.assertEqual(len(self.events_for(path, detail_type="Object Created")), 3)

    def test_failed_put_publishes_nothing(self):
        path = "/s3bad"
        self.s3_rule("it-s3-bad", "badmd5/", path, bucket=RAW)
        seq0 = self.health()["last_sequence"]
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        with self.assertRaises(ClientError) as cm:
            self.s3.put_object(Bucket=RAW, Key="badmd5/bad.txt", Body=b"payload",
                               ContentMD5=wrong)
        self.assertEqual(cm.exception.response["Error"]["Code"], "BadDigest")
        self.s3.put_object(Bucket=RAW, Key="badmd5/sentinel.txt", Body=b"ok")
        self.wait(lambda: self.events_for(path, "badmd5/sentinel.txt"), "the sentinel's event")
        self.wait_quiet()
        self.assertEqual(self.events_for(path, "badmd5/bad.txt"), [])
        self.assertEqual(len(self.rx.ok(path)), 1, self.rx.ok(path))
        self.assertEqual(self.health()["last_sequence"], seq0 + 1,
                         "only the sentinel's event was journalled")

    def test_sequencer_increases_per_key(self):
        path = "/s3seq"
        self.s3_rule("it-s3-seq", "seq/", path, bucket=RAW)
        bodies = [b"1", b"22", b"333", b"4444"]
        for b in bodies:
            self.s3.put_object(Bucket=RAW, Key="seq/k", Body=b)
        self.wait(lambda: len(self.events_for(path, "seq/k")) >= len(bodies), "four events")
        self.wait_quiet()
        evs = self.events_for(path, "seq/k")
        self.assertEqual(len(evs), len(bodies), evs)
        by_etag = {e["detail"]["object"]["etag"]: e["detail"]["object"]["sequencer"] for e in evs}
        seqs = [by_etag[hashlib.md5(b).hexdigest()] for b in bodies]
        for s in seqs:
            self.assertRegex(s, HEX_RE)
        self.assertEqual(seqs, sorted(seqs, key=seq_key), seqs)
        self.assertEqual(len(set(map(seq_key, seqs))), len(seqs), seqs)
        self.s3.delete_object(Bucket=RAW, Key="seq/k")
        (dv,) = self.wait(lambda: self.events_for(path, "seq/k", "Object Deleted"), "the delete")
        self.assertGreater(seq_key(dv["detail"]["object"]["sequencer"]), seq_key(seqs[-1]))

    def test_aws_cli_upload_reaches_webhook_and_commands(self):
        webhook = f"arn:aws:events:{REGION}:{ACCOUNT}:api-destination/hook-s3cli"
        self.make_rule("it-s3-cli", {"source": ["aws.s3"], "detail-type": ["Object Created"],
                                     "detail": {"bucket": {"name": [RAW]},
                                                "object": {"key": [{"prefix": "cli/"}]}}},
                       [{"Id": "hook", "Arn": webhook},
                        {"Id": "cmd", "Arn": lambda_arn("cmd-s3")},
                        {"Id": "sh", "Arn": lambda_arn("cmd-sh")}])
        work = tempfile.mkdtemp(prefix="bb-it-up-")
        self.addCleanup(shutil.rmtree, work, True)
        src = os.path.join(work, "upload.bin")
        data = os.urandom(3000)
        with open(src, "wb") as f:
            f.write(data)
        self.aws("s3", "cp", src, f"s3://{RAW}/cli/red flower.jpg")
        enc = "cli/red+flower.jpg"
        (ev,) = self.wait(lambda: self.events_for("/s3cli", enc), "the webhook's event")
        self.assertEqual(ev["source"], "aws.s3")
        self.assertEqual(ev["detail-type"], "Object Created")
        self.assertEqual(ev["detail"]["object"]["size"], len(data))
        self.assertEqual(ev["detail"]["object"]["etag"], hashlib.md5(data).hexdigest())
        self.assertEqual(ev["detail"]["reason"], "PutObject")
        self.wait(lambda: self.cmds.ok_events("cmd-s3"), "the command's event")

        def sh_events():
            try:
                with open(self.cmds.path("sh.out")) as f:
                    return [json.loads(x) for x in f.read().splitlines() if x.strip()]
            except (FileNotFoundError, ValueError):
                return []
        self.wait(sh_events, "the shell command's event")
        self.wait_quiet()
        self.assertEqual([e["id"] for e in self.cmds.ok_events("cmd-s3")], [ev["id"]])
        rec = self.cmds.records("cmd-s3")[0]
        self.assertEqual((rec["target"], rec["function"]), ("cmd", "cmd-s3"))
        self.assertEqual([e["id"] for e in sh_events()], [ev["id"]])
        self.assertEqual(len(self.events_for("/s3cli", enc)), 1)

    def test_notification_configuration_eventbridge(self):
        for b in bbdaemon.DEFAULT_BUCKETS:
            c = self.s3.get_bucket_notification_configuration(Bucket=b)
            self.assertIn("EventBridgeConfiguration", c, (b, c))
        path = "/s3toggle"
        self.s3_rule("it-s3-toggle", "toggle/", path)
        self.s3.put_bucket_notification_configuration(Bucket=THUMBS,
                                                      NotificationConfiguration={})
        self.addCleanup(self.s3.put_bucket_notification_configuration, Bucket=THUMBS,
                        NotificationConfiguration={"EventBridgeConfiguration": {}})
        c = self.s3.get_bucket_notification_configuration(Bucket=THUMBS)
        self.assertNotIn("EventBridgeConfiguration", c, c)
        self.s3.put_object(Bucket=THUMBS, Key="toggle/off.txt", Body=b"off")
        self.s3.put_object(Bucket=RAW, Key="toggle/witness.txt", Body=b"w")
        self.wait(lambda: self.events_for(path, "toggle/witness.txt"), "the witness event")
        self.wait_quiet()
        self.assertEqual(self.events_for(path, "toggle/off.txt"), [])
        # back on
        self.s3.put_bucket_notification_configuration(
            Bucket=THUMBS, NotificationConfiguration={"EventBridgeConfiguration": {}})
        self.assertIn("EventBridgeConfiguration",
                      self.s3.get_bucket_notification_configuration(Bucket=THUMBS))
        self.s3.put_object(Bucket=THUMBS, Key="toggle/on.txt", Body=b"on")
        (ev,) = self.wait(lambda: self.events_for(path, "toggle/on.txt"), "the event once on")
        self.assertEqual(ev["detail"]["bucket"]["name"], THUMBS)
        self.assertEqual(ev["resources"], [f"arn:aws:s3:::{THUMBS}"])
        self.wait_quiet()
        self.assertEqual(self.events_for(path, "toggle/off.txt"), [])

    def test_classic_topic_notification(self):
        """NEEDS_MATCHER for the last assertion (the prefix filter)."""
        topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:hook-classic"
        cfg = {"TopicConfigurations": [{
            "Id": "it-classic", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "classic/"}]}}}],
            "EventBridgeConfiguration": {}}
        self.s3.put_bucket_notification_configuration(Bucket=RAW, NotificationConfiguration=cfg)
        self.addCleanup(self.s3.put_bucket_notification_configuration, Bucket=RAW,
                        NotificationConfiguration={"EventBridgeConfiguration": {}})
        got = self.s3.get_bucket_notification_configuration(Bucket=RAW)
        self.assertIn("EventBridgeConfiguration", got)
        (tc,) = got["TopicConfigurations"]
        self.assertEqual((tc["TopicArn"], tc["Events"]), (topic, ["s3:ObjectCreated:*"]))
        self.wait(lambda: [m for m in self.rx.ok("/classic") if m.get("Event") == "s3:TestEvent"],
                  "s3:TestEvent")
        test = [m for m in self.rx.ok("/classic") if m.get("Event") == "s3:TestEvent"][0]
        self.assertEqual((test["Service"], test["Bucket"]), ("Amazon S3", RAW))
        r = self.s3.put_object(Bucket=RAW, Key="classic/red flower.jpg", Body=b"petals")
        rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
        self.s3.put_object(Bucket=RAW, Key="elsewhere/x.txt", Body=b"x")

        def records():
            return [m["Records"][0] for m in self.rx.ok("/classic") if "Records" in m]
        self.wait(lambda: [x for x in records()
                           if x["s3"]["object"]["key"] == "classic/red+flower.jpg"],
                  "the Records[] message")
        self.wait_quiet()
        rec = [x for x in records() if x["s3"]["object"]["key"] == "classic/red+flower.jpg"][0]
        self.assertEqual(rec["eventSource"], "aws:s3")
        self.assertEqual(rec["eventName"], "ObjectCreated:Put")
        self.assertEqual(rec["awsRegion"], REGION)
        self.assertEqual(rec["s3"]["bucket"]["name"], RAW)
        self.assertEqual(rec["s3"]["bucket"]["arn"], f"arn:aws:s3:::{RAW}")
        self.assertEqual(rec["s3"]["object"]["size"], 6)
        self.assertEqual(rec["s3"]["object"]["eTag"], hashlib.md5(b"petals").hexdigest())
        self.assertEqual(rec["responseElements"]["x-amz-request-id"], rid)
        with self.subTest("configurationId is the configuration's Id (reference 2.1)"):
            self.assertEqual(rec["s3"]["configurationId"], "it-classic")
        with self.subTest("NEEDS_MATCHER: the prefix filter"):
            self.assertEqual([x["s3"]["object"]["key"] for x in records()],
                             ["classic/red+flower.jpg"],
                             "the prefix filter let another key through")


# ---- crash recovery -----------------------------------------------------------------
class CrashRecoveryTest(BusTestCase):
    N_API = 30
    N_S3 = 5

    def test_sigkill_with_events_in_flight(self):
        path = "/crash"
        self.rx.set_mode(path, 503)
        fail_flag = self.cmds.path("crash.fail")
        with open(fail_flag, "w"):
            pass
        crash_dir = self.cmds.path("crash.d")

        def cmd_ok_ids():
            out = set()
            for n in os.listdir(crash_dir):
                try:
                    with open(os.path.join(crash_dir, n)) as f:
                        out.add(json.loads(f.read())["id"])
                except (OSError, ValueError, KeyError):
                    pass
            return out
        self.make_rule("it-crash", {"source": ["it.crash"]},
                       [{"Id": "hook", "Arn": self.rx.url(path)},
                        {"Id": "cmd", "Arn": lambda_arn("cmd-crash")}])
        self.make_rule("it-crash-s3", {"source": ["aws.s3"],
                                       "detail": {"object": {"key": [{"prefix": "crash/"}]}}},
                       [{"Id": "hook", "Arn": self.rx.url(path)}])
        eids = []
        for b in range(self.N_API // 10):
            r = self.events.put_events(Entries=[
                {"Source": "it.crash", "DetailType": "Crash",
                 "Detail": json.dumps({"b": b, "i": i})}
                for i in range(10)])
            self.assertEqual(r["FailedEntryCount"], 0, r)
            eids += [e["EventId"] for e in r["Entries"]]
        keys = [f"crash/k{i}.txt" for i in range(self.N_S3)]
        for k in keys:
            self.s3.put_object(Bucket=RAW, Key=k, Body=k.encode())
        # deliveries are being attempted and failing...
        self.wait(lambda: len(self.rx.requests(path)) >= self.N_API + self.N_S3,
                  "failing attempts")
        # ...then the webhook stops answering: requests are in flight
        self.rx.hold(path)
        self.wait(lambda: any(h.status == "held" for h in self.rx.requests(path)),
                  "a request in flight")
        h = self.health()
        self.assertGreaterEqual(h["pending_deliveries"], self.N_API * 2 + self.N_S3, h)
        self.d.kill()
        self.rx.release(path)
        self.rx.set_mode(path, 200)
        os.unlink(fail_flag)
        self.d.start()

        def delivered():
            ids = {e.get("id") for e in self.rx.ok(path)}
            s3keys = {e["detail"]["object"]["key"] for e in self.rx.ok(path)
                      if e.get("source") == "aws.s3"}
            return set(eids) <= ids and set(keys) <= s3keys and set(eids) <= cmd_ok_ids()
        self.wait(delivered, "every event after the restart", timeout=40)
        self.wait_quiet(40)
        bad = [h for h in self.rx.requests(path) if h.complete and "__unparsable__" in h.json()]
        self.assertEqual(bad, [], "webhook requests whose body is not the event")
        h = self.health()
        self.assertEqual(h["dead_letters"], 0, h)
        self.assertEqual(h["deliveries"]["dropped"], 0, h)


if __name__ == "__main__":
    bbdaemon.main()
