#include "locus/data/source.hpp"

#include <algorithm>
#include <stdexcept>

#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"

namespace locus {

namespace {

std::string name_of(const FieldNamer& namer, std::string_view field) {
  return namer ? namer(field) : std::string(field);
}

// Runs f(); a std::invalid_argument from a library parser (parse_activation, ...) is rethrown
// prefixed with the field it came from.
template <class F>
auto for_field(const FieldNamer& namer, std::string_view field, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(name_of(namer, field) + ": " + e.what());
  }
}

}  // namespace

std::vector<std::string> data_source_names() {
  std::vector<std::string> names = builtin_dataset_names();
  for (const char* n : {"gaussian", "teacher", "grid"}) names.emplace_back(n);
  return names;
}

std::vector<Index> parse_width_list(std::string_view text, std::string_view field) {
  const std::string t(text), f(field);
  std::vector<Index> w;
  size_t start = 0;
  while (start <= t.size()) {
    const size_t comma = std::min(t.find(',', start), t.size());
    const std::string item = t.substr(start, comma - start);
    size_t used = 0;
    long v = 0;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 1)
      throw std::invalid_argument(f + " '" + t + "': '" + item +
                                  "' is not a positive integer width");
    w.push_back(v);
    start = comma + 1;
  }
  return w;
}

std::vector<Index> parse_widths(std::string_view text, std::string_view field) {
  std::vector<Index> w = parse_width_list(text, field);
  if (w.size() < 2)
    throw std::invalid_argument(std::string(field) + " '" + std::string(text) +
                                "' needs at least two widths p,...,l");
  return w;
}

void DataSource::validate(const FieldNamer& namer) const {
  auto n = [&](std::string_view field) { return name_of(namer, field); };
  const bool files = !x.empty() || !y.empty();
  if (files && !dataset.empty())
    throw std::invalid_argument("give either " + n("dataset") + " or " + n("x") + "/" + n("y") +
                                ", not both");
  if (files && (x.empty() || y.empty()))
    throw std::invalid_argument(n("x") + " and " + n("y") + " must be given together");
  if (!files && dataset.empty())
    throw std::invalid_argument("no data: give " + n("dataset") + " NAME or " + n("x") + " FILE " +
                                n("y") + " FILE");
  if (!dataset.empty()) {
    const auto names = data_source_names();
    if (std::find(names.begin(), names.end(), dataset) == names.end()) {
      std::string valid;
      for (const auto& name : names) valid += (valid.empty() ? "" : ", ") + name;
      throw std::invalid_argument(n("dataset") + " '" + dataset +
                                  "': unknown dataset (valid: " + valid + ")");
    }
  }
  if (n_points < 1 && n_points != -1)
    throw std::invalid_argument(n("n_points") + " must be >= 1 (or -1 for the default), got " +
                                std::to_string(n_points));
  if (labels != "onehot" && labels != "scalar")
    throw std::invalid_argument(n("labels") + " '" + labels + "': use onehot or scalar");
  if (input_dim < 1 && input_dim != -1)
    throw std::invalid_argument(n("input_dim") + " must be >= 1, got " + std::to_string(input_dim));
  if (output_dim < 1 && output_dim != -1)
    throw std::invalid_argument(n("output_dim") + " must be >= 1, got " +
                                std::to_string(output_dim));
  // A field that the chosen source does not read is an error, not silently ignored.
  if (files && n_points != -1)
    throw std::invalid_argument(n("n_points") + " " + std::to_string(n_points) +
                                " does not apply to data read from " + n("x") + "/" + n("y") +
                                " files (they give every row)");
  if (dataset == "grid" && n_points != -1)
    throw std::invalid_argument(n("n_points") + " does not apply to dataset grid (41 x 41 points)");
  for (const auto& [field, value] : {std::pair{"input_dim", input_dim}, {"output_dim", output_dim}})
    if (value != -1 && dataset != "gaussian")
      throw std::invalid_argument(n(field) + " applies to dataset gaussian only" +
                                  (dataset.empty() ? "" : ", not to '" + dataset + "'"));
  if (dataset == "gaussian" && n_points < 1)
    throw std::invalid_argument("dataset gaussian needs " + n("n_points") + " N (N >= 1)");
  if (dataset == "teacher" && teacher_arch.empty())
    throw std::invalid_argument("dataset teacher needs " + n("teacher_arch") + " (e.g. 10,4,1)");
  if (!teacher_arch.empty()) parse_widths(teacher_arch, n("teacher_arch"));
  if (!teacher_activation.empty())
    for_field(namer, "teacher_activation", [&] { return parse_activation(teacher_activation); });
  for_field(namer, "teacher_init", [&] { return parse_init_scheme(teacher_init); });
}

io::Json to_json(const DataSource& s) {
  return {{"dataset", s.dataset},
          {"x", s.x},
          {"y", s.y},
          {"n_points", s.n_points},
          {"standardize", s.standardize},
          {"labels", s.labels},
          {"data_seed", s.data_seed},
          {"input_dim", s.input_dim},
          {"output_dim", s.output_dim},
          {"teacher_arch", s.teacher_arch},
          {"teacher_activation", s.teacher_activation},
          {"teacher_init", s.teacher_init},
          {"teacher_seed", s.teacher_seed}};
}

Dataset load(const DataSource& s, const std::optional<MlpSpec>& model, const FieldNamer& namer) {
  s.validate(namer);
  auto n = [&](std::string_view field) { return name_of(namer, field); };
  Dataset d;
  if (!s.x.empty()) {
    try {
      d = load_xy(s.x, s.y);
    } catch (const std::invalid_argument& e) {
      // Problems found after reading are reported under the dataset's name (the x file): say
      // which files were read together.
      const std::string what = e.what();
      if (what.find(s.y) != std::string::npos) throw;
      throw std::invalid_argument(what + " (data from " + n("x") + " '" + s.x + "' and " + n("y") +
                                  " '" + s.y + "')");
    }
  } else if (s.dataset == "gaussian") {
    const Index p = s.input_dim > 0 ? s.input_dim : (model ? model->widths.front() : -1);
    const Index l = s.output_dim > 0 ? s.output_dim : (model ? model->widths.back() : 1);
    if (p < 1)
      throw std::invalid_argument("dataset gaussian needs " + n("input_dim") + " or a model");
    d = gaussian_data(s.n_points, p, l, s.data_seed);
  } else if (s.dataset == "teacher") {
    MlpSpec t{.widths = parse_widths(s.teacher_arch, n("teacher_arch"))};
    if (!s.teacher_activation.empty())
      t.activation = parse_activation(s.teacher_activation);
    else if (model)
      t.activation = model->activation;
    d = teacher_student(
            {.teacher = t,
             .n_points = s.n_points > 0 ? s.n_points : TeacherOptions{}.n_points,
             .seed = s.data_seed,
             .init = {.scheme = parse_init_scheme(s.teacher_init), .seed = s.teacher_seed}})
            .data;
  } else if (s.dataset == "grid") {
    d = (s.teacher_activation.empty() ? simsek_teacher()
                                      : simsek_teacher(parse_activation(s.teacher_activation)))
            .data;
  } else {
    d = for_field(namer, "n_points", [&] {
      return load_builtin(s.dataset, {.standardize = s.standardize,
                                      .one_hot = s.labels == "onehot",
                                      .n_points = s.n_points,
                                      .seed = s.data_seed});
    });
  }
  d.validate();
  return d;
}

}  // namespace locus
