#!/usr/bin/env bash
# One command: install what is missing, build, and start bucketbridge on
# 127.0.0.1:4566 with the embedded default configuration (buckets
# my-raw-images and my-thumbnails under ./data). Extra arguments go to the
# daemon, e.g. scripts/run.sh --log-level debug
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
# the daemon, the seed pipeline's consumers (found next to it in the build
# tree) and the command-line tools the README uses
cmake --build build -j"$(nproc)" --target bucketbridge bucketbridge-thumbnail \
    bucketbridge-logger bucketbridge-cli bucketbridge-tail
exec build/emulator/bucketbridge "$@"
