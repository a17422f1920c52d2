#include "locus/core/random.hpp"

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

namespace locus {

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // Box-Muller on (0, 1]: 1 - uniform() is never 0, so the log is finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double t = 2.0 * M_PI * u2;
  spare_ = r * std::sin(t);
  has_spare_ = true;
  return r * std::cos(t);
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Reject the top partial block of the 64-bit range so every residue is equally likely.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t r;
  do r = engine_();
  while (r >= limit);
  return r % n;
}

std::vector<std::ptrdiff_t> Rng::permutation(std::ptrdiff_t n) {
  if (n < 0) throw std::invalid_argument("permutation: n must be >= 0, got " + std::to_string(n));
  std::vector<std::ptrdiff_t> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), std::ptrdiff_t{0});
  // From the back, as every seeded result of locus was drawn: changing the order of the draws
  // would change them all.
  for (std::ptrdiff_t i = n - 1; i > 0; --i)
    std::swap(p[static_cast<std::size_t>(i)], p[below(static_cast<std::uint64_t>(i + 1))]);
  return p;
}

std::vector<std::ptrdiff_t> Rng::partial_permutation(std::ptrdiff_t n, std::ptrdiff_t m) {
  if (m < 0 || m > n)
    throw std::invalid_argument("partial_permutation: m must be in 0..n = " + std::to_string(n) +
                                ", got " + std::to_string(m));
  std::vector<std::ptrdiff_t> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), std::ptrdiff_t{0});
  for (std::ptrdiff_t i = 0; i < m; ++i)
    std::swap(p[static_cast<std::size_t>(i)],
              p[static_cast<std::size_t>(i) + below(static_cast<std::uint64_t>(n - i))]);
  p.resize(static_cast<std::size_t>(m));
  return p;
}

}  // namespace locus
