#pragma once
// Where a Dataset comes from, as one options struct: a built-in real dataset, a generator
// (Gaussian, teacher-student, Simsek et al.'s grid) or a pair of files. The CLI's data flags
// (--dataset, --x, --y, --n-points, ...), Python's locus.load_data(...) keywords and the JSON
// context all name these fields (flag = "--" + field with '_' -> '-').
//
//   locus::DataSource src{.dataset = "teacher", .n_points = 200, .teacher_arch = "10,4,1"};
//   locus::Dataset data = locus::load(src, model.spec());  // student's activation for the teacher
//
//   locus::Dataset iris = locus::load({.dataset = "iris", .standardize = true});

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"
#include "locus/io/json.hpp"

namespace locus {

// How an interface spells a field in messages: the CLI maps "n_points" to "--n-points"; the
// default (an empty function) keeps the field name, which is also the Python keyword.
using FieldNamer = std::function<std::string(std::string_view field)>;

struct DataSource {
  // digits | iris | wine | breast_cancer (built-in, builtin.hpp), gaussian | teacher | grid
  // (synthetic.hpp); empty: read x and y from files.
  std::string dataset;
  std::string x;  // inputs file, d x p (.npy, .csv, .csv.gz; CSV without header)
  std::string y;  // targets file, d x l (or a vector of length d)
  // Number of points d. -1: the source's default (built-in: all rows; teacher: 100; gaussian:
  // required). Built-in data: a data_seed-seeded subset of distinct rows.
  Index n_points = -1;
  bool standardize = false;        // built-in: z-score every feature column
  std::string labels = "onehot";   // built-in: onehot (l = classes) | scalar (y = the label)
  std::uint64_t data_seed = 0;     // seeds the subset (built-in) or the draw of x (gaussian,
                                   // teacher) and y (gaussian)
  Index input_dim = -1;            // gaussian: p; -1: the model's input width
  Index output_dim = -1;           // gaussian: l; -1: the model's output width, else 1
  std::string teacher_arch;        // teacher: widths "p,h,...,l" (required for teacher)
  std::string teacher_activation;  // teacher: empty = the model's (else MlpSpec's default);
                                   // grid: empty = Simsek et al.'s sigmoid
  // teacher: glorot | he | normal parameters (default: InitOptions's)
  std::string teacher_init = std::string(to_string(InitOptions{}.scheme));
  std::uint64_t teacher_seed = 0;  // teacher: seeds its parameters

  // Checks each field on its own and the combinations (dataset xor files, x with y, gaussian
  // needs n_points, teacher needs teacher_arch, known names). Throws std::invalid_argument whose
  // message names the field as namer spells it.
  void validate(const FieldNamer& namer = {}) const;
};

// The dataset the source describes, validated (Dataset::validate). `model`, when given, supplies
// defaults: the Gaussian dimensions and the teacher's activation. Cost: that of the source (a
// file read, a table parse once per process, or one teacher forward pass).
// Throws std::invalid_argument naming the field (via namer) or the file for bad input.
Dataset load(const DataSource& source, const std::optional<MlpSpec>& model = std::nullopt,
             const FieldNamer& namer = {});

// Every field, by name, in declaration order (the resolved options of a JSON context block).
io::Json to_json(const DataSource& source);

// Names accepted by DataSource::dataset: the built-in ones, then gaussian, teacher, grid.
std::vector<std::string> data_source_names();

// "10,4,1" -> {10, 4, 1}. Throws std::invalid_argument naming `field` (as given) for an entry
// that is not a positive integer or fewer than two widths.
std::vector<Index> parse_widths(std::string_view text, std::string_view field);
// "4,8,16" -> {4, 8, 16}: a list of one or more positive integers (a study's hidden widths).
// Throws std::invalid_argument naming `field` for an entry that is not a positive integer.
std::vector<Index> parse_width_list(std::string_view text, std::string_view field);

}  // namespace locus
