#!/usr/bin/env bash
# One command: install what is missing, build everything with ASan+UBSan,
# and run the whole test suite (unit, integration) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBB_SANITIZE=ON >/dev/null
cmake --build build-test -j"$(nproc)"
ctest --test-dir build-test --output-on-failure --timeout 600 "$@"

# The whole run (no ctest arguments, as CI calls it) also runs the unit
# tests once under valgrind's memcheck, which cannot run ASan binaries: a
# plain build of just the unit tests in build-valgrind/. A memcheck error or
# a definite leak makes valgrind exit 99, which fails the test and the run.
# BB_VALGRIND=0 skips it, BB_VALGRIND=1 runs it with ctest arguments too.
if [ "${BB_VALGRIND:-$([ $# -eq 0 ] && echo 1 || echo 0)}" = 1 ]; then
    cmake -S . -B build-valgrind -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBB_SANITIZE=OFF \
        -DBB_BENCH=OFF -DBB_UNIT_TIMEOUT=900 -DMEMORYCHECK_COMMAND="$(command -v valgrind)" \
        "-DMEMORYCHECK_COMMAND_OPTIONS=--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=30" \
        >/dev/null
    cmake --build build-valgrind -j"$(nproc)" --target bb-unit-tests
    ctest --test-dir build-valgrind -L unit -LE ops -T memcheck -j"$(nproc)" --output-on-failure
fi

# When clang is installed (scripts/setup.sh does not install it), the whole
# run also builds the libFuzzer targets in build-fuzz/ and gives each a short
# smoke run (ctest -L fuzz, about 1.5 minutes; scripts/fuzz.sh runs longer).
if [ $# -eq 0 ] && [ "${BB_FUZZ_SMOKE:-1}" = 1 ] && command -v clang >/dev/null 2>&1; then
    CC=clang cmake -S . -B build-fuzz -DBB_SANITIZE=ON -DBB_BENCH=OFF >/dev/null
    cmake --build build-fuzz -j"$(nproc)" --target bb-fuzz-targets
    ctest --test-dir build-fuzz -L fuzz --output-on-failure
fi
