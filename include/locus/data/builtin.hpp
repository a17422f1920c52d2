#pragma once
// Built-in real data: the four datasets shipped in data/ (embedded into the library, so no file
// is read at run time), and datasets read from files. Generated data live in synthetic.hpp;
// source.hpp picks between all of them from one options struct.

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"  // Index

namespace locus {

struct BuiltinOptions {
  bool standardize = false;  // z-score every feature column (constant columns become 0)
  bool one_hot = true;       // y = one-hot rows (l = classes); false: y = the label, one column
  Index n_points = -1;       // -1: all rows; else a seeded random subset of distinct rows
  std::uint64_t seed = 0;    // seeds the subset
};

// digits (1797 x 64, 10 classes), iris (150 x 4, 3), wine (178 x 13, 3), breast_cancer
// (569 x 30, 2), sorted by name.
std::vector<std::string> builtin_dataset_names();
// Rows of the named table (a seeded subset when n_points != -1), features optionally z-scored,
// targets one-hot or the label. The table is parsed once per process. Cost: O(rows * columns).
// Throws std::invalid_argument for an unknown name (listing the valid ones) or n_points larger
// than the number of distinct rows.
Dataset load_builtin(std::string_view name, const BuiltinOptions& options = {});

// x and y from files (.npy, .csv or .csv.gz by extension; CSV without header). A 1-D y becomes
// d x 1. Throws std::invalid_argument naming the file for unreadable files, and the dataset's
// validate() errors (row counts, NaN/inf).
Dataset load_xy(const std::string& x_path, const std::string& y_path);
// One matrix from a file (.npy; .csv, .csv.gz or .txt without header), by extension. Throws
// std::invalid_argument naming the file for an unknown extension or an unreadable file.
Eigen::MatrixXd read_matrix(const std::string& path);

}  // namespace locus
