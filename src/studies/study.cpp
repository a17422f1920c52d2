#include "locus/studies/study.hpp"

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "locus/io/atomic_file.hpp"

namespace locus::studies {

void Table::add(const std::vector<io::Json>& cells) {
  if (cells.size() != columns.size())
    throw std::logic_error("table row has " + std::to_string(cells.size()) + " cells for " +
                           std::to_string(columns.size()) + " columns");
  std::vector<std::string> row;
  for (const io::Json& c : cells) {
    if (c.is_null()) {
      row.emplace_back();
    } else if (c.is_number_float()) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", c.get<double>());
      row.emplace_back(buf);
    } else if (c.is_string()) {
      row.push_back(c.get<std::string>());
    } else {
      row.push_back(c.dump());
    }
  }
  rows.push_back(std::move(row));
}

namespace {
std::string csv_text(const Table& t) {
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::string out;
  for (size_t j = 0; j < t.columns.size(); ++j) out += (j ? "," : "") + quote(t.columns[j]);
  out += '\n';
  for (const auto& r : t.rows) {
    for (size_t j = 0; j < r.size(); ++j) out += (j ? "," : "") + quote(r[j]);
    out += '\n';
  }
  return out;
}
}  // namespace

const std::vector<Study>& all_studies() {
  static const std::vector<Study> studies = {cooper_study()};
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

io::Json resolve_options(const Study& study, const io::Json& options) {
  io::Json resolved = study.default_options();
  for (auto it = options.begin(); it != options.end(); ++it) {
    if (!resolved.contains(it.key()))
      throw std::invalid_argument("study '" + study.name + "': unknown option '" + it.key() + "'");
    resolved[it.key()] = it.value();
  }
  return resolved;
}

io::Json run_study(const io::Json& options, const std::string& out_dir) {
  if (!options.is_object() || !options.contains("study") || !options["study"].is_string())
    throw std::invalid_argument("study options must be a JSON object with a \"study\" name");
  const Study& study = find_study(options["study"].get<std::string>());
  const io::Json resolved = resolve_options(study, options);
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw std::invalid_argument("cannot create '" + out_dir + "': " + ec.message());
  io::require_writable(out_dir + "/result.json");
  StudyOutput out = study.run(resolved);
  io::Json tables = io::Json::object();
  for (const auto& [name, t] : out.tables) {
    io::write_file_atomic(out_dir + "/" + name + ".csv", csv_text(t));
    if (!out.result.contains("tables") || !out.result["tables"].contains(name))
      tables[name] = {{"file", name + ".csv"}, {"caption", name}};
  }
  io::Json body = out.result;
  if (!body.contains("tables")) body["tables"] = io::Json::object();
  for (auto it = tables.begin(); it != tables.end(); ++it) body["tables"][it.key()] = it.value();
  const io::Json doc = io::with_context(resolved, body);
  io::write_json(out_dir + "/result.json", doc);
  return doc;
}

}  // namespace locus::studies
