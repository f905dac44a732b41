#!/bin/sh
# SPDX-License-Identifier: MIT
# Example (docs/testing.md): a CI test in plain sh. Start an ephemeral
# bucketbridge, upload an image with the aws CLI, wait for the thumbnail
# consumer's "Thumbnail Created" event instead of sleeping, then reset.
#
# Run by ctest as integration/examples/shell with BB_DAEMON and BB_CLI set
# (paths into the build tree); in your own CI both are simply on PATH.
# Exits 77 (skip) when a tool is missing.
set -eu

BUCKETBRIDGE=${BB_DAEMON:-bucketbridge}
CLI=${BB_CLI:-bucketbridge-cli}
HERE=$(cd "$(dirname "$0")" && pwd)
IMAGE=${BB_EXAMPLE_IMAGE:-$HERE/../../../fixtures/images/photo-320x240.jpg}

for tool in "$BUCKETBRIDGE" "$CLI" aws; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed"
        exit 77
    fi
done

work=$(mktemp -d)
ready=$work/bucketbridge.json
# --ephemeral: a fresh temporary data dir and a kernel-picked port;
# --ready-file: one JSON line (endpoint, token, keys) once it serves
"$BUCKETBRIDGE" --ephemeral --ready-file "$ready" 2>"$work/daemon.log" &
daemon=$!
cleanup() {
    kill "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Every bucketbridge-cli call below reads endpoint and token from here (and
# waits for the file to appear, so there is no start-up race).
export BUCKETBRIDGE_READY_FILE="$ready"
"$CLI" status >/dev/null || { cat "$work/daemon.log" >&2; exit 1; }
endpoint=$(sed -n 's/.*"endpoint":"\([^"]*\)".*/\1/p' "$ready") # or: jq -r .endpoint

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1

# The test itself: upload, then wait for the pipeline's result. A fresh
# daemon (or one just reset) has an empty journal, so the default
# --since earliest sees exactly this test's events.
aws --endpoint-url "$endpoint" s3 cp "$IMAGE" s3://my-raw-images/cat.jpg --only-show-errors
"$CLI" events wait --timeout 60s --pattern '{
    "source": ["bucketbridge.thumbnail"],
    "detail-type": ["Thumbnail Created"],
    "detail": {"key": ["cat.jpg"]}
}' >"$work/created.json"
echo "got: $(cat "$work/created.json")"
aws --endpoint-url "$endpoint" s3 ls s3://my-thumbnails/cat.jpg >/dev/null

# Between tests: back to the configured buckets, journal and queues empty.
"$CLI" reset
if aws --endpoint-url "$endpoint" s3 ls s3://my-raw-images/cat.jpg >/dev/null 2>&1; then
    echo "FAIL: cat.jpg survived the reset" >&2
    exit 1
fi

# After the reset the old upload is gone from the journal too: a wait for it
# times out (exit 1) and says what it saw instead.
if "$CLI" events wait --timeout 1s --pattern '{"detail-type": ["Thumbnail Created"]}'; then
    echo "FAIL: an event from before the reset was seen" >&2
    exit 1
fi
echo "PASS"
