// locus: the command-line tool. Each verb lives in its own file and registers itself (common.hpp).
// Exit codes: 0 success, 2 bad input (the message names the input and the problem), 1 failure.

#include <iostream>
#include <stdexcept>
#include <string>

#include "cli/common.hpp"
#include "locus/io/json.hpp"

int main(int argc, char** argv) {
  CLI::App app{"locus: the geometry of neural-network loss landscapes, computed exactly", "locus"};
  app.set_version_flag("--version", std::string("locus ") + locus::io::version() + " (" +
                                        locus::io::git_commit() + ")");
  app.require_subcommand(1);
  locus::cli::add_global_options(app);
  for (const auto& c : locus::cli::commands()) c.setup(app.add_subcommand(c.name, c.description));
  for (const auto& c : locus::cli::commands())
    if (c.attach) c.attach(&app);
  locus::cli::add_max_memory_option(&app);
  // A word where a verb is expected is an unknown verb, not a missing one.
  if (argc > 1 && argv[1][0] != '-') {
    std::string verbs;
    bool known = false;
    for (const auto& c : locus::cli::commands()) {
      known = known || c.name == argv[1];
      verbs += (verbs.empty() ? "" : ", ") + c.name;
    }
    if (!known) {
      std::cerr << "locus: error: unknown command '" << argv[1] << "' (valid: " << verbs << ")\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version, --list-options (all derive from it)
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "locus: error: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "locus: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "locus: failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
