#pragma once
// The one random number generator of locus: seeded, and identical on every platform (the
// standard library's distributions are implementation-defined, so locus does its own transforms).

#include <cstdint>
#include <random>

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
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace locus
