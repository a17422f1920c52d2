// Bindings of the paths layer in locus._core._paths (the public face is python/locus/paths.py):
// the Path type, loss profiles of an MLP loss or of any Python callable, barriers.
#include <cmath>
#include <stdexcept>
#include <string>

#include "bindings.hpp"
#include "locus/core/objective.hpp"
#include "locus/paths/curve.hpp"
#include "locus/paths/path.hpp"
#include "options.hpp"

namespace locus::python {

namespace {

namespace lp = locus::paths;

lp::ProfileOptions profile_options(const py::kwargs& kwargs) {
  lp::ProfileOptions o;
  apply_kwargs(lp::profile_table(), o, kwargs);
  validate_for_python(lp::profile_table(), [&] { o.validate(); });
  return o;
}

// The library's exceptions for caller errors become ValueError through the module's translator;
// a std::invalid_argument from a path constructor is named by the argument here.
template <class F>
auto named(const char* what, F&& f) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    throw py::value_error(std::string(what) + ": " + e.what());
  }
}

}  // namespace

void bind_paths(py::module_& root) {
  py::module_ m = root.def_submodule("_paths", "locus.paths' compiled half");

  py::class_<lp::Path>(m, "Path",
                       "A path t -> gamma(t) = sum_j w_j(t) P_j in R^n, t in [0, 1], through its "
                       "control points P_j (rows of control_points: start, vertices or bends, "
                       "end). Polylines and polychains are uniform per segment.")
      .def_static(
          "line",
          [](const py::object& a, const py::object& b) {
            return named(
                "end", [&] { return lp::Path::line(as_vector(a, "start"), as_vector(b, "end")); });
          },
          py::arg("start"), py::arg("end"), "The straight line (1 - t) start + t end.")
      .def_static(
          "polyline",
          [](const py::object& v) {
            return named("vertices", [&] { return lp::Path::polyline(as_matrix(v, "vertices")); });
          },
          py::arg("vertices"), "The polyline through the rows of vertices (m >= 2 rows).")
      .def_static(
          "bezier",
          [](const py::object& a, const py::object& bend, const py::object& b) {
            return named("bend", [&] {
              return lp::Path::bezier(as_vector(a, "start"), as_vector(bend, "bend"),
                                      as_vector(b, "end"));
            });
          },
          py::arg("start"), py::arg("bend"), py::arg("end"),
          "The quadratic Bezier curve (1-t)^2 start + 2t(1-t) bend + t^2 end.")
      .def_static(
          "polychain",
          [](const py::object& a, const py::object& bends, const py::object& b) {
            Eigen::MatrixXd m = as_matrix(bends, "bends");
            const Eigen::VectorXd start = as_vector(a, "start");
            // as_matrix makes a 1-D array a column: one bend.
            if (m.cols() == 1 && m.rows() == start.size() && start.size() > 1) m.transposeInPlace();
            return named("bends",
                         [&] { return lp::Path::polychain(start, m, as_vector(b, "end")); });
          },
          py::arg("start"), py::arg("bends"), py::arg("end"),
          "The polychain start -> bends[0] -> ... -> end (bends: one per row).")
      .def_property_readonly("kind",
                             [](const lp::Path& p) { return std::string(lp::to_string(p.kind())); })
      .def_property_readonly("dimension", &lp::Path::dimension)
      .def_property_readonly("control_points", &lp::Path::control_points,
                             "m x n: start, vertices or bends, end")
      .def_property_readonly("breakpoints", &lp::Path::breakpoints,
                             "the t where the path may have a kink, ends included")
      .def_property_readonly("control_polygon_length", &lp::Path::control_polygon_length)
      .def(
          "at", [](const lp::Path& p, double t) { return named("t", [&] { return p.at(t); }); },
          py::arg("t"), "gamma(t), 0 <= t <= 1.")
      .def(
          "__call__",
          [](const lp::Path& p, double t) { return named("t", [&] { return p.at(t); }); },
          py::arg("t"))
      .def(
          "weights",
          [](const lp::Path& p, double t) { return named("t", [&] { return p.weights(t); }); },
          py::arg("t"), "w_j(t) with gamma(t) = sum_j w_j(t) control_points[j].")
      .def("__repr__", [](const lp::Path& p) {
        return "Path(" + std::string(lp::to_string(p.kind())) + ", " +
               std::to_string(p.control_points().rows()) + " control points in R^" +
               std::to_string(p.dimension()) + ")";
      });

  py::class_<lp::LossProfile>(m, "LossProfile",
                              "The loss along a path, refined around its maximum.")
      .def_property_readonly(
          "status", [](const lp::LossProfile& p) { return std::string(lp::to_string(p.status)); })
      .def_readonly("message", &lp::LossProfile::message)
      .def_property_readonly("converged", &lp::LossProfile::converged)
      .def_readonly("t", &lp::LossProfile::t)
      .def_readonly("loss", &lp::LossProfile::loss)
      .def_readonly("t_max", &lp::LossProfile::t_max)
      .def_readonly("loss_max", &lp::LossProfile::loss_max)
      .def_readonly("loss_max_uncertainty", &lp::LossProfile::loss_max_uncertainty)
      .def_readonly("t_bracket", &lp::LossProfile::t_bracket)
      .def_readonly("loss_start", &lp::LossProfile::loss_start)
      .def_readonly("loss_end", &lp::LossProfile::loss_end)
      .def_readonly("evaluations", &lp::LossProfile::evaluations)
      .def_property_readonly(
          "barriers",
          [](const lp::LossProfile& p) { return json_to_python(lp::to_json(p.barriers)); },
          "{'above_larger_end', 'above_interpolation', 'above_mean'}")
      .def(
          "to_json", [](const lp::LossProfile& p) { return json_to_python(lp::to_json(p)); },
          "The library's JSON document of the profile (the CLI's --json body) as a dict.")
      .def("__repr__", [](const lp::LossProfile& p) { return lp::summary(p); });

  m.def(
      "profile_model",
      [](const Mlp& model, const lp::Path& path, const py::object& x, const py::object& y,
         const std::string& loss, const std::string& reduction, const py::kwargs& kwargs) {
        const lp::ProfileOptions o = profile_options(kwargs);
        const Objective objective(
            model, as_dataset(x, y),
            {.kind = parse_loss_kind(loss), .reduction = parse_reduction(reduction)});
        py::gil_scoped_release release;
        return lp::loss_profile(objective, path, o);
      },
      py::arg("model"), py::arg("path"), py::arg("x"), py::arg("y"),
      py::arg("loss") = std::string(to_string(LossSpec{}.kind)),
      py::arg("reduction") = std::string(to_string(LossSpec{}.reduction)));

  m.def(
      "profile_function",
      [](const py::function& fun, const lp::Path& path, const py::kwargs& kwargs) {
        const lp::ProfileOptions o = profile_options(kwargs);
        // The callable runs with the GIL held (this call never releases it). A value that is
        // not a real number is a caller error; NaN/inf are a numerical outcome (non_finite).
        return lp::loss_profile(
            [&](const Eigen::VectorXd& theta) {
              py::object v = fun(theta);
              try {
                return v.cast<double>();
              } catch (const py::cast_error&) {
                throw py::value_error("fun must return a real number, got " +
                                      std::string(py::str(py::repr(v))));
              }
            },
            path, o);
      },
      py::arg("fun"), py::arg("path"));

  m.def(
      "barriers",
      [](double l0, double l1, double t, double lmax) {
        return json_to_python(lp::to_json(lp::barriers(l0, l1, t, lmax)));
      },
      py::arg("loss_start"), py::arg("loss_end"), py::arg("t_max"), py::arg("loss_max"));

  py::class_<lp::CurveFit>(m, "CurveFit", "A curve fitted to minimize the integrated loss.")
      .def_property_readonly(
          "status", [](const lp::CurveFit& f) { return std::string(lp::to_string(f.status)); })
      .def_readonly("message", &lp::CurveFit::message)
      .def_property_readonly("converged", &lp::CurveFit::converged)
      .def_readonly("curve", &lp::CurveFit::curve)
      .def_readonly("profile", &lp::CurveFit::profile)
      .def_readonly("line_profile", &lp::CurveFit::line_profile)
      .def_readonly("integrated_loss_initial", &lp::CurveFit::integrated_loss_initial)
      .def_readonly("integrated_loss_final", &lp::CurveFit::integrated_loss_final)
      .def_readonly("gradient_max_norm", &lp::CurveFit::gradient_max_norm)
      .def_readonly("rounds", &lp::CurveFit::rounds)
      .def_readonly("iterations", &lp::CurveFit::iterations)
      .def_readonly("loss_max_history", &lp::CurveFit::loss_max_history)
      .def(
          "to_json", [](const lp::CurveFit& f) { return json_to_python(lp::to_json(f)); },
          "The library's JSON document of the fit (the CLI's --json body) as a dict.")
      .def("__repr__", [](const lp::CurveFit& f) { return lp::summary(f); });

  m.def(
      "fit_model",
      [](const Mlp& model, const py::object& a, const py::object& b, const py::object& x,
         const py::object& y, const std::string& loss, const std::string& reduction,
         const py::kwargs& kwargs) {
        lp::CurveFitOptions o;
        apply_kwargs(lp::curve_fit_table(), o, kwargs);
        validate_for_python(lp::curve_fit_table(), [&] { o.validate(); });
        const Objective objective(
            model, as_dataset(x, y),
            {.kind = parse_loss_kind(loss), .reduction = parse_reduction(reduction)});
        const Eigen::VectorXd start = as_vector(a, "params_a"), end = as_vector(b, "params_b");
        py::gil_scoped_release release;
        return lp::fit_curve(objective, start, end, o);
      },
      py::arg("model"), py::arg("params_a"), py::arg("params_b"), py::arg("x"), py::arg("y"),
      py::arg("loss") = std::string(to_string(LossSpec{}.kind)),
      py::arg("reduction") = std::string(to_string(LossSpec{}.reduction)));

  m.def("fit_defaults", [] { return table_values(lp::curve_fit_table(), {}); });
  m.def("profile_defaults", [] { return table_values(lp::profile_table(), {}); });
}

}  // namespace locus::python
