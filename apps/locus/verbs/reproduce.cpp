// locus reproduce: every paper study on the built-in data, then the HTML report
// (OUT/index.html, drawn by the Python package's locus.report).
//
// Everything is found at run time, relative to the executable (no paths compiled in):
// - study options: DIR/<study>/study.json for the first DIR of --studies, <exe_dir>/studies,
//   <exe_dir>/../studies (the source tree when the build folder is inside it) that holds one;
//   otherwise the study's defaults (its options struct), which is what those files mostly say.
// - the Python package: <exe_dir>/python/locus/report.py (the build tree) put on PYTHONPATH,
//   else whatever `locus` the interpreter imports (pip install). The interpreter is --python,
//   else $LOCUS_PYTHON, else /usr/bin/python3.

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/common.hpp"
#include "cli/progress.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/studies/study.hpp"

extern char** environ;

namespace locus::cli::reproduce_verb {
namespace {

namespace fs = std::filesystem;

struct ReproduceCommand {
  std::string out = "report";
  std::string studies_dir;  // empty: search next to the executable
  std::string python;       // empty: $LOCUS_PYTHON, else /usr/bin/python3
  std::vector<std::string> only;
  bool strict = false;
  OutputOptions output;
};

fs::path exe_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot locate the locus executable (/proc/self/exe)");
  return exe.parent_path();
}

// Runs argv (searching PATH for argv[0]) and returns its exit status (127 when it cannot start).
int run_process(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return 127;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The interpreter that draws the report, with PYTHONPATH set so that it imports locus.report.
std::string find_python(const std::string& requested) {
  const char* env = std::getenv("LOCUS_PYTHON");
  const std::string python = !requested.empty() ? requested : env ? env : "/usr/bin/python3";
  const fs::path build_tree = exe_dir() / "python";
  if (fs::exists(build_tree / "locus" / "report.py")) {
    const char* old = std::getenv("PYTHONPATH");
    const std::string path = build_tree.string() + (old && *old ? ":" + std::string(old) : "");
    setenv("PYTHONPATH", path.c_str(), 1);
    return python;
  }
  if (run_process({python, "-c", "import locus.report"}) != 0)
    throw std::invalid_argument(
        "cannot find the locus Python package for the report: no " +
        (build_tree / "locus" / "report.py").string() + " and `" + python +
        " -c 'import locus.report'` fails; build with -DLOCUS_BUILD_PYTHON=ON, pip install "
        "python/, or name an interpreter that imports locus with --python or LOCUS_PYTHON");
  return python;
}

// The options file of a study, or "" for its defaults.
std::string find_options_file(const std::string& studies_dir, const std::string& study) {
  std::vector<fs::path> dirs;
  if (!studies_dir.empty())
    dirs = {fs::path(studies_dir)};
  else
    dirs = {exe_dir() / "studies", exe_dir().parent_path() / "studies"};
  for (const fs::path& d : dirs)
    if (fs::is_regular_file(d / study / "study.json")) return (d / study / "study.json").string();
  return "";
}

void setup_reproduce(CLI::App* app) {
  auto cmd = std::make_shared<ReproduceCommand>();
  app->add_option("--out", cmd->out, "report folder (index.html, figures, data/<study>/)")
      ->capture_default_str();
  app->add_option("--studies", cmd->studies_dir,
                  "folder holding <study>/study.json (default: studies/ next to the executable "
                  "or its parent; a study without a file runs on its defaults)");
  app->add_option("--python", cmd->python,
                  "Python interpreter that draws the report (default: $LOCUS_PYTHON, else "
                  "/usr/bin/python3)");
  app->add_option("--only", cmd->only, "run only these studies");
  app->add_flag("--strict", cmd->strict, "exit 1 when a claim fails (skipped claims do not)");
  add_output_options(app, cmd->output);
  app->callback([cmd] {
    apply_output_options(cmd->output);
    if (!cmd->studies_dir.empty() && !fs::is_directory(cmd->studies_dir))
      throw std::invalid_argument("--studies " + cmd->studies_dir + ": not a folder");
    for (const std::string& name : cmd->only) studies::find_study(name);  // names checked first
    std::vector<const studies::Study*> selected;
    for (const auto& s : studies::all_studies())
      if (cmd->only.empty() ||
          std::find(cmd->only.begin(), cmd->only.end(), s.name) != cmd->only.end())
        selected.push_back(&s);
    // Every options file is read and resolved before the first study runs, so that a bad key
    // in the last one does not wait for the others. Errors name the file (or the study, with
    // its defaults) and the key as written there.
    std::vector<std::string> files, wheres;
    std::vector<io::Json> resolved_options;
    for (const studies::Study* s : selected) {
      const std::string& file = files.emplace_back(find_options_file(cmd->studies_dir, s->name));
      const std::string& where = wheres.emplace_back(file.empty() ? "study " + s->name : file);
      const io::Json file_options = file.empty() ? io::Json::object() : io::read_json(file);
      resolved_options.push_back(
          studies::with_context(*s, where, [&] { return s->resolve(file_options, {}); }));
    }
    const std::string python = find_python(cmd->python);  // before the long part
    std::error_code ec;
    fs::create_directories(cmd->out, ec);
    if (ec) throw std::invalid_argument("cannot create '" + cmd->out + "': " + ec.message());
    io::require_writable(cmd->out + "/index.html");
    std::vector<std::string> argv = {python, "-m", "locus.report"};
    int n_fails = 0;
    Progress progress("reproduce");
    for (std::size_t i = 0; i < selected.size(); ++i) {
      const studies::Study& s = *selected[i];
      const std::string& file = files[i];
      const std::string& where = wheres[i];
      const io::Json& resolved = resolved_options[i];
      const std::string tag =
          "[" + std::to_string(i + 1) + "/" + std::to_string(selected.size()) + "] " + s.name;
      progress.print_line("locus reproduce: " + tag +
                          " (options: " + (file.empty() ? "defaults" : file) + ")");
      progress.update({.stage = tag});
      const auto start = std::chrono::steady_clock::now();
      const std::string dir = cmd->out + "/data/" + s.name;
      const io::Json interface = {{"command", "reproduce"},
                                  {"options_file", file},
                                  {"out", cmd->out},
                                  {"only", cmd->only},
                                  {"strict", cmd->strict}};
      // The study's own steps, under the study's tag: "[2/3] simsek: swap paths 2/5".
      const studies::StudyRun r = studies::with_context(s, where, [&] {
        return studies::run_study(s, resolved, dir, interface, [&](const ProgressEvent& e) {
          ProgressEvent tagged = e;
          tagged.stage = tag + ": " + e.stage;
          progress.update(tagged);
        });
      });
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      char line[160];
      std::snprintf(line, sizeof line, ": %d holds, %d fails, %d skipped (%.1f s)",
                    r.result.count(studies::Verdict::holds),
                    r.result.count(studies::Verdict::fails),
                    r.result.count(studies::Verdict::skipped), seconds);
      progress.print_line("locus reproduce: " + tag + line);
      std::cout << studies::summary(r.result) << std::flush;
      n_fails += r.result.count(studies::Verdict::fails);
      argv.push_back(dir);
    }
    progress.update({.stage = "drawing the report (" + python + " -m locus.report)"});
    // Figures and HTML come from the Python package (matplotlib). numpy's OpenBLAS gets one
    // thread unless the user chose: its idle workers spin on sched_yield between the report's
    // small array operations (measured on 2 cores: 11.2 -> 5.2 s of CPU, 5.9 -> 5.3 s of wall).
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
    argv.insert(argv.end(), {"--out", cmd->out});
    const int rc = run_process(argv);
    progress.finish();
    if (rc != 0)
      throw std::runtime_error("drawing the report failed (" + python +
                               " -m locus.report, exit status " + std::to_string(rc) + ")");
    if (cmd->strict && n_fails > 0)
      throw std::runtime_error("--strict: " + std::to_string(n_fails) + " claim(s) fail");
  });
}

const bool registered = register_command(
    {"reproduce", "Run every paper study on the built-in data and write the HTML report",
     setup_reproduce});

}  // namespace
}  // namespace locus::cli::reproduce_verb
