#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz-run/ and runs each
# one for SECONDS (default 60) over its seeds (fixtures/fuzz/<name>/, the
# patterns and images for the older two), keeping what it finds in
# build-fuzz-run/tests/fuzz/corpus-<name>/ across runs. Crashes are written
# to build-fuzz-run/fuzz-out/<name>/; copy one to fixtures/fuzz/<name>/regress/
# once fixed, and the unit test unit/fuzz/<name> replays it in every build.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    e.g. scripts/fuzz.sh 600 s3_xml
#   BB_FUZZ_JOBS=2 scripts/fuzz.sh 300       two targets at a time
#
# Exit status: 0 when no target failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-60}
shift || true
build=${BB_FUZZ_BUILD:-build-fuzz-run}
jobs=${BB_FUZZ_JOBS:-1}

if ! command -v clang >/dev/null; then
    echo "fuzz.sh: clang is missing (apt-get install -y clang libclang-rt-14-dev)" >&2
    exit 2
fi
CC=clang cmake -S . -B "$build" -DBB_SANITIZE=ON -DBB_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in "$build"/tests/fuzz/fuzz_*; do
        [ -x "$f" ] && targets+=("${f##*/fuzz_}")
    done
fi

run_one() {
    local name=$1 bin="$root/$build/tests/fuzz/fuzz_$1"
    local out="$root/$build/fuzz-out/$name" corpus="$root/$build/tests/fuzz/corpus-$name"
    local -a seeds=("$root/fixtures/fuzz/$name") extra=()
    case $name in
    bus_pattern)
        seeds=("$root/$build/tests/fuzz/seeds-bus_pattern" "$root/fixtures/patterns-regress")
        extra=(-dict="$root/tests/fuzz/bus_pattern.dict") ;;
    thumb_image) seeds=("$root/fixtures/images"); extra=(-max_len=262144 -rss_limit_mb=2048) ;;
    s3_chunked) extra=(-max_len=65536) ;;
    s3_form) extra=(-max_len=16384) ;;
    esac
    mkdir -p "$out" "$corpus"
    if "$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$out/" "${extra[@]}" "$corpus" "${seeds[@]}" >"$out/log" 2>&1; then
        echo "ok    $name ($(grep -c . <(ls "$corpus")) corpus files)"
    else
        echo "FAIL  $name: see $out/log and $out/crash-* (or leak-*, timeout-*)"
        return 1
    fi
}
export -f run_one
export root build secs

printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}
