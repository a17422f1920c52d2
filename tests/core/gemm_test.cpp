// locus's matrix product (src/core/gemm.cpp) against a long-double triple loop, over shapes that
// hit every edge of its blocking: rows around the 8-row vectors and 24-row tiles and past the
// 96-row packed block, columns around the 8-column tiles and past the 1024-column packed block,
// depths past the 256-deep slices, both transposes, outer strides larger than the rows, and
// accumulation. With AVX2 the kernel's tiles are 12 x 4 and it takes products up to 64 deep
// (the shapes around 4, 12, 64 and past 96 rows below), BLAS's dgemm the deeper ones; without
// either, products deeper than 64 go to dgemm and the rest to Eigen's product, and must pass too.
// a^T b with at most 16 rows (8 with AVX-512) goes to the dot-product kernel: row counts 1..16 that
// fill 1..4 vectors in part, column counts around its tiles of 3 and 4, and depths that end in a
// partial vector.

#include "core/gemm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace locus::detail {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;

MatrixXd random_matrix(Index rows, Index cols, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  MatrixXd m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = u(rng);
  return m;
}

struct Shape {
  Index m, n, k;
};

void check_product(const Shape& s, Op op_a, Op op_b, bool accumulate, std::mt19937_64& rng) {
  const bool ta = op_a == Op::transpose, tb = op_b == Op::transpose;
  // Operands are blocks of larger matrices, so that outer strides differ from the row counts.
  const MatrixXd a_store = random_matrix((ta ? s.k : s.m) + 3, ta ? s.m : s.k, rng);
  const MatrixXd b_store = random_matrix((tb ? s.n : s.k) + 5, tb ? s.k : s.n, rng);
  const auto a = a_store.topRows(ta ? s.k : s.m);
  const auto b = b_store.topRows(tb ? s.n : s.k);
  // c sits inside a frame of sentinels that the product must leave alone.
  const double sentinel = 12345.0;
  MatrixXd c_store = MatrixXd::Constant(s.m + 4, s.n + 2, sentinel);
  const MatrixXd c0 = random_matrix(s.m, s.n, rng);
  c_store.block(2, 1, s.m, s.n) = c0;

  gemm(a, op_a, b, op_b, c_store.block(2, 1, s.m, s.n), accumulate);

  const std::string what = "m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) +
                           " k=" + std::to_string(s.k) + (ta ? " a^T" : " a") +
                           (tb ? " b^T" : " b") + (accumulate ? " +=" : " =");
  // A sum of k products, each rounded, plus the addition to c: the classical bound for a dot
  // product, |error| <= gamma_{k+1} (|c0| + sum_p |a_ip| |b_pj|), gamma_j = j u / (1 - j u) with
  // u = eps / 2; eps in place of u leaves a factor of 2 for the blocked summation order.
  const double eps = std::numeric_limits<double>::epsilon();
  for (Index j = 0; j < s.n; ++j) {
    for (Index i = 0; i < s.m; ++i) {
      long double exact = accumulate ? c0(i, j) : 0.0L;
      double magnitude = accumulate ? std::abs(c0(i, j)) : 0.0;
      for (Index p = 0; p < s.k; ++p) {
        const double x = ta ? a(p, i) : a(i, p), y = tb ? b(j, p) : b(p, j);
        exact += static_cast<long double>(x) * y;
        magnitude += std::abs(x * y);
      }
      const double got = c_store(2 + i, 1 + j);
      ASSERT_LE(std::abs(got - static_cast<double>(exact)), double(s.k + 1) * eps * magnitude)
          << what << " at (" << i << ", " << j << ")";
    }
  }
  for (Index j = 0; j < c_store.cols(); ++j)
    for (Index i = 0; i < c_store.rows(); ++i) {
      const bool inside = i >= 2 && i < 2 + s.m && j >= 1 && j < 1 + s.n;
      if (!inside) {
        ASSERT_EQ(c_store(i, j), sentinel) << what << " wrote outside c at " << i;
      }
    }
}

TEST(Gemm, MatchesALongDoubleProductOnEveryEdgeOfTheBlocking) {
  std::mt19937_64 rng(20261203);
  const Shape shapes[] = {
      {1, 1, 1},    {7, 9, 3},    {8, 8, 8},     {9, 7, 1},     {16, 17, 5},   {17, 16, 12},
      {23, 25, 40}, {24, 8, 256}, {25, 9, 257},  {40, 24, 600}, {97, 33, 70},  {130, 47, 300},
      {64, 64, 10}, {10, 64, 64}, {25, 1030, 3}, {33, 20, 0},   {100, 13, 64}, {12, 5, 65},
      {2, 64, 64},  {3, 11, 257}, {13, 7, 6},    {6, 40, 1},    {15, 8, 130},  {4, 4, 3},
  };
  for (const Shape& s : shapes)
    for (Op op_a : {Op::none, Op::transpose})
      for (Op op_b : {Op::none, Op::transpose})
        for (bool accumulate : {false, true}) check_product(s, op_a, op_b, accumulate, rng);
}

// A bias added by the product (the last operation on each element, after the addition to c and
// after every depth slice) is the same bits as a pass of its own afterwards: kernel tiles, the
// last slice of a product deeper than 256, and Eigen's narrow products alike.
TEST(Gemm, BiasGivesTheBitsOfASeparatePass) {
  std::mt19937_64 rng(5);
  const Shape shapes[] = {{64, 64, 10}, {30, 17, 300}, {5, 3, 4}, {100, 13, 64}, {9, 40, 0}};
  for (const Shape& s : shapes)
    for (Op op_a : {Op::none, Op::transpose})
      for (Op op_b : {Op::none, Op::transpose})
        for (bool accumulate : {false, true}) {
          const bool ta = op_a == Op::transpose, tb = op_b == Op::transpose;
          const MatrixXd a = random_matrix(ta ? s.k : s.m, ta ? s.m : s.k, rng);
          const MatrixXd b = random_matrix(tb ? s.n : s.k, tb ? s.k : s.n, rng);
          const MatrixXd c0 = random_matrix(s.m, s.n, rng);
          const Eigen::VectorXd bias = random_matrix(s.n, 1, rng);
          MatrixXd fused = c0, separate = c0;
          gemm(a, op_a, b, op_b, fused, accumulate, bias.data());
          gemm(a, op_a, b, op_b, separate, accumulate);
          separate.rowwise() += bias.transpose();
          for (Index j = 0; j < s.n; ++j)
            for (Index i = 0; i < s.m; ++i)
              ASSERT_EQ(fused(i, j), separate(i, j))
                  << "m=" << s.m << " n=" << s.n << " k=" << s.k << " at " << i << "," << j;
        }
}

// Non-finite inputs propagate as in any product (the objective's NaN checks rely on it): a NaN in
// a reaches exactly the row of c it multiplies into.
TEST(Gemm, PropagatesNaNToTheRowsItReaches) {
  std::mt19937_64 rng(7);
  MatrixXd a = random_matrix(40, 30, rng), b = random_matrix(30, 20, rng), c(40, 20);
  a(13, 4) = std::numeric_limits<double>::quiet_NaN();
  gemm(a, Op::none, b, Op::none, c, false);
  for (Index i = 0; i < c.rows(); ++i)
    for (Index j = 0; j < c.cols(); ++j) EXPECT_EQ(std::isnan(c(i, j)), i == 13) << i << "," << j;
  // The same through a^T b with few rows (the dot-product kernel): a NaN in column 7 of a
  // reaches row 7 of c.
  MatrixXd at = random_matrix(30, 10, rng), d(10, 20);
  at(4, 7) = std::numeric_limits<double>::quiet_NaN();
  gemm(at, Op::transpose, b, Op::none, d, false);
  for (Index i = 0; i < d.rows(); ++i)
    for (Index j = 0; j < d.cols(); ++j) EXPECT_EQ(std::isnan(d(i, j)), i == 7) << i << "," << j;
}

}  // namespace
}  // namespace locus::detail
