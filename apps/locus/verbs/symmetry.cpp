// locus symmetry: Simsek et al.'s symmetry-induced structure of two-layer nets.
//   count      exact T(r, m), T_groups(r, m), G(r, m) (per layer and products for lists)
//   enumerate  the pieces Gamma(phi) of a concrete teacher [D, r, 1]: dimensions, zero loss,
//              connected components by the combinatorial rule and numerically
// One CLI11 subcommand each; further subcommands (split, swap-path, categorize) add a setup_*
// function and one line in setup_symmetry.

#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "cli/table_options.hpp"
#include "locus/symmetry/counts.hpp"
#include "locus/symmetry/expansion.hpp"

namespace locus::cli {
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

void run_enumerate(EnumerateCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(ls::expansion_table(), [&] { cmd.options.validate(); });
  const LoadedModel teacher = load_model(cmd.model);
  if (!teacher.parameters) throw std::invalid_argument("--params TEACHER is required");
  // Inputs: --dataset/--x as given, else 32 Gaussian points (seeded by --data-seed); the targets
  // are the teacher's outputs, the data's own are not used.
  DataOptions data = cmd.data;
  if (data.dataset.empty() && data.x.empty()) {
    data.dataset = "gaussian";
    if (data.n_points < 0) data.n_points = 32;
  }
  const Dataset inputs = load_data(data, teacher.model.spec());
  with_option("--params", [&] { ls::require_irreducible(teacher.model, *teacher.parameters); });
  const ls::ExpansionEnumeration e = naming_flags([&] {
    try {
      return ls::enumerate_expansion(teacher.model, *teacher.parameters, inputs.x, cmd.options);
    } catch (const std::invalid_argument& error) {  // "exceeds max_pieces = N"
      std::string what = error.what();
      if (const auto at = what.find("max_pieces"); at != std::string::npos)
        what.replace(at, 10, "--max-pieces");
      throw std::invalid_argument(what);
    }
  });
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

void setup_symmetry(CLI::App* app) {
  app->require_subcommand(1);
  setup_count(app->add_subcommand(
      "count", "Exact counts T(r, m), T_groups(r, m), G(r, m) of Simsek et al.'s subspaces"));
  setup_enumerate(app->add_subcommand(
      "enumerate",
      "The pieces Gamma(phi) of a teacher [D, r, 1] in width m: dimensions, zero loss, "
      "connected components (rule and numerical)"));
}

const bool registered = register_command(
    {"symmetry", "Symmetry-induced structure of two-layer nets (Simsek et al.): count, enumerate",
     setup_symmetry});

}  // namespace
}  // namespace locus::cli
