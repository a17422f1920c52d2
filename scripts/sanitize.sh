#!/usr/bin/env bash
# Portable and sanitized in one build: clang, LOCUS_NATIVE=OFF (the generic SIMD code paths),
# AddressSanitizer + UndefinedBehaviorSanitizer (every report is an error), the fast tests, and a
# smoke run of each libFuzzer target over its seed corpus (fuzz_smoke_*, label fast).
# Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
LOCUS_BUILD_DIR=build-sanitize \
  LOCUS_CMAKE_ARGS="-DCMAKE_CXX_COMPILER=clang++ -DLOCUS_NATIVE=OFF -DLOCUS_BUILD_FUZZERS=ON" \
  bash scripts/test.sh -L fast "$@"
