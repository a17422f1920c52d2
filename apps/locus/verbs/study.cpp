// locus study run FILE --out DIR | locus study list: run a study from its options file.

#include <filesystem>
#include <iostream>

#include "cli/common.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/studies/study.hpp"

namespace locus::cli {
namespace {

struct StudyCommand {
  std::string file, out;
  std::optional<std::uint64_t> seed;
  OutputOptions output;
};

void setup_study(CLI::App* app) {
  auto cmd = std::make_shared<StudyCommand>();
  app->require_subcommand(1);
  auto* run = app->add_subcommand("run", "Run a study: writes DIR/result.json (context block "
                                         "first) and its CSV tables");
  run->add_option("file", cmd->file, "study options (JSON), e.g. studies/cooper/study.json")
      ->required();
  run->add_option("--out", cmd->out, "output folder")->required();
  run->add_option("--seed", cmd->seed, "override the study's seed");
  add_output_options(run, cmd->output);
  run->callback([cmd] {
    apply_output_options(cmd->output);
    io::Json options = io::read_json(cmd->file);
    if (cmd->seed) options["seed"] = *cmd->seed;
    const io::Json doc = studies::run_study(options, cmd->out);
    if (cmd->output.json) {
      std::cout << doc.dump(2) << std::endl;
      return;
    }
    int holds = 0, total = 0;
    for (const auto& c : doc["claims"]) {
      ++total;
      holds += c["holds"].get<bool>();
      std::cout << (c["holds"].get<bool>() ? "holds          " : "does not hold  ")
                << c["statement"].get<std::string>() << "\n";
    }
    std::cout << holds << " of " << total << " claims hold; results in " << cmd->out << "\n";
  });
  auto* list = app->add_subcommand("list", "List the studies and their default options");
  list->callback([] {
    for (const auto& s : studies::all_studies())
      std::cout << s.name << ": " << s.title << "\n" << s.default_options().dump(2) << "\n";
  });
}

const bool registered = register_command({"study", "Run a paper study from its options file", setup_study});

}  // namespace
}  // namespace locus::cli
