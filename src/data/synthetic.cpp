#include "locus/data/synthetic.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "locus/core/random.hpp"
#include "locus/io/memory.hpp"

namespace locus {

TeacherStudent teacher_student(const TeacherOptions& options) {
  if (options.n_points < 1)
    throw std::invalid_argument("TeacherOptions.n_points must be >= 1, got " +
                                std::to_string(options.n_points));
  Mlp teacher(options.teacher);
  // x, y and the forward pass's widest layer, before anything is drawn.
  double widest = 0.0;
  for (Index w : options.teacher.widths) widest = std::max(widest, double(w));
  io::check_memory(8.0 * double(options.n_points) *
                       (double(teacher.input_dim() + teacher.output_dim()) + 2.0 * widest),
                   "teacher data of n_points = " + std::to_string(options.n_points) + " for " +
                       teacher.describe(),
                   "n_points x (p + l + 2 x the widest layer) doubles");
  Eigen::VectorXd theta = teacher.init_parameters(options.init);
  Rng rng(options.seed);
  Dataset data;
  data.x.resize(options.n_points, teacher.input_dim());
  // Row by row so that the first d points are the same for every n_points.
  for (Index i = 0; i < data.x.rows(); ++i)
    for (Index j = 0; j < data.x.cols(); ++j) data.x(i, j) = rng.normal();
  data.y = teacher.predict(theta, data.x);
  data.name = "teacher " + teacher.describe() + " seed " + std::to_string(options.seed);
  return {std::move(data), std::move(teacher), std::move(theta)};
}

Dataset gaussian_data(Index n_points, Index input_dim, Index output_dim, std::uint64_t seed) {
  if (n_points < 1 || input_dim < 1 || output_dim < 1)
    throw std::invalid_argument("gaussian data needs n_points, input_dim, output_dim >= 1");
  io::check_memory(8.0 * double(n_points) * (double(input_dim) + double(output_dim)),
                   "gaussian data of n_points = " + std::to_string(n_points) + ", input_dim = " +
                       std::to_string(input_dim) + ", output_dim = " + std::to_string(output_dim),
                   "n_points x (input_dim + output_dim) doubles");
  Rng rng(seed);
  Dataset data{Eigen::MatrixXd(n_points, input_dim), Eigen::MatrixXd(n_points, output_dim),
               "gaussian seed " + std::to_string(seed)};
  for (Index i = 0; i < n_points; ++i) {
    for (Index j = 0; j < input_dim; ++j) data.x(i, j) = rng.normal();
    for (Index j = 0; j < output_dim; ++j) data.y(i, j) = rng.normal();
  }
  return data;
}

Dataset simsek_grid() {
  Dataset data{Eigen::MatrixXd(41 * 41, 2), Eigen::MatrixXd::Zero(41 * 41, 1), "grid41"};
  for (int i = 0; i < 41; ++i)
    for (int j = 0; j < 41; ++j) {
      data.x(i * 41 + j, 0) = -5.0 + 0.25 * i;
      data.x(i * 41 + j, 1) = -5.0 + 0.25 * j;
    }
  return data;
}

TeacherStudent simsek_teacher(Activation activation) {
  Mlp teacher({.widths = {2, 4, 1}, .activation = activation, .bias = {false, false}});
  Eigen::VectorXd theta(teacher.n_params());
  theta << 0.6, 0.5, -0.5, 0.5, -0.2, -0.6, 0.1, -0.6, 1, 1, 1, 1;
  Dataset data = simsek_grid();
  data.y = teacher.predict(theta, data.x);
  data.name = "grid41 teacher " + std::string(to_string(activation));
  return {std::move(data), std::move(teacher), std::move(theta)};
}

}  // namespace locus
