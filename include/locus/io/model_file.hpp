#pragma once
// Models on disk: safetensors with PyTorch nn.Sequential keys, or a flat .npy parameter vector.
//
// safetensors: keys "<prefix><i>.weight" (out x in) and "<prefix><i>.bias" (out) of the Linear
// modules of an nn.Sequential (activation modules sit at the other indices, so i need not be
// consecutive; layers are ordered by i), with any prefix ("", "layers.", "model.net."). The
// architecture is inferred from the shapes; the activation comes from the "activation" metadata
// entry that locus writes, or from LoadModelOptions. The flat vector is the state-dict order,
// which is locus's parameter layout.

#include <Eigen/Core>
#include <optional>
#include <string>

#include "locus/core/mlp.hpp"
#include "locus/io/safetensors.hpp"

namespace locus {

struct ModelFile {
  MlpSpec spec;
  Eigen::VectorXd theta;  // the flat parameter vector in Mlp's layout
};

struct LoadModelOptions {
  // Required for a flat .npy vector (its length must be n_params); for safetensors, checked
  // against the inferred architecture (widths and biases) when given.
  std::optional<MlpSpec> spec;
  // Provides or overrides the activation when the file has none in its metadata.
  std::optional<Activation> activation;
};

// Throws std::invalid_argument naming the path and the problem: unknown extension, unreadable or
// malformed file, keys that are not Linear weights/biases, shapes that do not chain (naming the
// two keys), no activation known, a flat vector of the wrong length, non-finite parameters.
ModelFile load_model(const std::string& path, const LoadModelOptions& options = {});

// .safetensors (keys 0.weight, 0.bias, 2.weight, ... and metadata format/activation/widths/
// mean_field) or a flat .npy vector, by extension; anything else -> std::invalid_argument.
// Atomic.
void save_model(const std::string& path, const Mlp& model, const Eigen::VectorXd& theta,
                io::DType dtype = io::DType::f64);

}  // namespace locus
