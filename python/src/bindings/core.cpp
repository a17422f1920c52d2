// Bindings of the core: Mlp, datasets, the loss and its exact derivatives; plus the array
// conversions every bindings file uses (bindings.hpp).
#include <cmath>
#include <stdexcept>

#include "bindings.hpp"
#include "locus/analysis/derivative_check.hpp"
#include "locus/analysis/spectrum.hpp"
#include "locus/core/objective.hpp"
#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"
#include "locus/io/json.hpp"
#include "locus/io/memory.hpp"

namespace locus::python {

namespace {

// A float64 array in Fortran order from any real numeric array-like (bool, int, float; C or F
// order; lists); complex, object and string arrays are refused, naming the argument.
py::array_t<double, py::array::f_style> as_float64(const py::object& a, const char* name) {
  py::array raw = py::array::ensure(a);
  if (!raw) {
    PyErr_Clear();
    throw std::invalid_argument(std::string(name) + " must be a numeric array");
  }
  const char kind = raw.dtype().kind();
  if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f')
    throw std::invalid_argument(std::string(name) + " must be a real numeric array, got dtype " +
                                std::string(py::str(raw.dtype())));
  return py::array_t<double, py::array::f_style | py::array::forcecast>::ensure(raw);
}

}  // namespace

Eigen::MatrixXd as_matrix(const py::object& a, const char* name) {
  const auto arr = as_float64(a, name);
  if (arr.ndim() == 1) return Eigen::Map<const Eigen::VectorXd>(arr.data(), arr.shape(0));
  if (arr.ndim() != 2)
    throw std::invalid_argument(std::string(name) + " must be 1-D or 2-D, got " +
                                std::to_string(arr.ndim()) + "-D");
  return Eigen::Map<const Eigen::MatrixXd>(arr.data(), arr.shape(0), arr.shape(1));
}

Eigen::VectorXd as_vector(const py::object& a, const char* name) {
  const auto arr = as_float64(a, name);
  if (arr.ndim() != 1) {
    std::string shape;
    for (py::ssize_t k = 0; k < arr.ndim(); ++k)
      shape += (k ? ", " : "") + std::to_string(arr.shape(k));
    throw std::invalid_argument(std::string(name) + " must be a 1-D array, got shape (" + shape +
                                ")");
  }
  Eigen::VectorXd v = Eigen::Map<const Eigen::VectorXd>(arr.data(), arr.shape(0));
  for (Index i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw std::invalid_argument(std::string(name) + "[" + std::to_string(i) +
                                  "] is non-finite (" + std::to_string(v[i]) + ")");
  return v;
}

Dataset as_dataset(const py::object& x, const py::object& y) {
  Dataset d{as_matrix(x, "x"), as_matrix(y, "y"), "arrays"};
  d.validate();
  return d;
}

namespace {

Objective objective(const Mlp& model, const py::object& x, const py::object& y,
                    const std::string& loss, const std::string& reduction) {
  return Objective(model, as_dataset(x, y),
                   {.kind = parse_loss_kind(loss), .reduction = parse_reduction(reduction)});
}

// The vector v of a Hessian-vector product, converted and checked against n parameters.
Eigen::VectorXd as_direction(const py::object& v, Index n) {
  Eigen::VectorXd vv = as_vector(v, "v");
  if (vv.size() != n)
    throw std::invalid_argument("v has length " + std::to_string(vv.size()) + ", the model has " +
                                std::to_string(n) + " parameters");
  return vv;
}

const std::string kDefaultLoss(to_string(LossSpec{}.kind));
const std::string kDefaultReduction(to_string(LossSpec{}.reduction));

void bind_mlp(py::module_& m) {
  py::class_<Mlp>(m, "Mlp",
                  "MLP [p, h1, ..., hL, l] with one hidden activation and a linear output.\n"
                  "Parameters live in one flat float64 vector, layer by layer: W (out x in, "
                  "row-major), then b -- the state-dict order of a PyTorch nn.Sequential of "
                  "Linear layers.")
      .def(py::init([](std::vector<Index> widths, const std::string& activation,
                       std::optional<std::vector<bool>> bias, bool mean_field) {
             MlpSpec s{.widths = std::move(widths), .activation = parse_activation(activation)};
             if (bias) s.bias = *bias;
             s.mean_field = mean_field;
             return Mlp(s);
           }),
           py::arg("widths"), py::arg("activation") = std::string(to_string(MlpSpec{}.activation)),
           py::arg("bias") = py::none(), py::arg("mean_field") = false,
           "widths [p, h1, ..., l]; bias: one flag per weight layer (None: all); mean_field "
           "scales the output by 1/h_L. ValueError for fewer than 2 widths, a width < 1, a bias "
           "list of the wrong length or an unknown activation.")
      .def_property_readonly("widths", [](const Mlp& a) { return a.spec().widths; })
      .def_property_readonly("activation",
                             [](const Mlp& a) { return std::string(to_string(a.activation())); })
      .def_property_readonly("bias",
                             [](const Mlp& a) {
                               std::vector<bool> b;
                               for (int k = 0; k < a.n_layers(); ++k) b.push_back(a.has_bias(k));
                               return b;
                             })
      .def_property_readonly("mean_field", [](const Mlp& a) { return a.spec().mean_field; })
      .def_property_readonly("output_scale", &Mlp::output_scale)
      .def_property_readonly("input_dim", &Mlp::input_dim)
      .def_property_readonly("output_dim", &Mlp::output_dim)
      .def_property_readonly("n_params", &Mlp::n_params)
      .def_property_readonly("n_layers", &Mlp::n_layers, "Number of weight layers, L + 1.")
      .def(
          "layer",
          [](const Mlp& a, int k) {
            if (k < 0 || k >= a.n_layers())
              throw std::invalid_argument("layer " + std::to_string(k) + " out of range [0, " +
                                          std::to_string(a.n_layers()) + ")");
            const LayerSlice& s = a.layer(k);
            py::dict d;
            d["in"] = s.in;
            d["out"] = s.out;
            d["weight"] = py::slice(s.weight_offset, s.weight_offset + s.in * s.out, 1);
            d["bias"] = s.bias_offset < 0
                            ? py::object(py::none())
                            : py::object(py::slice(s.bias_offset, s.bias_offset + s.out, 1));
            d["weight_offset"] = s.weight_offset;
            d["bias_offset"] = s.bias_offset;
            return d;
          },
          py::arg("k"),
          "Where weight layer k lives in the flat vector: {'in', 'out', 'weight': slice, "
          "'bias': slice or None, 'weight_offset', 'bias_offset' (-1 without bias)}; "
          "params[l['weight']].reshape(out, in) is W_k.")
      .def(
          "init_parameters",
          [](const Mlp& a, const std::string& scheme, std::uint64_t seed, double std) {
            return a.init_parameters(
                {.scheme = parse_init_scheme(scheme), .seed = seed, .std = std});
          },
          py::arg("scheme") = std::string(to_string(InitOptions{}.scheme)),
          py::arg("seed") = InitOptions{}.seed, py::arg("std") = InitOptions{}.std,
          "Seeded parameters: glorot (W ~ U(-a, a), a = sqrt(6/(in+out)), b = 0), he "
          "(W ~ N(0, 2/in), b = 0) or normal (all ~ N(0, std^2)); the same on every machine.")
      .def(
          "predict",
          [](const Mlp& a, const py::object& theta, const py::object& x) {
            const Eigen::VectorXd t = as_vector(theta, "params");
            const Eigen::MatrixXd xm = as_matrix(x, "x");
            py::gil_scoped_release release;
            return a.predict(t, xm);
          },
          py::arg("params"), py::arg("x"), "f(x_i) for the rows of x (d x p); returns d x l.")
      .def("describe", &Mlp::describe)
      .def("__repr__", [](const Mlp& a) {
        return "Mlp(" + a.describe() + ", n_params=" + std::to_string(a.n_params()) + ")";
      });
}

void bind_datasets(py::module_& m) {
  py::class_<Dataset>(m, "Dataset",
                      "d points: x (d x p) and y (d x l), float64, read-only views. Unpacks as "
                      "x, y = dataset; d['x'] also works.")
      .def(py::init([](const py::object& x, const py::object& y, std::string name) {
             Dataset d = as_dataset(x, y);
             d.name = std::move(name);
             return d;
           }),
           py::arg("x"), py::arg("y"), py::arg("name") = "arrays",
           "Validated: same row counts, at least one point, finite entries (else ValueError).")
      .def_property_readonly(
          "x", [](const Dataset& d) -> const Eigen::MatrixXd& { return d.x; },
          py::return_value_policy::reference_internal)
      .def_property_readonly(
          "y", [](const Dataset& d) -> const Eigen::MatrixXd& { return d.y; },
          py::return_value_policy::reference_internal)
      .def_readonly("name", &Dataset::name)
      .def_property_readonly("n_points", &Dataset::size)
      .def_property_readonly("input_dim", &Dataset::input_dim)
      .def_property_readonly("output_dim", &Dataset::output_dim)
      .def(
          "distinct_inputs",
          [](const Dataset& d) {
            try {
              d.require_distinct_inputs();
              return true;
            } catch (const std::invalid_argument&) {
              return false;
            }
          },
          "True when no two rows of x are equal.")
      .def(
          "__getitem__",
          [](const py::object& self, const std::string& key) -> py::object {
            if (key != "x" && key != "y" && key != "name")
              throw py::key_error("Dataset has 'x', 'y' and 'name', not '" + key + "'");
            return self.attr(key.c_str());
          },
          "d['x'] is d.x (also 'y', 'name').")
      .def("__iter__",
           [](const py::object& self) -> py::iterator {
             return py::iter(py::make_tuple(self.attr("x"), self.attr("y")));
           })
      .def("__repr__", [](const Dataset& d) {
        return "Dataset('" + d.name + "', d=" + std::to_string(d.size()) +
               ", p=" + std::to_string(d.input_dim()) + ", l=" + std::to_string(d.output_dim()) +
               ")";
      });

  py::class_<TeacherStudent>(m, "TeacherStudent", "Data labelled by a teacher network.")
      .def_readonly("data", &TeacherStudent::data)
      .def_readonly("teacher", &TeacherStudent::teacher)
      .def_property_readonly(
          "teacher_params",
          [](const TeacherStudent& t) -> const Eigen::VectorXd& { return t.teacher_parameters; },
          py::return_value_policy::reference_internal)
      .def(
          "__getitem__",
          [](const py::object& self, const std::string& key) -> py::object {
            if (key == "x" || key == "y") return self.attr("data").attr(key.c_str());
            if (key != "data" && key != "teacher" && key != "teacher_params")
              throw py::key_error(
                  "TeacherStudent has 'x', 'y', 'data', 'teacher' and "
                  "'teacher_params', not '" +
                  key + "'");
            return self.attr(key.c_str());
          },
          "t['x'] is t.data.x (also 'y', 'data', 'teacher', 'teacher_params').")
      .def("__repr__", [](const TeacherStudent& t) {
        return "TeacherStudent(teacher=" + t.teacher.describe() +
               ", d=" + std::to_string(t.data.size()) + ")";
      });

  m.def("builtin_datasets", &builtin_dataset_names, "Names accepted by load_dataset.");
  m.def(
      "load_dataset",
      [](const std::string& name, Index n_points, bool standardize, bool one_hot,
         std::uint64_t seed) {
        return load_builtin(
            name,
            {.standardize = standardize, .one_hot = one_hot, .n_points = n_points, .seed = seed});
      },
      py::arg("name"), py::arg("n_points") = BuiltinOptions{}.n_points,
      py::arg("standardize") = BuiltinOptions{}.standardize,
      py::arg("one_hot") = BuiltinOptions{}.one_hot, py::arg("seed") = BuiltinOptions{}.seed,
      "A built-in dataset (digits, iris, wine, breast_cancer). n_points -1: all rows, else a "
      "seeded subset of distinct rows; standardize z-scores the features; one_hot: y one-hot "
      "(else the class label as one column).");
  m.def("load_xy", &load_xy, py::arg("x_path"), py::arg("y_path"),
        "A Dataset from .npy / .csv / .csv.gz files (CSV without header).");
  m.def("gaussian_data", &gaussian_data, py::arg("n_points"), py::arg("input_dim"),
        py::arg("output_dim"), py::arg("seed"), "x ~ N(0, I_p), y ~ N(0, I_l), seeded.");
  m.def(
      "teacher_student",
      [](const Mlp& teacher, Index n_points, std::uint64_t seed, std::uint64_t teacher_seed,
         const std::string& teacher_init) {
        return teacher_student(
            {.teacher = teacher.spec(),
             .n_points = n_points,
             .seed = seed,
             .init = {.scheme = parse_init_scheme(teacher_init), .seed = teacher_seed}});
      },
      py::arg("teacher"), py::arg("n_points") = TeacherOptions{}.n_points,
      py::arg("seed") = TeacherOptions{}.seed, py::arg("teacher_seed") = InitOptions{}.seed,
      py::arg("teacher_init") = std::string(to_string(TeacherOptions{}.init.scheme)),
      "x ~ N(0, I) seeded by seed, y = teacher(x) with teacher parameters drawn by teacher_init "
      "(glorot|he|normal) with teacher_seed (the same data as the CLI's --dataset teacher).");
  m.def("simsek_grid", &simsek_grid, "The 41 x 41 grid on [-5, 5]^2, y = 0.");
  m.def(
      "simsek_teacher",
      [](std::optional<std::string> activation) {
        return activation ? simsek_teacher(parse_activation(*activation)) : simsek_teacher();
      },
      py::arg("activation") = py::none(),
      "Simsek et al.'s [2, 4, 1] teacher (no biases) on the grid (default activation: theirs).");
}

// locus.Objective: the data converted and validated once, then shared by every call (the
// module-level functions convert x and y on each call: two copies and a finiteness scan).
void bind_objective_class(py::module_& m) {
  const auto apply_operator = [](const HessianOperator& h, const py::object& v) {
    const Eigen::VectorXd vv = as_direction(v, h.rows());
    py::gil_scoped_release release;
    return h.apply(vv);
  };
  py::class_<HessianOperator>(
      m, "HessianOperator",
      "H(params) as a matrix-free operator: the forward and backward passes at params are done "
      "once, when it is made; apply(v) (or op @ v) then costs the R-passes alone, about 2/3 of "
      "an hvp() from scratch. Holds a reference to the Objective's data, never a copy.")
      .def_property_readonly("n_params", &HessianOperator::rows)
      .def_property_readonly(
          "shape", [](const HessianOperator& h) { return py::make_tuple(h.rows(), h.cols()); })
      .def_property_readonly("loss", &HessianOperator::loss, "L(params), from the cached pass.")
      .def_property_readonly(
          "gradient", [](const HessianOperator& h) { return Eigen::VectorXd(h.gradient()); },
          "grad L(params), from the cached pass.")
      .def("apply", apply_operator, py::arg("v"),
           "H v, exact (Pearlmutter's R-operator on the cached pass).")
      .def("__matmul__", apply_operator, py::arg("v"));

  py::class_<Objective>(
      m, "Objective",
      "The loss of model on (x, y), with x and y converted, validated and stored once: repeated "
      "calls (an optimizer's, a Lanczos loop's) copy only params. loss: 'squared' or "
      "'cross_entropy'; reduction: 'sum' or 'mean'. Bad shapes or non-finite data: ValueError.")
      .def(
          py::init([](const Mlp& mo, const py::object& x, const py::object& y, const std::string& l,
                      const std::string& r) { return objective(mo, x, y, l, r); }),
          py::arg("model"), py::arg("x"), py::arg("y"), py::arg("loss") = kDefaultLoss,
          py::arg("reduction") = kDefaultReduction)
      .def_property_readonly("model", &Objective::model)
      .def_property_readonly("n_params", &Objective::n_params)
      .def_property_readonly("n_points", [](const Objective& o) { return o.data().size(); })
      .def_property_readonly(
          "loss_kind",
          [](const Objective& o) { return std::string(to_string(o.loss_spec().kind)); })
      .def_property_readonly("reduction", [](const Objective& o) {
        return std::string(to_string(o.loss_spec().reduction));
      });
  auto cls = py::reinterpret_borrow<py::class_<Objective>>(m.attr("Objective"));
  // Each method: params (and v) converted and checked, then the GIL released for the work.
  auto with_params = [&cls](const char* name, auto f, const char* doc) {
    cls.def(
        name,
        [f](const Objective& o, const py::object& t) {
          const Eigen::VectorXd th = as_vector(t, "params");
          o.check_parameters(th, "params");
          py::gil_scoped_release release;
          return f(o, th);
        },
        py::arg("params"), doc);
  };
  with_params(
      "loss", [](const Objective& o, const Eigen::VectorXd& th) { return o.loss(th); },
      "L(params): one forward pass.");
  with_params(
      "gradient", [](const Objective& o, const Eigen::VectorXd& th) { return o.gradient(th); },
      "grad L(params), exact: one forward and one backward pass.");
  with_params(
      "loss_gradient",
      [](const Objective& o, const Eigen::VectorXd& th) {
        auto r = o.loss_gradient(th);
        return std::make_pair(r.loss, std::move(r.gradient));
      },
      "(L, grad L) from one forward and one backward pass.");
  with_params(
      "residuals", [](const Objective& o, const Eigen::VectorXd& th) { return o.residuals(th); },
      "r[i*l + j] = f(x_i)_j - y_ij (squared loss only, else ValueError).");
  with_params(
      "jacobian", [](const Objective& o, const Eigen::VectorXd& th) { return o.jacobian(th); },
      "The residual Jacobian ((l*d) x n), rows ordered as residuals() (squared loss only).");
  with_params(
      "residual_gram",
      [](const Objective& o, const Eigen::VectorXd& th) { return o.residual_gram(th); },
      "J J^T ((l*d) x (l*d)): the empirical neural tangent kernel on the data, formed layer by "
      "layer without J (squared loss only).");
  with_params(
      "hessian", [](const Objective& o, const Eigen::VectorXd& th) { return o.hessian(th); },
      "The dense exact Hessian (n x n; 8 n^2 bytes), symmetric.");
  with_params(
      "gauss_newton",
      [](const Objective& o, const Eigen::VectorXd& th) { return o.gauss_newton(th); },
      "2c J^T J (squared loss only; the Hessian at a zero-loss point).");
  with_params(
      "hessian_operator",
      [](const Objective& o, const Eigen::VectorXd& th) { return o.hessian_operator(th); },
      "H(params) as a HessianOperator: one forward and backward pass now, then each apply(v) "
      "costs the R-passes alone.");
  // Methods of (params, a vector): both converted and checked, then the GIL released.
  auto with_params_and = [&cls](const char* name, const char* arg, auto f, const char* doc) {
    cls.def(
        name,
        [f, arg](const Objective& o, const py::object& t, const py::object& w) {
          const Eigen::VectorXd th = as_vector(t, "params"), wv = as_vector(w, arg);
          o.check_parameters(th, "params");
          py::gil_scoped_release release;
          return f(o, th, wv);
        },
        py::arg("params"), py::arg(arg), doc);
  };
  using Vec = Eigen::VectorXd;
  with_params_and(
      "jacobian_product", "v",
      [](const Objective& o, const Vec& th, const Vec& v) { return o.jacobian_product(th, v); },
      "J v (length l*d, ordered as residuals()): a forward and an R-forward pass, without J "
      "(squared loss only).");
  with_params_and(
      "jacobian_transpose_product", "u",
      [](const Objective& o, const Vec& th, const Vec& u) {
        return o.jacobian_transpose_product(th, u);
      },
      "J^T u (length n) for u of length l*d: a forward and a backward pass, without J (squared "
      "loss only).");
  with_params_and(
      "hvp", "v", [](const Objective& o, const Vec& th, const Vec& v) { return o.hvp(th, v); },
      "H v, exact (Pearlmutter's R-operator: a forward, a backward and the two R-passes). Right "
      "after gradient or loss_gradient at the same params (bit for bit) the first two are "
      "reused; for many products at one point, hessian_operator(params) caches them.");
}

void bind_objective(py::module_& m) {
#define LOCUS_OBJ_ARGS                                             \
  py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"), \
      py::arg("loss") = kDefaultLoss, py::arg("reduction") = kDefaultReduction
  m.def(
      "loss",
      [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y,
         const std::string& l, const std::string& r) {
        const Objective o = objective(mo, x, y, l, r);
        const Eigen::VectorXd th = as_vector(t, "params");
        py::gil_scoped_release release;
        return o.loss(th);
      },
      LOCUS_OBJ_ARGS,
      "L = c sum_i |f(x_i) - y_i|^2 (loss='squared') or softmax cross-entropy; c = 1 "
      "(reduction='sum') or 1/d ('mean').");
  m.def(
      "gradient",
      [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y,
         const std::string& l, const std::string& r) {
        const Objective o = objective(mo, x, y, l, r);
        const Eigen::VectorXd th = as_vector(t, "params");
        py::gil_scoped_release release;
        return o.gradient(th);
      },
      LOCUS_OBJ_ARGS, "Exact gradient of the loss (one forward and one backward pass).");
  m.def(
      "residuals",
      [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y) {
        const Objective o = objective(mo, x, y, "squared", "sum");
        const Eigen::VectorXd th = as_vector(t, "params");
        py::gil_scoped_release release;
        return o.residuals(th);
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      "Residuals r[i*l + j] = f(x_i)_j - y_ij (length l*d).");
  m.def(
      "jacobian",
      [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y) {
        const Objective o = objective(mo, x, y, "squared", "sum");
        const Eigen::VectorXd th = as_vector(t, "params");
        py::gil_scoped_release release;
        return o.jacobian(th);
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      "Residual Jacobian J ((l*d) x n), rows ordered as residuals(); grad L = 2c J^T r.");
  m.def(
      "hvp",
      [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y,
         const py::object& v, const std::string& l, const std::string& r) {
        const Objective o = objective(mo, x, y, l, r);
        const Eigen::VectorXd th = as_vector(t, "params"), vv = as_direction(v, o.n_params());
        py::gil_scoped_release release;
        return o.hvp(th, vv);
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"), py::arg("v"),
      py::arg("loss") = kDefaultLoss, py::arg("reduction") = kDefaultReduction,
      "Exact Hessian-vector product H v (Pearlmutter's R-operator, about 3 gradients).");
  m.def(
      "hessian",
      [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y,
         const std::string& l, const std::string& r, bool progress, const py::object& callback) {
        const Objective o = objective(mo, x, y, l, r);
        const Eigen::VectorXd th = as_vector(t, "params");
        PythonProgress reporter("hessian", progress, callback);
        return reporter.run(
            [&](const ProgressCallback& cb) { return analysis::dense_hessian(o, th, cb); });
      },
      LOCUS_OBJ_ARGS, py::arg("progress") = false, py::arg("callback") = py::none(),
      "Dense exact Hessian (n x n; 8 n^2 bytes): by GEMMs for at most one hidden layer, else\n"
      "from n exact HVPs. progress=True reports 'dense Hessian (GEMM)' or 'dense Hessian (HVP\n"
      "columns)' k of n on stderr (callback: each event).");
  m.def(
      "gauss_newton",
      [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y,
         const std::string& r) {
        const Objective o = objective(mo, x, y, "squared", r);
        const Eigen::VectorXd th = as_vector(t, "params");
        py::gil_scoped_release release;
        return o.gauss_newton(th);
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      py::arg("reduction") = kDefaultReduction,
      "Gauss-Newton matrix 2c J^T J (equals the Hessian at a zero-loss point).");
#undef LOCUS_OBJ_ARGS
  bind_objective_class(m);
}

void bind_derivative_check(py::module_& m) {
  using analysis::DerivativeCheckOptions;
  using analysis::DerivativeCheckResult;
  py::class_<DerivativeCheckResult>(m, "DerivativeCheckResult",
                                    "Exact derivatives vs central differences "
                                    "(locus::analysis::check_derivatives).")
      .def_readonly("passed", &DerivativeCheckResult::passed)
      .def_readonly("message", &DerivativeCheckResult::message)
      .def_property_readonly(
          "comparisons",
          [](const DerivativeCheckResult& r) {
            return py::module_::import("json").attr("loads")(
                analysis::to_json(r)["comparisons"].dump());
          },
          "One dict per comparison: name, reference, max_error, reference_max_abs, "
          "max_relative_error, tolerance, tolerance_rule, worst_coordinate, worst_residual, "
          "passed.")
      .def("to_dict",
           [](const DerivativeCheckResult& r) {
             return py::module_::import("json").attr("loads")(analysis::to_json(r).dump());
           })
      .def("summary", [](const DerivativeCheckResult& r) { return analysis::summary(r); })
      .def("__bool__", [](const DerivativeCheckResult& r) { return r.passed; })
      .def("__repr__", [](const DerivativeCheckResult& r) {
        return "DerivativeCheckResult(passed=" + std::string(r.passed ? "True" : "False") + ", " +
               r.message + ")\n" + analysis::summary(r);
      });
  const DerivativeCheckOptions defaults;
  m.def(
      "check_derivatives",
      [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y,
         const std::string& l, const std::string& r, Index coordinates, int directions,
         std::uint64_t seed, double safety_factor, bool progress, const py::object& callback) {
        const Objective o = objective(mo, x, y, l, r);
        const Eigen::VectorXd th = as_vector(t, "params");
        if (th.size() != o.n_params())
          throw std::invalid_argument("params has length " + std::to_string(th.size()) +
                                      ", the model has " + std::to_string(o.n_params()) +
                                      " parameters");
        const DerivativeCheckOptions options{.coordinates = coordinates,
                                             .directions = directions,
                                             .seed = seed,
                                             .safety_factor = safety_factor};
        PythonProgress reporter("check_derivatives", progress, callback);
        return reporter.run([&](const ProgressCallback& cb) {
          return analysis::check_derivatives(o, th, options, cb);
        });
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      py::arg("loss") = kDefaultLoss, py::arg("reduction") = kDefaultReduction, py::kw_only(),
      py::arg("coordinates") = defaults.coordinates, py::arg("directions") = defaults.directions,
      py::arg("seed") = defaults.seed, py::arg("safety_factor") = defaults.safety_factor,
      py::arg("progress") = false, py::arg("callback") = py::none(),
      "Compare the exact gradient, H v and (squared loss) Jacobian with central differences, "
      "and H v with the dense Hessian and grad L with 2c J^T r, each with a tolerance derived "
      "from eps and the loss's scale (see locus/analysis/derivative_check.hpp). ValueError for "
      "bad arguments; a failed comparison is a result (passed=False), not an exception. "
      "progress=True / callback(event): a stage line as each part starts.");
}

}  // namespace

void bind_core(py::module_& m) {
  m.attr("__version__") = io::version();
  m.attr("git_commit") = io::git_commit();
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Threads locus uses (n >= 1); results are bitwise identical for any count.");
  m.def("num_threads", &num_threads);
  m.def(
      "set_max_memory", [](double gib) { io::set_max_memory_bytes(gib * double(1 << 30)); },
      py::arg("gib"),
      "Refuse work estimated to need more than gib GiB (default: 16 GiB or 3/4 of the physical "
      "memory) with a ValueError naming the input and the estimate, instead of a MemoryError.");
  m.def(
      "max_memory", [] { return io::max_memory_bytes() / double(1 << 30); },
      "The memory limit in GiB (see set_max_memory).");
  m.def(
      "activations",
      [] {
        std::vector<std::string> out;
        for (Activation a : all_activations()) out.emplace_back(to_string(a));
        return out;
      },
      "Names of the hidden activations.");
  bind_mlp(m);
  bind_datasets(m);
  bind_objective(m);
  bind_derivative_check(m);
}

}  // namespace locus::python
