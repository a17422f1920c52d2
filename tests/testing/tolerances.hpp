#pragma once
// Constants shared by the tests' tolerances.

#include <limits>

namespace locus::testing {

// The unit roundoff of double, 2^-52: every tolerance in the tests is a multiple of it with its
// origin stated where it is used.
inline constexpr double k_eps = std::numeric_limits<double>::epsilon();

}  // namespace locus::testing
