#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Thumbnails per second on one core: the thumbnail consumer's image path
# (bb_thumbbench: thumb_image in a loop, in process) beside vipsthumbnail and
# ImageMagick's `convert -thumbnail`, on the same generated inputs in the
# same run:
#   4000x3000 JPEG (q90), 1920x1080 JPEG (q90), 1024x768 PNG (RGB);
#   every tool makes a JPEG (q80) that fits in 256x256.
#
# usage: bench/thumbs.sh [BUILD_DIR]     (default: build; use a build without
#        sanitizers, e.g. cmake -S . -B build-rel -DBB_SANITIZE=OFF)
# env:   THUMBS_ROUNDS (5) rounds per tool and input, the median is reported;
#        THUMBS_RUNS (10) process invocations per round for the CLI tools;
#        THUMBS_CORE (0) the CPU everything is pinned to with taskset.
# Needs: imagemagick, libvips-tools (apt), taskset (util-linux).
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

# per_process NAME CMD...: RUNS invocations per round; prints the median images/s
per_process() {
    local rates=() r t0 t1
    for ((r = 0; r < ROUNDS; r++)); do
        t0=$(now_ns)
        for ((i = 0; i < RUNS; i++)); do
            "${PIN[@]}" "$@" >/dev/null 2>&1
        done
        t1=$(now_ns)
        rates+=("$(awk -v n="$RUNS" -v ns="$((t1 - t0))" 'BEGIN {printf "%.1f", n / (ns / 1e9)}')")
    done
    printf '%s\n' "${rates[@]}" | median
}

# vips_batch FILE: one vipsthumbnail for RUNS copies; prints the median images/s
vips_batch() {
    local f=$1 rates=() r t0 t1 copies=()
    mkdir -p "$tmp/batch" "$tmp/batch-out"
    for ((i = 0; i < RUNS; i++)); do
        ln -sf "$f" "$tmp/batch/$i-$(basename "$f")"
        copies+=("$tmp/batch/$i-$(basename "$f")")
    done
    for ((r = 0; r < ROUNDS; r++)); do
        t0=$(now_ns)
        "${PIN[@]}" vipsthumbnail "${copies[@]}" -s 256x256 -o "$tmp/batch-out/%s.jpg[Q=80]"
        t1=$(now_ns)
        rates+=("$(awk -v n="$RUNS" -v ns="$((t1 - t0))" 'BEGIN {printf "%.1f", n / (ns / 1e9)}')")
    done
    rm -rf "$tmp/batch" "$tmp/batch-out"
    printf '%s\n' "${rates[@]}" | median
}

printf '\n%-22s %16s %16s %16s %16s\n' "input" "bucketbridge" "vipsthumbnail" "vips batch" \
    "convert"
printf '%-22s %16s %16s %16s %16s\n' "" "(in process)" "(per process)" "($RUNS/process)" \
    "(per process)"
for f in "$tmp/photo-4000x3000.jpg" "$tmp/photo-1920x1080.jpg" "$tmp/image-1024x768.png"; do
    ours_json=$("${PIN[@]}" "$BENCH" --rounds "$ROUNDS" --seconds 1 "$f")
    echo "$ours_json" >&2
    ours=$(echo "$ours_json" | sed -E 's/.*"thumbs_per_s":([0-9.]+).*/\1/')
    vips=$(per_process vipsthumbnail "$f" -s 256x256 -o "$tmp/out-vips.jpg[Q=80]")
    vbatch=$(vips_batch "$f")
    im=$(per_process "$CONVERT" "$f" -thumbnail 256x256 -quality 80 "$tmp/out-im.jpg")
    printf '%-22s %16s %16s %16s %16s\n' "$(basename "$f")" "$ours/s" "$vips/s" "$vbatch/s" \
        "$im/s"
done
echo
echo "thumbnails per second, median of $ROUNDS rounds, one core (taskset -c $CORE);" \
     "$(getconf _NPROCESSORS_ONLN) cores, $(uname -m), $(vipsthumbnail --vips-version 2>/dev/null | head -1)," \
     "$("$CONVERT" -version | head -1 | cut -d' ' -f2-3)"
