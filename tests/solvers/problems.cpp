#include "problems.hpp"

#include <Eigen/QR>

#include "locus/core/random.hpp"
#include "locus/data/synthetic.hpp"

namespace locus::testing {

Problem realizable_teacher_student(std::uint64_t seed, Index d, Index p, Index teacher_width,
                                   Index student_width) {
  TeacherOptions t;
  t.teacher = MlpSpec{{p, teacher_width, 1}, Activation::softplus, {}, false};
  t.n_points = d;
  t.seed = 1000 + seed;
  t.init = InitOptions{InitScheme::glorot, 2000 + seed, 1.0};
  TeacherStudent ts = teacher_student(t);
  Mlp student(MlpSpec{{p, student_width, 1}, Activation::softplus, {}, false});
  Eigen::VectorXd x0 = student.init_parameters(InitOptions{InitScheme::glorot, seed, 1.0});
  return {std::move(student), std::move(ts.data), std::move(x0)};
}

Problem cooper(std::uint64_t seed, Index d, Index p, Index h, Activation activation) {
  Dataset data = gaussian_data(d, p, 1, 3000 + seed);
  Mlp model(MlpSpec{{p, h, 1}, activation, {}, false});
  Eigen::VectorXd x0 = model.init_parameters(InitOptions{InitScheme::glorot, seed, 1.0});
  return {std::move(model), std::move(data), std::move(x0)};
}

LinearProblem linear_regression(std::uint64_t seed, Index d, Index p) {
  Rng rng(4000 + seed);
  Dataset data{Eigen::MatrixXd(d, p), Eigen::MatrixXd(d, 1), "linear"};
  for (Index i = 0; i < d; ++i) {
    double y = 0.5;
    for (Index j = 0; j < p; ++j) {
      data.x(i, j) = rng.normal();
      y += (j + 1.0) * data.x(i, j);
    }
    data.y(i, 0) = y + 0.3 * rng.normal();
  }
  // Closed-form least squares on [x, 1].
  Eigen::MatrixXd a(d, p + 1);
  a << data.x, Eigen::VectorXd::Ones(d);
  const Eigen::VectorXd w = a.colPivHouseholderQr().solve(data.y.col(0));
  const double loss_min = (a * w - data.y.col(0)).squaredNorm();
  Mlp model(MlpSpec{{p, 1}, Activation::identity, {}, false});
  Eigen::VectorXd x0 = Eigen::VectorXd::Zero(model.n_params());
  return {{std::move(model), std::move(data), std::move(x0)}, loss_min};
}

}  // namespace locus::testing
