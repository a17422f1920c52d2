#!/usr/bin/env bash
# Portable and sanitized in one build: clang, LOCUS_NATIVE=OFF (the generic SIMD code paths),
# AddressSanitizer + UndefinedBehaviorSanitizer (every report is an error; libraries and tests at
# -O1, CLI, bindings and fuzz harnesses at -O0, see CMakeLists.txt), the fast tests,
# and a smoke run of each libFuzzer target over its seed corpus (fuzz_smoke_*, label fast).
# Extra arguments go to ctest.
#
# Left to the native stage (scripts/test.sh): the longest numerical tests, each over 20 s
# sanitized and together three quarters of the sanitized C++ test time. Their code runs
# sanitized in the shorter tests of the same modules (every study's other tests, the Cooper
# constructions at smaller d, the expansion counts up to smaller r, the flow on other problems).
set -euo pipefail
cd "$(dirname "$0")/.."
long_tests=(
  CooperZeroLoss.SmooluAtD200EverySecondOrderRoute
  Pipeline.FlowThenPolishReachesZeroLossOnASmallProblem
  ConnectivityStudy.ReducedStudyEveryClaimHolds
  ConnectivityStudy.AClaimMadeImpossibleFails
  ShevchenkoMondelliStudy.ReducedStudyEveryClaimHolds
  ExpansionCounts.EqualBruteForceEnumerationUpToR5M8
  ExpansionComponents.RuleAgreesWithNumericsOnEveryPair
  Students.StalledWidthFourIsCertifiedNotGlobal
  Students.WidthFiveReachesZeroLossOnTheExpansionManifold
  Spectrum.HessianLanczosMatchesDense
  LinearSolvers/FlowVersusRk4.TrajectoryAgreesToTheRequestedTolerance
)
exclude="^($(IFS='|'; echo "${long_tests[*]}"))"
LOCUS_BUILD_DIR=build-sanitize \
  LOCUS_CMAKE_ARGS="-DCMAKE_CXX_COMPILER=clang++ -DLOCUS_NATIVE=OFF -DLOCUS_BUILD_FUZZERS=ON" \
  bash scripts/test.sh -L fast -E "$exclude" "$@"
