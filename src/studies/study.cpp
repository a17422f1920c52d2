#include "locus/studies/study.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "locus/io/atomic_file.hpp"

namespace locus::studies {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::holds:
      return "holds";
    case Verdict::fails:
      return "fails";
    case Verdict::skipped:
      return "skipped";
  }
  return "skipped";
}

Verdict parse_verdict(std::string_view name) {
  for (Verdict v : {Verdict::holds, Verdict::fails, Verdict::skipped})
    if (to_string(v) == name) return v;
  throw std::invalid_argument("unknown verdict '" + std::string(name) +
                              "' (holds, fails, skipped)");
}

io::Json Claim::to_json() const {
  return {{"id", id},
          {"statement", statement},
          {"verdict", std::string(to_string(verdict))},
          {"evidence", evidence},
          {"reason", reason}};
}

Claim decide(std::string id, std::string statement, bool ok, io::Json evidence,
             std::string reason) {
  return {std::move(id), std::move(statement), ok ? Verdict::holds : Verdict::fails,
          std::move(evidence), std::move(reason)};
}

Claim skip(std::string id, std::string statement, std::string reason) {
  return {std::move(id), std::move(statement), Verdict::skipped, io::Json::object(),
          std::move(reason)};
}

std::string Cell::to_csv() const {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* x = std::get_if<double>(&value)) {
    // The same spellings as io::json_number, so that a CSV cell and its JSON agree.
    if (std::isnan(*x)) return "nan";
    if (std::isinf(*x)) return *x > 0 ? "inf" : "-inf";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", *x);
    return buf;
  }
  return "";
}

io::Json Cell::to_json() const {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return *i;
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* x = std::get_if<double>(&value)) return io::json_number(*x);
  return nullptr;
}

Table::Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<Cell> cells) {
  if (cells.size() != columns_.size())
    throw std::invalid_argument("table row has " + std::to_string(cells.size()) + " cells for " +
                                std::to_string(columns_.size()) + " columns");
  rows_.push_back(std::move(cells));
}

std::size_t Table::column_index(std::string_view column) const {
  for (std::size_t j = 0; j < columns_.size(); ++j)
    if (columns_[j] == column) return j;
  std::string names;
  for (const auto& c : columns_) names += (names.empty() ? "" : ", ") + c;
  throw std::invalid_argument("table has no column '" + std::string(column) + "' (" + names + ")");
}

const Cell& Table::at(std::size_t row, std::string_view column) const {
  const std::size_t j = column_index(column);
  if (row >= rows_.size())
    throw std::invalid_argument("table row " + std::to_string(row) + " out of range (" +
                                std::to_string(rows_.size()) + " rows)");
  return rows_[row][j];
}

std::string Table::to_csv() const {
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::string out;
  auto add_line = [&](std::size_t n, auto cell) {
    for (std::size_t j = 0; j < n; ++j) {
      if (j) out += ',';
      out += quote(cell(j));
    }
    out += '\n';
  };
  add_line(columns_.size(), [&](std::size_t j) { return columns_[j]; });
  for (const auto& r : rows_) add_line(r.size(), [&](std::size_t j) { return r[j].to_csv(); });
  return out;
}

int StudyResult::count(Verdict v) const {
  int n = 0;
  for (const Claim& c : claims) n += c.verdict == v;
  return n;
}

const Claim& StudyResult::claim(std::string_view id) const {
  std::string ids;
  for (const Claim& c : claims) {
    if (c.id == id) return c;
    ids += (ids.empty() ? "" : ", ") + c.id;
  }
  throw std::invalid_argument("study '" + study + "' has no claim '" + std::string(id) + "' (" +
                              ids + ")");
}

io::Json StudyResult::to_json() const {
  io::Json claims_json = io::Json::array();
  for (const Claim& c : claims) claims_json.push_back(c.to_json());
  io::Json figures_json = io::Json::array();
  for (const Figure& f : figures) {
    // A figure shows its claims: it fails with any of them, and is skipped if one did not run.
    Verdict v = Verdict::holds;
    for (const std::string& id : f.claims) {
      const Verdict c = claim(id).verdict;
      if (c == Verdict::fails || (c == Verdict::skipped && v == Verdict::holds)) v = c;
    }
    figures_json.push_back({{"id", f.id},
                            {"kind", f.kind},
                            {"data", f.table + ".csv"},
                            {"options", f.options},
                            {"caption", f.caption},
                            {"claims", f.claims},
                            {"verdict", std::string(to_string(v))}});
  }
  io::Json tables_json = io::Json::object();
  for (const NamedTable& t : tables)
    tables_json[t.name] = {
        {"file", t.name + ".csv"}, {"caption", t.caption}, {"columns", t.table.columns()}};
  return {{"study", study},        {"title", title},          {"summary", summary},
          {"claims", claims_json}, {"figures", figures_json}, {"tables", tables_json},
          {"details", details}};
}

const std::vector<Study>& all_studies() {
  static const std::vector<Study> studies = {cooper_study(), simsek_study(), connectivity_study(),
                                             shevchenko_mondelli_study(), li_ding_sun_study()};
  return studies;
}

const Study& find_study(const std::string& name) {
  std::string names;
  for (const Study& s : all_studies()) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  throw std::invalid_argument("unknown study '" + name + "' (valid: " + names + ")");
}

StudyRun run_study(const Study& study, const io::Json& resolved, const std::string& out_dir,
                   const io::Json& interface, const ProgressCallback& progress) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw std::invalid_argument("cannot create '" + out_dir + "': " + ec.message());
  io::require_writable(out_dir + "/result.json");
  StudyRun run{study.run(resolved, progress), {}};
  io::Json options = {{"study", study.name}};
  options.update(resolved);
  if (!interface.empty()) options["interface"] = interface;
  run.document = io::with_context(options, run.result.to_json());
  // The tables and result.json are replaced together: a failed write leaves the last run's.
  io::StagedFiles files;
  for (const NamedTable& t : run.result.tables)
    files.write(out_dir + "/" + t.name + ".csv",
                [&](const std::string& tmp) { io::write_file_atomic(tmp, t.table.to_csv()); });
  files.write(out_dir + "/result.json",
              [&](const std::string& tmp) { io::write_json(tmp, run.document); });
  files.commit();
  return run;
}

std::string summary(const StudyResult& result) {
  std::string out;
  for (const Claim& c : result.claims) {
    std::string v(to_string(c.verdict));
    v.resize(8, ' ');
    out += v + " " + result.study + "/" + c.id + ": " + c.statement + " — " + c.reason + "\n";
  }
  out += std::to_string(result.count(Verdict::holds)) + " holds, " +
         std::to_string(result.count(Verdict::fails)) + " fails, " +
         std::to_string(result.count(Verdict::skipped)) + " skipped\n";
  return out;
}

}  // namespace locus::studies
