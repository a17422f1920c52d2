#include "locus/io/npy.hpp"

#include <cstdint>
#include <cstring>
#include <regex>
#include <stdexcept>
#include <string>

#include "locus/io/atomic_file.hpp"

namespace locus::io {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::invalid_argument("'" + path + "': not a valid .npy file: " + what);
}

template <class T>
double load_as_double(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return static_cast<double>(v);
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    fail(path, "missing the \\x93NUMPY magic");
  const auto major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(path, "truncated header");
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    fail(path, "unsupported format version " + std::to_string(major));
  }
  if (offset + header_len > bytes.size()) fail(path, "header is truncated");
  const std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')")))
    fail(path, "header has no 'descr'");
  const std::string descr = m[1];
  if (!std::regex_search(header, m, std::regex(R"('fortran_order'\s*:\s*(True|False))")))
    fail(path, "header has no 'fortran_order'");
  const bool fortran = m[1] == "True";
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
    fail(path, "header has no 'shape'");
  NpyArray a;
  {
    const std::string dims = m[1];
    std::regex num(R"(\s*(\d+)\s*(,|$))");
    size_t consumed = 0;
    for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num);
         it != std::sregex_iterator(); ++it) {
      if (static_cast<size_t>(it->position()) != consumed) fail(path, "malformed shape");
      a.shape.push_back(std::stoll((*it)[1]));
      consumed = it->position() + it->length();
    }
    if (dims.find_first_not_of(" ,", consumed) != std::string::npos) fail(path, "malformed shape");
  }
  if (descr.size() < 3) fail(path, "unsupported dtype '" + descr + "'");
  const char order = descr[0], kind = descr[1];
  const int size = std::atoi(descr.c_str() + 2);
  if (order == '>' || (order != '<' && order != '|' && order != '='))
    fail(path, "dtype '" + descr + "' is big-endian or unknown (only little-endian supported)");
  auto conv = [&]() -> double (*)(const char*) {
    if (kind == 'f' && size == 8) return load_as_double<double>;
    if (kind == 'f' && size == 4) return load_as_double<float>;
    if (kind == 'i' && size == 1) return load_as_double<std::int8_t>;
    if (kind == 'i' && size == 2) return load_as_double<std::int16_t>;
    if (kind == 'i' && size == 4) return load_as_double<std::int32_t>;
    if (kind == 'i' && size == 8) return load_as_double<std::int64_t>;
    if ((kind == 'u' || kind == 'b') && size == 1) return load_as_double<std::uint8_t>;
    if (kind == 'u' && size == 2) return load_as_double<std::uint16_t>;
    if (kind == 'u' && size == 4) return load_as_double<std::uint32_t>;
    if (kind == 'u' && size == 8) return load_as_double<std::uint64_t>;
    fail(path, "unsupported dtype '" + descr + "' (supported: f8, f4, i1-i8, u1-u8, b1)");
  }();
  size_t count = 1;
  for (Eigen::Index d : a.shape) count *= static_cast<size_t>(d);
  const size_t data_offset = offset + header_len;
  if (bytes.size() - data_offset < count * size)
    fail(path, "data are truncated: shape needs " + std::to_string(count * size) +
                   " bytes, file has " + std::to_string(bytes.size() - data_offset));
  a.data.resize(count);
  const char* p = bytes.data() + data_offset;
  if (!fortran || a.shape.size() < 2) {
    for (size_t i = 0; i < count; ++i) a.data[i] = conv(p + i * size);
  } else {
    // Fortran order: the first index varies fastest. Map each stored element to its C index.
    const size_t rank = a.shape.size();
    std::vector<size_t> idx(rank, 0), c_stride(rank, 1);
    for (size_t k = rank - 1; k > 0; --k) c_stride[k - 1] = c_stride[k] * a.shape[k];
    for (size_t i = 0; i < count; ++i) {
      size_t c = 0;
      for (size_t k = 0; k < rank; ++k) c += idx[k] * c_stride[k];
      a.data[c] = conv(p + i * size);
      for (size_t k = 0; k < rank; ++k) {
        if (++idx[k] < static_cast<size_t>(a.shape[k])) break;
        idx[k] = 0;
      }
    }
  }
  return a;
}

Eigen::MatrixXd read_npy_matrix(const std::string& path) {
  const NpyArray a = read_npy(path);
  if (a.shape.size() == 1)
    return Eigen::Map<const Eigen::VectorXd>(a.data.data(), a.shape[0]);
  if (a.shape.size() != 2)
    throw std::invalid_argument("'" + path + "': expected a 1-D or 2-D array, got " +
                                std::to_string(a.shape.size()) + "-D");
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      a.data.data(), a.shape[0], a.shape[1]);
}

Eigen::VectorXd read_npy_vector(const std::string& path) {
  const NpyArray a = read_npy(path);
  const bool ok = a.shape.size() == 1 ||
                  (a.shape.size() == 2 && (a.shape[0] == 1 || a.shape[1] == 1));
  if (!ok) {
    std::string s;
    for (auto d : a.shape) s += (s.empty() ? "" : ", ") + std::to_string(d);
    throw std::invalid_argument("'" + path + "': expected a vector, got an array of shape (" + s +
                                ")");
  }
  return Eigen::Map<const Eigen::VectorXd>(a.data.data(), static_cast<Eigen::Index>(a.data.size()));
}

namespace {
void write_npy_raw(const std::string& path, const std::string& shape, const double* data,
                   size_t count) {
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that magic + length + header + '\n' is a multiple of 64 bytes.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += static_cast<char>(1);
  bytes += static_cast<char>(0);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(data), count * sizeof(double));
  write_file_atomic(path, bytes);
}
}  // namespace

void write_npy(const std::string& path, const Eigen::MatrixXd& m) {
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r = m;
  write_npy_raw(path, "(" + std::to_string(m.rows()) + ", " + std::to_string(m.cols()) + ")",
                r.data(), static_cast<size_t>(r.size()));
}

void write_npy(const std::string& path, const Eigen::VectorXd& v) {
  write_npy_raw(path, "(" + std::to_string(v.size()) + ",)", v.data(),
                static_cast<size_t>(v.size()));
}

}  // namespace locus::io
