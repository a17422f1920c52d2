#pragma once
// Shared pieces of the locus CLI: the verb registry, option groups every verb reuses, and how
// results are printed. Defaults are read from the library's option structs, never restated here.

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "locus/core/dataset.hpp"
#include "locus/data/builtin.hpp"
#include "locus/io/json.hpp"
#include "locus/core/objective.hpp"
#include "locus/core/mlp.hpp"

namespace locus::cli {

// A verb registers itself from its own .cpp with a static initializer:
//   static const bool registered = register_command({"train", "Train a network", setup_train});
// setup(sub) adds the verb's options to sub and sets sub->callback(...), which does the work
// and throws std::invalid_argument for bad input (exit 2) or another exception (exit 1).
struct Command {
  std::string name, description;
  std::function<void(CLI::App*)> setup;
};
bool register_command(Command c);
const std::vector<Command>& commands();

// --arch 10,200,1 --activation softplus --bias all|none|1,0 --mean-field --params FILE
struct ModelOptions {
  std::string arch;
  std::string activation;  // empty: MlpSpec's default (or the file's metadata)
  std::string bias = "all";
  bool mean_field = false;
  std::string params;  // safetensors or flat .npy
};
void add_model_options(CLI::App* app, ModelOptions& o, bool params_required);

// --dataset NAME | --x FILE --y FILE, with --n-points, --standardize, --labels, --data-seed and
// the generators' knobs (--input-dim, --output-dim, --teacher-arch, --teacher-activation,
// --teacher-init, --teacher-seed).
struct DataOptions {
  std::string dataset;  // digits|iris|wine|breast_cancer|gaussian|teacher|grid
  std::string x, y;
  long n_points = -1;
  bool standardize = false;
  std::string labels = "onehot";  // onehot|scalar (built-in classification data)
  std::uint64_t data_seed = 0;
  long input_dim = -1, output_dim = -1;  // gaussian: default from --arch's ends
  std::string teacher_arch;              // teacher: e.g. 10,4,1
  std::string teacher_activation;        // teacher: default = the student's activation
  std::string teacher_init = std::string(to_string(TeacherOptions{}.init.scheme));
  std::uint64_t teacher_seed = 0;
};
void add_data_options(CLI::App* app, DataOptions& o);

// --loss squared|cross_entropy --reduction sum|mean
struct LossOptions {
  std::string loss = "squared";
  std::string reduction = "sum";
};
void add_loss_options(CLI::App* app, LossOptions& o);
LossSpec to_loss_spec(const LossOptions& o);

// --json --threads N
struct OutputOptions {
  bool json = false;
  int threads = 0;  // 0: all cores
};
void add_output_options(CLI::App* app, OutputOptions& o);
// Applies --threads.
void apply_output_options(const OutputOptions& o);

// Runs f(); a std::invalid_argument it throws is rethrown as "OPTION: <message>", so that
// errors from library parsers (parse_activation, ...) name the option they came from.
template <class F>
auto with_option(const std::string& option, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(option + ": " + e.what());
  }
}

// Parses "10,200,1" (names the option in errors).
std::vector<Index> parse_widths(const std::string& text, const std::string& option);
// The MlpSpec from --arch/--activation/--bias/--mean-field (throws if --arch is missing).
MlpSpec model_spec(const ModelOptions& o);

// Data from --dataset or --x/--y. `model` (when known) supplies defaults: gaussian dims and the
// teacher's activation. Throws std::invalid_argument naming the option or file.
Dataset load_data(const DataOptions& o, const std::optional<MlpSpec>& model = std::nullopt);

// The model from --arch/--activation, or from the --params safetensors file (architecture
// inferred and checked against --arch when both are given), and its parameters when --params is
// given.
struct LoadedModel {
  Mlp model;
  std::optional<Eigen::VectorXd> parameters;
};
LoadedModel load_model(const ModelOptions& o);

// One JSON object with the context block first, on stdout.
void print_json(const io::Json& resolved_options, const io::Json& body);

io::Json to_json(const ModelOptions& o);
io::Json to_json(const DataOptions& o);
io::Json to_json(const LossOptions& o);

// True when stderr is a terminal (progress lines go there only then).
bool stderr_is_terminal();

}  // namespace locus::cli
