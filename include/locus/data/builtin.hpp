#pragma once
// Built-in data: the four real datasets shipped in data/ (embedded into the library), seeded
// synthetic data, teacher-student problems, and the 41 x 41 grid of Simsek et al. (2021).

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"

namespace locus {

struct BuiltinOptions {
  bool standardize = false;  // z-score every feature column (constant columns become 0)
  bool one_hot = true;       // y = one-hot rows (l = classes); false: y = the label, one column
  Index n_points = -1;       // -1: all rows; else a seeded random subset of distinct rows
  std::uint64_t seed = 0;    // seeds the subset
};

// digits (1797 x 64, 10 classes), iris (150 x 4, 3), wine (178 x 13, 3), breast_cancer
// (569 x 30, 2).
std::vector<std::string> builtin_dataset_names();
// Throws std::invalid_argument for an unknown name (listing the valid ones) or n_points larger
// than the number of distinct rows.
Dataset load_builtin(std::string_view name, const BuiltinOptions& options = {});

// x and y from files (.npy, .csv or .csv.gz by extension; CSV without header). A 1-D y becomes
// d x 1. Throws std::invalid_argument naming the file for unreadable files, and the dataset's
// validate() errors (row counts, NaN/inf).
Dataset load_xy(const std::string& x_path, const std::string& y_path);

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
TeacherStudent teacher_student(const TeacherOptions& options);

// x ~ N(0, I_p), y ~ N(0, I_l), both seeded: d random points with random labels.
Dataset gaussian_data(Index n_points, Index input_dim, Index output_dim, std::uint64_t seed);

// The 41 x 41 grid on [-5, 5]^2 (spacing 0.25), row-major in (x1, x2); y = 0.
Dataset simsek_grid();
// Simsek et al.'s teacher: [2, 4, 1] without biases, incoming vectors (0.6, 0.5), (-0.5, 0.5),
// (-0.2, -0.6), (0.1, -0.6), output weights 1; data = the grid with y = teacher(x).
TeacherStudent simsek_teacher(Activation activation = Activation::sigmoid);

}  // namespace locus
