#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/durability.sh: what --durability full costs against fast. Starts
# bucketbridge --ephemeral --no-consumers once per run and mode (a fresh data
# dir in $TMPDIR, so on that file system), measures with bb_loadgen, and
# alternates the modes so both see the same machine. Prints one JSON line per
# run and then a Markdown table of medians. Only the daemons it started are
# stopped, by PID. See bench/README.md.
#
# Variables (defaults in brackets):
#   BUILD_DIR [build]          where emulator/bucketbridge and bench/bb_loadgen are
#   BENCH_SECONDS [5]          seconds per measured run
#   BENCH_REPEATS [3]          runs per mode and scenario; medians are reported
#   BENCH_SCENARIOS ["put-4k-c1 put-4k-c4 put-1m-c4 putevents-c4"]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$root/build}
daemon=$build/emulator/bucketbridge
loadgen=$build/bench/bb_loadgen
seconds=${BENCH_SECONDS:-5}
repeats=${BENCH_REPEATS:-3}
scenarios=${BENCH_SCENARIOS:-put-4k-c1 put-4k-c4 put-1m-c4 putevents-c4}

for bin in "$daemon" "$loadgen"; do
    [ -x "$bin" ] || { echo "durability.sh: $bin not built" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "durability.sh: jq is needed" >&2; exit 1; }

work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

start() { # $1 = fast|full; sets pid and endpoint
    rm -f "$work/ready.json"
    "$daemon" --ephemeral --no-consumers --log-level warn --durability "$1" \
        --ready-file "$work/ready.json" 2>>"$work/daemon.log" &
    pid=$!
    for _ in $(seq 1 500); do
        [ -s "$work/ready.json" ] && break
        kill -0 "$pid" 2>/dev/null || { echo "durability.sh: daemon died" >&2; exit 1; }
        sleep 0.02
    done
    endpoint=$(jq -r .endpoint "$work/ready.json")
}

stop() {
    kill "$pid"
    wait "$pid" || true
    pid=
}

args_of() { # scenario -> bb_loadgen arguments
    case $1 in
    put-4k-c1) echo "--op put --size 4096 --concurrency 1" ;;
    put-4k-c4) echo "--op put --size 4096 --concurrency 4" ;;
    put-1m-c4) echo "--op put --size 1m --concurrency 4" ;;
    putevents-c4) echo "--op putevents --batch 1 --concurrency 4" ;;
    *) echo "durability.sh: unknown scenario $1" >&2; exit 1 ;;
    esac
}

results=$work/results.jsonl
for scenario in $scenarios; do
    for r in $(seq 1 "$repeats"); do
        for mode in fast full; do
            start "$mode"
            # shellcheck disable=SC2046
            line=$("$loadgen" --endpoint "$endpoint" --bucket my-raw-images \
                --duration "$seconds" $(args_of "$scenario"))
            stop
            echo "$line" | jq -c --arg s "$scenario" --arg m "$mode" --argjson r "$r" \
                '{scenario: $s, mode: $m, run: $r} + .' | tee -a "$results"
        done
    done
done

echo
echo "| scenario | fast: req/s (p50 / p99 ms) | full: req/s (p50 / p99 ms) | full / fast |"
echo "|---|---|---|---|"
for scenario in $scenarios; do
    jq -rs --arg s "$scenario" '
        def med: sort | .[(length - 1) / 2 | floor];
        [.[] | select(.scenario == $s)] as $all
        | [ "fast", "full" ] | map(. as $m | [$all[] | select(.mode == $m)]
            | {r: (map(.req_per_s) | med), p50: (map(.p50_ms) | med), p99: (map(.p99_ms) | med)})
        | "| \($s) | \(.[0].r | round) (\(.[0].p50) / \(.[0].p99)) | \(.[1].r | round) (\(.[1].p50) / \(.[1].p99)) | \((.[1].r / .[0].r * 100 | round) / 100)x |"
    ' "$results"
done
