// locus data describe | convert: look at a dataset, or write it as .npy / .csv files.

#include <cstdio>

#include "cli/common.hpp"
#include "locus/data/describe.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/npy.hpp"

namespace locus::cli::data_verb {
namespace {

struct DataCommand {
  DataOptions data;
  OutputOptions out;
  std::string out_x, out_y;
};

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
  // Both files are written beside their paths first and renamed together: a failed convert
  // changes neither output.
  io::StagedFiles files;
  files.write(cmd.out_x, [&](const std::string& tmp) { write_matrix(tmp, d.x); });
  files.write(cmd.out_y, [&](const std::string& tmp) { write_matrix(tmp, d.y); });
  files.commit();
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
    const DataDescription desc = describe(load_data(cmd->data));
    if (cmd->out.json) return print_json({{"data", to_json(cmd->data)}}, to_json(desc));
    std::printf("%s", summary(desc).c_str());
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
}  // namespace locus::cli::data_verb
