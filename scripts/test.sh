#!/usr/bin/env bash
# Sets up, builds and runs every test (C++ GoogleTest suites and the Python tests) through ctest.
# Extra arguments go to ctest (e.g. -L fast). $LOCUS_BUILD_DIR and $LOCUS_CMAKE_ARGS (e.g.
# "-DLOCUS_NATIVE=OFF") select another build folder and configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC2086  # LOCUS_CMAKE_ARGS is a list of words
bash scripts/build.sh ${LOCUS_CMAKE_ARGS:-}
ctest --test-dir "${LOCUS_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" "$@"
