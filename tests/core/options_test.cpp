// The options mechanism: one table gives typed get/set, text parsing, JSON round trips and
// messages that name the field in the spelling of the interface in use.

#include "locus/core/options.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace locus::options {
namespace {

enum class Colour { red, green };
std::string_view colour_name(Colour c) { return c == Colour::red ? "red" : "green"; }
Colour parse_colour(std::string_view s) {
  if (s == "red") return Colour::red;
  if (s == "green") return Colour::green;
  throw std::invalid_argument("unknown colour '" + std::string(s) + "' (red, green)");
}

struct Inner {
  int k = 20;
  double radius = 1.0;
  void validate() const {
    if (!(radius > 0)) throw std::invalid_argument("Inner.radius must be > 0, got 0");
  }
};
struct Example {
  double tolerance = 1e-12;
  double max_seconds = std::numeric_limits<double>::infinity();
  std::uint64_t seed = 0;
  bool trace = false;
  std::string name = "x";
  Colour colour = Colour::red;
  Inner inner;
  std::optional<long> width;  // unset: automatic
};

const Table<Example>& table() {
  static const auto t =
      Table<Example>("Example")
          .add("tolerance", "a tolerance", &Example::tolerance)
          .add("max_seconds", "wall-clock cap; inf = no limit", &Example::max_seconds)
          .add("seed", "seeds things", &Example::seed)
          .add("trace", "keep a trace", &Example::trace)
          .add("name", "a name", &Example::name)
          .add_enum("colour", "red or green", &Example::colour, &colour_name, &parse_colour,
                    std::vector<Colour>{Colour::red, Colour::green})
          .add("k", "nested count", [](Example& o) -> int& { return o.inner.k; })
          .add("inner_radius", "nested radius",
               [](Example& o) -> double& { return o.inner.radius; })
          .add("width", "none: automatic", &Example::width)
          .reported_as("Inner", "inner_");
  return t;
}

TEST(OptionsTable, ReadsDefaultsFromTheStruct) {
  const Example e;
  const io::Json j = table().to_json(e);
  EXPECT_EQ(j["tolerance"].get<double>(), 1e-12);
  EXPECT_EQ(j["max_seconds"], "inf");  // the one rule for non-finite numbers
  EXPECT_EQ(j["k"].get<int>(), 20);
  EXPECT_EQ(j["colour"], "red");
  std::vector<std::string> names;
  for (const auto& f : table().fields()) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"tolerance", "max_seconds", "seed", "trace", "name",
                                             "colour", "k", "inner_radius", "width"}));
  EXPECT_TRUE(j["width"].is_null());  // an unset optional field
}

TEST(OptionsTable, SetsByValueAndByText) {
  Example e;
  table().set(e, "tolerance", std::int64_t{1});  // an integer is accepted for a double
  table().set_text(e, "k", "1e2");               // integral text for an integer
  table().set_text(e, "trace", "yes");
  table().set_text(e, "colour", "green");
  table().set_text(e, "max_seconds", "30");
  EXPECT_EQ(e.tolerance, 1.0);
  EXPECT_EQ(e.inner.k, 100);
  EXPECT_TRUE(e.trace);
  EXPECT_EQ(e.colour, Colour::green);
  EXPECT_EQ(e.max_seconds, 30.0);
  EXPECT_EQ(to_string(table().get(e, "tolerance")), "1");
}

TEST(OptionsTable, JsonRoundTripKeepsInfinity) {
  Example a;
  a.tolerance = 0.1;  // not exactly representable: the round trip must still be exact
  a.seed = 7;
  Example b;
  b.max_seconds = 5;
  table().from_json(b, table().to_json(a));
  EXPECT_EQ(table().to_json(b), table().to_json(a));
  EXPECT_TRUE(std::isinf(b.max_seconds));
}

TEST(OptionsTable, ErrorsNameTheFieldInTheInterfaceSpelling) {
  Example e;
  try {
    table().set_text(e, "max_seconds", "soon");
    FAIL() << "no error";
  } catch (const OptionError& err) {
    EXPECT_EQ(err.field(), "max_seconds");
    EXPECT_EQ(std::string(err.what()), "Example.max_seconds needs a number, cannot parse 'soon'");
    EXPECT_EQ(err.rephrase(Interface::cli), "--max-seconds needs a number, cannot parse 'soon'");
    EXPECT_EQ(err.rephrase(Interface::python), "max_seconds= needs a number, cannot parse 'soon'");
  }
  EXPECT_THROW(table().set(e, "seed", std::int64_t{-1}), OptionError);  // unsigned field
  EXPECT_THROW(table().set(e, "seed", 0.5), OptionError);               // not integral
  EXPECT_THROW(table().set(e, "trace", std::int64_t{1}), OptionError);  // not a bool
  EXPECT_THROW(table().set_text(e, "colour", "blue"), OptionError);     // parse error wrapped
  try {
    table().set(e, "tolerence", 1.0);
    FAIL() << "no error";
  } catch (const OptionError& err) {
    EXPECT_NE(std::string(err.what()).find("valid: tolerance, max_seconds"), std::string::npos)
        << err.what();
  }
  EXPECT_THROW(table().from_json(e, io::Json::parse(R"({"k": "ten"})")), OptionError);
  EXPECT_THROW(table().from_json(e, io::Json::parse("[1]")), OptionError);
}

// No silent narrowing: a value the field's type cannot hold is refused with the value as given,
// and digits are read exactly (through a double, 2^53 + 1 would become 2^53).
TEST(OptionsTable, IntegersOutOfTheFieldsRangeAreRefused) {
  Example e;
  auto problem = [&](auto&& f) {
    try {
      f();
    } catch (const OptionError& err) {
      return err.rephrase(Interface::cli);
    }
    return std::string("no error");
  };
  EXPECT_EQ(problem([&] { table().set_text(e, "k", "1000000000000"); }),
            "--k must be <= 2147483647 (an integer in [-2147483648, 2147483647]), got "
            "1000000000000");
  EXPECT_EQ(problem([&] { table().set(e, "k", std::int64_t{-3000000000}); }),
            "--k must be >= -2147483648 (an integer in [-2147483648, 2147483647]), got "
            "-3000000000");
  EXPECT_EQ(e.inner.k, 20);  // unchanged by the refused values
  EXPECT_EQ(problem([&] { table().set_text(e, "seed", "99999999999999999999"); }),
            "--seed is out of range for a 64-bit integer, got '99999999999999999999'");
  EXPECT_EQ(problem([&] { table().set_text(e, "seed", "1e30"); }),
            "--seed is out of range for a 64-bit integer, got '1e+30'");
  EXPECT_EQ(
      problem([&] { table().from_json(e, io::Json::parse(R"({"seed": 18446744073709551615})")); }),
      "--seed is out of range for a 64-bit integer, got 18446744073709551615");
  table().set_text(e, "seed", "9007199254740993");
  EXPECT_EQ(e.seed, 9007199254740993u);
  table().set_text(e, "k", "-2147483648");  // the ends of the range are accepted
  EXPECT_EQ(e.inner.k, std::numeric_limits<int>::min());
  table().set_text(e, "k", "2e3");  // exponent forms still work when integral
  EXPECT_EQ(e.inner.k, 2000);
}

TEST(OptionsTable, OptionalFieldsAreUnsetByNoneNullAndMonostate) {
  Example e;
  table().set_text(e, "width", "12");
  ASSERT_TRUE(e.width.has_value());
  EXPECT_EQ(*e.width, 12);
  EXPECT_EQ(std::get<std::int64_t>(table().get(e, "width")), 12);
  table().set_text(e, "width", "none");
  EXPECT_FALSE(e.width.has_value());
  EXPECT_EQ(to_string(table().get(e, "width")), "none");
  table().set(e, "width", std::int64_t{3});
  table().from_json(e, io::Json::parse(R"({"width": null})"));
  EXPECT_FALSE(e.width.has_value());
  table().set(e, "width", std::int64_t{3});
  table().set(e, "width", Value());
  EXPECT_FALSE(e.width.has_value());
  EXPECT_THROW(table().set_text(e, "width", "wide"), OptionError);
  EXPECT_THROW(table().set_text(e, "k", "none"), OptionError);  // not optional
}

// validate() of a nested struct names "<Struct>.<member>"; the table maps it to its own row and
// spells it for the interface in use, and leaves messages about other things alone.
TEST(OptionsTable, RephrasesValidateMessagesOfNestedStructs) {
  Example e;
  e.inner.radius = 0;
  try {
    e.inner.validate();
    FAIL() << "no error";
  } catch (const std::invalid_argument& err) {
    EXPECT_EQ(table().rephrase(err, Interface::cli), "--inner-radius must be > 0, got 0");
    EXPECT_EQ(table().rephrase(err, Interface::python), "inner_radius= must be > 0, got 0");
  }
  const std::invalid_argument own("Example.max_seconds must be > 0");
  EXPECT_EQ(table().rephrase(own, Interface::cli), "--max-seconds must be > 0");
  const std::invalid_argument prefixed("lm: Example.tolerance must be >= 0");
  EXPECT_EQ(table().rephrase(prefixed, Interface::python), "lm: tolerance= must be >= 0");
  const std::invalid_argument assigned("Inner.radius = 0 is invalid");
  EXPECT_EQ(table().rephrase(assigned, Interface::python), "inner_radius = 0 is invalid");
  const std::invalid_argument other("Other.k must be > 0");  // not an alias of this table
  EXPECT_EQ(table().rephrase(other, Interface::cli), "Other.k must be > 0");
  const std::invalid_argument longer("Example.tolerance_x is bad");  // whole names only
  EXPECT_EQ(table().rephrase(longer, Interface::cli), "Example.tolerance_x is bad");
}

TEST(OptionsValue, ShortestRoundTripText) {
  EXPECT_EQ(to_string(Value(0.1)), "0.1");
  EXPECT_EQ(to_string(Value(1e-13)), "1e-13");
  EXPECT_EQ(to_string(Value(-std::numeric_limits<double>::infinity())), "-inf");
  EXPECT_EQ(to_string(Value(std::int64_t{200})), "200");
  EXPECT_EQ(cli_flag("lanczos_tolerance"), "--lanczos-tolerance");
}

}  // namespace
}  // namespace locus::options
