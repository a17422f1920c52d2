#include "common.hpp"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "locus/data/synthetic.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/memory.hpp"
#include "locus/io/model_file.hpp"

namespace locus::cli {

namespace {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
// A count typed explicitly must be >= 1: the library's -1/0 "default" values are reached by
// leaving the flag out, never by typing them.
CLI::Validator at_least_one() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        try {
          std::size_t used = 0;
          if (std::stod(text, &used) >= 1 && used == text.size()) return "";
        } catch (const std::exception&) {
        }
        return "must be >= 1, got '" + text + "' (leave the flag out for its default)";
      },
      ">=1");
}
Activation activation_option(const std::string& name, const std::string& option) {
  return with_option(option, [&] { return parse_activation(name); });
}
}  // namespace

bool register_command(Command c) {
  auto& r = registry();
  const auto at =
      std::upper_bound(r.begin(), r.end(), c.name,
                       [](const std::string& name, const Command& e) { return name < e.name; });
  r.insert(at, std::move(c));
  return true;
}
const std::vector<Command>& commands() { return registry(); }

void add_model_options(CLI::App* app, ModelOptions& o, bool params_required) {
  std::string acts;
  for (Activation a : all_activations())
    acts += (acts.empty() ? "" : "|") + std::string(to_string(a));
  app->add_option("--arch", o.arch, "layer widths p,h1,...,l (e.g. 10,200,1)");
  app->add_option("--activation", o.activation,
                  acts + " (default: the file's metadata, else " +
                      std::string(to_string(MlpSpec{}.activation)) + ")");
  app->add_option("--bias", o.bias, "all|none|1,0,... one flag per weight layer")
      ->capture_default_str();
  app->add_flag("--mean-field", o.mean_field, "scale the output by 1/h_L (mean-field)");
  auto* p = app->add_option("--params", o.params,
                            "model parameters: safetensors (PyTorch nn.Sequential keys) or a flat "
                            ".npy vector in locus's layout");
  if (params_required) p->required();
}

void add_data_options(CLI::App* app, DataOptions& o) {
  std::string names;
  for (const auto& n : data_source_names()) names += (names.empty() ? "" : "|") + n;
  app->add_option("--dataset", o.dataset,
                  names +
                      ": built-in real data, random Gaussian data, "
                      "teacher-student data, or Simsek et al.'s 41x41 grid with their teacher");
  app->add_option("--x", o.x, "inputs: .npy or .csv(.gz), d x p");
  app->add_option("--y", o.y, "targets: .npy or .csv(.gz), d x l (or a vector)");
  app->add_option("--n-points", o.n_points,
                  "number of points d (built-in: a --data-seed seeded subset of distinct rows, "
                  "default all; gaussian: required; teacher: default " +
                      std::to_string(TeacherOptions{}.n_points) + ")")
      ->check(at_least_one());
  app->add_flag("--standardize", o.standardize, "z-score the features (built-in data)");
  app->add_option("--labels", o.labels, "onehot|scalar targets for built-in data")
      ->capture_default_str();
  app->add_option("--data-seed", o.data_seed, "seed of the data subset / draw")
      ->capture_default_str();
  app->add_option("--input-dim", o.input_dim, "gaussian: p (default: --arch's first width)")
      ->check(at_least_one());
  app->add_option("--output-dim", o.output_dim, "gaussian: l (default: --arch's last width)")
      ->check(at_least_one());
  app->add_option("--teacher-arch", o.teacher_arch, "teacher: widths, e.g. 10,4,1");
  app->add_option("--teacher-activation", o.teacher_activation,
                  "teacher/grid: activation (teacher default: the student's; grid default: "
                  "Simsek et al.'s)");
  app->add_option("--teacher-init", o.teacher_init, "teacher: glorot|he|normal (N(0,1)) parameters")
      ->capture_default_str();
  app->add_option("--teacher-seed", o.teacher_seed,
                  "teacher: seed of its parameters (inputs x ~ N(0,I) use --data-seed)")
      ->capture_default_str();
}

void add_loss_options(CLI::App* app, LossOptions& o) {
  app->add_option("--loss", o.loss, "squared|cross_entropy")->capture_default_str();
  app->add_option("--reduction", o.reduction, "sum|mean")->capture_default_str();
}

LossSpec to_loss_spec(const LossOptions& o) {
  return {.kind = with_option("--loss", [&] { return parse_loss_kind(o.loss); }),
          .reduction = with_option("--reduction", [&] { return parse_reduction(o.reduction); })};
}

void add_output_options(CLI::App* app, OutputOptions& o) {
  app->add_flag("--json", o.json, "print one JSON object (context block first) on stdout");
  app->add_option("--threads", o.threads,
                  "OpenMP threads (default: all cores; results do not "
                  "depend on it)")
      ->check(at_least_one());
}

void apply_output_options(const OutputOptions& o) {
  if (o.threads < 0)
    throw std::invalid_argument("--threads must be >= 1, got " + std::to_string(o.threads));
  if (o.threads > 0) set_num_threads(o.threads);
}

void add_max_memory_option(CLI::App* app) {
  const std::vector<CLI::App*> subs = app->get_subcommands({});
  if (subs.empty() && app->get_parent()) {
    app->add_option_function<double>(
           "--max-memory",
           [](double gib) {
             with_option("--max-memory", [&] { io::set_max_memory_bytes(gib * (1 << 30)); });
           },
           "refuse work estimated to need more memory than this, in GiB (default: " +
               io::format_gib(io::default_max_memory_bytes()) +
               ": 16 GiB or 3/4 of the physical memory)")
        ->type_name("GIB");
    return;
  }
  for (CLI::App* sub : subs) add_max_memory_option(sub);
}

std::vector<Index> parse_widths(const std::string& text, const std::string& option) {
  return locus::parse_widths(text, option);
}

std::string flag_name(std::string_view field) {
  std::string flag = "--" + std::string(field);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

MlpSpec model_spec(const ModelOptions& o) {
  if (o.arch.empty()) throw std::invalid_argument("--arch is required (e.g. --arch 10,200,1)");
  MlpSpec spec;
  spec.widths = parse_widths(o.arch, "--arch");
  if (!o.activation.empty()) spec.activation = activation_option(o.activation, "--activation");
  const size_t layers = spec.widths.size() - 1;
  if (o.bias == "all" || o.bias.empty()) {
  } else if (o.bias == "none") {
    spec.bias.assign(layers, false);
  } else {
    std::stringstream ss(o.bias);
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (item != "0" && item != "1")
        throw std::invalid_argument("--bias '" + o.bias + "': use all, none or 0/1 flags");
      spec.bias.push_back(item == "1");
    }
    if (spec.bias.size() != layers)
      throw std::invalid_argument("--bias '" + o.bias + "' has " +
                                  std::to_string(spec.bias.size()) + " flags but --arch has " +
                                  std::to_string(layers) + " weight layers");
  }
  spec.mean_field = o.mean_field;
  return spec;
}

Dataset load_data(const DataOptions& o, const std::optional<MlpSpec>& model) {
  return locus::load(o, model, flag_name);
}

LoadedModel load_model(const ModelOptions& o) {
  std::optional<MlpSpec> spec;
  if (!o.arch.empty()) spec = model_spec(o);
  std::optional<Activation> act;
  if (!o.activation.empty()) act = activation_option(o.activation, "--activation");
  if (o.params.empty()) {
    if (!spec) throw std::invalid_argument("--arch is required (e.g. --arch 10,200,1)");
    return {with_option("--arch", [&] { return Mlp(*spec); }), std::nullopt};
  }
  ModelFile f = locus::load_model(o.params, {.spec = spec, .activation = act});
  return {Mlp(f.spec), std::move(f.theta)};
}

Ends load_ends(const ModelOptions& model, const std::string& end, const std::string& flag) {
  LoadedModel a = load_model(model);
  if (!a.theta) throw std::invalid_argument("--params: the path needs a start point");
  if (end.empty()) throw std::invalid_argument(flag + " FILE (the end point) is required");
  ModelFile b = with_option(flag, [&] {
    return locus::load_model(end, {.spec = a.model.spec(), .activation = a.model.activation()});
  });
  if (b.spec.widths != a.model.spec().widths)
    throw std::invalid_argument(flag + ": architecture " + Mlp(b.spec).describe() +
                                " differs from --params " + a.model.describe());
  if (b.theta == *a.theta)
    throw std::invalid_argument(flag + ": the end point equals the start point (--params)");
  return {std::move(a.model), std::move(*a.theta), std::move(b.theta)};
}

void print_json(const io::Json& resolved_options, const io::Json& body) {
  std::cout << io::with_context(resolved_options, body).dump(2) << std::endl;
}

io::Json to_json(const ModelOptions& o) {
  return {{"arch", o.arch},
          {"activation", o.activation},
          {"bias", o.bias},
          {"mean_field", o.mean_field},
          {"params", o.params}};
}
io::Json to_json(const LossOptions& o) { return {{"loss", o.loss}, {"reduction", o.reduction}}; }

bool stderr_is_terminal() { return isatty(STDERR_FILENO) != 0; }

GlobalOptions& global_options() {
  static GlobalOptions o;
  return o;
}

void add_global_options(CLI::App& app) {
  GlobalOptions& o = global_options();
  app.add_flag("-q,--quiet", o.quiet, "no progress line on stderr");
  app.add_option("--progress-interval", o.progress_interval,
                 "seconds between progress lines when stderr is not a terminal")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.fallthrough();  // so that `locus train ... --quiet` works as well as `locus --quiet train`
}

}  // namespace locus::cli
