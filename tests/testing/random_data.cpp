#include "testing/random_data.hpp"

#include "locus/core/random.hpp"

namespace locus::testing {

Dataset random_data(Eigen::Index d, Eigen::Index p, Eigen::Index l, std::uint64_t seed) {
  Rng rng(seed);
  Dataset data{Eigen::MatrixXd(d, p), Eigen::MatrixXd(d, l), "random"};
  for (Eigen::Index i = 0; i < data.x.size(); ++i) data.x.data()[i] = rng.normal();
  for (Eigen::Index i = 0; i < data.y.size(); ++i) data.y.data()[i] = rng.normal();
  return data;
}

}  // namespace locus::testing
