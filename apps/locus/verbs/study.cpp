// locus study run [FILE] [--study NAME] [--set KEY=VALUE ...] --out DIR [--strict]
// locus study list: the studies and their options (name, kind, default, help).

#include "locus/studies/study.hpp"

#include <iomanip>
#include <iostream>

#include "cli/common.hpp"
#include "cli/progress.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/memory.hpp"

namespace locus::cli::study_verb {
namespace {

struct StudyCommand {
  std::string file, study, out;
  std::vector<std::string> set;
  std::optional<std::uint64_t> seed;
  bool strict = false;
  OutputOptions output;
};

// The study named by --study and/or the file's "study" key (they must agree).
const studies::Study& named_study(const StudyCommand& cmd, const io::Json& file_options) {
  std::string name = cmd.study;
  if (file_options.contains("study")) {
    const io::Json& s = file_options["study"];
    if (!s.is_string()) throw std::invalid_argument(cmd.file + ": \"study\" must be a name");
    if (!name.empty() && name != s.get<std::string>())
      throw std::invalid_argument("--study " + name + " but " + cmd.file + " is for study '" +
                                  s.get<std::string>() + "'");
    name = s.get<std::string>();
  }
  if (name.empty())
    throw std::invalid_argument(
        "name the study with --study NAME or a FILE with a \"study\" key "
        "(see locus study list)");
  return studies::find_study(name);
}

void setup_study(CLI::App* app) {
  auto cmd = std::make_shared<StudyCommand>();
  app->require_subcommand(1);
  auto* run = app->add_subcommand(
      "run",
      "Run a study: writes DIR/result.json (context block first, with the resolved "
      "options) and its CSV tables, and prints each claim's verdict");
  run->add_option("file", cmd->file,
                  "study options (a JSON object whose \"study\" key names the study), e.g. "
                  "studies/cooper/study.json; options it omits take the study's defaults");
  run->add_option("--study", cmd->study, "the study to run (when no FILE names it)");
  run->add_option("--set", cmd->set,
                  "set one option, KEY=VALUE, over the file (repeatable; keys: locus study list)");
  run->add_option("--seed", cmd->seed, "the study's seed (same as --set seed=N)");
  run->add_option("--out", cmd->out, "output folder")->required();
  run->add_flag("--strict", cmd->strict, "exit 1 when a claim fails (skipped claims do not)");
  add_output_options(run, cmd->output);
  run->callback([cmd] {
    apply_output_options(cmd->output);
    const io::Json file_options = cmd->file.empty() ? io::Json::object() : io::read_json(cmd->file);
    if (!file_options.is_object())
      throw std::invalid_argument(cmd->file + ": study options must be a JSON object");
    const studies::Study& study = named_study(*cmd, file_options);
    std::vector<studies::OptionText> set;
    for (const std::string& s : cmd->set) {
      const auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0)
        throw std::invalid_argument("--set " + s + ": expected KEY=VALUE");
      set.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    if (cmd->seed) set.emplace_back("seed", std::to_string(*cmd->seed));
    // Errors name the file (or the study) and the key as written there or in --set KEY=VALUE.
    const std::string where =
        "study " + study.name + (cmd->file.empty() ? "" : " (" + cmd->file + ")");
    const io::Json resolved =
        studies::with_context(study, where, [&] { return study.resolve(file_options, set); });
    const io::Json interface = {{"file", cmd->file},
                                {"out", cmd->out},
                                {"set", cmd->set},
                                {"strict", cmd->strict},
                                {"json", cmd->output.json},
                                {"threads", cmd->output.threads},
                                {"max_memory", io::max_memory_bytes() / double(1 << 30)}};
    Progress progress("study " + study.name);
    const studies::StudyRun r = studies::with_context(study, where, [&] {
      return studies::run_study(study, resolved, cmd->out, interface, progress.callback());
    });
    progress.finish();
    if (cmd->output.json)
      std::cout << r.document.dump(2) << std::endl;
    else
      std::cout << studies::summary(r.result) << "results in " << cmd->out << "\n";
    if (cmd->strict && r.result.count(studies::Verdict::fails) > 0)
      throw std::runtime_error(
          "--strict: " + std::to_string(r.result.count(studies::Verdict::fails)) +
          " claim(s) of study " + study.name + " fail");
  });
  auto* list = app->add_subcommand("list", "List the studies and their options with defaults");
  list->callback([] {
    for (const auto& s : studies::all_studies()) {
      std::cout << s.name << ": " << s.title << "\n";
      for (const auto& row : s.describe_options())
        std::cout << "  " << std::left << std::setw(28) << row[0] << std::setw(8) << row[1]
                  << row[2] << " (default: " << row[3] << ")\n";
    }
  });
}

const bool registered =
    register_command({"study", "Run a paper study from its options", setup_study});

}  // namespace
}  // namespace locus::cli::study_verb
