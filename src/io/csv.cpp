#include "locus/io/csv.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "locus/io/atomic_file.hpp"
#include "locus/io/memory.hpp"

namespace locus::io {

std::string maybe_gunzip(std::string_view bytes_in, const std::string& path) {
  std::string bytes(bytes_in);
  if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x1f ||
      static_cast<unsigned char>(bytes[1]) != 0x8b)
    return bytes;
  z_stream zs{};
  // 16 + MAX_WBITS: expect a gzip wrapper.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    throw std::runtime_error("'" + path + "': zlib initialisation failed");
  zs.next_in = reinterpret_cast<Bytef*>(bytes.data());
  zs.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  std::size_t next_check = std::size_t{1} << 24;
  char buf[1 << 16];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw std::invalid_argument("'" + path + "': corrupt or truncated gzip data");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    // A small file may inflate without bound: the text and the doubles parsed from it (at most
    // one per two bytes) are checked against the memory limit as it grows.
    if (out.size() >= next_check) {
      next_check = out.size() + (std::size_t{1} << 24);
      const double bytes = 5.0 * double(out.size());
      if (bytes > max_memory_bytes()) {
        inflateEnd(&zs);
        check_memory(bytes, "'" + path + "' decompressed", "the text and its numbers");
      }
    }
  } while (rc != Z_STREAM_END && (zs.avail_in > 0 || zs.avail_out == 0));
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::invalid_argument("'" + path + "': truncated gzip data");
  return out;
}

Eigen::MatrixXd read_csv(const std::string& path, const CsvOptions& options) {
  return parse_csv(read_file(path), options, path);
}

Eigen::MatrixXd parse_csv(std::string_view text_in, const CsvOptions& options,
                          const std::string& path) {
  const std::string text = maybe_gunzip(text_in, path);
  std::istringstream in(text);
  std::string line;
  std::vector<double> values;
  long cols = -1, rows = 0, line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line_no <= options.skip_rows) continue;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    long c = 0;
    size_t start = 0;
    while (true) {
      const size_t end = line.find(options.delimiter, start);
      const std::string cell =
          line.substr(start, end == std::string::npos ? std::string::npos : end - start);
      char* stop = nullptr;
      errno = 0;
      const double v = std::strtod(cell.c_str(), &stop);
      // The tail is measured in the cell, not as a C string: "1\0x" is not the number 1.
      const bool blank_tail =
          cell.find_first_not_of(" \t", static_cast<size_t>(stop - cell.c_str())) ==
          std::string::npos;
      if (cell.find_first_not_of(" \t") == std::string::npos || stop == cell.c_str() || !blank_tail)
        throw std::invalid_argument("'" + path + "': line " + std::to_string(line_no) +
                                    ", column " + std::to_string(c + 1) + ": '" + cell +
                                    "' is not a number");
      values.push_back(v);
      ++c;
      if (end == std::string::npos) break;
      start = end + 1;
    }
    if (cols < 0) cols = c;
    if (c != cols)
      throw std::invalid_argument("'" + path + "': line " + std::to_string(line_no) + " has " +
                                  std::to_string(c) + " columns, the first data line has " +
                                  std::to_string(cols));
    ++rows;
  }
  if (rows == 0) throw std::invalid_argument("'" + path + "': no data rows");
  return Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      values.data(), rows, cols);
}

void write_csv(const std::string& path, const std::vector<std::string>& header,
               const Eigen::MatrixXd& rows) {
  // An empty table (0 rows) may come with a 0 x 0 matrix, so only a non-empty one is checked.
  if (!header.empty() && rows.rows() > 0 && static_cast<Eigen::Index>(header.size()) != rows.cols())
    throw std::invalid_argument("cannot write '" + path + "': " + std::to_string(header.size()) +
                                " column names for " + std::to_string(rows.cols()) + " columns");
  std::string out;
  for (size_t j = 0; j < header.size(); ++j) out += (j ? "," : "") + header[j];
  out += '\n';
  char buf[40];
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    for (Eigen::Index j = 0; j < rows.cols(); ++j) {
      std::snprintf(buf, sizeof buf, "%.17g", rows(i, j));
      if (j) out += ',';
      out += buf;
    }
    out += '\n';
  }
  write_file_atomic(path, out);
}

}  // namespace locus::io
