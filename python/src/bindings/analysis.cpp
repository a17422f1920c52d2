// Bindings of the analysis layer: locus.analyze and the spectra.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "locus/analysis/geometry.hpp"
#include "locus/analysis/options.hpp"
#include "options.hpp"

namespace locus::python {

namespace an = locus::analysis;

void bind_analysis(py::module_& m) {
  m.def(
      "analyze",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         const std::string& loss, bool progress, const py::object& callback,
         const py::kwargs& kwargs) {
        const Dataset data = as_dataset(x, y);
        const Eigen::VectorXd theta = as_vector(params, "params");
        const Objective obj(model, data, {.kind = parse_loss_kind(loss)});
        an::AnalyzeOptions o;
        apply_kwargs(an::analyze_table(), o, kwargs);
        validate_for_python(an::analyze_table(), [&] { o.validate(); });
        PythonProgress reporter("analyze", progress, callback);
        an::PointAnalysis a;
        {
          py::gil_scoped_release release;
          a = an::analyze_point(obj, theta, o, reporter.callback());
        }
        reporter.rethrow();
        // The library's JSON document as a dict, plus the full arrays as numpy.
        py::dict out = json_to_python(an::to_json(a));
        out["eigenvalues"] = a.hessian.eigenvalues;
        out["singular_values"] = a.jacobian.singular_values;
        return out;
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      py::arg("loss") = std::string(to_string(LossSpec{}.kind)), py::arg("progress") = false,
      py::arg("callback") = py::none(),
      "Certified geometry at params: rank J (tolerance, gap), fibre_dimension = n - rank J (the "
      "local dimension of the fibre of the residual map; manifold_dimension, the same number, "
      "only at zero loss, where that fibre is the manifold of global minima, else None), "
      "Hessian inertia (tolerance, gap), classification. progress=True writes a progress line "
      "to sys.stderr; callback(event) gets a dict {stage, done, total, ...} per step. Keyword "
      "options are those of `locus analyze` "
      "(options_table('analyze') lists them with their defaults: spectrum, k, lanczos_end, "
      "lanczos_tolerance, seed, gradient_tolerance, loss_tolerance, max_dense_bytes, ...). "
      "Returns a dict (the CLI's JSON) with numpy 'eigenvalues' and 'singular_values'.");
  m.def(
      "hessian_spectrum",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         bool progress, const py::object& callback, py::kwargs kwargs) {
        const Objective obj(model, as_dataset(x, y));
        const Eigen::VectorXd theta = as_vector(params, "params");
        // Earlier short names, kept as aliases of the table's rows.
        const std::pair<const char*, const char*> aliases[] = {{"end", "lanczos_end"},
                                                               {"tolerance", "lanczos_tolerance"},
                                                               {"probes", "slq_probes"},
                                                               {"steps", "slq_steps"}};
        for (const auto& [old_name, name] : aliases)
          if (kwargs.contains(old_name)) kwargs[name] = kwargs.attr("pop")(old_name);
        an::SpectrumOptions o;
        apply_kwargs(an::spectrum_table(), o, kwargs);
        validate_for_python(an::spectrum_table(), [&] { o.validate(); });
        PythonProgress reporter("hessian_spectrum", progress, callback);
        an::Spectrum s;
        {
          py::gil_scoped_release release;
          s = an::hessian_spectrum(obj, theta, o, reporter.callback());
        }
        reporter.rethrow();
        // The library's JSON, with the arrays as NumPy arrays.
        py::dict out = json_to_python(an::to_json(s));
        out["eigenvalues"] = s.eigenvalues;
        out["residuals"] = s.residuals;
        out["slq_nodes"] = s.slq_nodes;
        out["slq_weights"] = s.slq_weights;
        out["trace_estimate"] = s.trace_estimate;
        out["trace_error"] = s.trace_error;
        return out;
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"), py::arg("progress") = false,
      py::arg("callback") = py::none(),
      "Hessian spectrum at params (progress=True / callback(event): as analyze). Keyword options "
      "(options_table('spectrum')): method dense "
      "(every eigenvalue) | lanczos (k eigenvalues at lanczos_end both|largest|smallest, "
      "relative Ritz tolerance lanczos_tolerance) | slq (density from slq_probes x slq_steps), "
      "seed, ... (end, tolerance, probes, steps: the same by their earlier names). Returns a "
      "dict with numpy 'eigenvalues' (ascending), 'residuals', the inertia counts with their "
      "tolerance and gap, and the SLQ nodes, weights and trace estimate.");
  m.def(
      "jacobian_rank",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y) {
        const Objective obj(model, as_dataset(x, y));
        const an::JacobianAnalysis j = an::analyze_jacobian(obj, as_vector(params, "params"));
        py::dict out;
        out["rank"] = j.rank;
        out["tolerance"] = j.tolerance;
        out["gap"] = j.gap;
        out["singular_values"] = j.singular_values;
        out["fibre_dimension"] = j.local_dimension;  // n - rank J, at any point
        return out;
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"));
}

}  // namespace locus::python
