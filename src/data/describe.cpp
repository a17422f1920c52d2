#include "locus/data/describe.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace locus {

namespace {

// Scalar targets count as class labels when they are integers with at most this many values.
constexpr size_t k_max_scalar_labels = 100;

std::vector<ColumnSummary> columns(const Eigen::MatrixXd& m) {
  std::vector<ColumnSummary> out;
  for (Index c = 0; c < m.cols(); ++c)
    out.push_back({m.col(c).minCoeff(), m.col(c).maxCoeff(), m.col(c).mean()});
  return out;
}

// One-hot rows -> per column; one integer column with few values -> per value; else empty.
std::map<long, long> label_counts(const Dataset& d) {
  std::map<long, long> counts;
  const auto y = d.y.array();
  if (d.output_dim() > 1) {
    if (!((y == 0) || (y == 1)).all() || !(d.y.rowwise().sum().array() == 1).all()) return {};
    for (Index c = 0; c < d.output_dim(); ++c) counts[c] = static_cast<long>(d.y.col(c).sum());
    return counts;
  }
  for (Index i = 0; i < d.size(); ++i) {
    const double v = d.y(i, 0);
    if (v != std::round(v) || std::abs(v) > 1e9) return {};
    ++counts[static_cast<long>(v)];
    if (counts.size() > k_max_scalar_labels) return {};
  }
  return counts;
}

std::string format(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::string column_lines(const char* what, const std::vector<ColumnSummary>& cols,
                         Index max_columns) {
  std::string out;
  const Index k = static_cast<Index>(cols.size());
  for (Index c = 0; c < std::min(k, max_columns); ++c)
    out += format("  %s %-3ld min %-12.6g max %-12.6g mean %.6g\n", what, long(c), cols[c].min,
                  cols[c].max, cols[c].mean);
  if (k > max_columns) out += format("  ... %ld more columns\n", long(k - max_columns));
  return out;
}

}  // namespace

DataDescription describe(const Dataset& d) {
  if (d.size() == 0) throw std::invalid_argument("describe: the dataset '" + d.name + "' is empty");
  DataDescription r;
  r.name = d.name;
  r.n_points = d.size();
  r.input_dim = d.input_dim();
  r.output_dim = d.output_dim();
  r.feature_min = d.x.size() ? d.x.minCoeff() : 0.0;
  r.feature_max = d.x.size() ? d.x.maxCoeff() : 0.0;
  r.features = columns(d.x);
  r.targets = columns(d.y);
  r.label_counts = label_counts(d);
  try {
    d.require_distinct_inputs();
  } catch (const std::invalid_argument& e) {
    r.distinct_inputs = false;
    r.duplicate = e.what();
  }
  return r;
}

io::Json to_json(const DataDescription& r) {
  auto cols = [](const std::vector<ColumnSummary>& v) {
    io::Json a = io::Json::array();
    for (const auto& c : v) a.push_back({{"min", c.min}, {"max", c.max}, {"mean", c.mean}});
    return a;
  };
  io::Json j;
  j["name"] = r.name;
  j["n_points"] = r.n_points;
  j["input_dim"] = r.input_dim;
  j["output_dim"] = r.output_dim;
  j["features"] = cols(r.features);
  j["targets"] = cols(r.targets);
  if (!r.label_counts.empty()) {
    io::Json jc = io::Json::object();
    for (const auto& [label, count] : r.label_counts) jc[std::to_string(label)] = count;
    j["label_counts"] = jc;
  }
  j["distinct_inputs"] = r.distinct_inputs;
  if (!r.distinct_inputs) j["duplicate"] = r.duplicate;
  return j;
}

std::string summary(const DataDescription& r, Index max_columns) {
  std::string out = format("dataset %s: d = %ld points, p = %ld inputs, l = %ld outputs\n",
                           r.name.c_str(), long(r.n_points), long(r.input_dim), long(r.output_dim));
  out += format("features: overall min %.6g, max %.6g\n", r.feature_min, r.feature_max);
  out += column_lines("x", r.features, max_columns);
  out += "targets:\n" + column_lines("y", r.targets, max_columns);
  if (!r.label_counts.empty()) {
    out += "label counts:";
    for (const auto& [label, count] : r.label_counts) out += format(" %ld: %ld", label, count);
    out += "\n";
  }
  out += std::string("inputs distinct: ") + (r.distinct_inputs ? "yes" : "no");
  if (!r.distinct_inputs) out += " (" + r.duplicate + ")";
  return out + "\n";
}

}  // namespace locus
