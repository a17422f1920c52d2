#pragma once
// safetensors files: an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ..., "__metadata__": {...}}, then
// the tensors' bytes (offsets relative to the end of the header).

#include <Eigen/Core>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace locus::io {

enum class DType { f64, f32 };

struct Tensor {
  std::vector<Eigen::Index> shape;
  std::vector<double> data;  // row-major, converted to double
  DType dtype = DType::f64;  // as stored in the file
};

struct TensorFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in file order (by data offset)
  std::map<std::string, std::string> metadata;          // "__metadata__"
  // The tensor with this name, or nullptr.
  const Tensor* find(std::string_view name) const;
};

// Reads F64, F32, F16 and BF16 tensors (converted to double). Throws std::invalid_argument naming
// the path and the problem: missing file, header length beyond the file, malformed JSON, other
// dtypes, offsets outside the data buffer or overlapping, shape and byte span that disagree.
TensorFile read_safetensors(const std::string& path);
// The same on a file's bytes already in memory; source names the origin in error messages.
// Cost: O(bytes); offsets and shapes are checked against the buffer before anything is allocated.
TensorFile parse_safetensors(std::string_view bytes, const std::string& source);

// Writes the tensors in order, as F64 or F32, with "__metadata__" when non-empty; the header is
// padded with spaces to a multiple of 8 bytes (as the reference implementation does). Atomic.
void write_safetensors(const std::string& path, const TensorFile& file, DType dtype = DType::f64);

}  // namespace locus::io
