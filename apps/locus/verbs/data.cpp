// locus data describe | convert: look at a dataset, or write it as .npy / .csv files.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/common.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/npy.hpp"

namespace locus::cli {
namespace {

// Features listed one per line in the text output up to this many (--json lists all).
constexpr Index kMaxFeatureLines = 16;
// Scalar targets count as class labels when they are integers with at most this many values.
constexpr size_t kMaxScalarLabels = 100;

struct DataCommand {
  DataOptions data;
  OutputOptions out;
  std::string out_x, out_y;
};

// Class counts: one-hot rows -> per column; one integer column with few values -> per value.
// Empty when the targets are not class labels.
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
    if (counts.size() > kMaxScalarLabels) return {};
  }
  return counts;
}

io::Json describe(const Dataset& d) {
  io::Json j;
  j["name"] = d.name;
  j["n_points"] = d.size();
  j["input_dim"] = d.input_dim();
  j["output_dim"] = d.output_dim();
  io::Json features = io::Json::array();
  for (Index c = 0; c < d.input_dim(); ++c)
    features.push_back({{"min", d.x.col(c).minCoeff()},
                        {"max", d.x.col(c).maxCoeff()},
                        {"mean", d.x.col(c).mean()}});
  j["features"] = features;
  io::Json targets = io::Json::array();
  for (Index c = 0; c < d.output_dim(); ++c)
    targets.push_back({{"min", d.y.col(c).minCoeff()},
                       {"max", d.y.col(c).maxCoeff()},
                       {"mean", d.y.col(c).mean()}});
  j["targets"] = targets;
  const auto counts = label_counts(d);
  if (!counts.empty()) {
    io::Json jc = io::Json::object();
    for (const auto& [label, count] : counts) jc[std::to_string(label)] = count;
    j["label_counts"] = jc;
  }
  try {
    d.require_distinct_inputs();
    j["distinct_inputs"] = true;
  } catch (const std::invalid_argument& e) {
    j["distinct_inputs"] = false;
    j["duplicate"] = e.what();
  }
  return j;
}

void print_describe(const Dataset& d, const io::Json& j) {
  std::printf("dataset %s: d = %ld points, p = %ld inputs, l = %ld outputs\n", d.name.c_str(),
              long(d.size()), long(d.input_dim()), long(d.output_dim()));
  auto ranges = [](const char* what, const io::Json& cols) {
    const Index k = static_cast<Index>(cols.size());
    for (Index c = 0; c < std::min(k, kMaxFeatureLines); ++c)
      std::printf("  %s %-3ld min %-12.6g max %-12.6g mean %.6g\n", what, long(c),
                  cols[c]["min"].get<double>(), cols[c]["max"].get<double>(),
                  cols[c]["mean"].get<double>());
    if (k > kMaxFeatureLines)
      std::printf("  ... %ld more (--json lists all)\n", long(k - kMaxFeatureLines));
  };
  std::printf("features: overall min %.6g, max %.6g\n", d.x.minCoeff(), d.x.maxCoeff());
  ranges("x", j["features"]);
  std::printf("targets:\n");
  ranges("y", j["targets"]);
  if (j.contains("label_counts")) {
    std::printf("label counts:");
    for (const auto& [label, count] : j["label_counts"].items())
      std::printf(" %s: %ld", label.c_str(), count.get<long>());
    std::printf("\n");
  }
  std::printf("inputs distinct: %s", j["distinct_inputs"].get<bool>() ? "yes" : "no");
  if (j.contains("duplicate")) std::printf(" (%s)", j["duplicate"].get<std::string>().c_str());
  std::printf("\n");
}

// .npy ('<f8') or .csv (no header, %.17g, which load_xy and --x/--y read back exactly).
void write_matrix(const std::string& path, const Eigen::MatrixXd& m) {
  if (io::has_suffix(path, ".npy")) return io::write_npy(path, m);
  std::string out;
  char buf[32];
  for (Index i = 0; i < m.rows(); ++i) {
    for (Index c = 0; c < m.cols(); ++c) {
      std::snprintf(buf, sizeof buf, "%s%.17g", c ? "," : "", m(i, c));
      out += buf;
    }
    out += '\n';
  }
  io::write_file_atomic(path, out);
}

void convert(const DataCommand& cmd) {
  if (cmd.out_x == cmd.out_y)
    throw std::invalid_argument("--out-x and --out-y are the same file '" + cmd.out_x + "'");
  const std::pair<std::string, std::string> outputs[] = {{"--out-x", cmd.out_x},
                                                         {"--out-y", cmd.out_y}};
  for (const auto& [option, path] : outputs) {
    if (!io::has_suffix(path, ".npy") && !io::has_suffix(path, ".csv"))
      throw std::invalid_argument(option + " '" + path + "': use a .npy or .csv file name");
    io::require_writable(path);
  }
  const Dataset d = load_data(cmd.data);
  // Each file is atomic; if the second cannot be written, the first is removed again so that
  // a failed convert leaves no new file behind.
  const bool x_existed = std::filesystem::exists(cmd.out_x);
  write_matrix(cmd.out_x, d.x);
  try {
    write_matrix(cmd.out_y, d.y);
  } catch (...) {
    if (!x_existed) std::filesystem::remove(cmd.out_x);
    throw;
  }
  if (cmd.out.json) {
    print_json({{"data", to_json(cmd.data)}, {"out_x", cmd.out_x}, {"out_y", cmd.out_y}},
               {{"name", d.name},
                {"n_points", d.size()},
                {"input_dim", d.input_dim()},
                {"output_dim", d.output_dim()},
                {"out_x", cmd.out_x},
                {"out_y", cmd.out_y}});
    return;
  }
  std::printf("wrote %s (%ld x %ld) and %s (%ld x %ld)\n", cmd.out_x.c_str(), long(d.size()),
              long(d.input_dim()), cmd.out_y.c_str(), long(d.size()), long(d.output_dim()));
}

void setup_data(CLI::App* app) {
  auto cmd = std::make_shared<DataCommand>();
  app->require_subcommand(1);
  auto* desc = app->add_subcommand("describe",
                                   "Describe a dataset: sizes, per-feature ranges and means, "
                                   "label counts, whether the inputs are distinct");
  add_data_options(desc, cmd->data);
  add_output_options(desc, cmd->out);
  desc->callback([cmd] {
    apply_output_options(cmd->out);
    const Dataset d = load_data(cmd->data);
    const io::Json j = describe(d);
    if (cmd->out.json) return print_json({{"data", to_json(cmd->data)}}, j);
    print_describe(d, j);
  });
  auto* conv = app->add_subcommand(
      "convert",
      "Write a dataset as .npy ('<f8', C order) or .csv (no header, 17 digits) files; each "
      "file is written atomically and the paths are checked before any work");
  add_data_options(conv, cmd->data);
  add_output_options(conv, cmd->out);
  conv->add_option("--out-x", cmd->out_x, "inputs file, d x p (.npy or .csv)")->required();
  conv->add_option("--out-y", cmd->out_y, "targets file, d x l (.npy or .csv)")->required();
  conv->callback([cmd] {
    apply_output_options(cmd->out);
    convert(*cmd);
  });
}

const bool registered =
    register_command({"data", "Describe a dataset or convert it to .npy/.csv", setup_data});

}  // namespace
}  // namespace locus::cli
