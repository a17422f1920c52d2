#!/usr/bin/env bash
# Configures and builds locus (library, CLI, Python module, tests) into build/ (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOCUS_BUILD_TESTS=ON \
      -DLOCUS_BUILD_PYTHON=ON "$@"
cmake --build build -j "$(nproc)"
