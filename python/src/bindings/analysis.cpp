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
         const std::string& loss, const py::kwargs& kwargs) {
        const Dataset data = as_dataset(x, y);
        const Eigen::VectorXd theta = as_vector(params, "params");
        const Objective obj(model, data, {.kind = parse_loss_kind(loss)});
        an::AnalyzeOptions o;
        apply_kwargs(an::analyze_table(), o, kwargs);
        validate_for_python(an::analyze_table(), [&] { o.validate(); });
        an::PointAnalysis a;
        {
          py::gil_scoped_release release;
          a = an::analyze_point(obj, theta, o);
        }
        // The library's JSON document as a dict, plus the full arrays as numpy.
        py::dict out = json_to_python(an::to_json(a));
        out["eigenvalues"] = a.hessian.eigenvalues;
        out["singular_values"] = a.jacobian.singular_values;
        return out;
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      py::arg("loss") = std::string(to_string(LossSpec{}.kind)),
      "Certified geometry at params: rank J (tolerance, gap), manifold dimension, Hessian "
      "inertia (tolerance, gap), classification. Keyword options are those of `locus analyze` "
      "(options_table('analyze') lists them with their defaults: spectrum, k, lanczos_end, "
      "lanczos_tolerance, seed, gradient_tolerance, loss_tolerance, max_dense_bytes, ...). "
      "Returns a dict (the CLI's JSON) with numpy 'eigenvalues' and 'singular_values'.");
  m.def(
      "hessian_spectrum",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         py::kwargs kwargs) {
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
        an::Spectrum s;
        {
          py::gil_scoped_release release;
          s = an::hessian_spectrum(obj, theta, o);
        }
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
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      "Hessian spectrum at params. Keyword options (options_table('spectrum')): method dense "
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
        out["manifold_dimension"] = j.local_dimension;
        return out;
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"));
}

}  // namespace locus::python
