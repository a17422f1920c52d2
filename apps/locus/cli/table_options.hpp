#pragma once
// CLI flags from an options table (core/options.hpp): one flag per row, named cli_flag(row)
// ("--max-step-size"), with the row's help and the default read from the options struct. The
// values given are parsed by the table, so the CLI, Python and JSON accept the same text and a
// bad value is reported with the flag the user typed.
//
//   auto cmd = std::make_shared<WalkCommand>();          // holds WalkOptions options; TableFlags
//   flags cmd->flags.add(app, walk_table(), cmd->options); app->callback([cmd] {
//     cmd->flags.apply();                                // --steps 10 -> options.steps = 10
//     validate_for_cli(walk_table(), [&] { cmd->options.validate(); });
//     ... print_json({{"walk", walk_table().to_json(cmd->options)}, ...}, body);
//   });

#include <CLI/CLI.hpp>
#include <cstdio>
#include <deque>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "locus/core/options.hpp"
#include "locus/io/json.hpp"

namespace locus::cli {

// The flags of one or more tables of a verb; owned by the verb's command object (it keeps
// pointers into it), applied in the verb's callback.
class TableFlags {
 public:
  // One flag per row of table except those named in skip; `options` holds the defaults shown
  // by --help and receives the values in apply(). Boolean rows are flags (--record-path, or
  // --record-path=false).
  template <class O>
  void add(CLI::App* app, const options::Table<O>& table, O& options,
           const std::vector<std::string>& skip = {}) {
    for (const auto& f : table.fields()) {
      bool skipped = false;
      for (const auto& s : skip) skipped = skipped || s == f.name;
      if (skipped) continue;
      const std::string flag = options::cli_flag(f.name);
      std::string help = f.help;
      if (f.kind == options::Kind::choice) {
        std::string names;
        for (const auto& c : f.choices) names += (names.empty() ? "" : "|") + c;
        help += " (" + names + ")";
      }
      if (f.optional) help += " (none: automatic)";
      CLI::Option* opt = nullptr;
      std::function<void()> set;
      const std::string name = f.name;
      if (f.kind == options::Kind::boolean) {
        bool& value = flags_.emplace_back(std::get<bool>(f.get(options)));
        opt = app->add_flag(flag, value, help);
        set = [&table, &options, &value, name] { table.set(options, name, options::Value(value)); };
      } else {
        std::string& text = texts_.emplace_back();
        opt = app->add_option(flag, text, help);
        set = [&table, &options, &text, name] { table.set_text(options, name, text); };
      }
      opt->default_str(options::to_string(f.get(options)));
      if (f.kind == options::Kind::integer) opt->type_name("INT");
      if (f.kind == options::Kind::real) opt->type_name("FLOAT");
      appliers_.push_back([opt, set, &table, flag] {
        if (opt->count() == 0) return;
        try {
          set();
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument(table.rephrase(e, options::Interface::cli));
        }
      });
      listers_.push_back([&table, &options, name]() -> std::string {
        const auto& f = table.field(name);
        char line[256];
        std::snprintf(line, sizeof line, "  %-30s %-12s ", options::cli_flag(name).c_str(),
                      options::to_string(f.get(options)).c_str());
        return line + f.help;
      });
    }
  }
  // Sets every flag that was given (in declaration order). Throws std::invalid_argument naming
  // the flag for a value its table rejects.
  void apply() const {
    for (const auto& a : appliers_) a();
  }
  // One line per flag: flag, current value, help (for --list-options).
  std::string list() const {
    std::string out;
    for (const auto& l : listers_) out += l() + "\n";
    return out;
  }

 private:
  std::deque<std::string> texts_;  // deques: stable references for CLI11
  std::deque<bool> flags_;
  std::vector<std::function<void()>> appliers_;
  std::vector<std::function<std::string()>> listers_;
};

// Runs f() (typically options.validate(), or a library call whose size check names an options
// field, "NebOptions.images = ...") and returns its value; a std::invalid_argument it throws is
// rethrown with the field spelled as the table's flag ("--lanczos-tolerance must be ...").
template <class O, class F>
auto validate_for_cli(const options::Table<O>& table, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(table.rephrase(e, options::Interface::cli));
  }
}

// --list-options: prints flags.list() (after applying the flags given so far) and ends the
// command with exit code 0 (CLI::Success), before required options are checked.
void add_list_options_flag(CLI::App* app, const TableFlags& flags);

// {"json": ..., "threads": ...}: the interface options every verb with --json has.
io::Json to_json(const OutputOptions& o);

}  // namespace locus::cli
