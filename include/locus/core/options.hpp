#pragma once
// One field table per options struct: the CLI's flags, Python's keyword arguments,
// `--list-options`, the JSON context block and the validation messages all come from it, so a field
// is named, documented and defaulted in exactly one place (its member initialiser and its table
// row).
//
//   struct SliceOptions { double radius = 1.0; int points = 41; std::uint64_t seed = 0;
//                         void validate() const; };
//   const locus::options::Table<SliceOptions>& slice_table() {
//     static const auto t = locus::options::Table<SliceOptions>("SliceOptions")
//         .add("radius", "half-width of the slice", &SliceOptions::radius)
//         .add("points", "grid points per axis", &SliceOptions::points)
//         .add("seed", "seeds the random direction", &SliceOptions::seed);
//     return t;
//   }
//   SliceOptions o;
//   slice_table().set_text(o, "points", "81");          // CLI: --points 81
//   slice_table().set(o, "radius", 2.0);                 // Python: radius=2.0
//   io::Json j = slice_table().to_json(o);               // {"radius": 2.0, "points": 81, "seed":
//   0}
//
// Names are snake_case: the JSON key and the Python keyword are the name, the CLI flag is the
// name with '-' for '_' (cli_flag). Validation: an options struct's validate() throws
// OptionError(field, message); each interface rewrites the field in its own spelling
// (spell(field, Interface::cli) = "--max-iterations"), so a message names what the user typed.

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "locus/io/json.hpp"

namespace locus::options {

// An option's value: unset (std::monostate: an optional field left to its automatic value), bool,
// integer, floating point, or text (enumerator names, lists, paths).
using Value = std::variant<std::monostate, bool, std::int64_t, double, std::string>;
// "none", "true", "200", "1e-08", "inf", "exact" (doubles with %.17g trimmed to the shortest
// round trip).
std::string to_string(const Value& v);
// The value as JSON (non-finite doubles as io::json_number writes them; unset as null).
io::Json to_json(const Value& v);

// How a field is addressed by the interface a user is in.
enum class Interface { library, cli, python, json };
// library: "Owner.field"; cli: "--field-name"; python: "field_name="; json: "\"field_name\"".
std::string spell(std::string_view field, Interface interface, std::string_view owner = {});
std::string cli_flag(std::string_view field);  // "--" + field with '_' -> '-'

// A caller mistake in an option: std::invalid_argument whose what() is "<owner>.<field> <problem>"
// for the library; interfaces catch it and say rephrase(interface) instead.
class OptionError : public std::invalid_argument {
 public:
  OptionError(std::string owner, std::string field, std::string problem);
  const std::string& owner() const { return owner_; }
  const std::string& field() const { return field_; }
  const std::string& problem() const { return problem_; }
  // "<spelled field> <problem>", e.g. "--max-iterations must be >= 0, got -3".
  std::string rephrase(Interface interface) const;

 private:
  std::string owner_, field_, problem_;
};

// Conversions used by every table (they throw OptionError naming owner.field):
double as_double(std::string_view owner, std::string_view field, const Value& v);
std::int64_t as_integer(std::string_view owner, std::string_view field, const Value& v);
bool as_bool(std::string_view owner, std::string_view field, const Value& v);
const std::string& as_text(std::string_view owner, std::string_view field, const Value& v);
// The problem of an integer that does not fit its field's type, e.g. "must be <= 2147483647
// (an integer in [-2147483648, 2147483647]), got 1000000000000".
std::string integer_range_problem(std::int64_t value, std::int64_t min, std::uint64_t max);
// Text forms: "1e-8", "inf", "nan" for numbers (std::strtod, whole string); integers also accept
// "1e3" when integral; true/false/1/0/yes/no for booleans.
double parse_double(std::string_view owner, std::string_view field, std::string_view text);
std::int64_t parse_integer(std::string_view owner, std::string_view field, std::string_view text);
bool parse_bool(std::string_view owner, std::string_view field, std::string_view text);

// Shared by the tables (not templates: compiled once). rephrase_message finds the longest
// "<alias struct>.<member>" at the start of message (or after "<word>: ") whose row name
// (prefix + member) is in names and spells it for the interface.
std::string rephrase_message(std::string_view message, Interface interface,
                             const std::vector<std::string>& names,
                             const std::vector<std::pair<std::string, std::string>>& aliases);

// The kind of a field, for --help and for Python's type checks.
enum class Kind { boolean, integer, real, text, choice };
std::string_view to_string(Kind k);

template <class Options>
struct Field {
  std::string name;  // snake_case
  std::string help;  // one line
  Kind kind = Kind::real;
  bool optional = false;             // std::optional<T> field: may be unset ("none", null, None)
  std::vector<std::string> choices;  // Kind::choice: the valid names
  std::function<Value(const Options&)> get;
  std::function<void(Options&, const Value&)> set;  // type-checked; validity is validate()'s job
};

template <class Options>
class Table {
 public:
  explicit Table(std::string owner) : owner_(std::move(owner)) {}
  const std::string& owner() const { return owner_; }

  // A field stored at ref(o): `ref` is a pointer to member (&Options::seed) or a callable
  // returning a reference into Options (for nested structs: [](auto& o) -> auto& { return
  // o.spectrum.k; }). T is bool, an integer type, double or std::string.
  template <class Ref>
  Table&& add(std::string name, std::string help, Ref ref) && {
    add_field(std::move(name), std::move(help), ref);
    return std::move(*this);
  }
  template <class Ref>
  Table& add(std::string name, std::string help, Ref ref) & {
    add_field(std::move(name), std::move(help), ref);
    return *this;
  }
  // An enum field with its one to_string / parse pair (Ceres style), e.g. &to_string,
  // &parse_spectrum_method; choices are listed in --help and in errors.
  template <class E, class Ref>
  Table&& add_enum(std::string name, std::string help, Ref ref, std::string_view (*name_of)(E),
                   E (*parse)(std::string_view), std::vector<E> values) && {
    Field<Options> f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.kind = Kind::choice;
    for (E e : values) f.choices.emplace_back(name_of(e));
    f.get = [ref, name_of](const Options& o) {
      return Value(std::string(name_of(access(ref, const_cast<Options&>(o)))));
    };
    f.set = [ref, parse, owner = owner_, field = f.name](Options& o, const Value& v) {
      const std::string& s = as_text(owner, field, v);
      try {
        access(ref, o) = parse(s);
      } catch (const OptionError&) {
        throw;
      } catch (const std::invalid_argument& e) {
        throw OptionError(owner, field, e.what());
      }
    };
    fields_.push_back(std::move(f));
    return std::move(*this);
  }

  const std::vector<Field<Options>>& fields() const { return fields_; }
  bool has(std::string_view name) const { return find(name) != nullptr; }
  // Throws OptionError listing the valid names for an unknown name.
  const Field<Options>& field(std::string_view name) const {
    if (const Field<Options>* f = find(name)) return *f;
    std::string names;
    for (const auto& f : fields_) names += (names.empty() ? "" : ", ") + f.name;
    throw OptionError(owner_, std::string(name), "is not an option (valid: " + names + ")");
  }
  Value get(const Options& o, std::string_view name) const { return field(name).get(o); }
  void set(Options& o, std::string_view name, const Value& v) const { field(name).set(o, v); }
  // Parses text by the field's kind ("1e-8", "inf", "200", "true", "exact"); "none" unsets an
  // optional field.
  void set_text(Options& o, std::string_view name, std::string_view text) const {
    const Field<Options>& f = field(name);
    if (f.optional && (text == "none" || text == "auto")) return f.set(o, Value());
    f.set(o, parse_text(f.kind, name, text));
  }
  // validate() messages name a field as "<Struct>.<member>" ("SpectrumOptions.k must be >= 1").
  // A table whose rows come from nested structs lists them, with the prefix their rows carry,
  // so that rephrase() recognises them: reported_as("JacobianOptions", "jacobian_") maps
  // "JacobianOptions.tolerance_factor" to the row jacobian_tolerance_factor. The table's own
  // owner is always recognised.
  Table&& reported_as(std::string owner, std::string name_prefix = "") && {
    aliases_.emplace_back(std::move(owner), std::move(name_prefix));
    return std::move(*this);
  }
  Table& reported_as(std::string owner, std::string name_prefix = "") & {
    aliases_.emplace_back(std::move(owner), std::move(name_prefix));
    return *this;
  }
  // The message of e (an OptionError or a validate() message) with the field it names spelled
  // for the interface: "--lanczos-tolerance must be > 0" (cli), "lanczos_tolerance= must be
  // > 0" (python). A message that names no row of this table is returned unchanged.
  std::string rephrase(const std::exception& e, Interface interface) const {
    if (const auto* oe = dynamic_cast<const OptionError*>(&e))
      if (has(oe->field())) return oe->rephrase(interface);
    std::vector<std::string> names;
    for (const auto& f : fields_) names.push_back(f.name);
    std::vector<std::pair<std::string, std::string>> aliases = aliases_;
    aliases.emplace_back(owner_, "");
    return rephrase_message(e.what(), interface, names, aliases);
  }
  // {name: value} in table order: the resolved options of a JSON context block.
  io::Json to_json(const Options& o) const {
    io::Json j = io::Json::object();
    for (const auto& f : fields_) j[f.name] = options::to_json(f.get(o));
    return j;
  }
  // Sets every key of j (an object); unknown keys and wrong types throw OptionError.
  void from_json(Options& o, const io::Json& j) const;

 private:
  template <class Ref>
  static auto& access(Ref ref, Options& o) {
    if constexpr (std::is_member_object_pointer_v<Ref>)
      return o.*ref;
    else
      return ref(o);
  }
  template <class T>
  struct is_optional : std::false_type {};
  template <class T>
  struct is_optional<std::optional<T>> : std::true_type {};

  template <class Ref>
  void add_field(std::string name, std::string help, Ref ref) {
    using Stored = std::remove_cvref_t<decltype(access(ref, std::declval<Options&>()))>;
    if constexpr (is_optional<Stored>::value) {
      // std::optional<T>: the row of T, with "unset" mapped to std::monostate both ways.
      using T = typename Stored::value_type;
      add_plain_field<T>(std::move(name), std::move(help),
                         [ref](Options& o) -> T& { return *access(ref, o); });
      Field<Options>& f = fields_.back();
      f.optional = true;
      auto set_value = std::move(f.set);
      f.set = [ref, set_value](Options& o, const Value& v) {
        if (std::holds_alternative<std::monostate>(v)) {
          access(ref, o).reset();
          return;
        }
        if (!access(ref, o)) access(ref, o).emplace();
        set_value(o, v);
      };
      f.get = [ref](const Options& o) -> Value {
        const auto& x = access(ref, const_cast<Options&>(o));
        if (!x) return Value();
        if constexpr (std::is_same_v<T, bool> || std::is_floating_point_v<T> ||
                      std::is_same_v<T, std::string>)
          return Value(*x);
        else
          return Value(static_cast<std::int64_t>(*x));
      };
    } else {
      add_plain_field<Stored>(std::move(name), std::move(help), ref);
    }
  }
  template <class T, class Ref>
  void add_plain_field(std::string name, std::string help, Ref ref) {
    Field<Options> f;
    f.name = std::move(name);
    f.help = std::move(help);
    const std::string owner = owner_, field = f.name;
    if constexpr (std::is_same_v<T, bool>) {
      f.kind = Kind::boolean;
      f.set = [=](Options& o, const Value& v) { access(ref, o) = as_bool(owner, field, v); };
    } else if constexpr (std::is_integral_v<T>) {
      f.kind = Kind::integer;
      f.set = [=](Options& o, const Value& v) {
        const std::int64_t i = as_integer(owner, field, v);
        if constexpr (std::is_unsigned_v<T>)
          if (i < 0) throw OptionError(owner, field, "must be >= 0, got " + std::to_string(i));
        // No silent narrowing: 10^12 in an int field is refused, not stored as -727379968.
        if (!std::in_range<T>(i))
          throw OptionError(owner, field,
                            integer_range_problem(i, std::numeric_limits<T>::min(),
                                                  std::numeric_limits<T>::max()));
        access(ref, o) = static_cast<T>(i);
      };
    } else if constexpr (std::is_floating_point_v<T>) {
      f.kind = Kind::real;
      f.set = [=](Options& o, const Value& v) { access(ref, o) = as_double(owner, field, v); };
    } else {
      static_assert(std::is_same_v<T, std::string>,
                    "option fields are bool, integer, double, "
                    "std::string or an enum (add_enum)");
      f.kind = Kind::text;
      f.set = [=](Options& o, const Value& v) { access(ref, o) = as_text(owner, field, v); };
    }
    f.get = [ref](const Options& o) -> Value {
      const T& x = access(ref, const_cast<Options&>(o));
      if constexpr (std::is_same_v<T, bool> || std::is_floating_point_v<T> ||
                    std::is_same_v<T, std::string>)
        return Value(x);
      else
        return Value(static_cast<std::int64_t>(x));
    };
    fields_.push_back(std::move(f));
  }
  const Field<Options>* find(std::string_view name) const {
    for (const auto& f : fields_)
      if (f.name == name) return &f;
    return nullptr;
  }
  Value parse_text(Kind kind, std::string_view name, std::string_view text) const;

  std::string owner_;
  std::vector<Field<Options>> fields_;
  std::vector<std::pair<std::string, std::string>> aliases_;  // (struct, row-name prefix)
};

// Shared by Table<...>::parse_text and from_json (not templates: compiled once).
Value parse_value_text(Kind kind, std::string_view owner, std::string_view field,
                       std::string_view text);
Value value_from_json(Kind kind, std::string_view owner, std::string_view field, const io::Json& j);

template <class Options>
Value Table<Options>::parse_text(Kind kind, std::string_view name, std::string_view text) const {
  return parse_value_text(kind, owner_, name, text);
}

template <class Options>
void Table<Options>::from_json(Options& o, const io::Json& j) const {
  if (!j.is_object())
    throw OptionError(owner_, "", "must be a JSON object of options, got " + j.dump());
  for (auto it = j.begin(); it != j.end(); ++it) {
    const Field<Options>& f = field(it.key());
    if (f.optional && it.value().is_null())
      f.set(o, Value());
    else
      f.set(o, value_from_json(f.kind, owner_, f.name, it.value()));
  }
}

}  // namespace locus::options
