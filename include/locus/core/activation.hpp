#pragma once
// Scalar activation functions of locus's MLPs and their first two derivatives.

#include <string_view>
#include <vector>

namespace locus {

// Hidden-layer nonlinearities (the output layer is always the identity).
//   identity  x
//   relu      max(0, x)                      non-smooth at 0: flagged by is_smooth()
//   softplus  log(1 + e^x)
//   tanh      tanh(x)
//   sigmoid   1 / (1 + e^-x)
//   erf       erf(x / sqrt 2)                (so that erf' is the standard normal density * 2)
//   gelu      x * Phi(x),  Phi the standard normal CDF
//   smoolu    x * exp(-1/x) for x > 0, else 0 (Cooper Def 3.2: C^inf, rectified, all derivatives
//             vanish at 0; exp(-1/x) is never evaluated for x <= 0)
//   g         sigmoid(4x) + softplus(x)      (Simsek et al.'s non-odd, non-even test function)
enum class Activation { identity, relu, softplus, tanh, sigmoid, erf, gelu, smoolu, g };

std::string_view to_string(Activation a);
// Parses the names above; throws std::invalid_argument listing the valid names otherwise.
Activation parse_activation(std::string_view name);
// Every activation name, in declaration order (for help texts and error messages).
const std::vector<Activation>& all_activations();

// False only for relu, whose second derivative is a Dirac mass at 0: Hessians of relu networks
// drop it, so results that need C^2 (Hessian spectra, Newton) say so for relu.
bool is_smooth(Activation a);
// True when sigma(x) = 0 for all x <= 0 and sigma is strictly increasing on x > 0 (Cooper's
// "rectified"): relu and smoolu.
bool is_rectified(Activation a);

// sigma(x), sigma'(x), sigma''(x) at one point. Cost O(1); never produces NaN for finite x.
struct ActivationValues {
  double value, first, second;
};
ActivationValues activation_values(Activation a, double x);
double activate(Activation a, double x);

// The same on n contiguous values, vectorised (SIMD exp/log1p where the activation allows):
// value[i] = sigma(z[i]); when first / second are non-null also sigma'(z[i]) / sigma''(z[i]).
// Agrees with activation_values() to a few ulps. Cost O(n).
void activation_batch(Activation a, const double* z, long n, double* value, double* first,
                      double* second);

}  // namespace locus
