#!/usr/bin/env bash
# Configures and builds locus (library, CLI, Python module, tests) into build/ (Release), or into
# $LOCUS_BUILD_DIR. Extra arguments go to cmake's configure step (e.g. -DLOCUS_NATIVE=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${LOCUS_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOCUS_BUILD_TESTS=ON \
      -DLOCUS_BUILD_PYTHON=ON "$@"
cmake --build "$build_dir" -j "$(nproc)"
