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
#include "locus/core/mlp.hpp"
#include "locus/core/objective.hpp"
#include "locus/data/source.hpp"
#include "locus/io/json.hpp"

namespace locus::cli {

// A verb registers itself from its own .cpp with a static initializer:
//   static const bool registered = register_command({"train", "Train a network", setup_train});
// setup(sub) adds the verb's options to sub and sets sub->callback(...), which does the work
// and throws std::invalid_argument for bad input (exit 2) or another exception (exit 1).
// attach(root), when set, runs once every verb is set up: for a verb that also adds a
// subcommand under another verb (`locus path dropout`, from verbs/dropout.cpp).
struct Command {
  std::string name, description;
  std::function<void(CLI::App*)> setup;
  std::function<void(CLI::App* root)> attach = {};
};
bool register_command(Command c);
// Every registered verb, by name (the order of `locus --help`, independent of the order in
// which static initializers ran).
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
// --teacher-init, --teacher-seed): the fields of the library's DataSource, one flag each.
using DataOptions = DataSource;
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

// --max-memory GIB on every verb (each leaf subcommand of app): the process-wide limit of
// io::check_memory, default io::default_max_memory_bytes(). Call after the verbs are set up.
void add_max_memory_option(CLI::App* app);

// Parses "10,200,1" (names the option in errors); locus::parse_widths.
std::vector<Index> parse_widths(const std::string& text, const std::string& option);
// The flag of a library options field: "n_points" -> "--n-points" (a FieldNamer).
std::string flag_name(std::string_view field);
// The MlpSpec from --arch/--activation/--bias/--mean-field (throws if --arch is missing).
MlpSpec model_spec(const ModelOptions& o);

// Data from --dataset or --x/--y: locus::load with messages naming the flags. `model` (when
// known) supplies defaults: gaussian dims and the teacher's activation.
Dataset load_data(const DataOptions& o, const std::optional<MlpSpec>& model = std::nullopt);

// The model from --arch/--activation, or from the --params safetensors file (architecture
// inferred and checked against --arch when both are given), and its parameters when --params is
// given.
struct LoadedModel {
  Mlp model;
  std::optional<Eigen::VectorXd> theta;
};
LoadedModel load_model(const ModelOptions& o);

// Two parameter vectors of one architecture: --params (with --arch or the file's architecture)
// and the end point file `end` (named by `flag`, e.g. "--params-end"), read with the same
// architecture. Throws std::invalid_argument naming the flag when --params or `end` is missing,
// the ends differ in architecture or length, or are equal.
struct Ends {
  Mlp model;
  Eigen::VectorXd start, end;
};
Ends load_ends(const ModelOptions& model, const std::string& end, const std::string& flag);

// One JSON object with the context block first, on stdout.
void print_json(const io::Json& resolved_options, const io::Json& body);

io::Json to_json(const ModelOptions& o);
io::Json to_json(const LossOptions& o);

// True when stderr is a terminal (the progress line is then rewritten in place).
bool stderr_is_terminal();

// Options of every verb, accepted before or after the verb's name: --quiet (no progress line
// on stderr) and --progress-interval SECONDS (how often a plain progress line is written when
// stderr is not a terminal). Read by cli/progress.hpp.
struct GlobalOptions {
  bool quiet = false;
  double progress_interval = 5.0;
};
GlobalOptions& global_options();
// Adds --quiet and --progress-interval to the top-level app, whose verbs fall through to it.
void add_global_options(CLI::App& app);

}  // namespace locus::cli
