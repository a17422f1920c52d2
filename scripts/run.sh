#!/usr/bin/env bash
# Sets up, builds and runs the main job: `locus reproduce`, the paper studies on the built-in data,
# writing report/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build/locus reproduce --out report "$@"
echo "report: $(pwd)/report/index.html"
