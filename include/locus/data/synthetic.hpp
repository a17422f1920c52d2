#pragma once
// Generated data: Gaussian inputs and labels, teacher-student problems (y = a teacher network's
// output on Gaussian inputs), and the 41 x 41 grid of Simsek et al. (2021) with their teacher.
// Everything random is seeded: the same options give the same data bit for bit on any machine.

#include <Eigen/Core>
#include <cstdint>

#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"

namespace locus {

struct TeacherOptions {
  MlpSpec teacher;         // the teacher network
  Index n_points = 100;    // d
  std::uint64_t seed = 0;  // seeds the inputs x ~ N(0, I_p)
  InitOptions init;        // the teacher's parameters (its own seed)
};
struct TeacherStudent {
  Dataset data;  // x ~ N(0, I), y = teacher(x)
  Mlp teacher;
  Eigen::VectorXd teacher_parameters;
};
// x ~ N(0, I_p) (row by row, so the first d points are the same for every n_points), teacher
// parameters from options.init, y = teacher(x). Cost: one forward pass. Throws
// std::invalid_argument for n_points < 1 or an invalid teacher spec.
TeacherStudent teacher_student(const TeacherOptions& options);

// x ~ N(0, I_p), y ~ N(0, I_l), both seeded: d random points with random labels (row by row,
// x before y). Throws std::invalid_argument unless n_points, input_dim, output_dim >= 1.
Dataset gaussian_data(Index n_points, Index input_dim, Index output_dim, std::uint64_t seed);

// The 41 x 41 grid on [-5, 5]^2 (spacing 0.25), row-major in (x1, x2); y = 0.
Dataset simsek_grid();
// Simsek et al.'s teacher: [2, 4, 1] without biases, incoming vectors (0.6, 0.5), (-0.5, 0.5),
// (-0.2, -0.6), (0.1, -0.6), output weights 1; data = the grid with y = teacher(x).
TeacherStudent simsek_teacher(Activation activation = Activation::sigmoid);

}  // namespace locus
