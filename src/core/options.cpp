#include "locus/core/options.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <system_error>

namespace locus::options {

std::string to_string(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "none";
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const double* d = std::get_if<double>(&v)) {
    if (std::isnan(*d)) return "nan";
    if (std::isinf(*d)) return *d > 0 ? "inf" : "-inf";
    // The shortest %g form that reads back to the same double.
    char buf[32];
    for (int digits = 1; digits <= 17; ++digits) {
      std::snprintf(buf, sizeof buf, "%.*g", digits, *d);
      if (std::strtod(buf, nullptr) == *d) break;
    }
    return buf;
  }
  return std::get<std::string>(v);
}

io::Json to_json(const Value& v) {
  return std::visit(
      [](const auto& x) -> io::Json {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, double>)
          return io::json_number(x);
        else if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::monostate>)
          return nullptr;
        else
          return x;
      },
      v);
}

std::string cli_flag(std::string_view field) {
  std::string s = "--" + std::string(field);
  for (char& c : s)
    if (c == '_') c = '-';
  return s;
}

std::string spell(std::string_view field, Interface interface, std::string_view owner) {
  switch (interface) {
    case Interface::cli:
      return cli_flag(field);
    case Interface::python:
      return std::string(field) + "=";
    case Interface::json:
      return "\"" + std::string(field) + "\"";
    case Interface::library:
      break;
  }
  return owner.empty() ? std::string(field) : std::string(owner) + "." + std::string(field);
}

OptionError::OptionError(std::string owner, std::string field, std::string problem)
    : std::invalid_argument(spell(field, Interface::library, owner) + " " + problem),
      owner_(std::move(owner)),
      field_(std::move(field)),
      problem_(std::move(problem)) {}

std::string OptionError::rephrase(Interface interface) const {
  return spell(field_, interface, owner_) + " " + problem_;
}

std::string_view to_string(Kind k) {
  switch (k) {
    case Kind::boolean:
      return "bool";
    case Kind::integer:
      return "int";
    case Kind::real:
      return "float";
    case Kind::text:
      return "str";
    case Kind::choice:
      return "choice";
  }
  return "?";
}

namespace {

[[noreturn]] void wrong_type(std::string_view owner, std::string_view field, const char* need,
                             const Value& got) {
  throw OptionError(std::string(owner), std::string(field),
                    std::string("needs ") + need + ", got '" + to_string(got) + "'");
}

}  // namespace

double as_double(std::string_view owner, std::string_view field, const Value& v) {
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  wrong_type(owner, field, "a number", v);
}

std::int64_t as_integer(std::string_view owner, std::string_view field, const Value& v) {
  if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const double* d = std::get_if<double>(&v))
    if (std::isfinite(*d) && std::floor(*d) == *d) {
      // [-2^63, 2^63): every integral double in it converts exactly.
      if (*d >= -0x1p63 && *d < 0x1p63) return static_cast<std::int64_t>(*d);
      throw OptionError(std::string(owner), std::string(field),
                        "is out of range for a 64-bit integer, got '" + to_string(v) + "'");
    }
  wrong_type(owner, field, "an integer", v);
}

std::string integer_range_problem(std::int64_t value, std::int64_t min, std::uint64_t max) {
  const std::string range = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                            "]), got " + std::to_string(value);
  return value < min ? "must be >= " + std::to_string(min) + " (" + range
                     : "must be <= " + std::to_string(max) + " (" + range;
}

bool as_bool(std::string_view owner, std::string_view field, const Value& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  wrong_type(owner, field, "true or false", v);
}

const std::string& as_text(std::string_view owner, std::string_view field, const Value& v) {
  if (const std::string* s = std::get_if<std::string>(&v)) return *s;
  wrong_type(owner, field, "a name (text)", v);
}

double parse_double(std::string_view owner, std::string_view field, std::string_view text) {
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);  // accepts inf, nan, 1e-8
  if (s.empty() || end != s.c_str() + s.size())
    throw OptionError(std::string(owner), std::string(field),
                      "needs a number, cannot parse '" + s + "'");
  return v;
}

std::int64_t parse_integer(std::string_view owner, std::string_view field, std::string_view text) {
  // Plain digits are read exactly (through a double, 2^53 + 1 would read as 2^53); other forms
  // ("1e3", "2.0") through parse_double.
  std::int64_t i = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, i);
  if (ptr == end && ec == std::errc::result_out_of_range)
    throw OptionError(std::string(owner), std::string(field),
                      "is out of range for a 64-bit integer, got '" + std::string(text) + "'");
  if (ptr == end && ec == std::errc() && !text.empty()) return i;
  const double v = parse_double(owner, field, text);
  return as_integer(owner, field, Value(v));
}

bool parse_bool(std::string_view owner, std::string_view field, std::string_view text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  throw OptionError(std::string(owner), std::string(field),
                    "needs true or false, cannot parse '" + std::string(text) + "'");
}

Value parse_value_text(Kind kind, std::string_view owner, std::string_view field,
                       std::string_view text) {
  switch (kind) {
    case Kind::boolean:
      return parse_bool(owner, field, text);
    case Kind::integer:
      return parse_integer(owner, field, text);
    case Kind::real:
      return parse_double(owner, field, text);
    case Kind::text:
    case Kind::choice:
      break;
  }
  return std::string(text);
}

Value value_from_json(Kind kind, std::string_view owner, std::string_view field,
                      const io::Json& j) {
  auto fail = [&](const char* need) -> Value {
    throw OptionError(std::string(owner), std::string(field),
                      std::string("needs ") + need + ", got " + j.dump());
  };
  switch (kind) {
    case Kind::boolean:
      return j.is_boolean() ? Value(j.get<bool>()) : fail("true or false");
    case Kind::integer:
      if (j.is_number_unsigned() &&
          j.get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())
        throw OptionError(std::string(owner), std::string(field),
                          "is out of range for a 64-bit integer, got " + j.dump());
      if (j.is_number_integer()) return Value(j.get<std::int64_t>());
      if (j.is_number_float()) return Value(as_integer(owner, field, Value(j.get<double>())));
      return fail("an integer");
    case Kind::real:
      try {
        return Value(io::number_from_json(j));
      } catch (const std::invalid_argument&) {
        return fail("a number (or \"inf\", \"-inf\", \"nan\")");
      }
    case Kind::text:
    case Kind::choice:
      break;
  }
  return j.is_string() ? Value(j.get<std::string>()) : fail("a name (text)");
}

std::string rephrase_message(std::string_view message, Interface interface,
                             const std::vector<std::string>& names,
                             const std::vector<std::pair<std::string, std::string>>& aliases) {
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  // The field is named at the start, or after a "context: " prefix added by a caller.
  std::vector<size_t> starts = {0};
  for (size_t p = message.find(": "); p != std::string_view::npos; p = message.find(": ", p + 1))
    starts.push_back(p + 2);
  for (size_t start : starts) {
    std::string_view rest = message.substr(start);
    size_t best_length = 0;
    std::string best_name;
    for (const auto& [owner, prefix] : aliases) {
      if (rest.substr(0, owner.size() + 1) != owner + ".") continue;
      size_t end = owner.size() + 1;
      while (end < rest.size() && is_word(rest[end])) ++end;
      const std::string name =
          prefix + std::string(rest.substr(owner.size() + 1, end - owner.size() - 1));
      for (const auto& n : names)
        if (n == name && end > best_length) {
          best_length = end;
          best_name = name;
        }
    }
    if (best_length > 0) {
      std::string spelled = spell(best_name, interface);
      const std::string_view tail = rest.substr(best_length);
      // "k = 0 is invalid": Python's "k=" would read "k= = 0"; the bare name says it.
      if (!spelled.empty() && spelled.back() == '=' && tail.substr(0, 2) == " =")
        spelled.pop_back();
      return std::string(message.substr(0, start)) + spelled + std::string(tail);
    }
  }
  return std::string(message);
}

}  // namespace locus::options
