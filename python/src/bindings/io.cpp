// Bindings of the file formats (.npy, CSV, safetensors, models on disk) and of the data sources
// (locus.load_data, locus.describe_data).
#include <stdexcept>

#include "bindings.hpp"
#include "locus/data/describe.hpp"
#include "locus/data/source.hpp"
#include "locus/io/csv.hpp"
#include "locus/io/model_file.hpp"
#include "locus/io/npy.hpp"
#include "locus/io/safetensors.hpp"

namespace locus::python {

void bind_io(py::module_& m);

namespace {

io::DType parse_dtype(const std::string& dtype) {
  if (dtype == "f64") return io::DType::f64;
  if (dtype == "f32") return io::DType::f32;
  throw std::invalid_argument("dtype '" + dtype + "': use 'f64' or 'f32'");
}

// A C-order float64 numpy array of the given shape holding data (row-major).
py::array_t<double> to_numpy(const std::vector<Index>& shape, const std::vector<double>& data) {
  py::array_t<double> out(std::vector<py::ssize_t>(shape.begin(), shape.end()));
  std::copy(data.begin(), data.end(), out.mutable_data());
  return out;
}

// Shape and row-major data of any real numeric array (refuses complex/object/strings).
io::Tensor to_tensor(const py::object& a, const std::string& name) {
  py::array raw = py::array::ensure(a);
  if (!raw) {
    PyErr_Clear();
    throw std::invalid_argument(name + " must be a numeric array");
  }
  const char kind = raw.dtype().kind();
  if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f')
    throw std::invalid_argument(name + " must be a real numeric array, got dtype " +
                                std::string(py::str(raw.dtype())));
  const auto c = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(raw);
  io::Tensor t;
  for (py::ssize_t k = 0; k < c.ndim(); ++k) t.shape.push_back(c.shape(k));
  t.data.assign(c.data(), c.data() + c.size());
  return t;
}

// A JSON value as the Python object json.loads makes of it (dict, list, float, ...).
py::object to_python(const io::Json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

// teacher_arch as "10,4,1" or as a sequence of widths.
std::string widths_text(const py::object& widths) {
  if (py::isinstance<py::str>(widths)) return widths.cast<std::string>();
  std::string text;
  for (const auto& w : widths) text += (text.empty() ? "" : ",") + std::string(py::str(w));
  return text;
}

void bind_data_sources(py::module_& m) {
  const DataSource defaults;
  m.def(
      "load_data",
      [](const std::string& dataset, const std::string& x, const std::string& y, Index n_points,
         bool standardize, const std::string& labels, std::uint64_t data_seed, Index input_dim,
         Index output_dim, const py::object& teacher_arch, const std::string& teacher_activation,
         const std::string& teacher_init, std::uint64_t teacher_seed,
         const std::optional<Mlp>& model) {
        const DataSource s{.dataset = dataset,
                           .x = x,
                           .y = y,
                           .n_points = n_points,
                           .standardize = standardize,
                           .labels = labels,
                           .data_seed = data_seed,
                           .input_dim = input_dim,
                           .output_dim = output_dim,
                           .teacher_arch = widths_text(teacher_arch),
                           .teacher_activation = teacher_activation,
                           .teacher_init = teacher_init,
                           .teacher_seed = teacher_seed};
        std::optional<MlpSpec> spec;
        if (model) spec = model->spec();
        py::gil_scoped_release release;
        return load(s, spec);
      },
      py::kw_only(), py::arg("dataset") = defaults.dataset, py::arg("x") = defaults.x,
      py::arg("y") = defaults.y, py::arg("n_points") = defaults.n_points,
      py::arg("standardize") = defaults.standardize, py::arg("labels") = defaults.labels,
      py::arg("data_seed") = defaults.data_seed, py::arg("input_dim") = defaults.input_dim,
      py::arg("output_dim") = defaults.output_dim, py::arg("teacher_arch") = defaults.teacher_arch,
      py::arg("teacher_activation") = defaults.teacher_activation,
      py::arg("teacher_init") = defaults.teacher_init,
      py::arg("teacher_seed") = defaults.teacher_seed, py::arg("model") = py::none(),
      "A Dataset from a built-in name (digits, iris, wine, breast_cancer), a generator "
      "(gaussian, teacher, grid) or x/y files, with the same keywords and defaults as the CLI's "
      "data flags (locus::DataSource). model (an Mlp) supplies the Gaussian dimensions and the "
      "teacher's activation. ValueError naming the keyword or file for bad input.");
  m.def("data_sources", &data_source_names, "Names accepted by load_data(dataset=...).");

  py::class_<DataDescription>(m, "DataDescription",
                              "Sizes, column ranges, label counts and input distinctness of a "
                              "dataset (locus::describe).")
      .def_readonly("name", &DataDescription::name)
      .def_readonly("n_points", &DataDescription::n_points)
      .def_readonly("input_dim", &DataDescription::input_dim)
      .def_readonly("output_dim", &DataDescription::output_dim)
      .def_readonly("label_counts", &DataDescription::label_counts)
      .def_readonly("distinct_inputs", &DataDescription::distinct_inputs)
      .def_readonly("duplicate", &DataDescription::duplicate)
      .def_property_readonly(
          "features", [](const DataDescription& d) { return to_python(to_json(d)["features"]); },
          "One {min, max, mean} dict per input column.")
      .def_property_readonly(
          "targets", [](const DataDescription& d) { return to_python(to_json(d)["targets"]); },
          "One {min, max, mean} dict per target column.")
      .def(
          "to_dict", [](const DataDescription& d) { return to_python(to_json(d)); },
          "The JSON form (the body of `locus data describe --json`).")
      .def("summary", [](const DataDescription& d) { return summary(d); })
      .def("__repr__", [](const DataDescription& d) { return summary(d); });
  m.def(
      "describe_data",
      [](const Dataset& data) {
        py::gil_scoped_release release;
        return describe(data);
      },
      py::arg("data"), "Describe a Dataset (from load_data, load_dataset, Dataset(x, y), ...).");
}

}  // namespace

void bind_io(py::module_& m) {
  m.def(
      "read_npy",
      [](const std::string& path) {
        const io::NpyArray a = io::read_npy(path);
        return to_numpy(a.shape, a.data);
      },
      py::arg("path"),
      "A .npy file as a float64 array of its shape (f8/f4/int/uint/bool, C or F order). "
      "ValueError naming the path for missing, truncated or malformed files.");
  m.def(
      "write_npy",
      [](const std::string& path, const py::object& a) {
        const io::Tensor t = to_tensor(a, "array");
        if (t.shape.size() == 1) {
          io::write_npy(path, Eigen::Map<const Eigen::VectorXd>(t.data.data(), t.shape[0]).eval());
        } else if (t.shape.size() == 2) {
          using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
          const Eigen::MatrixXd mat =
              Eigen::Map<const RowMajor>(t.data.data(), t.shape[0], t.shape[1]);
          io::write_npy(path, mat);
        } else {
          throw std::invalid_argument("write_npy: array must be 1-D or 2-D, got " +
                                      std::to_string(t.shape.size()) + "-D");
        }
      },
      py::arg("path"), py::arg("array"), "Writes '<f8' (1-D or 2-D), atomically.");
  m.def(
      "read_csv",
      [](const std::string& path, int skip_rows, char delimiter) {
        return io::read_csv(path, {.skip_rows = skip_rows, .delimiter = delimiter});
      },
      py::arg("path"), py::arg("skip_rows") = io::CsvOptions{}.skip_rows,
      py::arg("delimiter") = io::CsvOptions{}.delimiter,
      "A numeric CSV (plain or gzip) as a 2-D float64 array; ValueError naming the path, line "
      "and column of a bad cell.");
  m.def(
      "write_csv",
      [](const std::string& path, const py::object& a, std::vector<std::string> header) {
        io::write_csv(path, header, as_matrix(a, "array"));
      },
      py::arg("path"), py::arg("array"), py::arg("header"),
      "A header line, then the rows with 17 significant digits; atomically.");
  m.def(
      "read_safetensors",
      [](const std::string& path) {
        const io::TensorFile f = io::read_safetensors(path);
        py::dict tensors;
        for (const auto& [name, t] : f.tensors) tensors[py::str(name)] = to_numpy(t.shape, t.data);
        return py::make_tuple(tensors, f.metadata);
      },
      py::arg("path"),
      "(tensors: dict name -> float64 array in file order, metadata: dict) from a safetensors "
      "file (F64/F32/F16/BF16).");
  m.def(
      "write_safetensors",
      [](const std::string& path, const py::dict& tensors,
         std::map<std::string, std::string> metadata, const std::string& dtype) {
        io::TensorFile f;
        for (const auto& [key, value] : tensors) {
          const std::string name = py::str(key);
          f.tensors.emplace_back(
              name, to_tensor(py::reinterpret_borrow<py::object>(value), "tensor '" + name + "'"));
        }
        f.metadata = std::move(metadata);
        io::write_safetensors(path, f, parse_dtype(dtype));
      },
      py::arg("path"), py::arg("tensors"),
      py::arg("metadata") = std::map<std::string, std::string>{}, py::arg("dtype") = "f64",
      "Writes the tensors in dict order as F64 or F32, atomically.");
  m.def(
      "load_model",
      [](const std::string& path, std::optional<std::vector<Index>> widths,
         std::optional<std::string> activation, std::optional<std::vector<bool>> bias,
         bool mean_field) {
        LoadModelOptions o;
        if (activation) o.activation = parse_activation(*activation);
        if (widths) {
          o.spec = MlpSpec{.widths = *widths};
          if (activation) o.spec->activation = *o.activation;
          if (bias) o.spec->bias = *bias;
          o.spec->mean_field = mean_field;
        }
        ModelFile f = load_model(path, o);
        return py::make_tuple(Mlp(f.spec), f.theta);
      },
      py::arg("path"), py::arg("widths") = py::none(), py::arg("activation") = py::none(),
      py::arg("bias") = py::none(), py::arg("mean_field") = false,
      "(model, params) from safetensors (PyTorch nn.Sequential keys, any prefix; the "
      "architecture is inferred and checked against widths when given) or from a flat .npy "
      "(needs widths). activation provides or overrides the file's.");
  m.def(
      "save_model",
      [](const std::string& path, const Mlp& model, const py::object& params,
         const std::string& dtype) {
        save_model(path, model, as_vector(params, "params"), parse_dtype(dtype));
      },
      py::arg("path"), py::arg("model"), py::arg("params"), py::arg("dtype") = "f64",
      ".safetensors (keys 0.weight, 0.bias, 2.weight, ..., with the architecture in the "
      "metadata) or a flat .npy, by extension; atomically.");

  bind_data_sources(m);
}

}  // namespace locus::python
