#pragma once
// The first non-finite entry of an array (private to locus): the check every entry point makes
// on its parameters before a pass.

#include <Eigen/Core>
#include <bit>
#include <cstdint>

namespace locus::detail {

// The index of the first NaN or infinity among x[0], ..., x[n - 1], or -1 if there is none.
// inf and NaN are the doubles whose exponent bits are all ones. The scan ORs that test over all
// entries, a loop without an early exit that the compiler vectorises (an exiting loop ran one
// entry per cycle: 0.4 us of a 36 us HVP on a 769-parameter net); the index is looked for only
// when there is one. Cost: n loads; no failure modes.
inline Eigen::Index first_non_finite(const double* x, Eigen::Index n) {
  constexpr uint64_t exponent = 0x7ff0000000000000;
  uint64_t found = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    found |= uint64_t((std::bit_cast<uint64_t>(x[i]) & exponent) == exponent);
  if (!found) return -1;
  for (Eigen::Index i = 0;; ++i)
    if ((std::bit_cast<uint64_t>(x[i]) & exponent) == exponent) return i;
}

}  // namespace locus::detail
