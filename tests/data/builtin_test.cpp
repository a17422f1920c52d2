#include "locus/data/builtin.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace locus {
namespace {

TEST(Datasets, BuiltinShapesAndClasses) {
  struct Expect {
    const char* name;
    Index d, p, classes;
  };
  for (const Expect e : {Expect{"digits", 1797, 64, 10}, Expect{"iris", 150, 4, 3},
                         Expect{"wine", 178, 13, 3}, Expect{"breast_cancer", 569, 30, 2}}) {
    const Dataset data = load_builtin(e.name);
    EXPECT_EQ(data.size(), e.d) << e.name;
    EXPECT_EQ(data.input_dim(), e.p) << e.name;
    EXPECT_EQ(data.output_dim(), e.classes) << e.name;
    // One-hot rows sum to 1 and every class occurs.
    EXPECT_TRUE((data.y.rowwise().sum().array() == 1.0).all()) << e.name;
    EXPECT_TRUE((data.y.colwise().sum().array() > 0).all()) << e.name;
    data.validate();
  }
  // Known first rows of the shipped files.
  EXPECT_DOUBLE_EQ(load_builtin("iris").x(0, 0), 5.1);
  EXPECT_EQ(load_builtin("iris", {.one_hot = false}).y(0, 0), 0.0);
}

TEST(Datasets, StandardizeAndSeededDistinctSubsets) {
  const Dataset s = load_builtin("wine", {.standardize = true});
  // Column means 0 and population standard deviations 1, to round-off over 178 rows.
  EXPECT_LT(s.x.colwise().mean().cwiseAbs().maxCoeff(), 1e-13);
  const Eigen::RowVectorXd var = s.x.array().square().colwise().mean();
  EXPECT_LT((var.array() - 1.0).abs().maxCoeff(), 1e-12);
  const Dataset a = load_builtin("digits", {.n_points = 300, .seed = 5});
  const Dataset b = load_builtin("digits", {.n_points = 300, .seed = 5});
  const Dataset c = load_builtin("digits", {.n_points = 300, .seed = 6});
  EXPECT_EQ(a.x, b.x);
  EXPECT_NE(a.x, c.x);
  EXPECT_EQ(a.size(), 300);
  a.require_distinct_inputs();
  EXPECT_THROW(load_builtin("iris", {.n_points = 1000}), std::invalid_argument);
  EXPECT_THROW(load_builtin("mnist"), std::invalid_argument);
  EXPECT_THROW(load_builtin("iris", {.n_points = 0}), std::invalid_argument);
  EXPECT_THROW(load_builtin("iris", {.n_points = -2}), std::invalid_argument);
}

}  // namespace
}  // namespace locus
