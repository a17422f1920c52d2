// Bindings of Simsek et al.'s experiments: the categorization of a student's neurons against a
// teacher (symmetry/categorize.hpp) and the students-of-growing-width experiment
// (workflows/students.hpp), in the private submodule locus._core._symmetry_experiments;
// python/locus/_symmetry_experiments.py re-exports them for locus.symmetry.
#include "bindings.hpp"
#include "locus/symmetry/categorize.hpp"
#include "locus/workflows/students.hpp"
#include "options.hpp"

namespace locus::python {

namespace {

namespace ls = locus::symmetry;
namespace lw = locus::workflows;

Eigen::VectorXd params_of(const Mlp& model, const py::object& params, const char* name) {
  Eigen::VectorXd theta = as_vector(params, name);
  model.check_parameters(theta, name);
  return theta;
}

}  // namespace

void bind_simsek(py::module_& root) {
  py::module_ m = root.def_submodule(
      "_symmetry_experiments",
      "Simsek et al.'s experiments (categorize, run_students); use the public module "
      "locus.symmetry.");

  py::class_<ls::Categorization>(m, "Categorization",
                                 "A student's neurons sorted into copies of teacher neurons, "
                                 "zero-type neurons and zero groups, with the piece of the "
                                 "expansion manifold they name.")
      .def_readonly("on_expansion_manifold", &ls::Categorization::on_expansion_manifold)
      .def_readonly("message", &ls::Categorization::message)
      .def_readonly("r", &ls::Categorization::r)
      .def_readonly("m", &ls::Categorization::m)
      .def_readonly("incoming_dim", &ls::Categorization::incoming_dim)
      .def_readonly("weight_tolerance", &ls::Categorization::weight_tolerance)
      .def_readonly("output_tolerance", &ls::Categorization::output_tolerance)
      .def_readonly("sign_symmetry", &ls::Categorization::sign_symmetry)
      .def_readonly("phi", &ls::Categorization::phi,
                    "per student neuron: i in 0..r-1 (a copy of teacher neuron i), -1 (zero-type, "
                    "zero group or unexplained: see kinds)")
      .def_property_readonly("kinds",
                             [](const ls::Categorization& c) {
                               std::vector<std::string> k;
                               for (ls::NeuronKind n : c.kinds) k.emplace_back(ls::to_string(n));
                               return k;
                             })
      .def_readonly("signs", &ls::Categorization::signs)
      .def_readonly("zero_type", &ls::Categorization::zero_type)
      .def_readonly("unexplained", &ls::Categorization::unexplained)
      .def_readonly("uncovered", &ls::Categorization::uncovered)
      .def_readonly("flipped", &ls::Categorization::flipped)
      .def_readonly("constant_error", &ls::Categorization::constant_error)
      .def_readonly("k", &ls::Categorization::k)
      .def_readonly("piece", &ls::Categorization::piece)
      .def_readonly("piece_dimension", &ls::Categorization::piece_dimension)
      .def_property_readonly(
          "teacher",
          [](const ls::Categorization& c) { return json_to_python(ls::to_json(c)["teacher"]); },
          "per teacher neuron: {'neuron', 'copies', 'signs', 'output_sum', 'output_target', "
          "'output_error', 'incoming_deviation'}")
      .def_property_readonly(
          "zero_groups",
          [](const ls::Categorization& c) { return json_to_python(ls::to_json(c)["zero_groups"]); },
          "[{'neurons', 'signs', 'incoming', 'output_sum', 'incoming_spread'}]")
      .def(
          "to_json", [](const ls::Categorization& c) { return json_to_python(ls::to_json(c)); },
          "The library's JSON document as a dict.")
      .def("__repr__", [](const ls::Categorization& c) { return ls::summary(c); });

  m.def(
      "categorize",
      [](const Mlp& teacher, const py::object& teacher_params, const Mlp& model,
         const py::object& params, const py::kwargs& kwargs) {
        const Eigen::VectorXd tt = params_of(teacher, teacher_params, "teacher_params");
        const Eigen::VectorXd theta = params_of(model, params, "params");
        ls::CategorizeOptions o;
        apply_kwargs(ls::categorize_table(), o, kwargs);
        validate_for_python(ls::categorize_table(), [&] { o.validate(); });
        return ls::categorize(teacher, tt, model, theta, o);
      },
      py::arg("teacher"), py::arg("teacher_params"), py::arg("model"), py::arg("params"),
      "Sort the neurons of the two-layer student (model, params) [D, m, 1] into copies of the "
      "teacher's neurons, zero-type neurons and zero groups; phi, the piece Gamma(phi) and its "
      "dimension, and whether the student lies on the expansion manifold. Keywords: "
      "weight_tolerance_relative, output_tolerance_relative, sign_symmetry. ValueError for a "
      "student of another architecture or a teacher that is not irreducible.");
  m.def(
      "categorize_options",
      [] { return table_values(ls::categorize_table(), ls::CategorizeOptions{}); },
      "The categorization's keywords with their defaults.");

  py::class_<lw::StudentRun>(m, "StudentRun", "One trained, polished and certified student.")
      .def_readonly("width", &lw::StudentRun::width)
      .def_readonly("seed", &lw::StudentRun::seed)
      .def_readonly("loss_adam", &lw::StudentRun::loss_adam)
      .def_readonly("loss_final", &lw::StudentRun::loss_final)
      .def_readonly("gradient_max_norm", &lw::StudentRun::gradient_max_norm)
      .def_readonly("iterations_adam", &lw::StudentRun::iterations_adam)
      .def_readonly("iterations_polish", &lw::StudentRun::iterations_polish)
      .def_readonly("seconds", &lw::StudentRun::seconds)
      .def_property_readonly(
          "status", [](const lw::StudentRun& r) { return std::string(lw::to_string(r.status)); })
      .def_readonly("end_state", &lw::StudentRun::end_state)
      .def_readonly("index", &lw::StudentRun::index)
      .def_readonly("message", &lw::StudentRun::message)
      .def_readonly("zero_loss", &lw::StudentRun::zero_loss)
      .def_readonly("categorization", &lw::StudentRun::categorization,
                    "a Categorization for zero-loss students, else None")
      .def_readonly("params", &lw::StudentRun::theta)
      .def("__repr__", [](const lw::StudentRun& r) {
        return "StudentRun(width=" + std::to_string(r.width) + ", seed=" + std::to_string(r.seed) +
               ", end_state=" + r.end_state + ", loss_final=" + std::to_string(r.loss_final) + ")";
      });

  py::class_<lw::StudentsResult>(m, "StudentsResult",
                                 "Simsek's students-of-growing-width experiment: runs and the "
                                 "summary per width.")
      .def_readonly("runs", &lw::StudentsResult::runs)
      .def_readonly("n_points", &lw::StudentsResult::n_points)
      .def_readonly("teacher_params", &lw::StudentsResult::teacher_theta)
      .def_readonly("seconds", &lw::StudentsResult::seconds)
      .def_property_readonly(
          "widths",
          [](const lw::StudentsResult& r) { return json_to_python(lw::to_json(r)["widths"]); },
          "per width: {'width', 'runs', 'zero_loss', 'fraction_zero_loss', "
          "'on_expansion_manifold', 'global_minimum', 'strict_minimum', 'non_strict_minimum', "
          "'saddle', 'not_converged', 'undecided'}")
      .def_property_readonly(
          "options",
          [](const lw::StudentsResult& r) { return table_values(lw::students_table(), r.options); })
      .def(
          "to_json",
          [](const lw::StudentsResult& r) {
            return json_to_python(
                io::with_context(lw::students_table().to_json(r.options), lw::to_json(r)));
          },
          "The JSON document (context block first, the options in it) as a dict.")
      .def("__repr__", [](const lw::StudentsResult& r) { return lw::summary(r); });

  m.def(
      "run_students",
      [](const py::object& progress, const py::kwargs& kwargs) {
        lw::StudentsOptions o;
        apply_kwargs(lw::students_table(), o, kwargs);
        validate_for_python(lw::students_table(), [&] { o.validate(); });
        lw::StudentsProgress hook;
        if (!progress.is_none())
          hook = [&progress](const lw::StudentRun& run, Index done, Index total) {
            py::gil_scoped_acquire acquire;
            progress(py::cast(run), done, total);
          };
        py::gil_scoped_release release;
        return lw::run_students(o, hook);
      },
      py::arg("progress") = py::none(),
      "Simsek et al.'s experiment: students [2, m, 1] of each width on the 41 x 41 grid, Adam "
      "then a second-order polish, each end state certified and each zero-loss student "
      "categorized. progress(run, done, total) is called after each run. Keywords: those of "
      "students_options() (widths='4,5,45', seeds, seed, activation, grid_stride, "
      "adam_iterations, adam_learning_rate, polish, polish_iterations, loss_tolerance, "
      "gradient_tolerance, weight_tolerance_relative, output_tolerance_relative, sign_symmetry).");
  m.def(
      "students_options", [] { return table_values(lw::students_table(), lw::StudentsOptions{}); },
      "The experiment's keywords with their defaults.");
}

}  // namespace locus::python
