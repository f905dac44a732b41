#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/run.sh: benchmark bucketbridge against the S3 emulators a user would
# pick instead (moto_server, s3rver) and against bb_nullsrv, a server that does
# nothing, which measures what the signing load generator itself can reach.
#
# It builds nothing. Tools come from the build dir (default build/, or
# --build-dir DIR, or the variables below). Every server runs on a free
# 127.0.0.1 port in a temporary directory; only the processes this script
# started are stopped. See bench/README.md.
#
# Variables (defaults in brackets):
#   BUILD_DIR [build]               where bench/ and emulator/ binaries are
#   BB_LOADGEN BB_NULLSRV BB_STARTPROBE BUCKETBRIDGE   paths of the binaries
#   MOTO_SERVER [pyenv which moto_server]   S3RVER_JS [bench/node_modules/...]
#   BENCH_SERVERS ["null bucketbridge s3rver moto"]
#   BENCH_SECONDS [5]   seconds per measured run
#   BENCH_REPEATS [3]   runs per scenario; medians are reported
#   BENCH_STARTS [5]    starts for the startup time; the median is reported
#   BENCH_BIG [1g]      size of the single streamed PUT for the RSS test
#   BENCH_SETTLE [1]    seconds a fresh server idles before its RSS is read
#   BENCH_OUT [mktemp]  directory for results.jsonl, report.md and server logs
#   BUCKETBRIDGE_ARGS [] extra bucketbridge options, e.g. "--log-level warn"
#   BENCH_PARTS ["load startup rss multipart ci"]  which parts to run
#   BENCH_SCENARIOS [all]  the load part's scenarios to run, by name
#                       (put-4k-c1 ... presign-get-4k-c16)
#   BENCH_MP_SIZE [1g] BENCH_MP_PART [16m] BENCH_MP_CONC [8] BENCH_MP_RUNS [3]
#                       the multipart upload: size, part size, parts in flight,
#                       runs per server (each on a fresh server)
#   BENCH_READY_STARTS [20]  bucketbridge --ephemeral starts timed to the
#                       ready file, with consumers and without (alternating)
#   BENCH_RESETS [5]    resets timed, each after writing BENCH_RESET_OBJECTS
#                       [1000] objects and BENCH_RESET_EVENTS [10000] events
#   BENCH_CI_WRAP []    a command prefix for the bucketbridge processes of the
#                       ci part, e.g. "chrt -f 10" to keep other load away
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

usage() {
    sed -n '3,/^set -e/{/^set -e/d;p;}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "usage: bench/run.sh [--build-dir DIR] [--servers \"LIST\"] [--seconds N] [--out DIR]"
}

while [ $# -gt 0 ]; do
    case $1 in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --servers) BENCH_SERVERS=$2; shift 2 ;;
    --seconds) BENCH_SECONDS=$2; shift 2 ;;
    --out) BENCH_OUT=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done

build=${BUILD_DIR:-$root/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
LOADGEN=${BB_LOADGEN:-$build/bench/bb_loadgen}
NULLSRV=${BB_NULLSRV:-$build/bench/bb_nullsrv}
STARTPROBE=${BB_STARTPROBE:-$build/bench/bb_startprobe}
BUCKETBRIDGE=${BUCKETBRIDGE:-$build/emulator/bucketbridge}
S3RVER_JS=${S3RVER_JS:-$here/node_modules/s3rver/bin/s3rver.js}
if [ -z "${MOTO_SERVER:-}" ]; then
    # the pyenv shim costs a bash and a pyenv start: time the real script
    MOTO_SERVER=$(pyenv which moto_server 2>/dev/null || command -v moto_server || true)
fi
SERVERS=${BENCH_SERVERS:-null bucketbridge s3rver moto}
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
REPEATS=${BENCH_REPEATS:-3}
STARTS=${BENCH_STARTS:-5}
BIG=${BENCH_BIG:-1g}
SETTLE=${BENCH_SETTLE:-1}
PARTS=" ${BENCH_PARTS:-load startup rss multipart ci} "
ONLY=" ${BENCH_SCENARIOS:-} "
MP_SIZE=${BENCH_MP_SIZE:-1g}
MP_PART=${BENCH_MP_PART:-16m}
MP_CONC=${BENCH_MP_CONC:-8}
MP_RUNS=${BENCH_MP_RUNS:-3}
READY_STARTS=${BENCH_READY_STARTS:-20}
RESETS=${BENCH_RESETS:-5}
RESET_OBJECTS=${BENCH_RESET_OBJECTS:-1000}
RESET_EVENTS=${BENCH_RESET_EVENTS:-10000}
# shellcheck disable=SC2206
CI_WRAP=(${BENCH_CI_WRAP:-})
WRAP=()

for tool in "$LOADGEN" "$STARTPROBE"; do
    if [ ! -x "$tool" ]; then
        echo "run.sh: $tool not found; build it first:" >&2
        echo "  cmake -S . -B build -DBB_BENCH=ON && cmake --build build --target" \
            "bb_loadgen bb_nullsrv bb_startprobe bucketbridge" >&2
        exit 2
    fi
done

work=$(mktemp -d /tmp/bb-bench.XXXXXX)
out=${BENCH_OUT:-$work/out}
mkdir -p "$out"
results=$out/results.jsonl
: >"$results"
started=()

cleanup() {
    local pid
    for pid in "${started[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${started[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work/data"
    [ -n "${BENCH_OUT:-}" ] && rm -rf "$work"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() {
    printf '[%s] %s\n' "$(date +%T)" "$*" >&2
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1])'
}

# server_conf NAME: sets AK SK BUCKET CREATE NOCHECK, or returns 1 with WHY set
server_conf() {
    AK=test SK=test BUCKET=bench CREATE=1 NOCHECK='' WHY=''
    case $1 in
    null)
        CREATE=0 NOCHECK=--no-check
        [ -x "$NULLSRV" ] || WHY="$NULLSRV not built"
        ;;
    bucketbridge)
        BUCKET=my-raw-images CREATE=0
        [ -x "$BUCKETBRIDGE" ] || WHY="$BUCKETBRIDGE not built"
        ;;
    s3rver)
        AK=S3RVER SK=S3RVER
        command -v node >/dev/null || WHY="node not installed"
        [ -f "$S3RVER_JS" ] || WHY="$S3RVER_JS missing: run 'npm install' in bench/"
        ;;
    moto)
        [ -n "$MOTO_SERVER" ] && [ -x "$MOTO_SERVER" ] || WHY="moto_server not installed"
        ;;
    *) WHY="unknown server" ;;
    esac
    [ -z "$WHY" ]
}

# server_cmd NAME PORT DIR: sets CMD
server_cmd() {
    case $1 in
    null) CMD=("$NULLSRV" --listen "127.0.0.1:$2") ;;
    bucketbridge)
        # shellcheck disable=SC2206
        CMD=("$BUCKETBRIDGE" --listen "127.0.0.1:$2" --data-dir "$3" --auth test:test
            ${BUCKETBRIDGE_ARGS:-}) ;;
    s3rver)
        CMD=(node "$S3RVER_JS" --directory "$3" --address 127.0.0.1 --port "$2" --silent) ;;
    moto) CMD=("$MOTO_SERVER" -H 127.0.0.1 -p "$2") ;;
    esac
}

# start NAME: starts a fresh instance; sets PID PORT URL, returns 1 if it never answers
start() {
    local dir
    PORT=$(free_port)
    dir=$work/data/$1-$PORT
    mkdir -p "$dir"
    server_cmd "$1" "$PORT" "$dir"
    "${WRAP[@]}" "${CMD[@]}" >>"$out/$1.log" 2>&1 &
    PID=$!
    started+=("$PID")
    URL=http://127.0.0.1:$PORT
    if ! "$STARTPROBE" --port "$PORT" --pid "$PID" --timeout 60 --expect-2xx \
        --access-key "$AK" --secret-key "$SK" >/dev/null; then
        log "$1 did not answer on $URL; last lines of $out/$1.log:"
        tail -n 5 "$out/$1.log" >&2 || true
        stop "$PID"
        return 1
    fi
}

# alive PID: running and not a zombie waiting for us
alive() {
    local state
    state=$(awk '$1 == "State:" { print $2 }' "/proc/$1/status" 2>/dev/null || true)
    [ -n "$state" ] && [ "$state" != Z ]
}

# stop PID: SIGTERM, SIGKILL after 5 s; only ever one of our own children
stop() {
    local i p keep=()
    for p in "${started[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    started=("${keep[@]}")
    if kill -TERM "$1" 2>/dev/null; then
        for i in $(seq 50); do
            alive "$1" || break
            sleep 0.1
        done
        kill -KILL "$1" 2>/dev/null || true
    fi
    wait "$1" 2>/dev/null || true
}

# loadgen NAME SCENARIO ARGS...: one measured run, appended to results
loadgen() {
    local name=$1 scen=$2 line
    shift 2
    local extra=()
    [ "$CREATE" = 1 ] && extra+=(--create-bucket)
    [ -n "$NOCHECK" ] && extra+=("$NOCHECK")
    line=$("$LOADGEN" --endpoint "$URL" --bucket "$BUCKET" --access-key "$AK" \
        --secret-key "$SK" "${extra[@]}" "$@" 2>>"$out/loadgen-$name.err" | tail -n 1) || true
    if [ -z "$line" ]; then
        log "  $scen: load generator failed, see $out/loadgen-$name.err"
        line='{"requests":0,"errors":1}'
    fi
    printf '{"server":"%s","kind":"load","scenario":"%s","result":%s}\n' \
        "$name" "$scen" "$line" >>"$results"
    log "  $scen $line"
}

vm_kib() {
    awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true
}

scenarios=(
    "put-4k-c1 --op put --size 4096 --concurrency 1"
    "put-4k-c16 --op put --size 4096 --concurrency 16"
    "get-4k-c1 --op get --size 4096 --concurrency 1"
    "get-4k-c16 --op get --size 4096 --concurrency 16"
    "put-1m-c4 --op put --size 1m --concurrency 4"
    "get-1m-c4 --op get --size 1m --concurrency 4"
    "presign-get-4k-c16 --op get --presign --size 4096 --concurrency 16"
)

# throughput: every scenario runs on every live server in turn, so that the
# servers compared in one row are measured within the same minute
bench_load() {
    local s name scen
    for s in "${scenarios[@]}"; do
        # shellcheck disable=SC2086
        set -- $s
        scen=$1
        shift
        [ "$ONLY" = "  " ] || [[ $ONLY == *" $scen "* ]] || continue
        for _ in $(seq "$REPEATS"); do
            for name in "${live[@]}"; do
                server_conf "$name"
                URL=${live_url[$name]}
                loadgen "$name" "$scen" "$@" --duration "$SECONDS_PER_RUN"
            done
        done
    done
}

bench_startup() {
    local name=$1 i port line
    for i in $(seq "$STARTS"); do
        port=$(free_port)
        mkdir -p "$work/data/$name-start-$i"
        server_cmd "$name" "$port" "$work/data/$name-start-$i"
        line=$("$STARTPROBE" --port "$port" --timeout 60 --expect-2xx \
            --access-key "$AK" --secret-key "$SK" -- "${CMD[@]}") || {
            log "$name: start $i did not answer"
            continue
        }
        printf '{"server":"%s","kind":"startup","result":%s}\n' "$name" "$line" >>"$results"
        log "  startup $line"
    done
}

# rss_begin PID FILE: resets VmHWM (Linux >= 4.0) and samples VmRSS every
# 20 ms into FILE in the background; sets SAMPLER
rss_begin() {
    local pid=$1 file=$2
    echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
    : >"$file"
    (
        while alive "$pid"; do
            vm_kib "$pid" VmRSS >>"$file"
            sleep 0.02
        done
    ) &
    SAMPLER=$!
}

# rss_end PID FILE: stops the sampler, prints the peak RSS in KiB (VmHWM, or
# the highest sample if that is higher)
rss_end() {
    local hwm peak
    hwm=$(vm_kib "$1" VmHWM)
    kill "$SAMPLER" 2>/dev/null || true
    wait "$SAMPLER" 2>/dev/null || true
    peak=$(sort -n "$2" | tail -n 1)
    [ -n "$hwm" ] && [ "${hwm:-0}" -gt "${peak:-0}" ] && peak=$hwm
    echo "${peak:-0}"
}

bench_rss() {
    local name=$1 idle peak line extra=()
    start "$name" || return 1
    sleep "$SETTLE"
    idle=$(vm_kib "$PID" VmRSS)
    rss_begin "$PID" "$work/rss-$name"
    [ "$CREATE" = 1 ] && extra+=(--create-bucket)
    line=$("$LOADGEN" --endpoint "$URL" --bucket "$BUCKET" --access-key "$AK" \
        --secret-key "$SK" "${extra[@]}" --op put --size "$BIG" --count 1 --timeout 900 \
        2>>"$out/loadgen-$name.err" | tail -n 1) || true
    peak=$(rss_end "$PID" "$work/rss-$name")
    [ -n "$line" ] || line='{"requests":0,"errors":1}'
    printf '{"server":"%s","kind":"rss","idle_kib":%s,"peak_kib":%s,"result":%s}\n' \
        "$name" "${idle:-0}" "${peak:-0}" "$line" >>"$results"
    log "  rss idle ${idle} KiB, peak ${peak} KiB during $BIG PUT: $line"
    stop "$PID"
    rm -rf "$work/data/$name-$PORT"
}

# bench_multipart NAME: one multipart upload of MP_SIZE on a fresh server,
# with its RSS sampled as in bench_rss
bench_multipart() {
    local name=$1 idle peak line extra=()
    start "$name" || return 1
    sleep "$SETTLE"
    idle=$(vm_kib "$PID" VmRSS)
    rss_begin "$PID" "$work/rss-mp-$name"
    [ "$CREATE" = 1 ] && extra+=(--create-bucket)
    line=$("$LOADGEN" --endpoint "$URL" --bucket "$BUCKET" --access-key "$AK" \
        --secret-key "$SK" "${extra[@]}" --op multipart --size "$MP_SIZE" \
        --part-size "$MP_PART" --concurrency "$MP_CONC" --timeout 900 \
        2>>"$out/loadgen-$name.err" | tail -n 1) || true
    peak=$(rss_end "$PID" "$work/rss-mp-$name")
    [ -n "$line" ] || line='{"requests":0,"errors":1}'
    printf '{"server":"%s","kind":"multipart","idle_kib":%s,"peak_kib":%s,"result":%s}\n' \
        "$name" "${idle:-0}" "${peak:-0}" "$line" >>"$results"
    log "  multipart: idle ${idle} KiB, peak ${peak} KiB: $line"
    stop "$PID"
    rm -rf "$work/data/$name-$PORT"
}

# bench_ready: `bucketbridge --ephemeral --listen 127.0.0.1:0 --ready-file F`
# timed from fork to F's appearance, with the default consumers and with
# --no-consumers, alternating
bench_ready() {
    local i mode line args
    for i in $(seq "$READY_STARTS"); do
        for mode in on off; do
            args=(--ephemeral --listen 127.0.0.1:0 --ready-file "$work/ready.json")
            [ "$mode" = off ] && args+=(--no-consumers)
            # TMPDIR: the ephemeral data dirs go under $work, removed at the end
            line=$(TMPDIR=$work "${CI_WRAP[@]}" "$STARTPROBE" --ready-file "$work/ready.json" \
                --expect-2xx --timeout 60 -- "$BUCKETBRIDGE" "${args[@]}" \
                2>>"$out/startprobe.err") || {
                log "  ready: start $i (consumers $mode) failed, see $out/startprobe.err"
                continue
            }
            printf '{"server":"bucketbridge","kind":"ready","consumers":"%s","result":%s}\n' \
                "$mode" "$line" >>"$results"
        done
        log "  ready: start $i: $line"
    done
}

# bench_reset: on one bucketbridge (no consumers, so the logger's queue holds
# every event), RESETS times: PUT RESET_OBJECTS objects of 1 KiB, send
# RESET_EVENTS events with PutEvents (10 per request), then time one reset
bench_reset() {
    local r line common
    server_conf bucketbridge
    WRAP=("${CI_WRAP[@]}")
    BUCKETBRIDGE_ARGS="--no-consumers --log-level warn" start bucketbridge || {
        WRAP=()
        return 1
    }
    WRAP=()
    common=(--endpoint "$URL" --bucket "$BUCKET" --access-key "$AK" --secret-key "$SK")
    for r in $(seq "$RESETS"); do
        "$LOADGEN" "${common[@]}" --op put --size 1k --count "$RESET_OBJECTS" --concurrency 8 \
            --prefix "reset-$r" >/dev/null 2>>"$out/loadgen-reset.err" ||
            log "  reset $r: writing the objects failed, see $out/loadgen-reset.err"
        "$LOADGEN" "${common[@]}" --op putevents --batch 10 --count $((RESET_EVENTS / 10)) \
            --concurrency 4 --prefix "reset-$r" >/dev/null 2>>"$out/loadgen-reset.err" ||
            log "  reset $r: PutEvents failed, see $out/loadgen-reset.err"
        line=$("$LOADGEN" "${common[@]}" --op reset --count 1 --token "$SK" \
            2>>"$out/loadgen-reset.err" | tail -n 1) || true
        [ -n "$line" ] || line='{"requests":0,"errors":1}'
        printf '{"server":"bucketbridge","kind":"reset","objects":%s,"events":%s,"result":%s}\n' \
            "$RESET_OBJECTS" "$RESET_EVENTS" "$line" >>"$results"
        log "  reset $r: $line"
    done
    stop "$PID"
    rm -rf "$work/data"
}

has_part() {
    case $PARTS in *" $1 "*) return 0 ;; esac
    return 1
}

# env KEY VALUE: a fact about the run, for the report
env_row() {
    printf '{"server":"","kind":"env","key":"%s","value":"%s"}\n' "$1" "$2" >>"$results"
}

log "results in $out (raw: results.jsonl)"
env_row date "$(date -u '+%Y-%m-%d %H:%M UTC')"
env_row cores "$(nproc)"
env_row loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
env_row libcurl "$(curl-config --version 2>/dev/null | cut -d' ' -f2)"
env_row node "$(node --version 2>/dev/null || true)"
env_row s3rver "$(node -p "require('$here/node_modules/s3rver/package.json').version" \
    2>/dev/null || true)"
if [ -n "$MOTO_SERVER" ]; then
    moto_python=$(head -n 1 "$MOTO_SERVER" | sed 's/^#!//')
    env_row moto "$($moto_python -c 'import moto; print(moto.__version__)' 2>/dev/null || true)"
fi
if [ -x "$BUCKETBRIDGE" ]; then
    env_row bucketbridge "$("$BUCKETBRIDGE" --version 2>/dev/null | awk '{ print $NF }' || true)"
fi
# startup first, before the load part has created and removed tens of
# thousands of files: on a file system without a journal, recently freed
# inodes make every new file slow to create for minutes (docs/STATUS.md),
# which a start that makes a dozen files would otherwise measure
if has_part startup; then
    for name in $SERVERS; do
        server_conf "$name" || continue
        log "$name: startup time (median of $STARTS)"
        bench_startup "$name"
        rm -rf "$work/data"
    done
fi

live=()
declare -A live_pid live_url
for name in $SERVERS; do
    if ! server_conf "$name"; then
        log "$name: skipped: $WHY"
        printf '{"server":"%s","kind":"skipped","why":"%s"}\n' "$name" "$WHY" >>"$results"
        continue
    fi
    if ! start "$name"; then
        log "$name: skipped: it did not start"
        printf '{"server":"%s","kind":"skipped","why":"did not start"}\n' "$name" >>"$results"
        continue
    fi
    log "$name: listening on $URL (pid $PID)"
    live+=("$name")
    live_pid[$name]=$PID
    live_url[$name]=$URL
done

if has_part load; then
    log "throughput: $REPEATS x ${SECONDS_PER_RUN}s per scenario and server, servers taking turns"
    bench_load
fi
for name in "${live[@]}"; do
    stop "${live_pid[$name]}"
done
rm -rf "$work/data"

for name in "${live[@]}"; do
    server_conf "$name"
    # the null server's startup is the probe's floor; its memory means nothing
    [ "$name" = null ] && continue
    if has_part rss; then
        log "$name: idle RSS and RSS during a $BIG streamed PUT"
        bench_rss "$name" || log "$name: RSS test skipped: it did not start"
        rm -rf "$work/data"
    fi
done

# the multipart upload: the servers take turns, run by run (the null server
# cannot answer CreateMultipartUpload)
if has_part multipart; then
    for run in $(seq "$MP_RUNS"); do
        for name in "${live[@]}"; do
            [ "$name" = null ] && continue
            server_conf "$name"
            log "$name: multipart upload of $MP_SIZE in $MP_PART parts, $MP_CONC in flight" \
                "(run $run of $MP_RUNS)"
            bench_multipart "$name" || log "$name: multipart run skipped: it did not start"
            rm -rf "$work/data"
        done
    done
fi

# CI mode (issue 10), bucketbridge only: ready-file time and reset time
if has_part ci && [[ " ${live[*]} " == *" bucketbridge "* ]]; then
    log "bucketbridge: $READY_STARTS starts to the ready file, with and without consumers"
    bench_ready
    rm -rf "$work/data"
    log "bucketbridge: $RESETS resets of $RESET_OBJECTS objects and $RESET_EVENTS events"
    bench_reset || log "bucketbridge: reset test skipped: it did not start"
fi

env_row loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
parts_list=${PARTS# }
env_row settings "BENCH_PARTS='${parts_list% }' BENCH_SCENARIOS='${BENCH_SCENARIOS:-}' BENCH_SECONDS=$SECONDS_PER_RUN \
BENCH_REPEATS=$REPEATS BENCH_STARTS=$STARTS BENCH_BIG=$BIG BENCH_MP_SIZE=$MP_SIZE \
BENCH_MP_PART=$MP_PART BENCH_MP_CONC=$MP_CONC BENCH_MP_RUNS=$MP_RUNS \
BENCH_READY_STARTS=$READY_STARTS BENCH_RESETS=$RESETS BENCH_CI_WRAP='${CI_WRAP[*]}'"
python3 "$here/report.py" "$results" | tee "$out/report.md"
