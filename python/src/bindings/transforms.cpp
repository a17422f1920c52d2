// Bindings of the transforms layer (exact neuron surgery) and of the split-critical-point
// workflow, in the private submodule locus._core._transforms; python/locus/transforms.py is the
// public face (locus.transforms). Hidden layers are numbered from 1, neurons from 0, as in C++.
#include <optional>

#include "bindings.hpp"
#include "locus/core/objective.hpp"
#include "locus/transforms/surgery.hpp"
#include "locus/workflows/split.hpp"
#include "options.hpp"

namespace locus::python {

namespace {

namespace lt = locus::transforms;
namespace lw = locus::workflows;

// The incoming weights of a new neuron: None = zeros (the library's empty vector).
Eigen::VectorXd optional_vector(const py::object& v, const char* name) {
  return v.is_none() ? Eigen::VectorXd() : as_vector(v, name);
}

Eigen::VectorXd params_of(const Mlp& model, const py::object& params) {
  Eigen::VectorXd theta = as_vector(params, "params");
  model.check_parameters(theta, "params");
  return theta;
}

}  // namespace

void bind_transforms(py::module_& root) {
  py::module_ m = root.def_submodule(
      "_transforms", "Exact neuron surgery; use the public module locus.transforms.");

  py::class_<lt::Surgery>(m, "Surgery",
                          "A transformed network: model and params (unpacks as model, params).")
      .def_readonly("model", &lt::Surgery::model)
      .def_readonly("params", &lt::Surgery::theta)
      .def("__iter__",
           [](const lt::Surgery& s) {
             return py::iter(py::make_tuple(py::cast(s.model), py::cast(s.theta)));
           })
      .def("__repr__", [](const lt::Surgery& s) {
        return "Surgery(" + s.model.describe() +
               ", n_params=" + std::to_string(s.model.n_params()) + ")";
      });

  py::class_<lt::ShrinkResult>(m, "ShrinkResult",
                               "The shrunk network (unpacks as model, params) with merged and "
                               "removed: neurons per hidden layer.")
      .def_readonly("model", &lt::ShrinkResult::model)
      .def_readonly("params", &lt::ShrinkResult::theta)
      .def_readonly("merged", &lt::ShrinkResult::merged)
      .def_readonly("removed", &lt::ShrinkResult::removed)
      .def("__iter__",
           [](const lt::ShrinkResult& s) {
             return py::iter(py::make_tuple(py::cast(s.model), py::cast(s.theta)));
           })
      .def("__repr__", [](const lt::ShrinkResult& s) {
        return "ShrinkResult(" + s.model.describe() +
               ", merged=" + py::repr(py::cast(s.merged)).cast<std::string>() +
               ", removed=" + py::repr(py::cast(s.removed)).cast<std::string>() + ")";
      });

  m.def(
      "neuron_indices",
      [](const Mlp& model, int layer, Index neuron) {
        const lt::NeuronIndices ix = lt::neuron_indices(model, {layer, neuron});
        py::dict d;
        d["incoming"] =
            py::array_t<Index>(static_cast<py::ssize_t>(ix.incoming.size()), ix.incoming.data());
        d["bias"] = ix.bias >= 0 ? py::object(py::int_(ix.bias)) : py::object(py::none());
        d["outgoing"] =
            py::array_t<Index>(static_cast<py::ssize_t>(ix.outgoing.size()), ix.outgoing.data());
        return d;
      },
      py::arg("model"), py::arg("layer"), py::arg("neuron"),
      "Flat indices of neuron j of hidden layer K: {'incoming': W_K[j, :], 'bias': b_K[j] or "
      "None, 'outgoing': W_{K+1}[:, j]} (int arrays).");

  m.def(
      "neuron_weights",
      [](const Mlp& model, const py::object& params, int layer, Index neuron) {
        const lt::NeuronWeights w =
            lt::neuron_weights(model, params_of(model, params), {layer, neuron});
        py::dict d;
        d["incoming"] = w.incoming;
        d["bias"] = w.bias;
        d["outgoing"] = w.outgoing;
        return d;
      },
      py::arg("model"), py::arg("params"), py::arg("layer"), py::arg("neuron"),
      "{'incoming', 'bias' (0 without bias), 'outgoing'} of neuron j of hidden layer K.");

  m.def(
      "split_neuron",
      [](const Mlp& model, const py::object& params, int layer, Index neuron,
         const std::vector<double>& fractions) {
        return lt::split_neuron(model, params_of(model, params), {layer, neuron}, fractions);
      },
      py::arg("model"), py::arg("params"), py::arg("layer"), py::arg("neuron"),
      py::arg("fractions"),
      "Split neuron j of hidden layer K into len(fractions) >= 2 copies sharing its incoming "
      "weights and bias; copy c's outgoing weights are fractions[c] times the original's. The "
      "original keeps fractions[0], the others are appended at the end of the layer. fractions "
      "must sum to 1 (within 4 k eps).");
  m.def(
      "merge_neurons",
      [](const Mlp& model, const py::object& params, int layer, Index keep, Index other) {
        return lt::merge_neurons(model, params_of(model, params), layer, keep, other);
      },
      py::arg("model"), py::arg("params"), py::arg("layer"), py::arg("keep"), py::arg("other"),
      "Merge neuron `other` into `keep` (identical incoming weights and bias required): outgoing "
      "weights add, `other` is removed. The inverse of split_neuron.");
  m.def(
      "add_zero_neuron",
      [](const Mlp& model, const py::object& params, int layer, const py::object& incoming,
         double bias) {
        return lt::add_zero_neuron(
            model, params_of(model, params), layer,
            {.incoming = optional_vector(incoming, "incoming"), .bias = bias});
      },
      py::arg("model"), py::arg("params"), py::arg("layer"), py::arg("incoming") = py::none(),
      py::arg("bias") = 0.0,
      "Append a zero-type neuron (outgoing weights 0) to hidden layer K with the given incoming "
      "weights (None: zeros) and bias.");
  m.def(
      "add_zero_group",
      [](const Mlp& model, const py::object& params, int layer, const py::object& outgoing,
         const py::object& incoming, double bias) {
        return lt::add_zero_group(model, params_of(model, params), layer,
                                  optional_vector(incoming, "incoming"), bias,
                                  as_matrix(outgoing, "outgoing"));
      },
      py::arg("model"), py::arg("params"), py::arg("layer"), py::arg("outgoing"),
      py::arg("incoming") = py::none(), py::arg("bias") = 0.0,
      "Append k >= 2 neurons sharing incoming weights (None: zeros) and bias, with outgoing "
      "weights the columns of `outgoing` (h_{K+1} x k), each row summing to 0.");
  m.def(
      "remove_neuron",
      [](const Mlp& model, const py::object& params, int layer, Index neuron) {
        return lt::remove_neuron(model, params_of(model, params), {layer, neuron});
      },
      py::arg("model"), py::arg("params"), py::arg("layer"), py::arg("neuron"),
      "Remove neuron j of hidden layer K, whose outgoing weights must all be 0.");
  m.def(
      "permute_neurons",
      [](const Mlp& model, const py::object& params, int layer,
         const std::vector<Index>& permutation) {
        return lt::permute_neurons(model, params_of(model, params), layer, permutation);
      },
      py::arg("model"), py::arg("params"), py::arg("layer"), py::arg("permutation"),
      "Reorder hidden layer K: new neuron i = old neuron permutation[i].");
  m.def("inverse_permutation", &lt::inverse_permutation, py::arg("permutation"),
        "q with q[permutation[i]] = i.");
  m.def(
      "grow",
      [](const Mlp& model, const py::object& params, const std::vector<Index>& hidden_widths) {
        return lt::grow(model, params_of(model, params), hidden_widths);
      },
      py::arg("model"), py::arg("params"), py::arg("hidden_widths"),
      "Widen hidden layer K to hidden_widths[K-1] with zero-type neurons (zero incoming weights).");
  m.def(
      "shrink",
      [](const Mlp& model, const py::object& params) {
        return lt::shrink(model, params_of(model, params));
      },
      py::arg("model"), py::arg("params"),
      "Merge exact duplicates and remove zero-outgoing neurons in every hidden layer (a layer "
      "keeps one neuron), until nothing changes.");

  py::class_<lw::SplitCheck>(m, "SplitCheck",
                             "A split of a critical point: criticality, loss and Hessian inertia "
                             "before and after, and the zero-type contrast.")
      .def_property_readonly(
          "status", [](const lw::SplitCheck& s) { return std::string(lw::to_string(s.status)); })
      .def_readonly("message", &lw::SplitCheck::message)
      .def_property_readonly("critical", &lw::SplitCheck::critical)
      .def_readonly("widths_before", &lw::SplitCheck::widths_before)
      .def_readonly("widths_after", &lw::SplitCheck::widths_after)
      .def_readonly("params_after", &lw::SplitCheck::theta_after)
      .def_readonly("gradient_scale", &lw::SplitCheck::gradient_scale)
      .def_readonly("gradient_tolerance", &lw::SplitCheck::gradient_tolerance)
      .def_readonly("loss_before", &lw::SplitCheck::loss_before)
      .def_readonly("loss_after", &lw::SplitCheck::loss_after)
      .def_readonly("gradient_max_norm_before", &lw::SplitCheck::gradient_max_norm_before)
      .def_readonly("gradient_max_norm_after", &lw::SplitCheck::gradient_max_norm_after)
      .def_readonly("index_before", &lw::SplitCheck::index_before)
      .def_readonly("index_after", &lw::SplitCheck::index_after)
      .def_readonly("zero_before", &lw::SplitCheck::zero_before)
      .def_readonly("zero_after", &lw::SplitCheck::zero_after)
      .def_readonly("zero_expected", &lw::SplitCheck::zero_expected)
      .def_property_readonly(
          "zero_tolerance_after",
          [](const lw::SplitCheck& s) { return s.spectrum_after.counts.tolerance; },
          "tau_H = factor * n * eps * max|lambda| of the spectrum after the split")
      .def_property_readonly(
          "gap_after", [](const lw::SplitCheck& s) { return s.spectrum_after.counts.gap; },
          "min{|lambda| > tau_H} / max{|lambda| <= tau_H} after the split (inf: no zero)")
      .def_property_readonly("eigenvalues_before",
                             [](const lw::SplitCheck& s) { return s.spectrum_before.eigenvalues; })
      .def_property_readonly("eigenvalues_after",
                             [](const lw::SplitCheck& s) { return s.spectrum_after.eigenvalues; })
      .def_readonly("zero_neuron_gradient_max_norm", &lw::SplitCheck::zero_neuron_gradient_max_norm)
      .def_readonly("zero_neuron_outgoing_gradient_max_norm",
                    &lw::SplitCheck::zero_neuron_outgoing_gradient_max_norm)
      .def(
          "to_json", [](const lw::SplitCheck& s) { return json_to_python(lw::to_json(s)); },
          "The library's JSON document of the check as a dict.")
      .def("__repr__", [](const lw::SplitCheck& s) { return lw::summary(s); });

  m.def(
      "split_critical_point",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         int layer, Index neuron, const std::vector<double>& fractions, bool progress,
         const py::object& callback, const py::kwargs& kwargs) {
        const Objective obj(model, as_dataset(x, y));
        const Eigen::VectorXd theta = params_of(model, params);
        lw::SplitOptions o;
        apply_kwargs(lw::split_table(), o, kwargs);
        validate_for_python(lw::split_table(), [&] { o.validate(); });
        PythonProgress reporter("split_critical_point", progress, callback);
        return reporter.run([&](const ProgressCallback& cb) {
          return lw::split_critical_point(obj, theta, {layer, neuron}, fractions, o, cb);
        });
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"), py::arg("layer"),
      py::arg("neuron"), py::arg("fractions"), py::arg("progress") = false,
      py::arg("callback") = py::none(),
      "Split neuron j of hidden layer K of the critical point params (squared loss on x, y) and "
      "report loss, |grad L|_inf and the dense Hessian inertia before and after, and the "
      "gradient of a seeded zero-type neuron added instead. Keywords: "
      "gradient_tolerance_relative, zero_tolerance_factor, max_dense_bytes, seed; progress=True / "
      "callback(event): the two dense spectra's events.");
}

}  // namespace locus::python
