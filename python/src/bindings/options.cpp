// Conversions between Python values, option values and library JSON; locus.options_table.
#include "options.hpp"

#include <cmath>
#include <limits>

#include "locus/analysis/options.hpp"
#include "locus/constructions/cooper.hpp"
#include "locus/manifold/walk.hpp"
#include "locus/solvers/solve.hpp"

namespace locus::python {

options::Value option_value(const std::string& name, const py::handle& v) {
  // bool before int: bool is an int in Python.
  if (v.is_none()) return options::Value();
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>();
  // A Python int beyond 64 bits is refused here, naming the keyword (pybind11's cast would
  // raise a RuntimeError without it).
  auto integer = [&](const py::int_& i) -> options::Value {
    int overflow = 0;
    const long long x = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
    if (overflow != 0)
      throw std::invalid_argument(name + "= is out of range for a 64-bit integer, got " +
                                  i.attr("__str__")().cast<std::string>());
    return static_cast<std::int64_t>(x);
  };
  if (py::isinstance<py::int_>(v)) return integer(py::reinterpret_borrow<py::int_>(v));
  if (py::isinstance<py::float_>(v)) return v.cast<double>();
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if (py::hasattr(v, "__index__")) return integer(py::int_(v.attr("__index__")()));
  if (py::hasattr(v, "__float__")) return py::float_(v.attr("__float__")()).cast<double>();
  throw std::invalid_argument(name + "= must be a bool, int, float or str, got " +
                              std::string(py::str(v.get_type())));
}

py::object to_python(const options::Value& v) {
  return std::visit(
      [](const auto& x) -> py::object {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::monostate>)
          return py::none();
        else
          return py::cast(x);
      },
      v);
}

py::object json_to_python(const io::Json& j) {
  if (j.is_object()) {
    py::dict d;
    for (auto it = j.begin(); it != j.end(); ++it) d[py::str(it.key())] = json_to_python(*it);
    return d;
  }
  if (j.is_array()) {
    py::list l;
    for (const auto& e : j) l.append(json_to_python(e));
    return l;
  }
  if (j.is_null()) return py::none();
  if (j.is_boolean()) return py::bool_(j.get<bool>());
  if (j.is_number_integer()) return py::int_(j.get<std::int64_t>());
  if (j.is_number()) return py::float_(j.get<double>());
  const std::string s = j.get<std::string>();
  if (s == "inf" || s == "-inf" || s == "nan") return py::float_(io::number_from_json(j));
  return py::str(s);
}

void bind_options(py::module_& m) {
  m.def(
      "options_table",
      [](const std::string& name) -> py::dict {
        if (name == "analyze") return table_values(analysis::analyze_table(), {});
        if (name == "spectrum") return table_values(analysis::spectrum_table(), {});
        if (name == "walk") return table_values(manifold::walk_table(), {});
        if (name == "projection") return table_values(manifold::projection_table(), {});
        if (name == "line") return table_values(manifold::line_loss_table(), {});
        if (name == "dimension") return table_values(manifold::dimension_table(), {});
        if (name == "cooper" || name == "construct")
          return table_values(constructions::cooper_table(), {});
        py::dict d;
        for (const auto& f : solvers::option_fields({}, solvers::parse_method(name)))
          d[f.name.c_str()] = to_python(f.value);
        return d;
      },
      py::arg("name"),
      "The keyword options of analyze, hessian_spectrum ('spectrum'), walk, construct_cooper "
      "('cooper'), project_to_manifold ('projection'), loss_along_line ('line'), "
      "manifold_dimension_by_projection ('dimension') or a solver method "
      "(gd|sgd|adam|lbfgs|lm|newton|critical|flow) with their defaults: the same table as the "
      "CLI's flags and its --json context.");
}

}  // namespace locus::python
