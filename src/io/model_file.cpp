#include "locus/io/model_file.hpp"

#include <charconv>
#include <map>
#include <regex>
#include <stdexcept>

#include "locus/io/atomic_file.hpp"
#include "locus/io/npy.hpp"

namespace locus {

namespace {

std::string widths_string(const std::vector<Index>& w) {
  std::string s = "[";
  for (size_t k = 0; k < w.size(); ++k) {
    if (k) s += ',';
    s += std::to_string(w[k]);
  }
  s += ']';
  return s;
}

// The network whose shapes the file holds; a problem (a zero width, a size beyond the memory
// limit) is reported under the file's name.
Mlp file_model(const std::string& path, const MlpSpec& spec) {
  try {
    return Mlp(spec);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("'" + path + "': " + e.what());
  }
}

void check_against(const std::string& path, const MlpSpec& inferred, const MlpSpec& given) {
  if (inferred.widths != given.widths)
    throw std::invalid_argument("'" + path + "' holds a network " + widths_string(inferred.widths) +
                                " but the architecture given is " + widths_string(given.widths));
  const Mlp a = file_model(path, inferred), b(given);
  for (int k = 0; k < a.n_layers(); ++k)
    if (a.has_bias(k) != b.has_bias(k))
      throw std::invalid_argument("'" + path + "': layer " + std::to_string(k) +
                                  (a.has_bias(k) ? " has" : " has no") +
                                  " bias, unlike the architecture given");
}

}  // namespace

ModelFile load_model(const std::string& path, const LoadModelOptions& options) {
  ModelFile out;
  if (io::has_suffix(path, ".npy")) {
    if (!options.spec)
      throw std::invalid_argument("'" + path +
                                  "' is a flat parameter vector: the architecture (--arch) is "
                                  "needed to read it");
    out.spec = *options.spec;
    if (options.activation) out.spec.activation = *options.activation;
    const Mlp model(out.spec);  // before the file is read: its size is known from the spec
    out.theta = io::read_npy_vector(path);
    model.check_parameters(out.theta, "'" + path + "'");
    return out;
  }
  if (!io::has_suffix(path, ".safetensors"))
    throw std::invalid_argument("'" + path + "': unknown model format (use .safetensors or .npy)");
  const io::TensorFile file = io::read_safetensors(path);
  // Linear layers by their Sequential index.
  struct Layer {
    const io::Tensor* weight = nullptr;
    const io::Tensor* bias = nullptr;
    std::string weight_key;
  };
  std::map<long, Layer> layers;
  const std::regex key(R"(^(.*?)(\d+)\.(weight|bias)$)");
  std::string prefix;
  bool first = true;
  for (const auto& [name, t] : file.tensors) {
    std::smatch m;
    if (!std::regex_match(name, m, key))
      throw std::invalid_argument("'" + path + "': tensor '" + name +
                                  "' is not an nn.Sequential Linear weight or bias "
                                  "('<i>.weight' / '<i>.bias')");
    if (first) prefix = m[1], first = false;
    if (m[1] != prefix)
      throw std::invalid_argument("'" + path + "': tensors have different prefixes ('" + prefix +
                                  "' and '" + std::string(m[1]) + "')");
    // The Sequential index: digits only (the regex), but possibly beyond 64 bits.
    long index = 0;
    const std::string digits = m[2];
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec != std::errc() || end != digits.data() + digits.size())
      throw std::invalid_argument("'" + path + "': tensor '" + name + "' has a layer index " +
                                  digits + " beyond the 64-bit range");
    Layer& l = layers[index];
    if (m[3] == "weight") {
      if (t.shape.size() != 2)
        throw std::invalid_argument("'" + path + "': weight '" + name + "' is not 2-D");
      l.weight = &t;
      l.weight_key = name;
    } else {
      if (t.shape.size() != 1)
        throw std::invalid_argument("'" + path + "': bias '" + name + "' is not 1-D");
      l.bias = &t;
    }
  }
  if (layers.empty()) throw std::invalid_argument("'" + path + "': no tensors");
  MlpSpec spec;
  std::string prev_key;
  for (const auto& [index, l] : layers) {
    if (!l.weight)
      throw std::invalid_argument("'" + path + "': layer " + std::to_string(index) +
                                  " has a bias but no weight");
    const Index out_dim = l.weight->shape[0], in_dim = l.weight->shape[1];
    if (spec.widths.empty())
      spec.widths.push_back(in_dim);
    else if (spec.widths.back() != in_dim)
      throw std::invalid_argument("'" + path + "': '" + l.weight_key + "' takes " +
                                  std::to_string(in_dim) + " inputs but '" + prev_key + "' has " +
                                  std::to_string(spec.widths.back()) + " outputs");
    if (l.bias && l.bias->shape[0] != out_dim)
      throw std::invalid_argument("'" + path + "': bias of layer " + std::to_string(index) +
                                  " has length " + std::to_string(l.bias->shape[0]) +
                                  ", expected " + std::to_string(out_dim));
    spec.widths.push_back(out_dim);
    spec.bias.push_back(l.bias != nullptr);
    prev_key = l.weight_key;
  }
  if (auto it = file.metadata.find("activation"); it != file.metadata.end()) try {
      spec.activation = parse_activation(it->second);
    } catch (const std::invalid_argument& e) {
      if (!options.activation)
        throw std::invalid_argument("'" + path + "': metadata \"activation\": " + e.what());
    }
  else if (!options.activation)
    throw std::invalid_argument("'" + path +
                                "' has no activation in its metadata; pass --activation "
                                "(Python: activation=...)");
  if (options.activation) spec.activation = *options.activation;
  if (auto it = file.metadata.find("mean_field"); it != file.metadata.end())
    spec.mean_field = it->second == "true";
  if (options.spec) {
    check_against(path, spec, *options.spec);
    spec.mean_field = options.spec->mean_field;
  }
  const Mlp model = file_model(path, spec);
  out.theta.resize(model.n_params());
  int k = 0;
  for (const auto& [index, l] : layers) {
    const LayerSlice& s = model.layer(k++);
    // Both the tensor and locus store W row-major (out x in): a straight copy.
    std::copy(l.weight->data.begin(), l.weight->data.end(), out.theta.data() + s.weight_offset);
    if (l.bias)
      std::copy(l.bias->data.begin(), l.bias->data.end(), out.theta.data() + s.bias_offset);
  }
  model.check_parameters(out.theta, "'" + path + "'");
  out.spec = spec;
  return out;
}

void save_model(const std::string& path, const Mlp& model, const Eigen::VectorXd& theta,
                io::DType dtype) {
  model.check_parameters(theta);
  if (io::has_suffix(path, ".npy")) {
    io::write_npy(path, theta);
    return;
  }
  if (!io::has_suffix(path, ".safetensors"))
    throw std::invalid_argument("cannot write '" + path +
                                "': unknown model format (use .safetensors or .npy)");
  io::TensorFile file;
  file.metadata = {{"format", "locus"},
                   {"activation", std::string(to_string(model.activation()))},
                   {"widths", widths_string(model.spec().widths)},
                   {"mean_field", model.spec().mean_field ? "true" : "false"}};
  for (int k = 0; k < model.n_layers(); ++k) {
    const LayerSlice& s = model.layer(k);
    // nn.Sequential(Linear, act, Linear, ...): Linear k sits at index 2k.
    io::Tensor w{{s.out, s.in}, {}, dtype};
    w.data.assign(theta.data() + s.weight_offset, theta.data() + s.weight_offset + s.in * s.out);
    file.tensors.push_back({std::to_string(2 * k) + ".weight", std::move(w)});
    if (s.bias_offset >= 0) {
      io::Tensor b{{s.out}, {}, dtype};
      b.data.assign(theta.data() + s.bias_offset, theta.data() + s.bias_offset + s.out);
      file.tensors.push_back({std::to_string(2 * k) + ".bias", std::move(b)});
    }
  }
  io::write_safetensors(path, file, dtype);
}

}  // namespace locus
