#pragma once
// Studies: a paper's claims as a computation. A study has a typed options struct with one field
// table (core/options.hpp), runs, and returns a StudyResult: claims with verdicts (holds, fails,
// skipped), typed tables with named columns, and figure specifications. run_study() writes it:
//
//   out/result.json    {"context": {..., "options": resolved}, "study", "title", "summary",
//                       "claims": [...], "figures": [...], "tables": {...}, "details": {...}}
//   out/<table>.csv    one per table (numbers with %.17g)
//
// Figures are drawn from the CSV tables by the Python package (locus.report / locus.plot).
// Results are deterministic: the same options give the same result.json apart from the
// context block's utc_time (no timings are stored in it).
//
// Adding a study: an options struct (plain fields with their defaults, validate() throwing
// options::OptionError), its field table, a run function returning StudyResult built from small
// claim functions, a `Study <name>_study()` made with make_study(...), and one entry in
// all_studies() (src/studies/study.cpp).

#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "locus/core/options.hpp"
#include "locus/core/progress.hpp"
#include "locus/io/json.hpp"

namespace locus::studies {

// The outcome of a claim's check. A check that did not run (nothing in the grid to check, a
// size limit that excluded every case) is `skipped`, never `holds`.
enum class Verdict { holds, fails, skipped };
std::string_view to_string(Verdict v);         // "holds", "fails", "skipped"
Verdict parse_verdict(std::string_view name);  // throws std::invalid_argument for other names

// One claim of a paper, checked: `evidence` holds the numbers the verdict was decided on (and the
// tolerances they were compared with); `reason` is one sentence saying why it holds, fails or was
// skipped, with those numbers.
struct Claim {
  std::string id;         // snake_case, unique within the study
  std::string statement;  // the paper's claim in one sentence (with its theorem number)
  Verdict verdict = Verdict::skipped;
  io::Json evidence = io::Json::object();
  std::string reason;

  // {"id", "statement", "verdict", "evidence", "reason"}.
  io::Json to_json() const;
};
// A claim decided by `ok` (holds when true, fails when false).
Claim decide(std::string id, std::string statement, bool ok, io::Json evidence, std::string reason);
// A claim whose check did not run; `reason` says why.
Claim skip(std::string id, std::string statement, std::string reason);

// A table cell: missing (empty CSV cell, JSON null), an integer, a double or text. Numbers stay
// numbers until written.
struct Cell {
  std::variant<std::monostate, std::int64_t, double, std::string> value;

  Cell() = default;
  Cell(std::nullptr_t) {}
  Cell(double v) : value(v) {}
  Cell(std::string v) : value(std::move(v)) {}
  Cell(const char* v) : value(std::string(v)) {}
  template <std::integral I>
  requires(!std::same_as<I, bool>) Cell(I v) : value(static_cast<std::int64_t>(v)) {}
  template <class T>
  Cell(const std::optional<T>& v) : Cell(v ? Cell(*v) : Cell()) {}

  bool missing() const { return std::holds_alternative<std::monostate>(value); }
  // CSV text: "" when missing, %.17g for doubles ("inf", "-inf", "nan" when not finite).
  std::string to_csv() const;
  // JSON: null when missing; doubles by io::json_number (non-finite as "inf", "-inf", "nan").
  io::Json to_json() const;
};

// A table with named columns, rows appended in order. Cost: O(cells) to write.
class Table {
 public:
  explicit Table(std::vector<std::string> columns);
  const std::vector<std::string>& columns() const { return columns_; }
  std::size_t n_rows() const { return rows_.size(); }
  // Appends a row; throws std::invalid_argument when it has not one cell per column.
  void add_row(std::vector<Cell> cells);
  // The cell in row `row` of column `column`; throws std::invalid_argument for an unknown column
  // or a row out of range.
  const Cell& at(std::size_t row, std::string_view column) const;
  // Header line, then one line per row; cells with ',', '"' or a newline are quoted (RFC 4180).
  std::string to_csv() const;

 private:
  std::size_t column_index(std::string_view column) const;
  std::vector<std::string> columns_;
  std::vector<std::vector<Cell>> rows_;
};

// A figure the report draws from one table with locus.plot's function `kind`.
struct Figure {
  std::string id, kind;
  std::string table;  // name of the table holding its data
  std::string caption;
  io::Json options = io::Json::object();  // keyword arguments of the plot function
  std::vector<std::string> claims;        // ids of the claims it illustrates
};

struct NamedTable {
  std::string name;  // written as <name>.csv
  std::string caption;
  Table table;
};

// What a study returns; run_study adds the context block and writes it.
struct StudyResult {
  std::string study, title, summary;
  std::vector<Claim> claims;
  std::vector<NamedTable> tables;
  std::vector<Figure> figures;
  io::Json details = io::Json::object();  // study-specific numbers (named blocks)

  // Number of claims with verdict v.
  int count(Verdict v) const;
  // The claim with this id; throws std::invalid_argument listing the ids.
  const Claim& claim(std::string_view id) const;
  // {"study", "title", "summary", "claims", "figures" (each with the combined "verdict" of its
  // claims: fails if one fails, else skipped if one is skipped, else holds), "tables" (name ->
  // {"file", "caption", "columns"}), "details"}.
  io::Json to_json() const;
};

// One `name = value` option given as text (locus study run --set name=value).
using OptionText = std::pair<std::string, std::string>;

// A registered study, with its options table erased to JSON. make_study builds one from a typed
// options struct, its table and its run function.
struct Study {
  std::string name, title;
  // The options table's rows with their defaults: {name, kind, help, default} as text.
  std::function<std::vector<std::vector<std::string>>()> describe_options;
  // Defaults, then `file_options` (an object; a "study" key is ignored), then `set`, then
  // validate(); returns the table's to_json of the result. Throws options::OptionError naming
  // the field.
  std::function<io::Json(const io::Json& file_options, const std::vector<OptionText>& set)> resolve;
  // Runs on resolved options (as returned by resolve); `progress` (may be empty) gets the
  // study's steps (a claim's id, k of n) where its run function reports them.
  std::function<StudyResult(const io::Json& resolved, const ProgressCallback& progress)> run;
  // The message of e (from resolve, run or validate) with the option it names spelled as a study
  // file writes it ("\"walk_steps\" must be >= 0", also for a nested struct's field).
  std::function<std::string(const std::exception& e)> rephrase;
};

// `run` is StudyResult(const Options&) or, for a study that reports its steps,
// StudyResult(const Options&, const ProgressCallback&): it calls progress({.stage = claim id,
// .done = k, .total = n}) before each (locus::report_progress, core/progress.hpp).
template <class Options, class Run>
Study make_study(std::string name, std::string title, const options::Table<Options>& table,
                 Run run) {
  Study s{std::move(name), std::move(title), {}, {}, {}, {}};
  const options::Table<Options>* t = &table;  // tables are function-local statics
  s.describe_options = [t] {
    const Options defaults{};
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : t->fields())
      rows.push_back({f.name, std::string(options::to_string(f.kind)), f.help,
                      options::to_string(f.get(defaults))});
    return rows;
  };
  s.resolve = [t](const io::Json& file_options, const std::vector<OptionText>& set) {
    Options o{};
    io::Json given = file_options;
    if (given.is_object()) given.erase("study");
    t->from_json(o, given);
    for (const auto& [field, text] : set) t->set_text(o, field, text);
    o.validate();
    return t->to_json(o);
  };
  s.run = [t, run](const io::Json& resolved, const ProgressCallback& progress) {
    Options o{};
    t->from_json(o, resolved);
    o.validate();
    if constexpr (std::invocable<Run, const Options&, const ProgressCallback&>)
      return run(o, progress);
    else
      return run(o);
  };
  s.rephrase = [t](const std::exception& e) {
    // An OptionError names its field even when it is not a row (an unknown key).
    if (const auto* oe = dynamic_cast<const options::OptionError*>(&e))
      return oe->rephrase(options::Interface::json);
    return t->rephrase(e, options::Interface::json);
  };
  return s;
}

// Runs f() (a study's resolve or run); a std::invalid_argument it throws is rethrown as
// "<where>: <message>" with the option spelled as a study file writes it (study.rephrase), so
// that the message names the file (or run) and the key the user typed.
template <class F>
auto with_context(const Study& study, const std::string& where, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": " + study.rephrase(e));
  }
}

// Every study, in report order.
const std::vector<Study>& all_studies();
// Throws std::invalid_argument listing the valid names.
const Study& find_study(const std::string& name);

// A study run as written: the typed result and the document of result.json.
struct StudyRun {
  StudyResult result;
  io::Json document;  // {"context": {..., "options": {"study": name, resolved...}}, result...}
};
// Runs `study` on resolved options and writes out_dir/result.json (context block first, its
// "options" the resolved options) and one CSV per table, all replaced together (io::StagedFiles:
// a failed write changes none of them); creates
// out_dir. `interface` (the calling interface's own options: output folder, --strict, ...)
// goes into the context's options under "interface" when not empty, so that every option the
// command accepted appears there. Throws std::invalid_argument when out_dir cannot be created or
// written (checked
// before running), std::runtime_error for a failed write.
// `progress` is passed to the study's run function.
StudyRun run_study(const Study& study, const io::Json& resolved, const std::string& out_dir,
                   const io::Json& interface = io::Json::object(),
                   const ProgressCallback& progress = {});

// One line per claim, "<verdict padded to 8> <study>/<id>: <statement> — <reason>", then
// "<h> holds, <f> fails, <s> skipped".
std::string summary(const StudyResult& result);

// The registered studies (one source file each, src/studies/<paper>.cpp).
Study cooper_study();               // studies/cooper.hpp
Study simsek_study();               // studies/simsek.hpp
Study connectivity_study();         // studies/connectivity.hpp
Study shevchenko_mondelli_study();  // studies/shevchenko_mondelli.hpp
Study li_ding_sun_study();          // studies/li_ding_sun.hpp

}  // namespace locus::studies
