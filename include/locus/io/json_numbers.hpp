#pragma once
// JSON arrays of numbers under io::json_number's rule (a finite double is a JSON number; +inf,
// -inf and NaN are the strings "inf", "-inf" and "nan"), for the vectors in locus's results.

#include <Eigen/Core>
#include <cstddef>
#include <span>

#include "locus/io/json.hpp"

namespace locus::io {

// [json_number(values[0]), ..., json_number(values[n-1])]. O(n); never throws.
inline Json json_numbers(std::span<const double> values) {
  Json a = Json::array();
  for (double v : values) a.push_back(json_number(v));
  return a;
}
inline Json json_numbers(const Eigen::VectorXd& values) {
  return json_numbers(
      std::span<const double>(values.data(), static_cast<std::size_t>(values.size())));
}

}  // namespace locus::io
