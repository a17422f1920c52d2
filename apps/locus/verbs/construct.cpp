// locus construct cooper: Cooper's memorizing network for a dataset (Lemma 3.3 for one hidden
// layer, Cor 3.4 in its working or literal form for more), saved as a model file.

#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>

#include "cli/common.hpp"
#include "cli/table_options.hpp"
#include "locus/constructions/cooper.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/model_file.hpp"

namespace locus::cli::construct_verb {
namespace {

namespace lc = locus::constructions;

// The interface-only options of the verb (the construction's own come from cooper_table()).
struct ConstructInterface {
  std::string save;  // model file
};

const options::Table<ConstructInterface>& interface_table() {
  static const auto t =
      options::Table<ConstructInterface>("construct")
          .add("save", "model file to write (.safetensors or flat .npy); required",
               &ConstructInterface::save);
  return t;
}

struct ConstructCommand {
  std::string kind;
  DataOptions data;
  OutputOptions out;
  lc::CooperOptions options;
  ConstructInterface interface;
  TableFlags flags;
};

void run(const ConstructCommand& cmd) {
  apply_output_options(cmd.out);
  const lc::CooperOptions& options = cmd.options;
  validate_for_cli(lc::cooper_table(), [&] { options.validate(); });
  if (cmd.interface.save.empty()) throw std::invalid_argument("--save FILE is required");
  io::require_writable(cmd.interface.save);
  const Dataset data = load_data(cmd.data);
  // Throws std::invalid_argument (exit 2) for duplicate inputs, naming the two rows.
  const lc::CooperConstruction c = lc::construct_cooper(data, options);
  const Mlp model(c.spec);
  // Saved only when the construction worked: a failed command leaves --save as it was.
  if (c.ok()) save_model(cmd.interface.save, model, c.theta);

  if (cmd.out.json) {
    io::Json body = {{"construction", cmd.kind},
                     {"variant", std::string(lc::to_string(options.variant))}};
    body.update(lc::to_json(c));
    body["n_points"] = data.size();
    if (c.ok()) body["saved"] = cmd.interface.save;
    io::Json resolved = {{"kind", cmd.kind},
                         {"data", to_json(cmd.data)},
                         {"output", to_json(cmd.out)},
                         {"cooper", lc::cooper_table().to_json(options)},
                         {"interface", interface_table().to_json(cmd.interface)}};
    print_json(resolved, body);
  } else {
    std::cout << lc::summary(c) << "\n"
              << (c.ok() ? "saved " : "not saved: ") << model.describe() << " (" << c.n_params
              << " parameters)" << (c.ok() ? " to " + cmd.interface.save : "") << "\n";
  }
  // A network that does not fit (literal variant, collapsed projections) is reported, not saved;
  // the exit code says the construction failed.
  if (!c.ok())
    throw std::runtime_error("construction " + std::string(lc::to_string(c.status)) +
                             "; --save not written");
}

void setup_construct(CLI::App* app) {
  auto cmd = std::make_shared<ConstructCommand>();
  app->add_option("kind", cmd->kind, "construction: cooper (Cooper's Lemma 3.3 / Cor 3.4)")
      ->required()
      ->check(CLI::IsMember({"cooper"}));
  add_data_options(app, cmd->data);
  add_output_options(app, cmd->out);
  cmd->flags.add(app, lc::cooper_table(), cmd->options);
  cmd->flags.add(app, interface_table(), cmd->interface);
  add_list_options_flag(app, cmd->flags);
  app->callback([cmd] {
    cmd->flags.apply();
    run(*cmd);
  });
}

const bool registered = register_command(
    {"construct", "Build a memorizing network by construction (cooper) and save it",
     setup_construct});

}  // namespace
}  // namespace locus::cli::construct_verb
