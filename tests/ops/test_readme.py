# SPDX-License-Identifier: MIT
"""ops/readme: the commands in README.md, extracted and run, so the README
cannot rot.

Every code block of README.md (fenced or indented) must be preceded by a
marker comment, invisible when the Markdown is rendered:

  <!-- readme-test: run -->             shell commands, run (bash)
  <!-- readme-test: run retry=N -->     the same, retried for up to N s until
                                        they succeed (eventually consistent
                                        results, like a consumer's log)
  <!-- readme-test: run python -->      a Python program, run with python3
  <!-- readme-test: run node -->        a JavaScript module, run with node
  <!-- readme-test: file NAME -->       written to NAME (used by later blocks)
  <!-- readme-test: skip: REASON -->    not run, for the reason given
  <!-- readme-test: text -->            not a command (output, a synopsis)

A block without a marker fails the test, so a new command cannot be added
untested by accident. The blocks run in README order in one bash session
(`set -euo pipefail`; exports carry over, as in a reader's terminal), in a
scratch directory that looks like the checkout: `fixtures`, `scripts`,
`docs` and `tests` link to the source tree, `build` to the build tree under
test, `node_modules` to tests/integration/js/node_modules, and `photo.jpg`
is a fixture image (the reader's own photo). Before the first block, the
test starts the built daemon there as scripts/run.sh does (`bucketbridge`
with the embedded configuration, data in ./data), except on a
kernel-picked port. Rewritten in every block, and nothing else:
`127.0.0.1:4566` becomes that daemon's address, `127.0.0.1:9000` a free
port, and `/tmp/` a private directory; `BUCKETBRIDGE_ENDPOINT` is set to the
daemon (bucketbridge-cli's default is 127.0.0.1:4566). Processes the blocks
leave running in the background are stopped at the end (the session's
process group).

Usage: test_readme.py --readme README.md --source-dir DIR --build-dir DIR
       --daemon PATH
Standard library only.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

MARKER = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)\s*$")
READY_S = 60.0
SESSION_S = 600.0


class Block:
    def __init__(self, line, text, lang, marker):
        self.line = line  # 1-based line of the block's first line in README.md
        self.text = text
        self.lang = lang
        self.marker = marker  # the marker's text, or None


def parse_blocks(lines):
    """Fenced and indented code blocks, each with the marker before it."""
    blocks = []
    pending = None  # (marker text, line) waiting for its block
    in_fence = None
    buf = []
    start = lang = None
    prev_blank = True
    i = 0
    while i < len(lines):
        ln = lines[i]
        if in_fence is not None:
            if ln.strip().startswith(in_fence) and ln.strip().strip(in_fence[0]) == "":
                blocks.append(Block(start, "\n".join(buf) + "\n", lang, pending))
                pending, in_fence, buf = None, None, []
                prev_blank = False
            else:
                buf.append(ln)
            i += 1
            continue
        m = MARKER.match(ln)
        if m:
            pending = m.group(1)
            i += 1
            continue
        f = FENCE.match(ln)
        if f:
            in_fence, lang, start, buf = f.group(1), f.group(2), i + 2, []
            i += 1
            continue
        if ln.startswith("    ") and ln.strip() and prev_blank:
            start = i + 1
            buf = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                buf.append(lines[i][4:] if lines[i].strip() else "")
                i += 1
            while buf and not buf[-1]:
                buf.pop()
            blocks.append(Block(start, "\n".join(buf) + "\n", "", pending))
            pending = None
            prev_blank = False
            continue
        if ln.strip() and pending is not None and not ln.startswith("<!--"):
            # a marker must be followed by its block (blank lines allowed)
            blocks.append(Block(i + 1, "", "", "dangling:" + pending))
            pending = None
        prev_blank = not ln.strip()
        i += 1
    return blocks


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--daemon", required=True)
    args = ap.parse_args()
    args.daemon = os.path.realpath(args.daemon)

    with open(args.readme, encoding="utf-8") as f:
        blocks = parse_blocks(f.read().splitlines())

    # every block is marked, every marker is known
    bad = []
    plan = []
    for b in blocks:
        mk = b.marker
        if mk is None:
            bad.append(f"README.md:{b.line}: code block without a readme-test marker")
            continue
        if mk.startswith("dangling:"):
            bad.append(f"README.md:{b.line}: marker '{mk[9:]}' is not followed by a code block")
            continue
        words = mk.split()
        kind = words[0].rstrip(":")
        if kind == "skip":
            if len(mk) <= len("skip:") + 2:
                bad.append(f"README.md:{b.line}: skip without a reason")
            print(f"README.md:{b.line}: skipped ({mk[5:].strip(': ')})")
            continue
        if kind == "text":
            continue
        if kind == "file" and len(words) == 2 and re.fullmatch(r"[\w.-]+", words[1]):
            plan.append(("file", words[1], b))
        elif kind == "run":
            opts = words[1:]
            retry = 0
            how = "sh"
            for o in opts:
                if o.startswith("retry="):
                    retry = int(o[6:])
                elif o in ("python", "node"):
                    how = o
                else:
                    bad.append(f"README.md:{b.line}: unknown run option {o}")
            plan.append(("run", (how, retry), b))
        else:
            bad.append(f"README.md:{b.line}: unknown marker '{mk}'")
    if bad:
        for x in bad:
            print("FAIL:", x)
        return 1
    if not any(p[0] == "run" for p in plan):
        print("FAIL: no README block is marked to run")
        return 1

    for tool in ("aws", "jq", "node"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} is not installed (scripts/setup.sh installs it)")
            return 77

    work = tempfile.mkdtemp(prefix="bb-ops-readme-")
    tmp = os.path.join(work, "tmp")
    os.mkdir(tmp)
    src = os.path.realpath(args.source_dir)
    for name in ("fixtures", "scripts", "docs", "tests"):
        os.symlink(os.path.join(src, name), os.path.join(work, name))
    os.symlink(os.path.realpath(args.build_dir), os.path.join(work, "build"))
    nm = os.path.join(src, "tests", "integration", "js", "node_modules")
    if not os.path.isdir(os.path.join(nm, "@aws-sdk", "client-s3")):
        print(f"FAIL: {nm} lacks @aws-sdk/client-s3 (scripts/setup.sh runs npm install)")
        return 1
    os.symlink(nm, os.path.join(work, "node_modules"))
    shutil.copy(os.path.join(src, "fixtures", "images", "photo-320x240.jpg"),
                os.path.join(work, "photo.jpg"))

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "BUCKETBRIDGE_", "BB_"))}
    env.update(HOME=work, TMPDIR=tmp, LC_ALL="C.UTF-8", BB_LOG_LEVEL="info")

    # the daemon of scripts/run.sh: embedded configuration, ./data, here on a
    # kernel-picked port
    ready = os.path.join(work, "run-ready.json")
    dlog = open(os.path.join(work, "daemon.log"), "wb")
    daemon = subprocess.Popen([args.daemon, "--listen", "127.0.0.1:0", "--ready-file", ready],
                              cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=dlog,
                              stderr=subprocess.STDOUT)
    session = None
    rc = 1
    try:
        def is_ready():
            if daemon.poll() is not None:
                raise RuntimeError("the daemon exited before it was ready")
            try:
                with open(ready) as f:
                    return json.load(f)
            except (OSError, ValueError):
                return None

        info = wait_for(is_ready, READY_S)
        if not info:
            raise RuntimeError("the daemon did not become ready")
        port = info["port"]
        hook_port = free_port()
        env["BUCKETBRIDGE_ENDPOINT"] = f"http://127.0.0.1:{port}"

        def rewrite(text):
            text = text.replace("127.0.0.1:4566", f"127.0.0.1:{port}")
            text = text.replace("127.0.0.1:9000", f"127.0.0.1:{hook_port}")
            return text.replace("/tmp/", tmp + "/")

        script = ["set -euo pipefail", f"cd {shlex.quote(work)}"]
        for n, (kind, arg, b) in enumerate(plan):
            body = rewrite(b.text)
            if kind == "file":
                with open(os.path.join(work, arg), "w") as f:
                    f.write(body)
                continue
            how, retry = arg
            if how != "sh":
                ext = ".py" if how == "python" else ".mjs"
                path = os.path.join(work, f"readme-block-{b.line}{ext}")
                with open(path, "w") as f:
                    f.write(body)
                body = ("python3 " if how == "python" else "node ") + shlex.quote(path) + "\n"
            tag = f"{how}, retry {retry} s" if retry else how
            script.append(f'echo "### README.md:{b.line} ({tag}) at ${{SECONDS}} s"')
            if retry:
                script.append(f"readme_block_{n}() {{\n{body}}}")
                script.append(
                    f"_deadline=$((SECONDS + {retry}))\n"
                    f"until ( readme_block_{n} ); do\n"
                    f"  if [ $SECONDS -ge $_deadline ]; then echo 'FAIL: README.md:{b.line} "
                    f"did not succeed within {retry} s' >&2; exit 1; fi\n"
                    f"  sleep 1\ndone")
            else:
                script.append(f"_bb_block={b.line}")
                script.append(body)
        script.append("echo '### all README blocks ran'")
        script_path = os.path.join(work, "readme-session.sh")
        with open(script_path, "w") as f:
            f.write("trap 'echo \"FAIL: README.md block at line ${_bb_block:-?} failed "
                    "(exit $?)\" >&2' ERR\n")
            f.write("\n".join(script) + "\n")
        print(f"running {sum(1 for p in plan if p[0] == 'run')} README blocks against "
              f"the daemon on 127.0.0.1:{port} in {work}", flush=True)
        session = subprocess.Popen(["bash", script_path], cwd=work, env=env,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            src_rc = session.wait(SESSION_S)
        except subprocess.TimeoutExpired:
            print(f"FAIL: the README session did not finish within {SESSION_S} s")
            src_rc = -1
        rc = 0 if src_rc == 0 else 1
    except RuntimeError as e:
        print("FAIL:", e)
        rc = 1
    finally:
        if session is not None:
            try:
                os.killpg(session.pid, signal.SIGTERM)  # what the blocks left running
            except ProcessLookupError:
                pass
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
                print("FAIL: the daemon did not stop on SIGTERM")
                rc = 1
        dlog.close()
        with open(os.path.join(work, "daemon.log"), errors="replace") as f:
            log = f.read()
        if rc != 0:
            print("----- daemon log (tail) -----\n" + log[-8000:])
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log:
            print("FAIL: sanitizer report in the daemon log")
            rc = 1
        if os.environ.get("BB_OPS_KEEP") == "1":
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
