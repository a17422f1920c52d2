#include "locus/data/synthetic.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace locus {
namespace {

TEST(Datasets, TeacherStudentGridAndGaussian) {
  const TeacherStudent ts =
      teacher_student({.teacher = {.widths = {3, 4, 1}, .activation = Activation::tanh},
                       .n_points = 20,
                       .seed = 1});
  EXPECT_EQ(ts.data.x.rows(), 20);
  EXPECT_EQ((ts.teacher.predict(ts.teacher_parameters, ts.data.x) - ts.data.y).norm(), 0.0);
  const Dataset g = simsek_grid();
  EXPECT_EQ(g.size(), 41 * 41);
  EXPECT_EQ(g.x.col(0).minCoeff(), -5.0);
  EXPECT_EQ(g.x.col(1).maxCoeff(), 5.0);
  g.require_distinct_inputs();
  const TeacherStudent st = simsek_teacher();
  // f(0) = 4 sigmoid(0) = 2 at the grid's centre (row 20 * 41 + 20).
  EXPECT_DOUBLE_EQ(st.data.y(20 * 41 + 20, 0), 2.0);
  EXPECT_EQ(gaussian_data(5, 3, 2, 9).x, gaussian_data(5, 3, 2, 9).x);
}

TEST(Datasets, GeneratorsRejectBadSizes) {
  EXPECT_THROW(gaussian_data(0, 3, 1, 0), std::invalid_argument);
  EXPECT_THROW(teacher_student({.teacher = {.widths = {3, 1}}, .n_points = 0}),
               std::invalid_argument);
}

}  // namespace
}  // namespace locus
