// Bindings of the paths layer in locus._core._paths (the public face is python/locus/paths.py):
// the Path type, loss profiles of an MLP loss or of any Python callable, barriers, curves, bands,
// alignment, loss slices and profile slices.
#include <cmath>
#include <stdexcept>
#include <string>

#include "bindings.hpp"
#include "locus/core/objective.hpp"
#include "locus/paths/align.hpp"
#include "locus/paths/curve.hpp"
#include "locus/paths/neb.hpp"
#include "locus/paths/path.hpp"
#include "locus/paths/slices.hpp"
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

// A Python callable fun(x) -> (value, gradient) on R^n as a DifferentiableFunction. Runs with the
// GIL held (neb_function never releases it). A value that is not a real number, a gradient of the
// wrong shape and non-finite numbers are caller errors: ValueError naming fun.
struct PyFunction {
  py::function fun;
  Index n = 0;
  Index n_params() const { return n; }
  LossGradient loss_gradient(const Eigen::VectorXd& x) const {
    const py::object out = fun(x);
    LossGradient lg;
    const bool pair =
        (py::isinstance<py::tuple>(out) || py::isinstance<py::list>(out)) && py::len(out) == 2;
    try {
      if (!pair) throw py::cast_error();
      const auto seq = out.cast<py::sequence>();
      lg.loss = seq[0].cast<double>();
      lg.gradient = as_vector(seq[1], "fun's gradient");
    } catch (const py::cast_error&) {
      throw py::value_error("fun must return (value, gradient), got " +
                            std::string(py::str(py::repr(out))));
    }
    if (lg.gradient.size() != n)
      throw py::value_error("fun's gradient has " + std::to_string(lg.gradient.size()) +
                            " entries, expected " + std::to_string(n));
    if (!std::isfinite(lg.loss) || !lg.gradient.allFinite())
      throw py::value_error("fun returned a non-finite value or gradient at x = " +
                            std::string(py::str(py::repr(py::cast(x)))));
    return lg;
  }
  double loss(const Eigen::VectorXd& x) const { return loss_gradient(x).loss; }
};

lp::NebOptions neb_options(const py::kwargs& kwargs) {
  lp::NebOptions o;
  apply_kwargs(lp::neb_table(), o, kwargs);
  validate_for_python(lp::neb_table(), [&] { o.validate(); });
  return o;
}

Objective make_objective(const Mlp& model, const py::object& x, const py::object& y,
                         const std::string& loss, const std::string& reduction) {
  return Objective(model, as_dataset(x, y),
                   {.kind = parse_loss_kind(loss), .reduction = parse_reduction(reduction)});
}

// The 1-D or 2-D slice through params (and params_end when given), options from kwargs,
// reported to `reporter`.
lp::LossSlice slice(const Objective& objective, const py::object& a, const py::object& b,
                    const lp::SliceOptions& o, PythonProgress& reporter) {
  const Eigen::VectorXd start = as_vector(a, "params");
  objective.check_parameters(start, "params");
  if (b.is_none())
    return validate_for_python(lp::slice_table(), [&] {
      return reporter.run(
          [&](const ProgressCallback& cb) { return lp::loss_slice(objective, start, o, cb); });
    });
  const Eigen::VectorXd end = as_vector(b, "params_end");
  objective.check_parameters(end, "params_end");
  return validate_for_python(lp::slice_table(), [&] {
    return reporter.run([&](const ProgressCallback& cb) {
      return lp::loss_slice_between(objective, start, end, o, cb);
    });
  });
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
         const std::string& loss, const std::string& reduction, bool progress,
         const py::object& callback, const py::kwargs& kwargs) {
        const lp::ProfileOptions o = profile_options(kwargs);
        const Objective objective = make_objective(model, x, y, loss, reduction);
        PythonProgress reporter("paths.profile", progress, callback);
        return validate_for_python(lp::profile_table(), [&] {
          return reporter.run(
              [&](const ProgressCallback& cb) { return lp::loss_profile(objective, path, o, cb); });
        });
      },
      py::arg("model"), py::arg("path"), py::arg("x"), py::arg("y"),
      py::arg("loss") = std::string(to_string(LossSpec{}.kind)),
      py::arg("reduction") = std::string(to_string(LossSpec{}.reduction)),
      py::arg("progress") = false, py::arg("callback") = py::none());

  m.def(
      "profile_function",
      [](const py::function& fun, const lp::Path& path, bool progress, const py::object& callback,
         const py::kwargs& kwargs) {
        const lp::ProfileOptions o = profile_options(kwargs);
        PythonProgress reporter("paths.profile", progress, callback);
        // The callable runs with the GIL held (this call never releases it). A value that is
        // not a real number is a caller error; NaN/inf are a numerical outcome (non_finite).
        const auto value = [&](const Eigen::VectorXd& theta) {
          py::object v = fun(theta);
          try {
            return v.cast<double>();
          } catch (const py::cast_error&) {
            throw py::value_error("fun must return a real number, got " +
                                  std::string(py::str(py::repr(v))));
          }
        };
        lp::LossProfile p = validate_for_python(lp::profile_table(), [&] {
          return lp::loss_profile(value, path, o, reporter.callback());
        });
        reporter.rethrow();
        return p;
      },
      py::arg("fun"), py::arg("path"), py::arg("progress") = false,
      py::arg("callback") = py::none());

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
         const py::object& y, const std::string& loss, const std::string& reduction, bool progress,
         const py::object& callback, const py::kwargs& kwargs) {
        lp::CurveFitOptions o;
        apply_kwargs(lp::curve_fit_table(), o, kwargs);
        validate_for_python(lp::curve_fit_table(), [&] { o.validate(); });
        const Objective objective = make_objective(model, x, y, loss, reduction);
        const Eigen::VectorXd start = as_vector(a, "params_a"), end = as_vector(b, "params_b");
        PythonProgress reporter("paths.fit_curve", progress, callback);
        return validate_for_python(lp::curve_fit_table(), [&] {
          return reporter.run([&](const ProgressCallback& cb) {
            return lp::fit_curve(objective, start, end, o, cb);
          });
        });
      },
      py::arg("model"), py::arg("params_a"), py::arg("params_b"), py::arg("x"), py::arg("y"),
      py::arg("loss") = std::string(to_string(LossSpec{}.kind)),
      py::arg("reduction") = std::string(to_string(LossSpec{}.reduction)),
      py::arg("progress") = false, py::arg("callback") = py::none());

  m.def("fit_defaults", [] { return table_values(lp::curve_fit_table(), {}); });
  m.def("profile_defaults", [] { return table_values(lp::profile_table(), {}); });

  py::class_<lp::NebSaddle>(m, "NebSaddle", "The climbing image refined to a critical point.")
      .def_readonly("refined", &lp::NebSaddle::refined)
      .def_property_readonly(
          "status",
          [](const lp::NebSaddle& s) { return std::string(solvers::to_string(s.status)); })
      .def_readonly("message", &lp::NebSaddle::message)
      .def_property_readonly("converged", &lp::NebSaddle::converged)
      .def_readonly("params", &lp::NebSaddle::theta)
      .def_readonly("loss", &lp::NebSaddle::loss)
      .def_readonly("gradient_max_norm", &lp::NebSaddle::gradient_max_norm)
      .def_readonly("iterations", &lp::NebSaddle::iterations)
      .def_readonly("distance_from_image", &lp::NebSaddle::distance_from_image)
      .def_property_readonly(
          "index",
          [](const lp::NebSaddle& s) -> py::object {
            return s.inertia ? py::object(py::int_(s.inertia->negative)) : py::object(py::none());
          },
          "the Hessian's number of negative eigenvalues (None above the inertia limit)")
      .def_property_readonly("inertia",
                             [](const lp::NebSaddle& s) -> py::object {
                               return s.inertia ? json_to_python(solvers::to_json(*s.inertia))
                                                : py::object(py::none());
                             })
      .def("__repr__", [](const lp::NebSaddle& s) {
        return "NebSaddle(" + std::string(solvers::to_string(s.status)) +
               ", loss=" + std::to_string(s.loss) + ", index=" +
               (s.inertia ? std::to_string(s.inertia->negative) : std::string("None")) + ")";
      });

  py::class_<lp::NebResult>(m, "NebResult", "A relaxed nudged elastic band and its saddle.")
      .def_property_readonly(
          "status", [](const lp::NebResult& r) { return std::string(lp::to_string(r.status)); })
      .def_readonly("message", &lp::NebResult::message)
      .def_property_readonly("converged", &lp::NebResult::converged)
      .def_readonly("path", &lp::NebResult::path)
      .def_property_readonly(
          "vertices", [](const lp::NebResult& r) { return r.path.control_points(); },
          "rows: start, images, end")
      .def_readonly("values", &lp::NebResult::values, "the loss at each vertex")
      .def_readonly("profile", &lp::NebResult::profile)
      .def_readonly("line_profile", &lp::NebResult::line_profile)
      .def_property_readonly(
          "barrier", [](const lp::NebResult& r) { return json_to_python(lp::to_json(r.barriers)); },
          "{'above_larger_end', 'above_interpolation', 'above_mean'}: top = the saddle's loss")
      .def_readonly("iterations", &lp::NebResult::iterations)
      .def_readonly("force_max_norm", &lp::NebResult::force_max_norm)
      .def_readonly("climbing_image", &lp::NebResult::climbing_image)
      .def_readonly("images_inserted", &lp::NebResult::images_inserted)
      .def_readonly("saddle", &lp::NebResult::saddle)
      .def(
          "to_json", [](const lp::NebResult& r) { return json_to_python(lp::to_json(r)); },
          "The library's JSON document (the CLI's --json body) as a dict.")
      .def("__repr__", [](const lp::NebResult& r) { return lp::summary(r); });

  m.def(
      "neb_model",
      [](const Mlp& model, const py::object& a, const py::object& b, const py::object& x,
         const py::object& y, const std::string& loss, const std::string& reduction, bool progress,
         const py::object& callback, const py::kwargs& kwargs) {
        const lp::NebOptions o = neb_options(kwargs);
        const Objective objective = make_objective(model, x, y, loss, reduction);
        const Eigen::VectorXd start = as_vector(a, "params_a"), end = as_vector(b, "params_b");
        PythonProgress reporter("paths.neb", progress, callback);
        return validate_for_python(lp::neb_table(), [&] {
          return reporter.run(
              [&](const ProgressCallback& cb) { return lp::neb(objective, start, end, o, cb); });
        });
      },
      py::arg("model"), py::arg("params_a"), py::arg("params_b"), py::arg("x"), py::arg("y"),
      py::arg("loss") = std::string(to_string(LossSpec{}.kind)),
      py::arg("reduction") = std::string(to_string(LossSpec{}.reduction)),
      py::arg("progress") = false, py::arg("callback") = py::none());

  m.def(
      "neb_function",
      [](const py::function& fun, const py::object& a, const py::object& b, bool progress,
         const py::object& callback, const py::kwargs& kwargs) {
        const lp::NebOptions o = neb_options(kwargs);
        const Eigen::VectorXd start = as_vector(a, "start"), end = as_vector(b, "end");
        const PyFunction f{fun, start.size()};
        PythonProgress reporter("paths.neb", progress, callback);
        lp::NebResult r = validate_for_python(lp::neb_table(), [&] {  // GIL held: f is Python
          return lp::neb(f, start, end, o, reporter.callback());
        });
        reporter.rethrow();
        return r;
      },
      py::arg("fun"), py::arg("start"), py::arg("end"), py::arg("progress") = false,
      py::arg("callback") = py::none());

  py::class_<lp::Alignment>(m, "Alignment", "Weight matching of B to A.")
      .def_readonly("converged", &lp::Alignment::converged)
      .def_readonly("message", &lp::Alignment::message)
      .def_readonly("permutations", &lp::Alignment::permutations,
                    "per hidden layer: new neuron i = B's neuron permutations[K-1][i]")
      .def_readonly("params", &lp::Alignment::theta, "B aligned (the same function as B)")
      .def_readonly("objective_before", &lp::Alignment::objective_before)
      .def_readonly("objective_after", &lp::Alignment::objective_after)
      .def_readonly("distance_before", &lp::Alignment::distance_before)
      .def_readonly("distance_after", &lp::Alignment::distance_after)
      .def_readonly("sweeps", &lp::Alignment::sweeps)
      .def_readonly("best_restart", &lp::Alignment::best_restart)
      .def_readonly("line_before", &lp::Alignment::line_before)
      .def_readonly("line_after", &lp::Alignment::line_after)
      .def(
          "to_json", [](const lp::Alignment& al) { return json_to_python(lp::to_json(al)); },
          "The library's JSON document (the CLI's --json body) as a dict.")
      .def("__repr__", [](const lp::Alignment& al) { return lp::summary(al); });

  m.def(
      "align",
      [](const Mlp& model, const py::object& a, const py::object& b, const py::object& x,
         const py::object& y, const std::string& loss, const std::string& reduction, bool progress,
         const py::object& callback, const py::kwargs& kwargs) {
        lp::AlignOptions o;
        apply_kwargs(lp::align_table(), o, kwargs);
        validate_for_python(lp::align_table(), [&] { o.validate(); });
        const Eigen::VectorXd ta = as_vector(a, "params_a"), tb = as_vector(b, "params_b");
        model.check_parameters(ta, "params_a");
        model.check_parameters(tb, "params_b");
        if (x.is_none() != y.is_none()) throw py::value_error("x and y: give both or neither");
        PythonProgress reporter("paths.align", progress, callback);
        if (x.is_none())
          return reporter.run(
              [&](const ProgressCallback& cb) { return lp::weight_match(model, ta, tb, o, cb); });
        const Objective objective = make_objective(model, x, y, loss, reduction);
        return reporter.run([&](const ProgressCallback& cb) {
          return lp::weight_match(model, ta, tb, objective, o, cb);
        });
      },
      py::arg("model"), py::arg("params_a"), py::arg("params_b"), py::arg("x") = py::none(),
      py::arg("y") = py::none(), py::arg("loss") = std::string(to_string(LossSpec{}.kind)),
      py::arg("reduction") = std::string(to_string(LossSpec{}.reduction)),
      py::arg("progress") = false, py::arg("callback") = py::none());

  m.def(
      "solve_assignment",
      [](const py::object& score) { return lp::solve_assignment(as_matrix(score, "score")); },
      py::arg("score"));
  py::class_<lp::LossSlice>(m, "LossSlice",
                            "The loss on a line or square of parameter space through a point.")
      .def_readonly("alpha", &lp::LossSlice::alpha)
      .def_readonly("beta", &lp::LossSlice::beta, "empty for a 1-D slice")
      .def_readonly("d1", &lp::LossSlice::d1)
      .def_readonly("d2", &lp::LossSlice::d2, "empty for a 1-D slice")
      .def_readonly("loss", &lp::LossSlice::loss,
                    "loss[i, j] = L(params + alpha[i] d1 + beta[j] d2) (one column in 1-D)")
      .def(
          "to_json", [](const lp::LossSlice& sl) { return json_to_python(lp::to_json(sl)); },
          "The library's JSON document of the slice as a dict.")
      .def("__repr__", [](const lp::LossSlice& sl) { return lp::summary(sl); });

  py::class_<lp::ProfileSlice>(m, "ProfileSlice",
                               "min over z orthogonal to d of L(params + t d + z), beside "
                               "the plain slice L(params + t d).")
      .def_readonly("t", &lp::ProfileSlice::t)
      .def_readonly("slice", &lp::ProfileSlice::slice)
      .def_readonly("profile", &lp::ProfileSlice::profile)
      .def_readonly("gradient_max_norm", &lp::ProfileSlice::gradient_max_norm)
      .def_readonly("iterations", &lp::ProfileSlice::iterations)
      .def_readonly("solver_status", &lp::ProfileSlice::solver_status)
      .def_readonly("direction", &lp::ProfileSlice::direction)
      .def_readonly("converged", &lp::ProfileSlice::converged)
      .def_readonly("message", &lp::ProfileSlice::message)
      .def(
          "to_json", [](const lp::ProfileSlice& p) { return json_to_python(lp::to_json(p)); },
          "The library's JSON document of the profile slice as a dict.")
      .def("__repr__", [](const lp::ProfileSlice& p) { return lp::summary(p); });

  m.def(
      "slice_model",
      [](const Mlp& model, const py::object& a, const py::object& x, const py::object& y,
         const py::object& b, const std::string& loss, const std::string& reduction, bool progress,
         const py::object& callback, const py::kwargs& kwargs) {
        lp::SliceOptions o;
        apply_kwargs(lp::slice_table(), o, kwargs);
        validate_for_python(lp::slice_table(), [&] { o.validate(); });
        PythonProgress reporter("paths.slice", progress, callback);
        return slice(make_objective(model, x, y, loss, reduction), a, b, o, reporter);
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      py::arg("params_end") = py::none(), py::arg("loss") = std::string(to_string(LossSpec{}.kind)),
      py::arg("reduction") = std::string(to_string(LossSpec{}.reduction)),
      py::arg("progress") = false, py::arg("callback") = py::none());

  m.def(
      "profile_slice_model",
      [](const Mlp& model, const py::object& a, const py::object& x, const py::object& y,
         const py::object& b, const std::string& loss, const std::string& reduction, bool progress,
         const py::object& callback, const py::kwargs& kwargs) {
        // Keywords of the profile's table go there, the others to the slice's (dims is 1).
        py::dict slice_kwargs, profile_kwargs;
        for (auto item : kwargs) {
          bool profile = false;
          for (const auto& f : lp::profile_slice_table().fields())
            profile = profile || f.name == std::string(py::str(item.first));
          (profile ? profile_kwargs : slice_kwargs)[item.first] = item.second;
        }
        lp::SliceOptions so;
        apply_kwargs(lp::slice_table(), so, slice_kwargs);
        if (so.dims != 1) throw py::value_error("dims: a profile slice is along one line (1)");
        validate_for_python(lp::slice_table(), [&] { so.validate(); });
        lp::ProfileSliceOptions po;
        apply_kwargs(lp::profile_slice_table(), po, profile_kwargs);
        validate_for_python(lp::profile_slice_table(), [&] { po.validate(); });
        const Objective objective = make_objective(model, x, y, loss, reduction);
        PythonProgress reporter("paths.profile_slice", progress, callback);
        const lp::LossSlice s = slice(objective, a, b, so, reporter);
        const Eigen::VectorXd start = as_vector(a, "params");
        return validate_for_python(lp::profile_slice_table(), [&] {
          return reporter.run([&](const ProgressCallback& cb) {
            return lp::profile_slice(objective, start, s.d1, s.alpha, po, cb);
          });
        });
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      py::arg("params_end") = py::none(), py::arg("loss") = std::string(to_string(LossSpec{}.kind)),
      py::arg("reduction") = std::string(to_string(LossSpec{}.reduction)),
      py::arg("progress") = false, py::arg("callback") = py::none());

  m.def("slice_defaults", [] { return table_values(lp::slice_table(), {}); });
  m.def("profile_slice_defaults", [] { return table_values(lp::profile_slice_table(), {}); });
  m.def("neb_defaults", [] { return table_values(lp::neb_table(), {}); });
  m.def("align_defaults", [] { return table_values(lp::align_table(), {}); });
}

}  // namespace locus::python
