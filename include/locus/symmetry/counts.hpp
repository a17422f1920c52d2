#pragma once
// Exact counts of the symmetry-induced affine subspaces of Simsek et al. ("Geometry of the loss
// landscape in overparameterized neural networks: symmetries and invariances", PAPERS.md §4) for
// a two-layer teacher of width r inside a student of width m, as arbitrary-precision integers.
//
//   namespace ls = locus::symmetry;
//   ls::ExpansionCounts c = ls::expansion_counts(/*r=*/4, /*m=*/45);
//   c.T;             // "..." exact decimal digits of T(4, 45)
//   c.log10_T;       // its common logarithm, for plots
//
// Definitions (neurons of the student j = 1..m, teacher neurons i = 1..r):
//   T(r, m) = #{phi: [m] -> {0..r} whose image covers {1..r}}
//           = sum_{k=r}^{m} C(m, k) r! S(k, r) = r! S(m+1, r+1):
//     the affine pieces Gamma(phi) of the expansion manifold, phi(j) = i >= 1 a copy of teacher
//     neuron i, phi(j) = 0 a single zero-type neuron (outgoing weight 0, incoming vector free).
//     (Closed form: add a point m+1 to the zero set; its block in a partition of [m+1] into r+1
//     blocks is the zero set, the other r blocks are labelled by the r! teacher orders.)
//   T_groups(r, m) = sum_{k=r}^{m} C(m, k) r! S(k, r) B(m - k) = r! sum_{j=r}^{m} C(j, r) S(m, j):
//     the same, except that the m - k zero-type neurons are arranged into any set partition
//     (B = Bell numbers): a block of size 1 is a single zero-type neuron, a block of size >= 2 a
//     zero group (its neurons share one free incoming vector, outgoing weights summing to 0).
//     (Closed form: partition [m] into j blocks, mark r of them as the teacher blocks in one of
//     r! orders.) T_groups >= T, with equality iff m - k <= 1 for every k, i.e. m <= r + 1.
//   G(r, m) = r! S(m, r): surjections [m] -> [r], the splits of a width-r critical point into
//     width m (copies share the incoming vector, outgoing weights sum to the original).
// S = Stirling numbers of the second kind. Costs: O(m^2) additions and multiplications of
// integers of O(m log m) bits (S(n, k) for n <= m + 1 by the triangle recurrence); well under a
// millisecond at m = 200, where T has ~ 330 decimal digits.

#include <string>
#include <vector>

#include "locus/io/json.hpp"

namespace locus::symmetry {

// Largest student width the counts accept (the range; the integers stay exact beyond, it
// is a guard against absurd requests).
constexpr int k_max_width = 200;

// The three counts for one (r, m), exact (decimal strings: they exceed 64 bits from m ~ 25 on),
// and their common logarithms (finite doubles, for plots and ratios).
struct ExpansionCounts {
  int r = 0, m = 0;
  std::string T, T_groups, G;  // decimal digits, no sign, no separators
  double log10_T = 0.0, log10_T_groups = 0.0, log10_G = 0.0;
};

// T(r, m), T_groups(r, m) and G(r, m) as defined above. Throws std::invalid_argument naming r or
// m unless 1 <= r <= m <= k_max_width.
ExpansionCounts expansion_counts(int r, int m);

// log10(G(r - 1, m) / T(r, m)), the ratio of saddle subspaces (splits of a width r-1 critical
// point) to minimum subspaces: Simsek et al. find it > 1 for small h = m - r and < 1 for
// h >> r. Throws std::invalid_argument unless 2 <= r <= m <= k_max_width.
double log10_saddle_minimum_ratio(int r, int m);

// Deep networks. A deep teacher with hidden widths r_1..r_L inside a student with hidden widths
// m_1..m_L: a piece of its expansion set is a tuple (phi_1, ..., phi_L) of per-layer maps, each
// phi_l: [m_l] -> {0..r_l} covering {1..r_l} and built layer by layer (a copy in layer l copies
// teacher neuron phi_l(j)'s incoming weights as seen through the copies of layer l-1; a zero-type
// neuron of layer l has zero outgoing weights into layer l+1), so the counts multiply:
//   T_deep = prod_l T(r_l, m_l),  T_groups_deep = prod_l T_groups(r_l, m_l),
//   G_deep = prod_l G(r_l, m_l)   (splits of every hidden layer of a critical point).
// Connectedness of the union needs one extra neuron per layer (m_l >= r_l + 1 for every l): the
// swap path of one layer uses that layer's extra neuron.
struct DeepExpansionCounts {
  std::vector<ExpansionCounts> layers;  // one per hidden layer, in order
  std::string T, T_groups, G;           // the products, exact decimal
  double log10_T = 0.0, log10_T_groups = 0.0, log10_G = 0.0;
  // min_l (m_l - r_l): >= 1 is the one-extra-neuron-per-layer condition.
  int extra_neurons_min = 0;
};
// The per-layer counts and their products. Throws std::invalid_argument for lists of different
// lengths, an empty list, or a layer outside 1 <= r_l <= m_l <= k_max_width (naming the layer).
DeepExpansionCounts deep_expansion_counts(const std::vector<int>& teacher_widths,
                                          const std::vector<int>& student_widths);

// Exact counts are JSON strings of decimal digits (one rule for every size: JSON numbers are
// doubles for most readers and would round beyond 2^53), logarithms JSON numbers:
// {"r", "m", "T", "T_groups", "G", "log10_T", "log10_T_groups", "log10_G"}.
io::Json to_json(const ExpansionCounts& c);
// {"layers": [...], "T", "T_groups", "G", "log10_*", "extra_neurons_min"}.
io::Json to_json(const DeepExpansionCounts& c);
// A few lines: the three counts with their definitions.
std::string summary(const ExpansionCounts& c);
std::string summary(const DeepExpansionCounts& c);

}  // namespace locus::symmetry
