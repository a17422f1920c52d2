#pragma once
// The one random number generator of locus: seeded, and identical on every platform (the
// standard library's distributions are implementation-defined, so locus does its own transforms).

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace locus {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  // Uniform on [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform on [a, b).
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  // Standard normal, Box-Muller (both variates used).
  double normal();
  // Uniform integer in [0, n), n >= 1 (rejection sampling, no modulo bias).
  std::uint64_t below(std::uint64_t n);
  // A uniform random permutation of 0..n-1 (Fisher-Yates): starting from the identity, for
  // i = n-1 down to 1 entry i is swapped with entry below(i + 1). n - 1 draws, O(n); the same
  // permutation on every platform for the same state (unlike std::shuffle). Throws
  // std::invalid_argument for n < 0.
  std::vector<std::ptrdiff_t> permutation(std::ptrdiff_t n);
  // The first m entries of a forward partial Fisher-Yates of 0..n-1: for i = 0..m-1 entry i is
  // swapped with entry i + below(n - i). Every ordered m-subset of 0..n-1 is equally likely
  // (probability (n - m)! / n!). m draws, O(n). Throws std::invalid_argument unless 0 <= m <= n.
  std::vector<std::ptrdiff_t> partial_permutation(std::ptrdiff_t n, std::ptrdiff_t m);
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace locus
