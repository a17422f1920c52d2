#pragma once
// JSON results. Every result locus writes starts with a "context" block (google/benchmark style)
// so that a number can always be traced to the code, build and options that produced it.

#include <nlohmann/json.hpp>
#include <string>

namespace locus::io {

// Keys keep their insertion order, so "context" stays first.
using Json = nlohmann::ordered_json;

// {"version", "git_commit", "git_dirty", "compiler", "build_type", "eigen_version", "threads"
//  (OpenMP max threads), "host", "utc_time" (ISO 8601), "options": resolved_options}.
Json context_block(const Json& resolved_options);
// {"context": context_block(resolved_options), then body's keys in order}.
Json with_context(const Json& resolved_options, const Json& body);
// Pretty-printed (2-space indent), atomically.
void write_json(const std::string& path, const Json& j);
// Throws std::invalid_argument naming the path for a missing file or malformed JSON (with the
// parser's position).
Json read_json(const std::string& path);

// The one rule for non-finite numbers in locus's JSON (plain JSON has no inf or NaN): a finite
// double is a JSON number; +inf, -inf and NaN are the strings "inf", "-inf" and "nan" (so that
// "no limit" survives a round trip, which null would not). number_from_json inverts it and
// throws std::invalid_argument for anything else.
Json json_number(double v);
double number_from_json(const Json& j);

// locus's version string, and the git commit it was built from with whether tracked files
// differed from it (both taken at build time; "unknown" / false outside a git checkout).
const char* version();
const char* git_commit();
bool git_dirty();

}  // namespace locus::io
