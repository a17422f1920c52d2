#include "locus/workflows/students.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "locus/data/synthetic.hpp"
#include "locus/io/format.hpp"

namespace locus::workflows {

namespace {

using Eigen::VectorXd;
using Clock = std::chrono::steady_clock;

[[noreturn]] void students_error(const char* field, const std::string& problem) {
  throw options::OptionError("StudentsOptions", field, problem);
}

// Simsek's teacher on every grid_stride-th grid line per axis (the grid is row-major in
// (x1, x2), point (i, j) at row 41 i + j).
TeacherStudent grid_problem(Activation activation, Index stride) {
  TeacherStudent t = simsek_teacher(activation);
  if (stride == 1) return t;
  std::vector<Index> rows;
  for (Index i = 0; i < 41; i += stride)
    for (Index j = 0; j < 41; j += stride) rows.push_back(41 * i + j);
  Dataset sub{t.data.x(rows, Eigen::all), t.data.y(rows, Eigen::all),
              t.data.name + " stride " + std::to_string(stride)};
  t.data = std::move(sub);
  return t;
}

void count(WidthSummary& w, const StudentRun& run) {
  ++w.runs;
  w.zero_loss += run.zero_loss;
  w.on_expansion_manifold += run.categorization && run.categorization->on_expansion_manifold;
  switch (run.end_class) {
    case analysis::PointClass::global_minimum:
      ++w.global_minimum;
      break;
    case analysis::PointClass::strict_minimum:
      ++w.strict_minimum;
      break;
    case analysis::PointClass::non_strict_minimum:
      ++w.non_strict_minimum;
      break;
    case analysis::PointClass::saddle:
      ++w.saddle;
      break;
    case analysis::PointClass::not_critical:
      ++w.not_converged;
      break;
    case analysis::PointClass::undecided:
      ++w.undecided;
      break;
  }
  w.fraction_zero_loss = static_cast<double>(w.zero_loss) / static_cast<double>(w.runs);
}

}  // namespace

std::vector<Index> parse_widths(const std::string& text, const std::string& owner) {
  std::vector<Index> widths;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    char* stop = nullptr;
    const long long v = std::strtoll(item.c_str(), &stop, 10);
    if (item.empty() || *stop != '\0' || v < 1 || v > 10000)
      throw options::OptionError(
          owner, "widths",
          "needs integers in 1..10000 separated by commas, got '" + item + "' in '" + text + "'");
    widths.push_back(static_cast<Index>(v));
    start = end + 1;
  }
  return widths;
}

void StudentsOptions::validate() const {
  parse_widths(widths);
  if (seeds < 1) students_error("seeds", "must be >= 1, got " + std::to_string(seeds));
  if (grid_stride < 1 || grid_stride > 40)
    students_error("grid_stride", "must be in 1..40, got " + std::to_string(grid_stride));
  train.validate("StudentsOptions");
  categorize.validate();
}

const options::Table<StudentsOptions>& students_table() {
  using O = StudentsOptions;
  static const auto t =
      add_train_certify_rows(
          options::Table<O>("StudentsOptions")
              .add("widths", "student widths m, comma-separated", &O::widths)
              .add("seeds", "runs per width (seeds seed, seed + 1, ...)", &O::seeds)
              .add("seed", "first seed of the students' initialisation", &O::seed)
              .add_enum("activation", "teacher and student activation", &O::activation,
                        static_cast<std::string_view (*)(Activation)>(&locus::to_string),
                        &parse_activation,
                        std::vector<Activation>{Activation::sigmoid, Activation::g})
              .add("grid_stride", "every k-th grid line per axis (1: 41 x 41, 2: 21 x 21)",
                   &O::grid_stride),
          &O::train, /*with_min_gap=*/false)
          .add(
              "weight_tolerance_relative",
              "categorize: incoming vectors match within this * max|v*|",
              [](O & o) -> auto& { return o.categorize.weight_tolerance_relative; })
          .add(
              "output_tolerance_relative", "categorize: |a| is zero within this * max|a*|",
              [](O & o) -> auto& { return o.categorize.output_tolerance_relative; })
          .add(
              "sign_symmetry", "categorize: odd activations match (-v, -a)",
              [](O & o) -> auto& { return o.categorize.sign_symmetry; })
          .reported_as("CategorizeOptions");
  return t;
}

StudentsResult run_students(const StudentsOptions& options, const StudentsProgress& progress) {
  options.validate();
  const auto start = Clock::now();
  const std::vector<Index> widths = parse_widths(options.widths);
  const TeacherStudent problem = grid_problem(options.activation, options.grid_stride);
  const auto data = std::make_shared<const Dataset>(problem.data);

  StudentsResult result;
  result.options = options;
  result.n_points = data->size();
  result.teacher_theta = problem.teacher_parameters;

  const Index total = static_cast<Index>(widths.size()) * options.seeds;
  for (Index m : widths) {
    WidthSummary w;
    w.width = m;
    const Mlp student(
        {.widths = {2, m, 1}, .activation = options.activation, .bias = {false, false}});
    const Objective objective(student, data);
    for (std::int64_t s = 0; s < options.seeds; ++s) {
      const auto run_start = Clock::now();
      StudentRun run;
      run.width = m;
      run.seed = options.seed + static_cast<std::uint64_t>(s);
      const VectorXd theta0 =
          student.init_parameters({.scheme = InitScheme::glorot, .seed = run.seed});
      const TrainedCertificate t = train_and_certify(objective, theta0, options.train);
      const Certificate& c = t.certificate;
      run.loss_adam = t.trained.loss_final;
      run.iterations_adam = t.trained.iterations;
      run.loss_final = c.analysis.loss;
      run.gradient_max_norm = c.analysis.gradient_max_norm;
      run.iterations_polish = c.polish.iterations;
      run.status = c.status;
      run.end_class = c.analysis.classification;
      run.end_state = end_state_name(c.analysis.classification);
      run.index = c.analysis.index;
      run.message = c.message;
      run.zero_loss = c.analysis.at_zero_loss;
      run.theta = c.polish.theta;
      if (run.zero_loss)
        run.categorization = symmetry::categorize(problem.teacher, problem.teacher_parameters,
                                                  student, run.theta, options.categorize);
      run.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
      count(w, run);
      result.runs.push_back(std::move(run));
      if (progress) progress(result.runs.back(), static_cast<Index>(result.runs.size()), total);
    }
    result.widths.push_back(w);
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

io::Json to_json(const StudentsResult& r) {
  io::Json j;
  j["n_points"] = r.n_points;
  j["teacher_params"] =
      std::vector<double>(r.teacher_theta.data(), r.teacher_theta.data() + r.teacher_theta.size());
  io::Json widths = io::Json::array();
  for (const WidthSummary& w : r.widths)
    widths.push_back({{"width", w.width},
                      {"runs", w.runs},
                      {"zero_loss", w.zero_loss},
                      {"fraction_zero_loss", w.fraction_zero_loss},
                      {"on_expansion_manifold", w.on_expansion_manifold},
                      {"global_minimum", w.global_minimum},
                      {"strict_minimum", w.strict_minimum},
                      {"non_strict_minimum", w.non_strict_minimum},
                      {"saddle", w.saddle},
                      {"not_converged", w.not_converged},
                      {"undecided", w.undecided}});
  j["widths"] = widths;
  io::Json runs = io::Json::array();
  for (const StudentRun& run : r.runs) {
    io::Json x;
    x["width"] = run.width;
    x["seed"] = run.seed;
    x["loss_adam"] = io::json_number(run.loss_adam);
    x["loss_final"] = io::json_number(run.loss_final);
    x["gradient_max_norm"] = io::json_number(run.gradient_max_norm);
    x["iterations_adam"] = run.iterations_adam;
    x["iterations_polish"] = run.iterations_polish;
    x["seconds"] = run.seconds;
    x["status"] = std::string(to_string(run.status));
    x["end_state"] = run.end_state;
    x["index"] = run.index;
    x["message"] = run.message;
    x["zero_loss"] = run.zero_loss;
    x["categorization"] =
        run.categorization ? symmetry::to_json(*run.categorization) : io::Json(nullptr);
    x["params"] = std::vector<double>(run.theta.data(), run.theta.data() + run.theta.size());
    runs.push_back(std::move(x));
  }
  j["runs"] = runs;
  j["seconds"] = r.seconds;
  return j;
}

std::string summary(const StudentsResult& r) {
  std::string out = "Simsek students on " + std::to_string(r.n_points) + " grid points (" +
                    std::string(to_string(r.options.activation)) + "), " +
                    io::format_number(r.seconds) + " s\n";
  for (const WidthSummary& w : r.widths) {
    char buf[256];
    std::snprintf(
        buf, sizeof buf,
        "width %ld: %ld/%ld zero loss (%.0f%%), %ld on the expansion manifold; global %ld, "
        "strict %ld, non-strict %ld, saddle %ld, not converged %ld, undecided %ld\n",
        static_cast<long>(w.width), static_cast<long>(w.zero_loss), static_cast<long>(w.runs),
        100 * w.fraction_zero_loss, static_cast<long>(w.on_expansion_manifold),
        static_cast<long>(w.global_minimum), static_cast<long>(w.strict_minimum),
        static_cast<long>(w.non_strict_minimum), static_cast<long>(w.saddle),
        static_cast<long>(w.not_converged), static_cast<long>(w.undecided));
    out += buf;
  }
  for (const StudentRun& run : r.runs) {
    out += "  m = " + std::to_string(run.width) + " seed " + std::to_string(run.seed) + ": " +
           run.end_state +
           (run.end_class == analysis::PointClass::saddle
                ? " (index " + std::to_string(run.index) + ")"
                : "") +
           ", loss " + io::format_number(run.loss_final) + ", |g| " +
           io::format_number(run.gradient_max_norm) + ", " + io::format_number(run.seconds) + " s";
    if (run.categorization)
      out += run.categorization->on_expansion_manifold
                 ? ", " + run.categorization->piece + " dim " +
                       std::to_string(run.categorization->piece_dimension)
                 : ", off the expansion manifold";
    out += "\n";
  }
  return out;
}

}  // namespace locus::workflows
