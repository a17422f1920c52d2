#pragma once
// Seeded random data for tests: x and y with i.i.d. N(0, 1) entries, drawn x first, then y.

#include <cstdint>

#include "locus/core/dataset.hpp"

namespace locus::testing {

// d points in R^p with labels in R^l, all entries N(0, 1) from Rng(seed).
Dataset random_data(Eigen::Index d, Eigen::Index p, Eigen::Index l, std::uint64_t seed);

}  // namespace locus::testing
