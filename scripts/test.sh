#!/usr/bin/env bash
# One command: install what is missing, build everything with ASan+UBSan,
# and run the whole test suite (unit, integration) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBB_SANITIZE=ON >/dev/null
cmake --build build-test -j"$(nproc)"
ctest --test-dir build-test --output-on-failure --timeout 600 "$@"
