#include "locus/data/builtin.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>
#include <stdexcept>

#include "locus/core/random.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"
#include "locus/io/npy.hpp"

namespace locus {

std::string_view embedded_file(const std::string& name);  // generated from data/

namespace {

struct BuiltinInfo {
  const char* file;
  int skip_rows;
};
const std::map<std::string, BuiltinInfo, std::less<>>& builtins() {
  static const std::map<std::string, BuiltinInfo, std::less<>> table = {
      {"breast_cancer", {"breast_cancer.csv", 1}},
      {"digits", {"digits.csv.gz", 0}},
      {"iris", {"iris.csv", 1}},
      {"wine", {"wine_data.csv", 1}},
  };
  return table;
}

Eigen::MatrixXd parse_embedded(const std::string& file, int skip_rows) {
  const std::string_view bytes = embedded_file(file);
  if (bytes.empty()) throw std::runtime_error("built-in data file " + file + " is not embedded");
  return io::parse_csv(bytes, {.skip_rows = skip_rows}, "built-in " + file);
}

}  // namespace

Eigen::MatrixXd read_matrix(const std::string& path) {
  if (io::has_suffix(path, ".npy")) return io::read_npy_matrix(path);
  if (io::has_suffix(path, ".csv") || io::has_suffix(path, ".csv.gz") ||
      io::has_suffix(path, ".txt"))
    return io::read_csv(path);
  throw std::invalid_argument("'" + path + "': unknown data format (use .npy, .csv or .csv.gz)");
}

std::vector<std::string> builtin_dataset_names() {
  std::vector<std::string> names;
  for (const auto& [name, info] : builtins()) names.push_back(name);
  return names;
}

Dataset load_builtin(std::string_view name, const BuiltinOptions& options) {
  const auto it = builtins().find(name);
  if (it == builtins().end()) {
    std::string valid;
    for (const auto& n : builtin_dataset_names()) valid += (valid.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown built-in dataset '" + std::string(name) +
                                "' (valid: " + valid + ")");
  }
  // Parsed once per process: the tables are small and read-only afterwards.
  static std::map<std::string, Eigen::MatrixXd, std::less<>> cache;
  static std::mutex mutex;
  Eigen::MatrixXd table;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto c = cache.find(name);
    if (c == cache.end())
      c = cache.emplace(std::string(name), parse_embedded(it->second.file, it->second.skip_rows))
              .first;
    table = c->second;
  }
  const Index d_all = table.rows(), p = table.cols() - 1;
  std::vector<Index> rows(static_cast<size_t>(d_all));
  std::iota(rows.begin(), rows.end(), 0);
  if (options.n_points != -1) {
    if (options.n_points < 1)
      throw std::invalid_argument("n_points must be >= 1 (or -1 for all), got " +
                                  std::to_string(options.n_points));
    // Seeded Fisher-Yates shuffle, then keep the first n_points rows whose features are distinct.
    rows = Rng(options.seed).permutation(d_all);
    std::vector<Index> kept;
    std::map<std::vector<double>, bool> seen;
    for (Index r : rows) {
      std::vector<double> key(static_cast<size_t>(p));
      for (Index j = 0; j < p; ++j) key[j] = table(r, j);
      if (seen.emplace(key, true).second) kept.push_back(r);
      if (static_cast<Index>(kept.size()) == options.n_points) break;
    }
    if (static_cast<Index>(kept.size()) < options.n_points)
      throw std::invalid_argument("dataset '" + std::string(name) + "' has only " +
                                  std::to_string(kept.size()) + " distinct rows, " +
                                  std::to_string(options.n_points) + " requested");
    std::sort(kept.begin(), kept.end());
    rows = kept;
  }
  const Index d = static_cast<Index>(rows.size());
  Dataset data;
  data.name = std::string(name);
  data.x.resize(d, p);
  Eigen::VectorXi labels(d);
  for (Index i = 0; i < d; ++i) {
    data.x.row(i) = table.row(rows[i]).head(p);
    labels[i] = static_cast<int>(std::lround(table(rows[i], p)));
  }
  if (options.standardize) {
    for (Index j = 0; j < p; ++j) {
      const double mean = data.x.col(j).mean();
      const double sd = std::sqrt((data.x.col(j).array() - mean).square().sum() / d);
      if (sd > 0)
        data.x.col(j) = ((data.x.col(j).array() - mean) / sd).matrix();
      else
        data.x.col(j).setZero();
    }
  }
  if (options.one_hot) {
    // Classes of the whole table (not only the subset), so l is the same for every subset.
    const int classes = static_cast<int>(std::lround(table.col(p).maxCoeff())) + 1;
    data.y = Eigen::MatrixXd::Zero(d, classes);
    for (Index i = 0; i < d; ++i) data.y(i, labels[i]) = 1.0;
  } else {
    data.y = labels.cast<double>();
  }
  return data;
}

Dataset load_xy(const std::string& x_path, const std::string& y_path) {
  Dataset data;
  data.x = read_matrix(x_path);
  data.y = read_matrix(y_path);
  data.name = x_path;
  data.validate();
  return data;
}

}  // namespace locus
