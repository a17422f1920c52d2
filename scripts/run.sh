#!/usr/bin/env bash
# Sets up, builds and runs the main job: `locus reproduce --strict`, the paper studies on the
# built-in data, writing report/index.html. It prints every claim's verdict (holds / fails /
# skipped) and exits 1 when a claim fails (skipped claims are reported, not failures).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build/locus reproduce --out report --strict "$@"
echo "report: $(pwd)/report/index.html"
