#!/usr/bin/env bash
# Installs the Debian packages locus builds and tests with, when they are missing.
# Idempotent and non-interactive; run as root (or with sudo available) on Debian 12.
set -euo pipefail

packages=(
  build-essential cmake ninja-build git pkg-config
  libeigen3-dev libspectra-dev libsundials-dev libopenblas-dev liblapacke-dev
  nlohmann-json3-dev libcli11-dev zlib1g-dev libgmp-dev libgtest-dev libgmock-dev libbenchmark-dev
  pybind11-dev python3-dev python3-numpy python3-matplotlib python3-pytest
  python3-skbuild python3-venv clang-format
  clang libclang-rt-dev libomp-dev  # the sanitizer + fuzzer stage (clang, libFuzzer, OpenMP)
  openmpi-bin libopenmpi-dev  # optional: LOCUS_MPI (mpirun -np K locus basins)
)
# Headless Chromium renders the report in the end-to-end test (LOCUS_SETUP_BROWSER=0 skips it).
if [ "${LOCUS_SETUP_BROWSER:-1}" = 1 ]; then packages+=(chromium); fi
# PyTorch for the from_torch / to_torch round-trip tests (LOCUS_SETUP_TORCH=0 skips it; those
# tests are then skipped with their reason).
if [ "${LOCUS_SETUP_TORCH:-1}" = 1 ]; then packages+=(python3-torch); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
