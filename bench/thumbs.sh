#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Thumbnails per second on one core: the thumbnail consumer's image path
# (bb_thumbbench: thumb_image in a loop, in process) beside vipsthumbnail and
# ImageMagick's `convert -thumbnail`, on the same generated inputs in the
# same run:
#   4000x3000 JPEG (q90), 1920x1080 JPEG (q90), 1024x768 PNG (RGB);
#   every tool makes a JPEG (q80) that fits in 256x256.
#
# Then the whole pipeline on the same inputs (bench/pipeline_bench.mjs): the
# daemon from BUILD_DIR with the seed rules and both consumers, pinned to the
# same core, the client on another; one upload at a time, from the signed PUT
# to the "Thumbnail Created" event (sent once the thumbnail is stored). What
# the pipeline adds is reported two ways: the wall-clock time of each upload
# minus the image work of that same upload (image_ms in its event), and the
# CPU time of the daemon and consumers per image minus the image path's CPU
# time (bb_thumbbench's cpu_ms_per_thumb).
#
# usage: bench/thumbs.sh [BUILD_DIR]     (default: build; use a build without
#        sanitizers, e.g. cmake -S . -B build-rel -DBB_SANITIZE=OFF)
# env:   THUMBS_ROUNDS (5) rounds per tool and input, the median is reported;
#        THUMBS_RUNS (10) process invocations per round for the CLI tools;
#        THUMBS_CORE (0) the CPU everything is pinned to with taskset;
#        THUMBS_PIPELINE (1; 0 skips the pipeline), THUMBS_PIPELINE_N (30)
#        measured uploads per input, THUMBS_PIPELINE_TMP (the system's temp
#        dir) where the pipeline daemon's data dir goes.
# Needs: imagemagick, libvips-tools (apt), taskset (util-linux); for the
#        pipeline node and bench/node_modules (cd bench && npm install).
#
# The CLI tools pay a process start per image (that is how a shell loop or a
# Lambda-style handler uses them); "vips batch" gives vipsthumbnail all
# THUMBS_RUNS copies in one invocation, which amortises it.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build}
BENCH=$BUILD/bench/bb_thumbbench
ROUNDS=${THUMBS_ROUNDS:-5}
RUNS=${THUMBS_RUNS:-10}
CORE=${THUMBS_CORE:-0}
PIPELINE=${THUMBS_PIPELINE:-1}
PIPE_N=${THUMBS_PIPELINE_N:-30}
PIPE_TMP=${THUMBS_PIPELINE_TMP:-${TMPDIR:-/tmp}}
# the pipeline's client runs beside the pinned core when there is another
CLIENT_CORES=$(awk -v c="$CORE" -v n="$(getconf _NPROCESSORS_ONLN)" \
    'BEGIN {s = ""; for (i = 0; i < n; i++) if (i != c) s = s (s == "" ? "" : ",") i;
            print s == "" ? c : s}')
CONVERT=/usr/bin/convert  # not a stand-in earlier on PATH

for tool in "$BENCH" "$CONVERT" "$(command -v vipsthumbnail || true)" "$(command -v taskset || true)"; do
    if [ -z "$tool" ] || [ ! -x "$tool" ]; then
        echo "thumbs.sh: missing ${tool:-vipsthumbnail or taskset} (build bb_thumbbench;" \
             "apt-get install imagemagick libvips-tools)" >&2
        exit 1
    fi
done

export MAGICK_THREAD_LIMIT=1 VIPS_CONCURRENCY=1 OMP_NUM_THREADS=1
PIN=(taskset -c "$CORE")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Photo-like inputs: a plasma fractal (smooth areas and detail) plus grain.
echo "generating inputs in $tmp" >&2
"$CONVERT" -seed 7 -size 1000x750 plasma:fractal -resize '4000x3000!' -attenuate 0.4 \
    +noise Gaussian -quality 90 "$tmp/photo-4000x3000.jpg"
"$CONVERT" -seed 11 -size 960x540 plasma:fractal -resize '1920x1080!' -attenuate 0.4 \
    +noise Gaussian -quality 90 "$tmp/photo-1920x1080.jpg"
"$CONVERT" -seed 13 -size 512x384 plasma:fractal -resize '1024x768!' -attenuate 0.4 \
    +noise Gaussian -type TrueColor "PNG24:$tmp/image-1024x768.png"

now_ns() { date +%s%N; }

# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# CPU ms (user + system) of the finished children in a file written by
# bash's `times`, which must run in the shell whose children they are (not in
# a $(...) of it, where $BASHPID differs too): tf=$tmp/times.$BASHPID;
# times >"$tf"; c=$(cpu_ms "$tf")
cpu_ms() {
    tail -1 "$1" | awk 'function s(x, a) { sub(/s$/, "", x); split(x, a, "m");
        return a[1] * 60 + a[2] } {printf "%.3f", (s($1) + s($2)) * 1000}'
}

# per_process NAME CMD...: RUNS invocations per round; prints the median
# images/s and the median CPU ms per image
per_process() {
    local rates=() cpus=() r t0 t1 c0 c1 tf=$tmp/times.$BASHPID
    for ((r = 0; r < ROUNDS; r++)); do
        times >"$tf"
        c0=$(cpu_ms "$tf")
        t0=$(now_ns)
        for ((i = 0; i < RUNS; i++)); do
            "${PIN[@]}" "$@" >/dev/null 2>&1
        done
        t1=$(now_ns)
        times >"$tf"
        c1=$(cpu_ms "$tf")
        rates+=("$(awk -v n="$RUNS" -v ns="$((t1 - t0))" 'BEGIN {printf "%.1f", n / (ns / 1e9)}')")
        cpus+=("$(awk -v n="$RUNS" -v a="$c0" -v b="$c1" 'BEGIN {printf "%.1f", (b - a) / n}')")
    done
    echo "$(printf '%s\n' "${rates[@]}" | median) $(printf '%s\n' "${cpus[@]}" | median)"
}

# vips_batch FILE: one vipsthumbnail for RUNS copies; prints the median
# images/s and the median CPU ms per image
vips_batch() {
    local f=$1 rates=() cpus=() r t0 t1 c0 c1 copies=() tf=$tmp/times.$BASHPID
    mkdir -p "$tmp/batch" "$tmp/batch-out"
    for ((i = 0; i < RUNS; i++)); do
        ln -sf "$f" "$tmp/batch/$i-$(basename "$f")"
        copies+=("$tmp/batch/$i-$(basename "$f")")
    done
    for ((r = 0; r < ROUNDS; r++)); do
        times >"$tf"
        c0=$(cpu_ms "$tf")
        t0=$(now_ns)
        "${PIN[@]}" vipsthumbnail "${copies[@]}" -s 256x256 -o "$tmp/batch-out/%s.jpg[Q=80]"
        t1=$(now_ns)
        times >"$tf"
        c1=$(cpu_ms "$tf")
        rates+=("$(awk -v n="$RUNS" -v ns="$((t1 - t0))" 'BEGIN {printf "%.1f", n / (ns / 1e9)}')")
        cpus+=("$(awk -v n="$RUNS" -v a="$c0" -v b="$c1" 'BEGIN {printf "%.1f", (b - a) / n}')")
    done
    rm -rf "$tmp/batch" "$tmp/batch-out"
    echo "$(printf '%s\n' "${rates[@]}" | median) $(printf '%s\n' "${cpus[@]}" | median)"
}

INPUTS=("$tmp/photo-4000x3000.jpg" "$tmp/photo-1920x1080.jpg" "$tmp/image-1024x768.png")

# field NAME JSON: a number from a one-line JSON object
field() { echo "$2" | sed -E "s/.*\"$1\":([0-9.]+).*/\\1/"; }

declare -A PIPE
if [ "$PIPELINE" = 1 ]; then
    echo "pipeline: $PIPE_N uploads per input, daemon on core $CORE, client on $CLIENT_CORES" >&2
    while IFS= read -r line; do
        echo "$line" >&2
        PIPE[$(echo "$line" | sed -E 's/.*"file":"([^"]+)".*/\1/')]=$line
    done < <(taskset -c "$CLIENT_CORES" node bench/pipeline_bench.mjs \
        --bin "$BUILD/emulator/bucketbridge" --n "$PIPE_N" --warmup 3 --core "$CORE" \
        --tmp "$PIPE_TMP" "${INPUTS[@]}")
fi

declare -A OURS CPU
printf '\n%-22s %16s %16s %16s %16s %16s\n' "input" "bucketbridge" "vipsthumbnail" "vips batch" \
    "convert" "pipeline"
printf '%-22s %16s %16s %16s %16s %16s\n' "" "(in process)" "(per process)" "($RUNS/process)" \
    "(per process)" "(upload->stored)"
for f in "${INPUTS[@]}"; do
    ours_json=$("${PIN[@]}" "$BENCH" --rounds "$ROUNDS" --seconds 1 "$f")
    echo "$ours_json" >&2
    OURS[$(basename "$f")]=$ours_json
    ours=$(field thumbs_per_s "$ours_json")
    read -r vips vips_cpu < <(per_process vipsthumbnail "$f" -s 256x256 -o "$tmp/out-vips.jpg[Q=80]")
    read -r vbatch vbatch_cpu < <(vips_batch "$f")
    read -r im im_cpu < <(per_process "$CONVERT" "$f" -thumbnail 256x256 -quality 80 "$tmp/out-im.jpg")
    CPU[$(basename "$f")]="$(field cpu_ms_per_thumb "$ours_json") $vips_cpu $vbatch_cpu $im_cpu"
    pipe=-
    [ -n "${PIPE[$(basename "$f")]:-}" ] && pipe="$(field thumbs_per_s "${PIPE[$(basename "$f")]}")/s"
    printf '%-22s %16s %16s %16s %16s %16s\n' "$(basename "$f")" "$ours/s" "$vips/s" "$vbatch/s" \
        "$im/s" "$pipe"
done
echo
echo "CPU ms per thumbnail (user + system, median of the rounds; not stretched by other load):"
printf '%-22s %16s %16s %16s %16s\n' "input" "bucketbridge" "vipsthumbnail" "vips batch" "convert"
for f in "${INPUTS[@]}"; do
    read -r a b c d <<<"${CPU[$(basename "$f")]}"
    printf '%-22s %16s %16s %16s %16s\n' "$(basename "$f")" "$a" "$b" "$c" "$d"
done
echo
if [ "$PIPELINE" = 1 ]; then
    printf '%-22s %10s %10s %12s %12s %12s %10s %10s\n' "input" "image ms" "image cpu" \
        "pipeline ms" "pipeline p90" "added ms" "pipe cpu" "added cpu"
    for f in "${INPUTS[@]}"; do
        b=$(basename "$f")
        o=${OURS[$b]}
        p=${PIPE[$b]}
        printf '%-22s %10s %10s %12s %12s %12s %10s %10s\n' "$b" "$(field ms_per_thumb "$o")" \
            "$(field cpu_ms_per_thumb "$o")" "$(field total_ms "$p")" "$(field total_p90_ms "$p")" \
            "$(field overhead_ms "$p")" "$(field cpu_ms "$p")" \
            "$(awk -v a="$(field cpu_ms "$p")" -v b="$(field cpu_ms_per_thumb "$o")" \
                'BEGIN {printf "%.2f", a - b}')"
    done
    echo "image ms/cpu: bb_thumbbench per thumbnail (wall, CPU); pipeline ms: upload start to" \
         "Thumbnail Created (median, p90); added ms: median over uploads of (that upload's" \
         "pipeline ms - its own image_ms); pipe cpu: daemon + consumers CPU ms per image;" \
         "added cpu: pipe cpu - image cpu. Bar: added under 5 ms."
    echo
fi
echo "thumbnails per second, median of $ROUNDS rounds, one core (taskset -c $CORE);" \
     "$(getconf _NPROCESSORS_ONLN) cores, $(uname -m), $(vipsthumbnail --vips-version 2>/dev/null | head -1)," \
     "$("$CONVERT" -version | head -1 | cut -d' ' -f2-3)"
