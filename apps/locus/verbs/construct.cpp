// locus construct cooper: Cooper's memorizing network for a dataset (Lemma 3.3 for one hidden
// layer, Cor 3.4 in its working or literal form for more), saved as a model file.

#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>

#include "cli/common.hpp"
#include "locus/constructions/cooper.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/model_file.hpp"

namespace locus::cli {
namespace {

namespace lc = locus::constructions;

struct ConstructCommand {
  std::string kind;
  DataOptions data;
  OutputOptions out;
  long width = -1;  // -1: the number of data points d (CooperOptions::width unset)
  int depth = lc::CooperOptions{}.depth;
  std::string activation = std::string(to_string(lc::CooperOptions{}.activation));
  std::string variant = std::string(to_string(lc::CooperOptions{}.variant));
  std::uint64_t seed = lc::CooperOptions{}.seed;
  double min_gap = lc::CooperOptions{}.min_gap;
  double kink_fraction = lc::CooperOptions{}.kink_fraction;
  std::string save;
};

// A JSON number, or null for inf/NaN (JSON has no infinity).
io::Json number(double v) { return std::isfinite(v) ? io::Json(v) : io::Json(nullptr); }

void run(const ConstructCommand& cmd) {
  apply_output_options(cmd.out);
  io::require_writable(cmd.save);
  const Dataset data = load_data(cmd.data);
  lc::CooperOptions options;
  options.activation = parse_activation(cmd.activation);
  options.depth = cmd.depth;
  if (cmd.width >= 0) options.width = cmd.width;
  options.variant = lc::parse_cooper_variant(cmd.variant);
  options.seed = cmd.seed;
  options.min_gap = cmd.min_gap;
  options.kink_fraction = cmd.kink_fraction;
  // Throws std::invalid_argument (exit 2) for duplicate inputs, naming the two rows.
  const lc::CooperConstruction c = lc::construct_cooper(data, options);
  const Mlp model(c.spec);
  save_model(cmd.save, model, c.parameters);

  if (cmd.out.json) {
    io::Json body;
    body["construction"] = "cooper";
    body["variant"] = cmd.variant;
    body["status"] = std::string(lc::to_string(c.status));
    body["message"] = c.message;
    body["architecture"] = {{"widths", c.spec.widths},
                            {"activation", std::string(to_string(c.spec.activation))},
                            {"bias", "all"}};
    body["n_params"] = c.n_params;
    body["n_points"] = data.size();
    body["max_abs_residual"] = c.max_abs_residual;
    body["max_abs_target"] = c.max_abs_target;
    body["residual_tolerance"] = options.residual_tolerance * c.max_abs_target;
    body["loss"] = number(c.loss);
    body["cond_A"] = number(c.cond_A);
    body["rank_A"] = c.rank_A;
    body["projection_gap_min"] = number(c.projection_gap_min);
    body["projection_gap_relative"] = c.projection_gap_relative;
    body["chain_gap_min"] = number(c.chain_gap_min);
    body["chain_weight"] = c.chain_weight;
    body["saved"] = cmd.save;
    io::Json resolved = {{"data", to_json(cmd.data)},
                         {"width", cmd.width >= 0 ? io::Json(cmd.width) : io::Json(data.size())},
                         {"depth", cmd.depth},
                         {"activation", cmd.activation},
                         {"variant", cmd.variant},
                         {"seed", cmd.seed},
                         {"min_gap", cmd.min_gap},
                         {"kink_fraction", cmd.kink_fraction},
                         {"direction_trials", options.direction_trials},
                         {"chain_offset", options.chain_offset},
                         {"save", cmd.save}};
    print_json(resolved, body);
  } else {
    std::cout << c.message << "\n"
              << "saved " << model.describe() << " (" << c.n_params << " parameters) to "
              << cmd.save << "\n";
  }
  // A network that does not fit (literal variant, collapsed projections) is still saved and
  // reported; the exit code says the construction failed.
  if (!c.ok()) throw std::runtime_error("construction " + std::string(lc::to_string(c.status)));
}

void setup_construct(CLI::App* app) {
  auto cmd = std::make_shared<ConstructCommand>();
  app->add_option("kind", cmd->kind, "construction: cooper (Cooper's Lemma 3.3 / Cor 3.4)")
      ->required()
      ->check(CLI::IsMember({"cooper"}));
  add_data_options(app, cmd->data);
  add_output_options(app, cmd->out);
  app->add_option("--width", cmd->width, "width h of every hidden layer (>= d); default: d");
  app->add_option("--depth", cmd->depth, "number of hidden layers T")->capture_default_str();
  app->add_option("--activation", cmd->activation, "rectified activation: smoolu or relu")
      ->capture_default_str();
  app->add_option("--variant", cmd->variant,
                  "working: Cor 3.4 in its working form; literal: as printed (fails for d >= 2)")
      ->check(CLI::IsMember({"working", "literal"}))
      ->capture_default_str();
  app->add_option("--seed", cmd->seed, "seed of the projection direction a")->capture_default_str();
  app->add_option("--min-gap", cmd->min_gap, "smallest projected gap after rescaling")
      ->capture_default_str();
  app->add_option("--kink-fraction", cmd->kink_fraction,
                  "kink position inside each gap (0.5: Cooper's midpoints)")
      ->capture_default_str();
  app->add_option("--save", cmd->save, "model file to write (.safetensors or flat .npy)")
      ->required();
  app->callback([cmd] { run(*cmd); });
}

const bool registered = register_command(
    {"construct", "Build a memorizing network by construction (cooper) and save it",
     setup_construct});

}  // namespace
}  // namespace locus::cli
