#pragma once
// Studies: a paper's claims as a computation. A study takes an options document (JSON) and a
// seed, runs, and returns a result (claims with verdicts, figure specifications) plus CSV tables;
// run_study() writes them to a folder:
//
//   out/result.json    {"context": ..., "study", "title", "summary", "claims": [...],
//                       "figures": [...], "tables": {...}, ...}
//   out/<table>.csv    one per table
//
// Figures are drawn from the CSV tables by the Python package (locus.report / locus.plot).
// Results are deterministic: the same options give the same result.json apart from the
// context block's utc_time (no timings are stored in it).

#include <functional>
#include <string>
#include <vector>

#include "locus/io/json.hpp"

namespace locus::studies {

// A CSV table of mixed cells (numbers are formatted with %.17g by add()).
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  // Appends a row; cells are Json scalars (numbers, strings, booleans, null -> empty).
  void add(const std::vector<io::Json>& cells);
};

struct StudyOutput {
  io::Json result;  // without the context block (run_study adds it)
  std::vector<std::pair<std::string, Table>> tables;  // name -> table, written as <name>.csv
};

// A study: resolves defaults into the options it is given (so that result files record what was
// used) and runs. Throws std::invalid_argument for bad options (naming the key).
struct Study {
  std::string name, title;
  std::function<io::Json()> default_options;
  std::function<StudyOutput(const io::Json& resolved_options)> run;
};

const std::vector<Study>& all_studies();
const Study& find_study(const std::string& name);  // throws std::invalid_argument listing names

// Merges options over the study's defaults (unknown keys -> std::invalid_argument naming them).
io::Json resolve_options(const Study& study, const io::Json& options);

// Runs the study named by options["study"] and writes out_dir/result.json (context block first)
// and its tables, atomically file by file; creates out_dir. Returns the result document.
io::Json run_study(const io::Json& options, const std::string& out_dir);

// Study implementations (one file each).
Study cooper_study();

}  // namespace locus::studies
