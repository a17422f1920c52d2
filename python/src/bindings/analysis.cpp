// Bindings of the analysis layer: locus.analyze and the spectra.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "locus/analysis/geometry.hpp"

namespace locus::python {

namespace an = locus::analysis;

void bind_analysis(py::module_& m) {
  m.def("analyze",
        [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
           const std::string& spectrum, int k, std::uint64_t seed, double gradient_tolerance,
           double loss_tolerance, double max_dense_gib, const std::string& loss) {
          const Dataset data = as_dataset(x, y);
          const Eigen::VectorXd theta = as_vector(params, "params");
          const Objective obj(model, data, {.kind = parse_loss_kind(loss)});
          an::AnalyzeOptions o;
          o.spectrum.method = an::parse_spectrum_method(spectrum);
          o.spectrum.k = k;
          o.spectrum.seed = seed;
          o.spectrum.max_dense_bytes = max_dense_gib * double(1ull << 30);
          o.jacobian.max_bytes = o.spectrum.max_dense_bytes;
          o.gradient_tolerance = gradient_tolerance;
          o.loss_tolerance = loss_tolerance;
          an::PointAnalysis a;
          {
            py::gil_scoped_release release;
            a = an::analyze_point(obj, theta, o);
          }
          // The JSON document as a dict, plus the full arrays as numpy.
          py::dict out = py::module_::import("json").attr("loads")(an::to_json(a).dump());
          out["eigenvalues"] = a.hessian.eigenvalues;
          out["singular_values"] = a.jacobian.singular_values;
          return out;
        },
        py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
        py::arg("spectrum") = std::string(an::to_string(an::SpectrumOptions{}.method)),
        py::arg("k") = an::SpectrumOptions{}.k, py::arg("seed") = an::SpectrumOptions{}.seed,
        py::arg("gradient_tolerance") = an::AnalyzeOptions{}.gradient_tolerance,
        py::arg("loss_tolerance") = an::AnalyzeOptions{}.loss_tolerance,
        py::arg("max_dense_gib") = an::SpectrumOptions{}.max_dense_bytes / double(1ull << 30),
        py::arg("loss") = "squared",
        "Certified geometry at params: rank J (tolerance, gap), manifold dimension, Hessian "
        "inertia (tolerance, gap), classification. Returns a dict (the CLI's JSON) with numpy "
        "'eigenvalues' and 'singular_values'.");
  m.def("hessian_spectrum",
        [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
           const std::string& method, int k, int probes, int steps, std::uint64_t seed,
           const std::string& end, double tolerance) {
          const Objective obj(model, as_dataset(x, y));
          const Eigen::VectorXd theta = as_vector(params, "params");
          an::Spectrum s;
          {
            py::gil_scoped_release release;
            s = an::hessian_spectrum(obj, theta, {.method = an::parse_spectrum_method(method), .k = k,
                                                  .lanczos_end = an::parse_lanczos_end(end),
                                                  .lanczos_tolerance = tolerance,
                                                  .slq_probes = probes, .slq_steps = steps,
                                                  .seed = seed});
          }
          py::dict out;
          out["eigenvalues"] = s.eigenvalues;
          out["residuals"] = s.residuals;
          out["positive"] = s.counts.positive;
          out["zero"] = s.counts.zero;
          out["negative"] = s.counts.negative;
          out["tolerance"] = s.counts.tolerance;
          out["gap"] = s.counts.gap;
          out["slq_nodes"] = s.slq_nodes;
          out["slq_weights"] = s.slq_weights;
          out["trace_estimate"] = s.trace_estimate;
          out["trace_error"] = s.trace_error;
          return out;
        },
        py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"), py::arg("method") = "dense",
        py::arg("k") = an::SpectrumOptions{}.k, py::arg("probes") = an::SpectrumOptions{}.slq_probes,
        py::arg("steps") = an::SpectrumOptions{}.slq_steps, py::arg("seed") = 0,
        py::arg("end") = std::string(an::to_string(an::SpectrumOptions{}.lanczos_end)),
        py::arg("tolerance") = an::SpectrumOptions{}.lanczos_tolerance,
        "Hessian spectrum at params: dense (every eigenvalue), lanczos (k eigenvalues at end "
        "both|largest|smallest, relative Ritz tolerance) or slq (density from probes x steps). "
        "Returns a dict with numpy 'eigenvalues' (ascending), 'residuals', the inertia counts "
        "with their tolerance and gap, and the SLQ nodes, weights and trace estimate.");
  m.def("jacobian_rank",
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
