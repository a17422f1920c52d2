#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/) long, from a clang AddressSanitizer + UBSan build with
# LOCUS_BUILD_FUZZERS=ON ($LOCUS_BUILD_DIR, default build-sanitize: the CI sanitizer stage's
# build, whose ctest also runs a short smoke run of each target). Usage:
#   bash scripts/fuzz.sh RUNS [TARGET...]   # RUNS executions per target (e.g. 10000000)
# New inputs are kept in out/fuzz/<target> (not committed). A crash, leak, timeout or sanitizer
# report stops the run with the input saved as crash-*/leak-*/timeout-* in the working
# directory: fix it and add the input to fuzz/corpus/<target>/ as a regression case.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${LOCUS_BUILD_DIR:-build-sanitize}"
runs="${1:?usage: scripts/fuzz.sh RUNS [TARGET...]}"
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_npy fuzz_safetensors fuzz_csv fuzz_model fuzz_study_options)
fi
cmake --build "$build_dir" --target "${targets[@]}"
for t in "${targets[@]}"; do
  mkdir -p "out/fuzz/$t"
  nice -n 19 "$build_dir/fuzz/$t" -runs="$runs" -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 "out/fuzz/$t" "fuzz/corpus/$t"
done
