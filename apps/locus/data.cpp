// locus data describe | convert: look at a dataset, or write it as .npy / .csv files.

#include <iostream>
#include <map>

#include "common.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"
#include "locus/io/npy.hpp"

namespace locus::cli {
namespace {

struct DataCommand {
  DataOptions data;
  OutputOptions out;
  std::string out_x, out_y;
};

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
  // One-hot targets: counts per class.
  const bool one_hot = ((d.y.array() == 0) || (d.y.array() == 1)).all() &&
                       (d.y.rowwise().sum().array() == 1).all() && d.output_dim() > 1;
  if (one_hot) {
    io::Json counts = io::Json::array();
    for (Index c = 0; c < d.output_dim(); ++c) counts.push_back(d.y.col(c).sum());
    j["class_counts"] = counts;
  }
  j["targets_min"] = d.y.minCoeff();
  j["targets_max"] = d.y.maxCoeff();
  try {
    d.require_distinct_inputs();
    j["distinct_inputs"] = true;
  } catch (const std::invalid_argument& e) {
    j["distinct_inputs"] = false;
    j["duplicate"] = e.what();
  }
  return j;
}

void setup_data(CLI::App* app) {
  auto cmd = std::make_shared<DataCommand>();
  app->require_subcommand(1);
  auto* desc = app->add_subcommand("describe", "Describe a dataset: sizes, feature ranges, classes, "
                                               "whether the inputs are distinct");
  add_data_options(desc, cmd->data);
  add_output_options(desc, cmd->out);
  desc->callback([cmd] {
    const Dataset d = load_data(cmd->data);
    const io::Json j = describe(d);
    if (cmd->out.json) {
      print_json({{"data", to_json(cmd->data)}}, j);
      return;
    }
    std::cout << "dataset " << d.name << ": d = " << d.size() << " points, p = " << d.input_dim()
              << " inputs, l = " << d.output_dim() << " outputs\n";
    std::cout << "features: min " << d.x.minCoeff() << ", max " << d.x.maxCoeff() << "\n";
    if (j.contains("class_counts")) std::cout << "class counts: " << j["class_counts"].dump() << "\n";
    std::cout << "targets: min " << d.y.minCoeff() << ", max " << d.y.maxCoeff() << "\n";
    std::cout << "inputs distinct: " << (j["distinct_inputs"].get<bool>() ? "yes" : "no");
    if (j.contains("duplicate")) std::cout << " (" << j["duplicate"].get<std::string>() << ")";
    std::cout << "\n";
  });
  auto* conv = app->add_subcommand("convert", "Write a dataset as .npy or .csv files");
  add_data_options(conv, cmd->data);
  conv->add_option("--out-x", cmd->out_x, "inputs file (.npy or .csv)")->required();
  conv->add_option("--out-y", cmd->out_y, "targets file (.npy or .csv)")->required();
  conv->callback([cmd] {
    for (const auto& p : {cmd->out_x, cmd->out_y}) {
      io::require_writable(p);
      if (!io::has_suffix(p, ".npy") && !io::has_suffix(p, ".csv"))
        throw std::invalid_argument("cannot write '" + p + "': use .npy or .csv");
    }
    const Dataset d = load_data(cmd->data);
    auto write = [](const std::string& p, const Eigen::MatrixXd& m, const std::string& prefix) {
      if (io::has_suffix(p, ".npy")) {
        io::write_npy(p, m);
      } else {
        std::vector<std::string> header;
        for (Index c = 0; c < m.cols(); ++c) header.push_back(prefix + std::to_string(c));
        io::write_csv(p, header, m);
      }
    };
    write(cmd->out_x, d.x, "x");
    write(cmd->out_y, d.y, "y");
    std::cout << "wrote " << cmd->out_x << " (" << d.size() << " x " << d.input_dim() << ") and "
              << cmd->out_y << " (" << d.size() << " x " << d.output_dim() << ")\n";
  });
}

const bool registered = register_command(
    {"data", "Describe a dataset or convert it to .npy/.csv", setup_data});

}  // namespace
}  // namespace locus::cli
