#pragma once
// Python keyword arguments through an options table (core/options.hpp), and library JSON
// results as Python objects: the bindings serialise nothing field by field.
//
//   an::AnalyzeOptions o;
//   apply_kwargs(an::analyze_table(), o, kwargs);   // spectrum="lanczos", k=4, ...
//   py::dict defaults = table_values(an::analyze_table(), an::AnalyzeOptions{});

#include <stdexcept>
#include <string>

#include "bindings.hpp"
#include "locus/core/options.hpp"
#include "locus/io/json.hpp"

namespace locus::python {

// A Python value as an option value: None (unset), bool, int (also numpy integers), float, str.
// Throws std::invalid_argument naming the keyword for any other type.
options::Value option_value(const std::string& name, const py::handle& v);
// The option value as a Python object (unset -> None, inf -> float('inf')).
py::object to_python(const options::Value& v);
// A library JSON document as Python objects; the strings "inf", "-inf" and "nan" that
// io::json_number writes for non-finite numbers come back as floats.
py::object json_to_python(const io::Json& j);

// Sets options from kwargs, one table row per keyword. An unknown keyword or a bad value raises
// ValueError naming the keyword ("k= needs an integer, got 'many'").
template <class O>
void apply_kwargs(const options::Table<O>& table, O& options, const py::dict& kwargs) {
  for (auto item : kwargs) {
    const std::string name = py::str(item.first);
    try {
      table.set(options, name, option_value(name, item.second));
    } catch (const std::invalid_argument& e) {
      throw py::value_error(table.rephrase(e, options::Interface::python));
    }
  }
}

// Runs f() (typically options.validate(), or a library call whose size check names an options
// field) and returns its value; raises ValueError naming the keyword.
template <class O, class F>
auto validate_for_python(const options::Table<O>& table, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    throw py::value_error(table.rephrase(e, options::Interface::python));
  }
}

// {name: value} of options in table order (Python values: None, bool, int, float, str).
template <class O>
py::dict table_values(const options::Table<O>& table, const O& options) {
  py::dict d;
  for (const auto& f : table.fields()) d[f.name.c_str()] = to_python(f.get(options));
  return d;
}

}  // namespace locus::python
