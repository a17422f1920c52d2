// locus symmetry: Simsek et al.'s symmetry-induced structure of two-layer nets.
//   count      exact T(r, m), T_groups(r, m), G(r, m) (per layer and products for lists)
//   enumerate  the pieces Gamma(phi) of a concrete teacher [D, r, 1]: dimensions, zero loss,
//              connected components by the combinatorial rule and numerically
//   split      split a hidden neuron into copies (function-preserving); with data, check that a
//              critical point stays critical and report the Hessian's inertia before and after
//   swap-path  the zero-loss path exchanging two neurons through one extra neuron, beside the
//              straight line between the same permuted minima
//   categorize sort a trained student's neurons into copies of the teacher's, zero-type neurons
//              and zero groups, and name the piece of the expansion manifold it lies on
// One CLI11 subcommand each: a setup_* function and one line in setup_symmetry.

#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "cli/progress.hpp"
#include "cli/table_options.hpp"
#include "locus/data/builtin.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"
#include "locus/io/memory.hpp"
#include "locus/io/model_file.hpp"
#include "locus/io/npy.hpp"
#include "locus/symmetry/categorize.hpp"
#include "locus/symmetry/counts.hpp"
#include "locus/symmetry/expansion.hpp"
#include "locus/symmetry/swap_path.hpp"
#include "locus/workflows/split.hpp"
#include "locus/workflows/swap.hpp"

namespace locus::cli::symmetry_verb {
namespace {

namespace ls = locus::symmetry;

// --r and --m: one width each (two-layer counts) or one per hidden layer ("2,3" and "3,5":
// per-layer counts and their products, the deep product rule).
struct CountInterface {
  std::string r, m;
};

const options::Table<CountInterface>& count_table() {
  static const auto t =
      options::Table<CountInterface>("count")
          .add("r", "teacher width r (or r_1,...,r_L per hidden layer); required",
               &CountInterface::r)
          .add("m", "student width m >= r (or m_1,...,m_L); required", &CountInterface::m);
  return t;
}

struct CountCommand {
  OutputOptions out;
  CountInterface interface;
  TableFlags flags;
};

// "4" or "2,3": integers (range checks are the library's, except a guard against overflow).
std::vector<int> parse_width_list(const std::string& text, const std::string& flag) {
  if (text.empty()) throw std::invalid_argument(flag + " is required");
  std::vector<int> widths;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    std::int64_t w = 0;
    try {
      w = options::parse_integer("count", flag, item);
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument(flag + " must be an integer or a list of integers, got '" + text +
                                  "'");
    }
    if (w < 0 || w > ls::k_max_width)
      throw std::invalid_argument(flag + " must be in [1, " + std::to_string(ls::k_max_width) +
                                  "], got " + item);
    widths.push_back(static_cast<int>(w));
  }
  return widths;
}

// The library names r and m ("r must be in [1, 200], got 0"); say the flags instead.
template <class F>
auto naming_flags(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    if (what.rfind("r ", 0) == 0 || what.rfind("m ", 0) == 0)
      throw std::invalid_argument("--" + what);
    throw;
  }
}

void run_count(const CountCommand& cmd) {
  apply_output_options(cmd.out);
  const std::vector<int> r = parse_width_list(cmd.interface.r, "--r");
  const std::vector<int> m = parse_width_list(cmd.interface.m, "--m");
  const io::Json resolved = {{"count", count_table().to_json(cmd.interface)},
                             {"output", to_json(cmd.out)}};
  if (r.size() == 1 && m.size() == 1) {
    const ls::ExpansionCounts c = naming_flags([&] { return ls::expansion_counts(r[0], m[0]); });
    if (cmd.out.json)
      print_json(resolved, ls::to_json(c));
    else
      std::cout << ls::summary(c) << "\n";
  } else {
    const ls::DeepExpansionCounts c = naming_flags([&] { return ls::deep_expansion_counts(r, m); });
    if (cmd.out.json)
      print_json(resolved, ls::to_json(c));
    else
      std::cout << ls::summary(c) << "\n";
  }
}

void setup_count(CLI::App* app) {
  auto cmd = std::make_shared<CountCommand>();
  add_output_options(app, cmd->out);
  cmd->flags.add(app, count_table(), cmd->interface);
  add_list_options_flag(app, cmd->flags);
  app->callback([cmd] {
    cmd->flags.apply();
    run_count(*cmd);
  });
}

struct EnumerateCommand {
  ModelOptions model;
  DataOptions data;
  OutputOptions out;
  ls::ExpansionOptions options;
  TableFlags flags;
};

// The inputs a teacher is evaluated on: --dataset/--x as given (--x alone is enough), else
// `default_points` Gaussian points seeded by --data-seed. The targets are --y when given, else the
// teacher's outputs (so that the teacher is a global minimum). `data` is updated to what was used.
Dataset teacher_data(DataOptions& data, const Mlp& teacher, const Eigen::VectorXd& theta,
                     Index default_points) {
  if (data.dataset.empty() && data.x.empty()) {
    data.dataset = "gaussian";
    if (data.n_points < 0) data.n_points = default_points;
  }
  Dataset d;
  if (!data.x.empty() && data.y.empty()) {
    if (data.n_points != -1)
      throw std::invalid_argument("--n-points does not apply to --x (every row is used)");
    d.x = with_option("--x", [&] { return read_matrix(data.x); });
    d.name = data.x;
  } else {
    d = load_data(data, teacher.spec());
  }
  if (d.x.cols() != teacher.input_dim())
    throw std::invalid_argument("--x: the inputs have " + std::to_string(d.x.cols()) +
                                " columns but the teacher " + teacher.describe() + " takes " +
                                std::to_string(teacher.input_dim()));
  if (data.y.empty()) d.y = teacher.predict(theta, d.x);
  d.validate();
  return d;
}

void run_enumerate(EnumerateCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(ls::expansion_table(), [&] { cmd.options.validate(); });
  const LoadedModel teacher = load_model(cmd.model);
  if (!teacher.theta) throw std::invalid_argument("--params TEACHER is required");
  // Inputs: --dataset/--x as given, else 32 Gaussian points (seeded by --data-seed); the targets
  // are the teacher's outputs, the data's own are not used.
  DataOptions data = cmd.data;
  const Dataset inputs = teacher_data(data, teacher.model, *teacher.theta, 32);
  with_option("--params", [&] { ls::require_irreducible(teacher.model, *teacher.theta); });
  Progress progress("symmetry enumerate");
  const ls::ExpansionEnumeration e = naming_flags([&] {
    try {
      return ls::enumerate_expansion(teacher.model, *teacher.theta, inputs.x, cmd.options,
                                     progress.callback());
    } catch (const std::invalid_argument& error) {  // "exceeds max_pieces = N"
      std::string what = error.what();
      if (const auto at = what.find("max_pieces"); at != std::string::npos)
        what.replace(at, 10, "--max-pieces");
      throw std::invalid_argument(what);
    }
  });
  progress.finish();
  if (cmd.out.json) {
    const io::Json resolved = {{"model", to_json(cmd.model)},
                               {"data", to_json(data)},
                               {"expansion", ls::expansion_table().to_json(cmd.options)},
                               {"output", to_json(cmd.out)}};
    print_json(resolved, ls::to_json(e));
  } else {
    std::cout << ls::summary(e) << "\n";
  }
  if (!e.ok()) throw std::runtime_error("enumerate: " + std::string(ls::to_string(e.status)));
}

void setup_enumerate(CLI::App* app) {
  auto cmd = std::make_shared<EnumerateCommand>();
  add_model_options(app, cmd->model, /*params_required=*/true);
  add_data_options(app, cmd->data);
  add_output_options(app, cmd->out);
  cmd->flags.add(app, ls::expansion_table(), cmd->options);
  add_list_options_flag(app, cmd->flags);
  app->callback([cmd] {
    cmd->flags.apply();
    run_enumerate(*cmd);
  });
}

// ---- split ----------------------------------------------------------------------------------

struct SplitInterface {
  std::int64_t layer = 1;   // hidden layer, from 1
  std::int64_t neuron = 0;  // from 0
  std::string fractions;    // a,b[,...], summing to 1
  std::string save;         // the split network (safetensors or .npy)
};

const options::Table<SplitInterface>& split_interface_table() {
  using O = SplitInterface;
  static const auto t =
      options::Table<O>("split")
          .add("layer", "hidden layer of the neuron (1 = the first)", &O::layer)
          .add("neuron", "the neuron to split (from 0)", &O::neuron)
          .add("fractions",
               "outgoing fractions a,b[,...] summing to 1; the "
               "original keeps the first, the copies are appended",
               &O::fractions)
          .add("save", "write the split network here (.safetensors or .npy)", &O::save);
  return t;
}

struct SplitCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  SplitInterface interface;
  workflows::SplitOptions check;  // with data: the criticality check
  TableFlags flags;
};

std::vector<double> parse_fractions(const std::string& text) {
  if (text.empty()) throw std::invalid_argument("--fractions a,b[,...] is required");
  std::vector<double> f;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    try {
      f.push_back(options::parse_double("split", "--fractions", item));
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument("--fractions must be numbers a,b[,...], got '" + text + "'");
    }
  }
  return f;
}

void run_split(SplitCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(workflows::split_table(), [&] { cmd.check.validate(); });
  const SplitInterface& ui = cmd.interface;
  const std::vector<double> fractions = parse_fractions(ui.fractions);
  const LoadedModel m = load_model(cmd.model);
  if (!m.theta) throw std::invalid_argument("--params is required");
  if (!ui.save.empty()) io::require_writable(ui.save);  // refused before any work
  const transforms::NeuronRef at{static_cast<int>(ui.layer), static_cast<Index>(ui.neuron)};
  const bool check = !cmd.data.dataset.empty() || !cmd.data.x.empty();
  // The split itself checks layer, neuron and fractions; errors name them as the flags do.
  const transforms::Surgery s = with_option("--layer/--neuron/--fractions", [&] {
    return transforms::split_neuron(m.model, *m.theta, at, fractions);
  });
  std::optional<workflows::SplitCheck> c;
  if (check) {
    const Dataset data = load_data(cmd.data, m.model.spec());
    const Objective obj(m.model, data, to_loss_spec(cmd.loss));
    Progress progress("symmetry split");
    c = workflows::split_critical_point(obj, *m.theta, at, fractions, cmd.check,
                                        progress.callback());
    progress.finish();
  }
  if (!ui.save.empty()) save_model(ui.save, s.model, s.theta);  // after every check
  if (cmd.out.json) {
    io::Json body = {{"model_before", m.model.describe()},
                     {"model_after", s.model.describe()},
                     {"widths_after", s.model.spec().widths},
                     {"n_params_after", s.model.n_params()}};
    if (c) body["check"] = workflows::to_json(*c);
    print_json({{"model", to_json(cmd.model)},
                {"data", check ? to_json(cmd.data) : io::Json(nullptr)},
                {"loss", to_json(cmd.loss)},
                {"split", split_interface_table().to_json(ui)},
                {"check", workflows::split_table().to_json(cmd.check)},
                {"output", to_json(cmd.out)}},
               body);
  } else {
    std::cout << m.model.describe() << " -> " << s.model.describe() << "\n";
    if (c) std::cout << workflows::summary(*c) << "\n";
    if (!ui.save.empty()) std::cout << "saved " << ui.save << "\n";
  }
}

void setup_split(CLI::App* app) {
  auto cmd = std::make_shared<SplitCommand>();
  add_model_options(app, cmd->model, /*params_required=*/true);
  add_data_options(app, cmd->data);
  add_loss_options(app, cmd->loss);
  add_output_options(app, cmd->out);
  cmd->flags.add(app, split_interface_table(), cmd->interface);
  cmd->flags.add(app, workflows::split_table(), cmd->check);
  add_list_options_flag(app, cmd->flags);
  app->callback([cmd] {
    cmd->flags.apply();
    run_split(*cmd);
  });
}

// ---- swap-path ------------------------------------------------------------------------------

struct SwapCommand {
  ModelOptions model;
  DataOptions data;
  OutputOptions out;
  std::vector<std::string> swaps;  // "i,j" (hidden layer 1) or "K:i,j"
  std::string save_vertices, csv;
  int samples = 16;
  paths::ProfileOptions profile;
  TableFlags flags;
};

symmetry::NeuronSwap parse_swap(const std::string& text) {
  symmetry::NeuronSwap s;
  std::string pair = text;
  const auto bad = [&] {
    return std::invalid_argument(
        "--swap must be i,j or K:i,j (hidden layer K from 1, neurons "
        "from 0), got '" +
        text + "'");
  };
  try {
    if (const auto colon = text.find(':'); colon != std::string::npos) {
      const std::int64_t layer = options::parse_integer("swap", "--swap", text.substr(0, colon));
      if (!std::in_range<int>(layer)) throw bad();
      s.layer = static_cast<int>(layer);
      pair = text.substr(colon + 1);
    }
    const auto comma = pair.find(',');
    if (comma == std::string::npos) throw bad();
    s.i = options::parse_integer("swap", "--swap", pair.substr(0, comma));
    s.j = options::parse_integer("swap", "--swap", pair.substr(comma + 1));
  } catch (const std::invalid_argument&) {
    throw bad();
  }
  return s;
}

void run_swap_path(SwapCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(paths::profile_table(), [&] { cmd.profile.validate(); });
  if (cmd.swaps.empty()) throw std::invalid_argument("--swap i,j is required");
  if (cmd.samples < 1) throw std::invalid_argument("--samples must be >= 1");
  std::vector<symmetry::NeuronSwap> swaps;
  for (const std::string& s : cmd.swaps) swaps.push_back(parse_swap(s));
  for (const std::string* f : {&cmd.save_vertices, &cmd.csv})
    if (!f->empty()) io::require_writable(*f);
  const LoadedModel teacher = load_model(cmd.model);
  if (!teacher.theta) throw std::invalid_argument("--params TEACHER is required");
  DataOptions data = cmd.data;
  const Dataset d = teacher_data(data, teacher.model, *teacher.theta, 64);
  const symmetry::SwapPath path = with_option(
      "--swap", [&] { return symmetry::swap_path(teacher.model, *teacher.theta, swaps); });
  const Objective loss(path.model, d);
  Progress progress("symmetry swap-path");
  const workflows::SwapPathCheck c = [&] {
    try {
      return workflows::check_swap_path(loss, path, cmd.profile, cmd.samples, progress.callback());
    } catch (const io::MemoryLimitError& e) {  // the library names its samples_per_segment
      throw std::invalid_argument("--samples " + std::to_string(cmd.samples) + ": " + e.what());
    }
  }();
  progress.finish();
  io::StagedFiles files;  // --save-vertices and --out replaced together
  files.write(cmd.save_vertices,
              [&](const std::string& tmp) { io::write_npy(tmp, path.vertices); });
  files.write(cmd.csv, [&](const std::string& tmp) {
    Eigen::MatrixXd rows(c.t.size(), 3);
    rows << c.t, c.loss_path, c.loss_line;
    io::write_csv(tmp, {"t", "loss_path", "loss_line"}, rows);
  });
  files.commit();
  if (cmd.out.json) {
    io::Json body = workflows::to_json(c);
    body["student"] = path.model.describe();
    body["n_vertices"] = path.vertices.rows();
    print_json({{"model", to_json(cmd.model)},
                {"data", to_json(data)},
                {"swap",
                 {{"swap", cmd.swaps},
                  {"save_vertices", cmd.save_vertices},
                  {"out", cmd.csv},
                  {"samples", cmd.samples}}},
                {"profile", paths::profile_table().to_json(cmd.profile)},
                {"output", to_json(cmd.out)}},
               body);
  } else {
    std::cout << teacher.model.describe()
              << " + one extra neuron per hidden layer = " << path.model.describe() << ", "
              << path.vertices.rows() << " vertices\n"
              << workflows::summary(c);
  }
}

void setup_swap_path(CLI::App* app) {
  auto cmd = std::make_shared<SwapCommand>();
  add_model_options(app, cmd->model, /*params_required=*/true);
  add_data_options(app, cmd->data);
  add_output_options(app, cmd->out);
  app->add_option("--swap", cmd->swaps,
                  "exchange neurons i,j of hidden layer 1, or K:i,j of hidden layer K "
                  "(repeatable: the swaps run one after the other)");
  app->add_option("--save-vertices", cmd->save_vertices,
                  "the path's vertices as rows of a .npy (student layout, extra neurons last)");
  app->add_option("--out", cmd->csv, "CSV of t, loss along the path, loss along the line");
  app->add_option("--samples", cmd->samples, "CSV points per segment")->capture_default_str();
  cmd->flags.add(app, paths::profile_table(), cmd->profile);
  add_list_options_flag(app, cmd->flags);
  app->callback([cmd] {
    cmd->flags.apply();
    run_swap_path(*cmd);
  });
}

// ---- categorize -----------------------------------------------------------------------------

struct CategorizeCommand {
  ModelOptions model;   // the student (--params, with --arch for a flat .npy)
  std::string teacher;  // the teacher's file (safetensors; .npy with --teacher-arch)
  std::string teacher_arch;
  OutputOptions out;
  symmetry::CategorizeOptions options;
  TableFlags flags;
};

void run_categorize(CategorizeCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(symmetry::categorize_table(), [&] { cmd.options.validate(); });
  const LoadedModel student = load_model(cmd.model);
  if (!student.theta) throw std::invalid_argument("--params STUDENT is required");
  if (cmd.teacher.empty()) throw std::invalid_argument("--teacher FILE is required");
  LoadModelOptions lo{.activation = student.model.activation()};
  if (!cmd.teacher_arch.empty()) {
    MlpSpec spec = student.model.spec();
    spec.widths = with_option("--teacher-arch",
                              [&] { return parse_widths(cmd.teacher_arch, "--teacher-arch"); });
    lo.spec = spec;
  }
  const ModelFile t = with_option("--teacher", [&] { return locus::load_model(cmd.teacher, lo); });
  const Mlp teacher(t.spec);
  const symmetry::Categorization c = with_option("--teacher/--params", [&] {
    return symmetry::categorize(teacher, t.theta, student.model, *student.theta, cmd.options);
  });
  if (cmd.out.json) {
    print_json({{"model", to_json(cmd.model)},
                {"teacher", {{"teacher", cmd.teacher}, {"teacher_arch", cmd.teacher_arch}}},
                {"categorize", symmetry::categorize_table().to_json(cmd.options)},
                {"output", to_json(cmd.out)}},
               symmetry::to_json(c));
  } else {
    std::cout << symmetry::summary(c) << "\n";
  }
}

void setup_categorize(CLI::App* app) {
  auto cmd = std::make_shared<CategorizeCommand>();
  add_model_options(app, cmd->model, /*params_required=*/true);
  app->add_option("--teacher", cmd->teacher,
                  "the teacher [D, r, 1] (.safetensors, or .npy with "
                  "--teacher-arch); its activation and biases are the student's");
  app->add_option("--teacher-arch", cmd->teacher_arch, "the teacher's widths D,r,1 for a .npy");
  add_output_options(app, cmd->out);
  cmd->flags.add(app, symmetry::categorize_table(), cmd->options);
  add_list_options_flag(app, cmd->flags);
  app->callback([cmd] {
    cmd->flags.apply();
    run_categorize(*cmd);
  });
}

void setup_symmetry(CLI::App* app) {
  app->require_subcommand(1);
  setup_count(app->add_subcommand(
      "count", "Exact counts T(r, m), T_groups(r, m), G(r, m) of Simsek et al.'s subspaces"));
  setup_enumerate(app->add_subcommand(
      "enumerate",
      "The pieces Gamma(phi) of a teacher [D, r, 1] in width m: dimensions, zero loss, "
      "connected components (rule and numerical)"));
  setup_split(app->add_subcommand(
      "split",
      "Split a hidden neuron into copies whose outgoing weights are fractions of its own "
      "(function-preserving); with data, check criticality and the Hessian's inertia"));
  setup_swap_path(app->add_subcommand(
      "swap-path",
      "The zero-loss path exchanging two neurons through one extra neuron, and the straight "
      "line between the same permuted minima"));
  setup_categorize(app->add_subcommand(
      "categorize",
      "Sort a student's neurons into copies of the teacher's, zero-type neurons and zero "
      "groups; the piece Gamma(phi) of the expansion manifold it lies on"));
}

const bool registered = register_command(
    {"symmetry",
     "Symmetry-induced structure (Simsek et al.): count, enumerate, split, swap-path, "
     "categorize",
     setup_symmetry});

}  // namespace
}  // namespace locus::cli::symmetry_verb
