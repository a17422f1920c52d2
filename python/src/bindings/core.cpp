// Bindings of the core: Mlp, the loss and its exact derivatives, datasets, files.
#include <cmath>
#include <stdexcept>

#include "bindings.hpp"
#include "locus/datasets.hpp"
#include "locus/io/json.hpp"
#include "locus/io/npy.hpp"
#include "locus/loss.hpp"
#include "locus/model_file.hpp"

namespace locus::python {

Eigen::MatrixXd as_matrix(const py::object& a, const char* name) {
  py::array_t<double, py::array::f_style | py::array::forcecast> arr;
  try {
    arr = py::array_t<double, py::array::f_style | py::array::forcecast>::ensure(a);
  } catch (const py::error_already_set&) {
  }
  if (!arr) throw std::invalid_argument(std::string(name) + " must be a numeric array");
  if (arr.ndim() == 1) {
    Eigen::MatrixXd m = Eigen::Map<const Eigen::VectorXd>(arr.data(), arr.shape(0));
    return m;
  }
  if (arr.ndim() != 2)
    throw std::invalid_argument(std::string(name) + " must be 1-D or 2-D, got " +
                                std::to_string(arr.ndim()) + "-D");
  Eigen::MatrixXd m = Eigen::Map<const Eigen::MatrixXd>(arr.data(), arr.shape(0), arr.shape(1));
  return m;
}

Eigen::VectorXd as_vector(const py::object& a, const char* name) {
  const Eigen::MatrixXd m = as_matrix(a, name);
  if (m.cols() != 1)
    throw std::invalid_argument(std::string(name) + " must be a 1-D array, got shape (" +
                                std::to_string(m.rows()) + ", " + std::to_string(m.cols()) + ")");
  return m.col(0);
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

py::dict dataset_dict(const Dataset& d) {
  py::dict out;
  out["x"] = d.x;
  out["y"] = d.y;
  out["name"] = d.name;
  return out;
}

}  // namespace

void bind_core(py::module_& m) {
  m.attr("__version__") = io::version();
  m.attr("git_commit") = io::git_commit();
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Threads used by locus (results are bitwise identical for any count).");
  m.def("num_threads", &num_threads);
  m.def("activations", [] {
    std::vector<std::string> out;
    for (Activation a : all_activations()) out.emplace_back(to_string(a));
    return out;
  });

  py::class_<Mlp>(m, "Mlp", "MLP [p, h1, ..., hL, l]; parameters in one flat vector, layer by layer: "
                            "W row-major (out x in), then b (PyTorch nn.Sequential state-dict order).")
      .def(py::init([](std::vector<Index> widths, const std::string& activation,
                       std::optional<std::vector<bool>> bias, bool mean_field) {
             MlpSpec s{.widths = std::move(widths), .activation = parse_activation(activation)};
             if (bias) s.bias = *bias;
             s.mean_field = mean_field;
             return Mlp(s);
           }),
           py::arg("widths"), py::arg("activation") = std::string(to_string(MlpSpec{}.activation)),
           py::arg("bias") = py::none(), py::arg("mean_field") = false)
      .def_property_readonly("widths", [](const Mlp& a) { return a.spec().widths; })
      .def_property_readonly("activation", [](const Mlp& a) { return std::string(to_string(a.activation())); })
      .def_property_readonly("bias", [](const Mlp& a) {
        std::vector<bool> b;
        for (int k = 0; k < a.n_layers(); ++k) b.push_back(a.has_bias(k));
        return b;
      })
      .def_property_readonly("mean_field", [](const Mlp& a) { return a.spec().mean_field; })
      .def_property_readonly("n_params", &Mlp::n_params)
      .def_property_readonly("n_layers", &Mlp::n_layers)
      .def("layer", [](const Mlp& a, int k) {
             const LayerSlice& s = a.layer(k);
             py::dict d;
             d["in"] = s.in;
             d["out"] = s.out;
             d["weight_offset"] = s.weight_offset;
             d["bias_offset"] = s.bias_offset;
             return d;
           }, py::arg("k"))
      .def("init_parameters",
           [](const Mlp& a, const std::string& scheme, std::uint64_t seed, double std) {
             return a.init_parameters({.scheme = parse_init_scheme(scheme), .seed = seed, .std = std});
           },
           py::arg("scheme") = std::string(to_string(InitOptions{}.scheme)),
           py::arg("seed") = InitOptions{}.seed, py::arg("std") = InitOptions{}.std)
      .def("predict",
           [](const Mlp& a, const py::object& theta, const py::object& x) {
             const Eigen::VectorXd t = as_vector(theta, "params");
             const Eigen::MatrixXd xm = as_matrix(x, "x");
             py::gil_scoped_release release;
             return a.predict(t, xm);
           },
           py::arg("params"), py::arg("x"))
      .def("describe", &Mlp::describe)
      .def("__repr__", [](const Mlp& a) {
        return "Mlp(" + a.describe() + ", n_params=" + std::to_string(a.n_params()) + ")";
      });

#define LOCUS_OBJ_ARGS                                                                         \
  py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),                             \
      py::arg("loss") = std::string(to_string(LossSpec{}.kind)),                               \
      py::arg("reduction") = std::string(to_string(LossSpec{}.reduction))
  m.def("loss",
        [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y,
           const std::string& l, const std::string& r) {
          const Objective o = objective(mo, x, y, l, r);
          const Eigen::VectorXd th = as_vector(t, "params");
          py::gil_scoped_release release;
          return o.loss(th);
        },
        LOCUS_OBJ_ARGS, "L = sum_i |f(x_i) - y_i|^2 (or cross-entropy; reduction sum or mean).");
  m.def("gradient",
        [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y,
           const std::string& l, const std::string& r) {
          const Objective o = objective(mo, x, y, l, r);
          const Eigen::VectorXd th = as_vector(t, "params");
          py::gil_scoped_release release;
          return o.gradient(th);
        },
        LOCUS_OBJ_ARGS, "Exact gradient of the loss.");
  m.def("residuals",
        [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y) {
          const Objective o = objective(mo, x, y, "squared", "sum");
          const Eigen::VectorXd th = as_vector(t, "params");
          py::gil_scoped_release release;
          return o.residuals(th);
        },
        py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
        "Residuals r[i*l + j] = f(x_i)_j - y_ij.");
  m.def("jacobian",
        [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y) {
          const Objective o = objective(mo, x, y, "squared", "sum");
          const Eigen::VectorXd th = as_vector(t, "params");
          py::gil_scoped_release release;
          return o.jacobian(th);
        },
        py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
        "Residual Jacobian J ((l*d) x n), rows ordered as residuals().");
  m.def("hvp",
        [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y,
           const py::object& v, const std::string& l, const std::string& r) {
          const Objective o = objective(mo, x, y, l, r);
          const Eigen::VectorXd th = as_vector(t, "params"), vv = as_vector(v, "v");
          py::gil_scoped_release release;
          return o.hvp(th, vv);
        },
        py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"), py::arg("v"),
        py::arg("loss") = std::string(to_string(LossSpec{}.kind)),
        py::arg("reduction") = std::string(to_string(LossSpec{}.reduction)),
        "Exact Hessian-vector product H v (Pearlmutter's R-operator).");
  m.def("hessian",
        [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y,
           const std::string& l, const std::string& r) {
          const Objective o = objective(mo, x, y, l, r);
          const Eigen::VectorXd th = as_vector(t, "params");
          py::gil_scoped_release release;
          return o.hessian(th);
        },
        LOCUS_OBJ_ARGS, "Dense exact Hessian (n x n), from n exact HVPs.");
  m.def("gauss_newton",
        [](const Mlp& mo, const py::object& t, const py::object& x, const py::object& y,
           const std::string& r) {
          const Objective o = objective(mo, x, y, "squared", r);
          const Eigen::VectorXd th = as_vector(t, "params");
          py::gil_scoped_release release;
          return o.gauss_newton(th);
        },
        py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
        py::arg("reduction") = std::string(to_string(LossSpec{}.reduction)),
        "Gauss-Newton matrix 2c J^T J (equals the Hessian at zero loss).");
#undef LOCUS_OBJ_ARGS

  m.def("builtin_datasets", &builtin_dataset_names);
  m.def("load_dataset",
        [](const std::string& name, Index n_points, bool standardize, bool one_hot,
           std::uint64_t seed) {
          return dataset_dict(load_builtin(name, {.standardize = standardize, .one_hot = one_hot,
                                                  .n_points = n_points, .seed = seed}));
        },
        py::arg("name"), py::arg("n_points") = BuiltinOptions{}.n_points,
        py::arg("standardize") = BuiltinOptions{}.standardize,
        py::arg("one_hot") = BuiltinOptions{}.one_hot, py::arg("seed") = BuiltinOptions{}.seed,
        "A built-in dataset as {'x': d x p, 'y': d x l, 'name'}.");
  m.def("load_xy", [](const std::string& x, const std::string& y) { return dataset_dict(load_xy(x, y)); },
        py::arg("x_path"), py::arg("y_path"));
  m.def("gaussian_data",
        [](Index n, Index p, Index l, std::uint64_t seed) { return dataset_dict(gaussian_data(n, p, l, seed)); },
        py::arg("n_points"), py::arg("input_dim"), py::arg("output_dim") = 1, py::arg("seed") = 0);
  m.def("teacher_student",
        [](const Mlp& teacher, Index n_points, std::uint64_t seed, std::uint64_t teacher_seed) {
          const TeacherStudent ts = teacher_student(
              {.teacher = teacher.spec(), .n_points = n_points, .seed = seed,
               .init = {.scheme = InitScheme::normal, .seed = teacher_seed}});
          py::dict d = dataset_dict(ts.data);
          d["teacher_params"] = ts.teacher_parameters;
          return d;
        },
        py::arg("teacher"), py::arg("n_points") = TeacherOptions{}.n_points, py::arg("seed") = 0,
        py::arg("teacher_seed") = 0, "x ~ N(0, I), y = teacher(x) with N(0,1) teacher parameters.");
  m.def("simsek_teacher", [](const std::string& act) {
          const TeacherStudent ts = simsek_teacher(parse_activation(act));
          py::dict d = dataset_dict(ts.data);
          d["teacher"] = ts.teacher;
          d["teacher_params"] = ts.teacher_parameters;
          return d;
        }, py::arg("activation") = "sigmoid");

  m.def("read_npy", [](const std::string& p) {
    const io::NpyArray a = io::read_npy(p);
    py::array_t<double> out(std::vector<py::ssize_t>(a.shape.begin(), a.shape.end()));
    std::copy(a.data.begin(), a.data.end(), out.mutable_data());
    return out;
  }, py::arg("path"));
  m.def("write_npy", [](const std::string& p, const py::object& a) {
    const py::array arr = py::array::ensure(a);
    if (arr && arr.ndim() == 1) io::write_npy(p, as_vector(a, "array"));
    else io::write_npy(p, as_matrix(a, "array"));
  }, py::arg("path"), py::arg("array"));
  m.def("load_model",
        [](const std::string& path, std::optional<std::string> activation,
           std::optional<std::vector<Index>> widths) {
          LoadModelOptions o;
          if (activation) o.activation = parse_activation(*activation);
          if (widths) {
            o.spec = MlpSpec{.widths = *widths};
            if (activation) o.spec->activation = *o.activation;
          }
          ModelFile f = load_model(path, o);
          return py::make_tuple(Mlp(f.spec), f.parameters);
        },
        py::arg("path"), py::arg("activation") = py::none(), py::arg("widths") = py::none(),
        "(model, params) from safetensors (PyTorch nn.Sequential keys) or a flat .npy (needs widths).");
  m.def("save_model",
        [](const std::string& path, const Mlp& model, const py::object& params, const std::string& dtype) {
          if (dtype != "f64" && dtype != "f32") throw std::invalid_argument("dtype must be 'f64' or 'f32'");
          save_model(path, model, as_vector(params, "params"),
                     dtype == "f64" ? io::DType::f64 : io::DType::f32);
        },
        py::arg("path"), py::arg("model"), py::arg("params"), py::arg("dtype") = "f64");
}

}  // namespace locus::python
