#!/usr/bin/env bash
# Sets up, builds and runs the tests (C++ GoogleTest suites and the Python tests) through ctest.
# The multi-seed solver sweeps (ctest label "slow", several minutes on 2 cores) run too when
# LOCUS_SLOW_TESTS=1; alone: ctest --test-dir build -L slow.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
labels=(-LE slow)
if [ "${LOCUS_SLOW_TESTS:-0}" = 1 ]; then labels=(); fi
ctest --test-dir build --output-on-failure -j "$(nproc)" "${labels[@]}" "$@"
