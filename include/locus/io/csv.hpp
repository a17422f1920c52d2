#pragma once
// Numeric CSV tables, plain or gzip-compressed (detected by the gzip magic bytes 1f 8b).

#include <Eigen/Core>
#include <string>
#include <string_view>
#include <vector>

namespace locus::io {

struct CsvOptions {
  int skip_rows = 0;     // header lines to skip before the numbers start
  char delimiter = ',';  // field separator
};

// All numeric cells as a matrix (rows x columns). Empty lines are ignored. Throws
// std::invalid_argument naming the path, line and column for a non-numeric cell or a row whose
// length differs from the first row's, and for a missing, corrupt (bad gzip) or empty file.
Eigen::MatrixXd read_csv(const std::string& path, const CsvOptions& options = {});

// The same on text already in memory; source names the origin in error messages.
Eigen::MatrixXd parse_csv(std::string_view text, const CsvOptions& options,
                          const std::string& source);

// bytes gunzipped when they start with the gzip magic, else unchanged; source names the errors.
std::string maybe_gunzip(std::string_view bytes, const std::string& source);

// A header line, then one line per row with full precision (%.17g); written atomically. Throws
// std::invalid_argument when a non-empty header and a non-empty table differ in column count.
void write_csv(const std::string& path, const std::vector<std::string>& header,
               const Eigen::MatrixXd& rows);

}  // namespace locus::io
