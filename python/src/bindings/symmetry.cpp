// Bindings of the symmetry module (Simsek et al.): exact counts as Python ints, the expansion
// maps and pieces of a two-layer teacher, the connected components, the irreducibility check.
// The pure-Python face is python/locus/symmetry.py.
#include <Python.h>

#include <string>

#include "bindings.hpp"
#include "locus/symmetry/counts.hpp"
#include "locus/symmetry/expansion.hpp"
#include "options.hpp"

namespace locus::python {

namespace {

namespace ls = locus::symmetry;

// An exact decimal count as a Python int (arbitrary precision).
py::int_ exact(const std::string& digits) {
  return py::reinterpret_steal<py::int_>(PyLong_FromString(digits.c_str(), nullptr, 10));
}

py::dict counts_dict(const ls::ExpansionCounts& c) {
  py::dict d;
  d["r"] = c.r;
  d["m"] = c.m;
  d["T"] = exact(c.T);
  d["T_groups"] = exact(c.T_groups);
  d["G"] = exact(c.G);
  d["log10_T"] = c.log10_T;
  d["log10_T_groups"] = c.log10_T_groups;
  d["log10_G"] = c.log10_G;
  return d;
}

ls::ExpansionMap as_map(const std::vector<int>& phi, const std::optional<std::vector<int>>& block) {
  ls::ExpansionMap map{phi, {}};
  if (block) {
    map.block = *block;
  } else {  // single zero-type neurons, numbered in order
    int next = 0;
    for (int i : phi) map.block.push_back(i < 0 ? next++ : -1);
  }
  return map;
}

py::list maps_list(const std::vector<ls::ExpansionMap>& maps) {
  py::list out;
  for (const auto& map : maps) out.append(py::make_tuple(map.phi, map.block));
  return out;
}

}  // namespace

void bind_symmetry(py::module_& m) {
  m.def(
      "symmetry_counts", [](int r, int m) { return counts_dict(ls::expansion_counts(r, m)); },
      py::arg("r"), py::arg("m"),
      "Exact T(r, m), T_groups(r, m), G(r, m) (Python ints) and their log10. ValueError unless "
      "1 <= r <= m <= 200.");
  m.def(
      "symmetry_deep_counts",
      [](const std::vector<int>& teacher_widths, const std::vector<int>& student_widths) {
        const ls::DeepExpansionCounts c = ls::deep_expansion_counts(teacher_widths, student_widths);
        py::dict d;
        py::list layers;
        for (const auto& l : c.layers) layers.append(counts_dict(l));
        d["layers"] = layers;
        d["T"] = exact(c.T);
        d["T_groups"] = exact(c.T_groups);
        d["G"] = exact(c.G);
        d["log10_T"] = c.log10_T;
        d["log10_T_groups"] = c.log10_T_groups;
        d["log10_G"] = c.log10_G;
        d["extra_neurons_min"] = c.extra_neurons_min;
        return d;
      },
      py::arg("teacher_widths"), py::arg("student_widths"),
      "Per-hidden-layer counts and their products (the deep product rule).");
  m.def("symmetry_log10_saddle_minimum_ratio", &ls::log10_saddle_minimum_ratio, py::arg("r"),
        py::arg("m"), "log10(G(r-1, m) / T(r, m)); ValueError unless 2 <= r <= m <= 200.");
  m.def(
      "symmetry_maps",
      [](int r, int m, bool zero_groups, std::int64_t max_pieces) {
        return maps_list(ls::expansion_maps(
            r, m, zero_groups ? ls::ZeroConvention::groups : ls::ZeroConvention::single,
            max_pieces));
      },
      py::arg("r"), py::arg("m"), py::arg("zero_groups") = false,
      py::arg("max_pieces") = ls::ExpansionOptions{}.max_pieces,
      "Every map as (phi, block): phi[j] = teacher neuron or -1 (zero-type), block[j] = zero "
      "block or -1.");
  m.def(
      "symmetry_piece_dimension",
      [](const std::vector<int>& phi, const std::optional<std::vector<int>>& block, int r,
         Index n_in) { return ls::piece_dimension(as_map(phi, block), r, n_in); },
      py::arg("phi"), py::arg("block"), py::arg("r"), py::arg("n_in"),
      "dim Gamma = sum_i (copies_i - 1) + sum_B (n_in + |B| - 1).");
  m.def(
      "symmetry_piece",
      [](const Mlp& teacher, const py::object& params, const std::vector<int>& phi,
         const std::optional<std::vector<int>>& block, std::uint64_t seed) {
        const Eigen::VectorXd theta = as_vector(params, "params");
        const ls::AffinePiece p = ls::affine_piece(teacher, theta, as_map(phi, block), seed);
        py::dict d;
        d["params"] = p.theta;
        d["basis"] = p.basis;
        d["dimension"] = p.basis.cols();
        return d;
      },
      py::arg("teacher"), py::arg("params"), py::arg("phi"), py::arg("block") = py::none(),
      py::arg("seed") = 0,
      "A seeded point of Gamma(phi) in the student's layout and an orthonormal basis (n x dim).");
  m.def(
      "symmetry_pieces_intersect",
      [](const std::vector<int>& phi_a, const std::vector<int>& phi_b,
         const std::optional<std::vector<int>>& block_a,
         const std::optional<std::vector<int>>& block_b) {
        return ls::pieces_intersect(as_map(phi_a, block_a), as_map(phi_b, block_b));
      },
      py::arg("phi_a"), py::arg("phi_b"), py::arg("block_a") = py::none(),
      py::arg("block_b") = py::none(),
      "The combinatorial intersection rule (blocks None: single zero-type neurons).");
  m.def(
      "symmetry_affine_intersection",
      [](const py::object& p1, const py::object& b1, const py::object& p2, const py::object& b2) {
        const ls::AffinePiece a{as_vector(p1, "p1"), as_matrix(b1, "b1")};
        const ls::AffinePiece b{as_vector(p2, "p2"), as_matrix(b2, "b2")};
        const ls::AffineIntersection x = ls::affine_intersection(a, b);
        py::dict d;
        d["intersects"] = x.intersects;
        d["residual"] = x.residual;
        d["tolerance"] = x.tolerance;
        return d;
      },
      py::arg("p1"), py::arg("b1"), py::arg("p2"), py::arg("b2"),
      "Whether p1 + span(b1) and p2 + span(b2) intersect (least-squares residual).");
  m.def(
      "symmetry_irreducibility_problem",
      [](const Mlp& teacher, const py::object& params) {
        return ls::irreducibility_problem(teacher, as_vector(params, "params"));
      },
      py::arg("teacher"), py::arg("params"),
      "'' when the teacher [D, r, 1] is irreducible, else the reason naming the neurons.");

  py::class_<ls::ExpansionEnumeration>(m, "ExpansionEnumeration",
                                       "The pieces of a teacher's expansion into width m.")
      .def_property_readonly(
          "status",
          [](const ls::ExpansionEnumeration& e) { return std::string(ls::to_string(e.status)); })
      .def_readonly("message", &ls::ExpansionEnumeration::message)
      .def_property_readonly("ok", &ls::ExpansionEnumeration::ok)
      .def_readonly("r", &ls::ExpansionEnumeration::r)
      .def_readonly("m", &ls::ExpansionEnumeration::m)
      .def_property_readonly("count_exact",
                             [](const ls::ExpansionEnumeration& e) { return exact(e.count_exact); })
      .def_readonly("n_pieces", &ls::ExpansionEnumeration::n_pieces)
      .def_readonly("dimension_histogram", &ls::ExpansionEnumeration::dimension_histogram)
      .def_readonly("loss_max", &ls::ExpansionEnumeration::loss_max)
      .def_readonly("loss_tolerance", &ls::ExpansionEnumeration::loss_tolerance)
      .def_property_readonly("maps",
                             [](const ls::ExpansionEnumeration& e) { return maps_list(e.maps); })
      .def_property_readonly("components_by_rule",
                             [](const ls::ExpansionEnumeration& e) -> py::object {
                               if (!e.by_rule.computed) return py::none();
                               return py::cast(e.by_rule.component);
                             })
      .def_property_readonly("components_numerical",
                             [](const ls::ExpansionEnumeration& e) -> py::object {
                               if (!e.numerical.computed) return py::none();
                               return py::cast(e.numerical.component);
                             })
      .def(
          "to_json",
          [](const ls::ExpansionEnumeration& e) { return json_to_python(ls::to_json(e)); },
          "The library's JSON document (the CLI's --json body) as a dict.")
      .def("__repr__", [](const ls::ExpansionEnumeration& e) { return ls::summary(e); });

  m.def(
      "symmetry_enumerate",
      [](const Mlp& teacher, const py::object& params, const py::object& x, bool progress,
         const py::object& callback, const py::kwargs& kwargs) {
        const Eigen::VectorXd theta = as_vector(params, "params");
        const Eigen::MatrixXd inputs = as_matrix(x, "x");
        ls::ExpansionOptions o;
        apply_kwargs(ls::expansion_table(), o, kwargs);
        validate_for_python(ls::expansion_table(), [&] { o.validate(); });
        PythonProgress reporter("symmetry.enumerate", progress, callback);
        return reporter.run([&](const ProgressCallback& cb) {
          return ls::enumerate_expansion(teacher, theta, inputs, o, cb);
        });
      },
      py::arg("teacher"), py::arg("params"), py::arg("x"), py::arg("progress") = false,
      py::arg("callback") = py::none(),
      "Enumerate the pieces of an irreducible teacher [D, r, 1] (keywords of `locus symmetry "
      "enumerate`: m, zero_groups, max_pieces, components, seed; progress=True / "
      "callback(event): one event per piece).");
}

}  // namespace locus::python
