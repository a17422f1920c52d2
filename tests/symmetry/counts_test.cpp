// Exact counts against brute-force enumeration (small r, m) and against independent closed forms
// computed here with GMP (beyond): Stirling numbers by the explicit inclusion-exclusion sum, Bell
// numbers by the Bell triangle, T and T_groups by their sums over the number k of copies. The
// library computes Stirling numbers by the triangle recurrence, so the two routes share nothing.
#include "locus/symmetry/counts.hpp"

#include <gmpxx.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "locus/symmetry/expansion.hpp"

namespace ls = locus::symmetry;

namespace {

mpz_class factorial(int n) {
  mpz_class f = 1;
  for (int i = 2; i <= n; ++i) f *= i;
  return f;
}
mpz_class binomial(int n, int k) { return factorial(n) / (factorial(k) * factorial(n - k)); }

// S(n, k) = (1/k!) sum_{j=0}^{k} (-1)^j C(k, j) (k - j)^n.
mpz_class stirling_explicit(int n, int k) {
  mpz_class sum = 0;
  for (int j = 0; j <= k; ++j) {
    mpz_class p;
    mpz_ui_pow_ui(p.get_mpz_t(), static_cast<unsigned long>(k - j), static_cast<unsigned long>(n));
    sum += (j % 2 == 0 ? 1 : -1) * binomial(k, j) * p;
  }
  return sum / factorial(k);
}

// Bell numbers B(0..n) by the Bell triangle: each row starts with the last entry of the previous
// row, each entry is its left neighbour plus the entry above that neighbour; B(n) = first entry of
// row n.
std::vector<mpz_class> bell_triangle(int n) {
  std::vector<mpz_class> bell{1}, row{1};
  for (int i = 1; i <= n; ++i) {
    std::vector<mpz_class> next{row.back()};
    for (const auto& above : row) next.push_back(next.back() + above);
    bell.push_back(next.front());
    row = next;
  }
  return bell;
}

// Number of set partitions of z labelled elements, by brute force: every function
// [z] -> [z] induces a partition; count the distinct canonical (first-appearance relabelled)
// strings.
long partitions_brute_force(int z) {
  std::set<std::vector<int>> seen;
  std::vector<int> f(z, 0);
  while (true) {
    std::vector<int> relabel(z, -1), canonical(z);
    int used = 0;
    for (int i = 0; i < z; ++i) {
      if (relabel[f[i]] < 0) relabel[f[i]] = used++;
      canonical[i] = relabel[f[i]];
    }
    seen.insert(canonical);
    int i = 0;
    while (i < z && ++f[i] == z) f[i++] = 0;
    if (i == z) break;
  }
  return static_cast<long>(seen.size());
}

struct BruteCounts {
  long t = 0, t_groups = 0, g = 0;
};

// Every map phi: [m] -> {0..r} (odometer over (r+1)^m): T counts those covering 1..r; T_groups
// adds, for each, the set partitions of its zero set; G counts the maps into 1..r that cover it.
BruteCounts brute_force(int r, int m) {
  static std::vector<long> partitions{1};  // by zero-set size, brute force once per size
  while (static_cast<int>(partitions.size()) <= m)
    partitions.push_back(partitions_brute_force(static_cast<int>(partitions.size())));
  BruteCounts c;
  std::vector<int> phi(m, 0);
  while (true) {
    unsigned hit = 0;  // bit v set when some neuron maps to v
    int zeros = 0;
    for (int v : phi) {
      hit |= 1u << v;
      zeros += v == 0;
    }
    const unsigned teacher_bits = ((1u << (r + 1)) - 1) & ~1u;
    const bool covers = (hit & teacher_bits) == teacher_bits;
    if (covers) {
      ++c.t;
      c.t_groups += partitions[zeros];
      if (zeros == 0) ++c.g;
    }
    int j = 0;
    while (j < m && ++phi[j] == r + 1) phi[j++] = 0;
    if (j == m) break;
  }
  return c;
}

}  // namespace

TEST(ExpansionCounts, EqualBruteForceEnumerationUpToR5M8) {
  for (int r = 1; r <= 5; ++r)
    for (int m = r; m <= 8; ++m) {
      const BruteCounts b = brute_force(r, m);
      const ls::ExpansionCounts c = ls::expansion_counts(r, m);
      EXPECT_EQ(c.T, std::to_string(b.t)) << "r = " << r << ", m = " << m;
      EXPECT_EQ(c.T_groups, std::to_string(b.t_groups)) << "r = " << r << ", m = " << m;
      EXPECT_EQ(c.G, std::to_string(b.g)) << "r = " << r << ", m = " << m;
    }
}

TEST(ExpansionCounts, KnownValues) {
  // T(r, r) = G(r, r) = r!; T(1, m) = 2^m - 1; T_groups = T for m <= r + 1.
  const ls::ExpansionCounts c = ls::expansion_counts(4, 4);
  EXPECT_EQ(c.T, "24");
  EXPECT_EQ(c.G, "24");
  EXPECT_EQ(ls::expansion_counts(1, 10).T, "1023");
  EXPECT_EQ(ls::expansion_counts(3, 4).T_groups, ls::expansion_counts(3, 4).T);
  // T(4, 6) = 4! S(7, 5) = 24 * 140.
  EXPECT_EQ(ls::expansion_counts(4, 6).T, "3360");
}

TEST(ExpansionCounts, EqualIndependentClosedFormsUpToM200) {
  const std::vector<mpz_class> bell = bell_triangle(ls::k_max_width);
  for (int m : {9, 13, 30, 64, 117, 200})
    for (int r : {1, 2, 3, 5, 8, 20, m / 2, m - 1, m}) {
      if (r < 1 || r > m) continue;
      mpz_class t_sum = 0, t_groups_sum = 0;
      for (int k = r; k <= m; ++k) {
        const mpz_class pieces = binomial(m, k) * factorial(r) * stirling_explicit(k, r);
        t_sum += pieces;
        t_groups_sum += pieces * bell[m - k];
      }
      const ls::ExpansionCounts c = ls::expansion_counts(r, m);
      const std::string at = "r = " + std::to_string(r) + ", m = " + std::to_string(m);
      EXPECT_EQ(c.T, t_sum.get_str()) << at;
      EXPECT_EQ(c.T, mpz_class(factorial(r) * stirling_explicit(m + 1, r + 1)).get_str()) << at;
      EXPECT_EQ(c.T_groups, t_groups_sum.get_str()) << at;
      EXPECT_EQ(c.G, mpz_class(factorial(r) * stirling_explicit(m, r)).get_str()) << at;
      // The logarithm agrees with the digit count: 10^(digits-1) <= T < 10^digits.
      EXPECT_EQ(static_cast<size_t>(std::floor(c.log10_T)) + 1, c.T.size()) << at;
      EXPECT_EQ(static_cast<size_t>(std::floor(c.log10_G)) + 1, c.G.size()) << at;
    }
}

TEST(ExpansionCounts, ExactIdentitiesAtM200) {
  const int m = 200;
  mpz_class two_m;
  mpz_ui_pow_ui(two_m.get_mpz_t(), 2, m);
  EXPECT_EQ(ls::expansion_counts(1, m).T, mpz_class(two_m - 1).get_str());  // S(m+1, 2)
  EXPECT_EQ(ls::expansion_counts(2, m).G, mpz_class(two_m - 2).get_str());  // 2 S(m, 2)
  EXPECT_EQ(ls::expansion_counts(m, m).T, factorial(m).get_str());          // 375 digits
  EXPECT_EQ(ls::expansion_counts(m, m).T.size(), 375u);
  // T(m-1, m) = (m-1)! S(m+1, m) = (m-1)! C(m+1, 2).
  EXPECT_EQ(ls::expansion_counts(m - 1, m).T,
            mpz_class(factorial(m - 1) * binomial(m + 1, 2)).get_str());
}

TEST(ExpansionCounts, RefuseSizesNamingRAndM) {
  auto message = [](int r, int m) {
    try {
      ls::expansion_counts(r, m);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_EQ(message(0, 3).rfind("r must be", 0), 0u) << message(0, 3);
  EXPECT_EQ(message(2, 201).rfind("m must be", 0), 0u) << message(2, 201);
  EXPECT_EQ(message(1000000, 1000000).rfind("r must be", 0), 0u);
  EXPECT_NE(message(5, 3).find("r must be <= m"), std::string::npos) << message(5, 3);
}

TEST(ExpansionCounts, SaddleMinimumRatio) {
  // log10(G(r-1, m) / T(r, m)) from the exact counts of both.
  for (int r : {2, 4, 10})
    for (int m : {r, r + 1, 2 * r, 150}) {
      const double expected =
          ls::expansion_counts(r - 1, m).log10_G - ls::expansion_counts(r, m).log10_T;
      // Both logs are O(300) with relative error ~ eps each: the difference is good to
      // ~ 1e3 eps * 300.
      EXPECT_NEAR(ls::log10_saddle_minimum_ratio(r, m), expected, 1e3 * 300 * 2.2e-16);
    }
  // At m = r: G(r-1, r) = (r-1)! S(r, r-1) = (r-1)! C(r, 2) against T(r, r) = r!, ratio
  // (r - 1) / 2; 10^x of a double log is good to a few eps relative.
  EXPECT_NEAR(std::pow(10.0, ls::log10_saddle_minimum_ratio(4, 4)), 1.5, 1e-14);
  EXPECT_THROW(ls::log10_saddle_minimum_ratio(1, 5), std::invalid_argument);
}

TEST(ExpansionCounts, DeepProductRule) {
  const ls::DeepExpansionCounts d = ls::deep_expansion_counts({2, 3}, {3, 5});
  // T(2, 3) = 2! S(4, 3) = 12, T(3, 5) = 3! S(6, 4) = 390.
  EXPECT_EQ(d.layers.at(0).T, "12");
  EXPECT_EQ(d.layers.at(1).T, "390");
  EXPECT_EQ(d.T, std::to_string(12 * 390));
  EXPECT_EQ(d.G, std::to_string(std::stol(d.layers[0].G) * std::stol(d.layers[1].G)));
  EXPECT_EQ(d.T_groups,
            std::to_string(std::stol(d.layers[0].T_groups) * std::stol(d.layers[1].T_groups)));
  EXPECT_EQ(d.extra_neurons_min, 1);
  try {
    ls::deep_expansion_counts({2, 4}, {3, 3});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("hidden layer 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ls::deep_expansion_counts({2}, {3, 3}), std::invalid_argument);
}

TEST(ExpansionCounts, JsonHoldsExactStrings) {
  const auto j = ls::to_json(ls::expansion_counts(3, 200));
  ASSERT_TRUE(j["T"].is_string());
  EXPECT_EQ(j["T"].get<std::string>(), ls::expansion_counts(3, 200).T);
  EXPECT_TRUE(j["log10_T"].is_number());
}
