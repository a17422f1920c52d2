// The options mechanism: one table gives typed get/set, text parsing, JSON round trips and
// messages that name the field in the spelling of the interface in use.

#include "locus/core/options.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
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
};
struct Example {
  double tolerance = 1e-12;
  double max_seconds = std::numeric_limits<double>::infinity();
  std::uint64_t seed = 0;
  bool trace = false;
  std::string name = "x";
  Colour colour = Colour::red;
  Inner inner;
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
          .add("k", "nested count", [](Example& o) -> int& { return o.inner.k; });
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
                                             "colour", "k"}));
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

TEST(OptionsValue, ShortestRoundTripText) {
  EXPECT_EQ(to_string(Value(0.1)), "0.1");
  EXPECT_EQ(to_string(Value(1e-13)), "1e-13");
  EXPECT_EQ(to_string(Value(-std::numeric_limits<double>::infinity())), "-inf");
  EXPECT_EQ(to_string(Value(std::int64_t{200})), "200");
  EXPECT_EQ(cli_flag("lanczos_tolerance"), "--lanczos-tolerance");
}

}  // namespace
}  // namespace locus::options
