#include "locus/data/describe.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"

namespace locus {
namespace {

TEST(Describe, IrisCountsClassesAndFindsDuplicates) {
  const DataDescription d = describe(load_builtin("iris"));
  EXPECT_EQ(d.n_points, 150);
  EXPECT_EQ(d.input_dim, 4);
  EXPECT_EQ(d.output_dim, 3);
  EXPECT_EQ(d.label_counts, (std::map<long, long>{{0, 50}, {1, 50}, {2, 50}}));
  EXPECT_FALSE(d.distinct_inputs);  // iris repeats a few flowers
  EXPECT_FALSE(d.duplicate.empty());
  ASSERT_EQ(d.features.size(), 4u);
  // Column statistics are plain min/max/mean of the column (exact for min and max).
  const Dataset iris = load_builtin("iris");
  EXPECT_EQ(d.features[2].min, iris.x.col(2).minCoeff());
  EXPECT_EQ(d.features[2].max, iris.x.col(2).maxCoeff());
  EXPECT_EQ(d.features[2].mean, iris.x.col(2).mean());
  EXPECT_EQ(d.feature_max, iris.x.maxCoeff());
  // Scalar labels count the same way.
  EXPECT_EQ(describe(load_builtin("iris", {.one_hot = false})).label_counts, d.label_counts);
}

TEST(Describe, GaussianTargetsAreNotLabels) {
  const DataDescription d = describe(gaussian_data(9, 3, 2, 1));
  EXPECT_TRUE(d.label_counts.empty());
  EXPECT_TRUE(d.distinct_inputs);
  const io::Json j = to_json(d);
  EXPECT_FALSE(j.contains("label_counts"));
  EXPECT_FALSE(j.contains("duplicate"));
  EXPECT_EQ(j["features"].size(), 3u);
  EXPECT_EQ(j.begin().key(), "name");
}

TEST(Describe, SummaryListsColumnsUpToTheLimit) {
  const DataDescription d = describe(load_builtin("digits", {.n_points = 40}));
  const std::string s = summary(d, 5);
  EXPECT_NE(s.find("d = 40 points, p = 64 inputs, l = 10 outputs"), std::string::npos) << s;
  EXPECT_NE(s.find("x 4 "), std::string::npos);
  EXPECT_EQ(s.find("x 5 "), std::string::npos);
  EXPECT_NE(s.find("... 59 more columns"), std::string::npos);
  EXPECT_NE(s.find("inputs distinct: yes"), std::string::npos);
}

TEST(Describe, EmptyDatasetIsACallerError) {
  EXPECT_THROW(describe(Dataset{}), std::invalid_argument);
}

}  // namespace
}  // namespace locus
