#pragma once
// NumPy .npy files (format versions 1.0, 2.0, 3.0).

#include <Eigen/Core>
#include <string>
#include <string_view>
#include <vector>

namespace locus::io {

struct NpyArray {
  std::vector<Eigen::Index> shape;  // () for a scalar
  std::vector<double> data;         // C (row-major) order, converted to double
};

// Reads dtypes f8, f4, i1..i8, u1..u8, b1 (little-endian '<' or byte-order-free '|'), C or
// Fortran order (converted to C order). Throws std::invalid_argument naming the path and the
// problem for anything else: missing file, bad magic, malformed or truncated header, big-endian
// or complex or object or structured dtypes, data shorter than the shape says.
NpyArray read_npy(const std::string& path);
// The same on a file's bytes already in memory; source names the origin in error messages.
// Cost: O(bytes); the shape's product is checked against the bytes before anything is allocated.
NpyArray parse_npy(std::string_view bytes, const std::string& source);
// 2-D arrays as they are; a 1-D array of length k as a k x 1 column. Other ranks -> error.
Eigen::MatrixXd read_npy_matrix(const std::string& path);
// A 1-D array, or a 2-D array with a single row or column. Other shapes -> error.
Eigen::VectorXd read_npy_vector(const std::string& path);

// Writes '<f8' in C order (format 1.0), atomically. Matrices are 2-D, vectors 1-D.
void write_npy(const std::string& path, const Eigen::MatrixXd& m);
void write_npy(const std::string& path, const Eigen::VectorXd& v);

}  // namespace locus::io
