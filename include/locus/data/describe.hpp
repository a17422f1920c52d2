#pragma once
// A dataset at a glance: sizes, per-column ranges and means, class counts when the targets are
// labels, and whether the inputs are distinct (interpolation results need distinct x_i).
//
//   const auto desc = locus::describe(locus::load({.dataset = "iris"}));
//   std::cout << locus::summary(desc);   // "dataset iris: d = 150 points, p = 4 inputs, ..."
//
// A description is a measurement that cannot fail on a valid Dataset, so it carries no status.

#include <map>
#include <string>
#include <vector>

#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"  // Index
#include "locus/io/json.hpp"

namespace locus {

// min, max and mean of one column.
struct ColumnSummary {
  double min = 0.0, max = 0.0, mean = 0.0;
};

struct DataDescription {
  std::string name;
  Index n_points = 0, input_dim = 0, output_dim = 0;  // d, p, l
  double feature_min = 0.0, feature_max = 0.0;        // over all of x
  std::vector<ColumnSummary> features;                // one per column of x
  std::vector<ColumnSummary> targets;                 // one per column of y
  // Class -> count when y is one-hot (class = column) or one column of at most 100 distinct
  // integers (class = value); empty when the targets are not class labels.
  std::map<long, long> label_counts;
  bool distinct_inputs = true;
  std::string duplicate;  // when !distinct_inputs: Dataset::require_distinct_inputs's message
};

// Cost: O(d (p + l)) for the columns, O(d log d * p) for the distinctness test. Throws
// std::invalid_argument for an empty dataset (d = 0).
DataDescription describe(const Dataset& data);

// {"name", "n_points", "input_dim", "output_dim", "features": [{min, max, mean}], "targets":
// [...], "label_counts": {"0": 50, ...} (only for labels), "distinct_inputs", "duplicate" (only
// when not distinct)}.
io::Json to_json(const DataDescription& description);

// Text block: the sizes, the overall feature range, up to max_columns feature and target lines
// ("... k more" after them), the label counts and the distinctness verdict.
std::string summary(const DataDescription& description, Index max_columns = 16);

}  // namespace locus
