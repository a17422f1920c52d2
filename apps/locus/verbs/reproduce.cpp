// locus reproduce: every paper study on the built-in data, then the HTML report
// (OUT/index.html, drawn by the Python package's locus.report).

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/common.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/studies/study.hpp"

namespace locus::cli {
namespace {

struct ReproduceCommand {
  std::string out = "report";
  std::string studies_dir = LOCUS_STUDIES_DIR;
  std::vector<std::string> only;
  OutputOptions output;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

void setup_reproduce(CLI::App* app) {
  auto cmd = std::make_shared<ReproduceCommand>();
  app->add_option("--out", cmd->out, "report folder (index.html, figures, data/<study>/)")
      ->capture_default_str();
  app->add_option("--studies", cmd->studies_dir, "folder holding <study>/study.json")
      ->capture_default_str();
  app->add_option("--only", cmd->only, "run only these studies");
  add_output_options(app, cmd->output);
  app->callback([cmd] {
    apply_output_options(cmd->output);
    std::error_code ec;
    std::filesystem::create_directories(cmd->out, ec);
    if (ec) throw std::invalid_argument("cannot create '" + cmd->out + "': " + ec.message());
    io::require_writable(cmd->out + "/index.html");
    std::vector<std::string> dirs;
    for (const auto& s : studies::all_studies()) {
      if (!cmd->only.empty() &&
          std::find(cmd->only.begin(), cmd->only.end(), s.name) == cmd->only.end())
        continue;
      const std::string file = cmd->studies_dir + "/" + s.name + "/study.json";
      const std::string dir = cmd->out + "/data/" + s.name;
      if (stderr_is_terminal()) std::cerr << "locus reproduce: running study " << s.name << "...\n";
      const io::Json doc = studies::run_study(io::read_json(file), dir);
      for (const auto& c : doc["claims"])
        std::cout << (c["holds"].get<bool>() ? "holds          " : "does not hold  ") << s.name
                  << ": " << c["statement"].get<std::string>() << "\n";
      dirs.push_back(dir);
    }
    // Figures and HTML come from the Python package (matplotlib).
    const char* py_env = std::getenv("LOCUS_PYTHON");
    const std::string python = py_env ? py_env : "/usr/bin/python3";
    std::string command = "PYTHONPATH=" + shell_quote(LOCUS_PYTHON_DIR) + " " + shell_quote(python) +
                          " -m locus.report";
    for (const auto& d : dirs) command += " " + shell_quote(d);
    command += " --out " + shell_quote(cmd->out);
    const int rc = std::system(command.c_str());
    if (rc != 0)
      throw std::runtime_error("drawing the report failed (" + command + ", status " +
                               std::to_string(WEXITSTATUS(rc)) + ")");
  });
}

const bool registered = register_command(
    {"reproduce", "Run every paper study on the built-in data and write the HTML report",
     setup_reproduce});

}  // namespace
}  // namespace locus::cli
