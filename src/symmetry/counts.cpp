#include "locus/symmetry/counts.hpp"

#include <gmpxx.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace locus::symmetry {
namespace {

void require_sizes(int r, int m, int r_min, const std::string& where = {}) {
  const std::string at = where.empty() ? "" : " (" + where + ")";
  if (r < r_min || r > k_max_width)
    throw std::invalid_argument("r must be in [" + std::to_string(r_min) + ", " +
                                std::to_string(k_max_width) + "], got " + std::to_string(r) + at);
  if (m < 1 || m > k_max_width)
    throw std::invalid_argument("m must be in [1, " + std::to_string(k_max_width) + "], got " +
                                std::to_string(m) + at);
  if (r > m)
    throw std::invalid_argument(
        "r must be <= m (the student is at least as wide as the "
        "teacher), got r = " +
        std::to_string(r) + ", m = " + std::to_string(m) + at);
}

// Rows 0..n_max of the Stirling triangle S(n, k) = k S(n-1, k) + S(n-1, k-1), S(0, 0) = 1.
std::vector<std::vector<mpz_class>> stirling_triangle(int n_max) {
  std::vector<std::vector<mpz_class>> s(n_max + 1);
  s[0] = {1};
  for (int n = 1; n <= n_max; ++n) {
    s[n].assign(n + 1, 0);
    for (int k = 1; k <= n; ++k) {
      if (k <= n - 1) s[n][k] = k * s[n - 1][k];
      s[n][k] += s[n - 1][k - 1];
    }
  }
  return s;
}

mpz_class factorial(int n) {
  mpz_class f;
  mpz_fac_ui(f.get_mpz_t(), static_cast<unsigned long>(n));
  return f;
}

mpz_class binomial(int n, int k) {
  mpz_class c;
  mpz_bin_uiui(c.get_mpz_t(), static_cast<unsigned long>(n), static_cast<unsigned long>(k));
  return c;
}

// log10 of a positive integer of any size: mpz_get_d_2exp gives x = d 2^e with d in [0.5, 1).
double log10_of(const mpz_class& x) {
  if (x <= 0) return -INFINITY;
  long e = 0;
  const double d = mpz_get_d_2exp(&e, x.get_mpz_t());
  return std::log10(d) + static_cast<double>(e) * std::log10(2.0);
}

struct ExactCounts {
  mpz_class t, t_groups, g;
};

ExactCounts exact_counts(int r, int m) {
  const auto s = stirling_triangle(m + 1);
  const mpz_class rf = factorial(r);
  ExactCounts c;
  c.t = rf * s[m + 1][r + 1];
  mpz_class sum = 0;
  for (int j = r; j <= m; ++j) sum += binomial(j, r) * s[m][j];
  c.t_groups = rf * sum;
  c.g = rf * s[m][r];
  return c;
}

ExpansionCounts to_counts(int r, int m, const ExactCounts& e) {
  return {.r = r,
          .m = m,
          .T = e.t.get_str(),
          .T_groups = e.t_groups.get_str(),
          .G = e.g.get_str(),
          .log10_T = log10_of(e.t),
          .log10_T_groups = log10_of(e.t_groups),
          .log10_G = log10_of(e.g)};
}

}  // namespace

ExpansionCounts expansion_counts(int r, int m) {
  require_sizes(r, m, 1);
  return to_counts(r, m, exact_counts(r, m));
}

double log10_saddle_minimum_ratio(int r, int m) {
  require_sizes(r, m, 2);
  const auto s = stirling_triangle(m + 1);
  const mpz_class g = factorial(r - 1) * s[m][r - 1];
  const mpz_class t = factorial(r) * s[m + 1][r + 1];
  return log10_of(g) - log10_of(t);
}

DeepExpansionCounts deep_expansion_counts(const std::vector<int>& teacher_widths,
                                          const std::vector<int>& student_widths) {
  if (teacher_widths.empty())
    throw std::invalid_argument("teacher_widths must list at least one hidden layer");
  if (teacher_widths.size() != student_widths.size())
    throw std::invalid_argument(
        "teacher_widths and student_widths must have the same length, got " +
        std::to_string(teacher_widths.size()) + " and " + std::to_string(student_widths.size()));
  DeepExpansionCounts d;
  ExactCounts product{1, 1, 1};
  d.extra_neurons_min = k_max_width;
  for (size_t l = 0; l < teacher_widths.size(); ++l) {
    const int r = teacher_widths[l], m = student_widths[l];
    require_sizes(r, m, 1, "hidden layer " + std::to_string(l + 1));
    const ExactCounts e = exact_counts(r, m);
    product.t *= e.t;
    product.t_groups *= e.t_groups;
    product.g *= e.g;
    d.layers.push_back(to_counts(r, m, e));
    d.extra_neurons_min = std::min(d.extra_neurons_min, m - r);
  }
  d.T = product.t.get_str();
  d.T_groups = product.t_groups.get_str();
  d.G = product.g.get_str();
  d.log10_T = log10_of(product.t);
  d.log10_T_groups = log10_of(product.t_groups);
  d.log10_G = log10_of(product.g);
  return d;
}

io::Json to_json(const ExpansionCounts& c) {
  return {{"r", c.r},
          {"m", c.m},
          {"T", c.T},
          {"T_groups", c.T_groups},
          {"G", c.G},
          {"log10_T", io::json_number(c.log10_T)},
          {"log10_T_groups", io::json_number(c.log10_T_groups)},
          {"log10_G", io::json_number(c.log10_G)}};
}

io::Json to_json(const DeepExpansionCounts& c) {
  io::Json layers = io::Json::array();
  for (const auto& l : c.layers) layers.push_back(to_json(l));
  return {{"layers", layers},
          {"T", c.T},
          {"T_groups", c.T_groups},
          {"G", c.G},
          {"log10_T", io::json_number(c.log10_T)},
          {"log10_T_groups", io::json_number(c.log10_T_groups)},
          {"log10_G", io::json_number(c.log10_G)},
          {"extra_neurons_min", c.extra_neurons_min}};
}

std::string summary(const ExpansionCounts& c) {
  std::ostringstream s;
  s << "teacher width r = " << c.r << ", student width m = " << c.m << " (h = " << c.m - c.r
    << ")\n"
    << "T(r, m)        = " << c.T << "   (pieces Gamma(phi), single zero-type neurons)\n"
    << "T_groups(r, m) = " << c.T_groups << "   (zero-type neurons may form zero groups)\n"
    << "G(r, m)        = " << c.G << "   (splits of a width-r critical point)";
  return s.str();
}

std::string summary(const DeepExpansionCounts& c) {
  std::ostringstream s;
  for (size_t l = 0; l < c.layers.size(); ++l)
    s << "hidden layer " << l + 1 << ": r = " << c.layers[l].r << ", m = " << c.layers[l].m
      << ": T = " << c.layers[l].T << ", T_groups = " << c.layers[l].T_groups
      << ", G = " << c.layers[l].G << "\n";
  s << "products: T = " << c.T << ", T_groups = " << c.T_groups << ", G = " << c.G << "\n"
    << "extra neurons per layer >= " << c.extra_neurons_min;
  return s.str();
}

}  // namespace locus::symmetry
