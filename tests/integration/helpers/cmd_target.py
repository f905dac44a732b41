# SPDX-License-Identifier: MIT
"""Command target for test_eventbus.py (configured as a bucketbridge
"functions" entry): cmd_target.py STATE_DIR NAME

Reads the payload from stdin and appends one JSON line to
STATE_DIR/NAME.jsonl: {"body", "exit", "delivery", "target", "function"}.
The exit status comes from STATE_DIR/NAME.fail:
  missing or empty or "0"  -> exit 0 (ack)
  a number N > 0           -> exit 1 and write N-1 back (fail N times)
  "always"                 -> exit 1
Invocations are serialised with flock on STATE_DIR/NAME.lock.
"""

import fcntl
import json
import os
import sys


def main():
    state_dir, name = sys.argv[1], sys.argv[2]
    body = sys.stdin.buffer.read().decode("utf-8", "replace")
    with open(os.path.join(state_dir, name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fail_path = os.path.join(state_dir, name + ".fail")
        try:
            with open(fail_path) as f:
                spec = f.read().strip()
        except FileNotFoundError:
            spec = ""
        fail = False
        if spec == "always":
            fail = True
        elif spec.isdigit() and int(spec) > 0:
            fail = True
            with open(fail_path + ".new", "w") as f:
                f.write(str(int(spec) - 1))
            os.replace(fail_path + ".new", fail_path)
        rec = {
            "body": body,
            "exit": 1 if fail else 0,
            "delivery": os.environ.get("BUCKETBRIDGE_DELIVERY_ID"),
            "target": os.environ.get("BUCKETBRIDGE_TARGET"),
            "function": os.environ.get("BUCKETBRIDGE_FUNCTION"),
        }
        with open(os.path.join(state_dir, name + ".jsonl"), "a") as f:
            f.write(json.dumps(rec) + "\n")
    sys.exit(1 if fail else 0)


if __name__ == "__main__":
    main()
