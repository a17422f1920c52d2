#include "locus/io/npy.hpp"

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "locus/io/atomic_file.hpp"

namespace locus::io {

namespace {

[[noreturn]] void npy_error(const std::string& path, const std::string& what) {
  throw std::invalid_argument("'" + path + "': not a valid .npy file: " + what);
}

template <class T>
double load_as_double(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return static_cast<double>(v);
}

// The header is a Python dict literal, e.g. "{'descr': '<f8', 'fortran_order': False,
// 'shape': (3, 4), }", padded with spaces and a newline. A small recursive-descent parser (not a
// regex) so that anything malformed is rejected rather than half-read.
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<Eigen::Index> shape;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& path, std::string_view text) : path_(path), s_(text) {}

  NpyHeader parse() {
    NpyHeader h;
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = string_literal();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (peek() == '[') npy_error(path_, "structured dtypes are not supported");
        h.descr = string_literal();
        has_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        has_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        has_shape = true;
      } else {
        npy_error(path_, "header has an unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',')
        ++i_;
      else if (peek() != '}')
        syntax("',' or '}'");
    }
    ++i_;
    skip_space();
    if (i_ != s_.size()) syntax("the end of the header");
    if (!has_descr) npy_error(path_, "header has no 'descr'");
    if (!has_order) npy_error(path_, "header has no 'fortran_order'");
    if (!has_shape) npy_error(path_, "header has no 'shape'");
    return h;
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t')) ++i_;
  }
  [[noreturn]] void syntax(const std::string& wanted) {
    npy_error(path_, "malformed header dict: expected " + wanted + " at offset " +
                         std::to_string(i_) + " of '" + std::string(s_) + "'");
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) syntax(std::string("'") + c + "'");
    ++i_;
  }
  std::string string_literal() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') syntax("a quoted string");
    const size_t end = s_.find(quote, i_ + 1);
    if (end == std::string_view::npos) syntax("a closing quote");
    std::string out(s_.substr(i_ + 1, end - i_ - 1));
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.substr(i_, 4) == "True") return i_ += 4, true;
    if (s_.substr(i_, 5) == "False") return i_ += 5, false;
    syntax("True or False");
  }
  std::vector<Eigen::Index> tuple() {
    std::vector<Eigen::Index> dims;
    expect('(');
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (peek() < '0' || peek() > '9') syntax("a non-negative integer dimension");
      std::uint64_t v = 0;
      // Checked before each step, so that no dimension wraps around (2^64 + 6 is not 6).
      constexpr std::uint64_t k_max = std::uint64_t{1} << 62;
      while (peek() >= '0' && peek() <= '9') {
        const auto digit = static_cast<std::uint64_t>(peek() - '0');
        if (v > (k_max - digit) / 10) npy_error(path_, "shape dimension is too large (above 2^62)");
        v = v * 10 + digit;
        ++i_;
      }
      if (peek() == 'L') ++i_;  // Python 2 long literal in old files
      dims.push_back(static_cast<Eigen::Index>(v));
      skip_space();
      if (peek() == ',')
        ++i_;
      else if (peek() != ')')
        syntax("',' or ')'");
    }
    ++i_;
    return dims;
  }

  const std::string& path_;
  std::string_view s_;
  size_t i_ = 0;
};

NpyHeader parse_header(const std::string& path, std::string_view text) {
  return HeaderParser(path, text).parse();
}

}  // namespace

NpyArray read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

NpyArray parse_npy(std::string_view bytes, const std::string& path) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    npy_error(path, "missing the \\x93NUMPY magic");
  const auto major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) npy_error(path, "truncated header");
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    npy_error(path, "unsupported format version " + std::to_string(major));
  }
  if (offset + header_len > bytes.size()) npy_error(path, "header is truncated");
  const NpyHeader h = parse_header(path, bytes.substr(offset, header_len));
  const std::string& descr = h.descr;
  const bool fortran = h.fortran_order;
  NpyArray a;
  a.shape = h.shape;
  if (descr.size() < 3) npy_error(path, "unsupported dtype '" + descr + "'");
  const char order = descr[0], kind = descr[1];
  // The item size: the whole rest of descr ("<f8x" is not '<f8').
  const std::string size_text = descr.substr(2);
  const int size =
      size_text.find_first_not_of("0123456789") == std::string::npos && size_text.size() <= 2
          ? std::stoi(size_text)
          : 0;
  if (order == '>' || (order != '<' && order != '|' && order != '='))
    npy_error(path,
              "dtype '" + descr + "' is big-endian or unknown (only little-endian supported)");
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
    npy_error(path, "unsupported dtype '" + descr + "' (supported: f8, f4, i1-i8, u1-u8, b1)");
  }();
  // Element count, guarding against overflow from absurd shapes (more elements than the file has
  // bytes is reported as truncation).
  const size_t data_offset = offset + header_len;
  const size_t available = bytes.size() - data_offset;
  size_t count = 1;
  bool too_big = false;
  for (Eigen::Index d : a.shape) {
    const size_t n = static_cast<size_t>(d);
    if (n == 0) {
      count = 0;
      too_big = false;
      break;
    }
    // count * n <= available keeps every product below (and count * size near) the file size.
    if (n > available || count > available / n)
      too_big = true;
    else
      count *= n;
  }
  if (too_big || available < count * size)
    npy_error(path, "data are truncated: the shape needs " +
                        (too_big ? std::string("more") : std::to_string(count * size)) +
                        " bytes, the file has " + std::to_string(available) + " after the header");
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
  if (a.shape.size() == 1) return Eigen::Map<const Eigen::VectorXd>(a.data.data(), a.shape[0]);
  if (a.shape.size() != 2)
    throw std::invalid_argument("'" + path + "': expected a 1-D or 2-D array, got " +
                                std::to_string(a.shape.size()) + "-D");
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      a.data.data(), a.shape[0], a.shape[1]);
}

Eigen::VectorXd read_npy_vector(const std::string& path) {
  const NpyArray a = read_npy(path);
  const bool ok =
      a.shape.size() == 1 || (a.shape.size() == 2 && (a.shape[0] == 1 || a.shape[1] == 1));
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
  const std::string shape =
      std::string("(") + std::to_string(m.rows()) + ", " + std::to_string(m.cols()) + ")";
  write_npy_raw(path, shape, r.data(), static_cast<size_t>(r.size()));
}

void write_npy(const std::string& path, const Eigen::VectorXd& v) {
  const std::string shape = std::string("(") + std::to_string(v.size()) + ",)";
  write_npy_raw(path, shape, v.data(), static_cast<size_t>(v.size()));
}

}  // namespace locus::io
