// Analyze a trained model stored as safetensors, as PyTorch writes it: an nn.Sequential of
// Linear layers (keys 0.weight, 0.bias, 2.weight, ...), parameters in float32 or float64.
//
// The program first writes such a file itself (a small network on the iris data), so that it
// runs anywhere; point `path` at your own file and `data` at your own data to analyze a real
// model. It then loads the file (the architecture is inferred from the tensor shapes), and
// reports the loss, the gradient, the Jacobian rank and the Hessian inertia with the
// classification of the point and the tolerances that decided it. Exits 1 if the loaded
// parameters do not give the loss of the saved ones bit for bit.
//
//   build/examples/example_analyze_model_file [model.safetensors]

#include <cstdio>
#include <filesystem>
#include <string>

#include "locus/analysis/geometry.hpp"
#include "locus/core/objective.hpp"
#include "locus/data/source.hpp"
#include "locus/io/model_file.hpp"

int main(int argc, char** argv) {
  // The data: 40 iris flowers, standardized, one-hot labels (l = 3).
  const locus::Dataset data = locus::load({.dataset = "iris", .n_points = 40, .standardize = true});

  std::string path;
  double saved_loss = -1;
  if (argc > 1) {
    path = argv[1];
  } else {
    // Stand-in for a PyTorch export: [4, 8, 3] tanh network with random (glorot) weights.
    const locus::Mlp net({.widths = {4, 8, 3}, .activation = locus::Activation::tanh});
    const Eigen::VectorXd theta = net.init_parameters({.seed = 3});
    path = (std::filesystem::temp_directory_path() / "locus_example_model.safetensors").string();
    locus::save_model(path, net, theta);
    saved_loss = locus::Objective(net, data).loss(theta);
  }

  const locus::ModelFile file = locus::load_model(path);
  const locus::Mlp model(file.spec);
  const locus::Objective loss(model, data);
  std::printf("model %s from %s\n", model.describe().c_str(), path.c_str());

  // Every check of analyze_point: loss, gradient, J's rank, dense Hessian inertia, class.
  const auto a = locus::analysis::analyze_point(loss, file.theta);
  std::printf("loss %.6e, |grad|_inf %.3e\n", a.loss, a.gradient_max_norm);
  std::printf("rank J = %ld of %ld residuals (tolerance %.2e)\n", long(a.jacobian.rank),
              long(a.n_residuals), a.jacobian.tolerance);
  std::printf("Hessian: %ld positive, %ld zero, %ld negative (tolerance %.2e)\n",
              long(a.hessian.counts.positive), long(a.hessian.counts.zero),
              long(a.hessian.counts.negative), a.hessian.counts.tolerance);
  std::printf("classification: %s (%s)\n",
              std::string(locus::analysis::to_string(a.classification)).c_str(), a.reason.c_str());

  if (argc == 1) {
    std::filesystem::remove(path);
    if (a.loss != saved_loss) {  // float64 round trip: the same parameters, the same arithmetic
      std::printf("loaded loss %.17g != saved loss %.17g\n", a.loss, saved_loss);
      return 1;
    }
  }
  return 0;
}
