#pragma once
// One entry point for every solver, pipelines (flow -> polish), and access to every option by
// name (for the CLI's --opt name=value, JSON context blocks and Python keyword arguments).
//
//   locus::Objective objective(model, data);
//   locus::solvers::TrainOptions options;
//   options.method = locus::solvers::parse_method("flow");
//   options.polish = locus::solvers::Method::lm;        // flow, then Levenberg-Marquardt
//   locus::solvers::set_option_text(options, options.method, "relative_tolerance", "1e-8");
//   auto r = locus::solvers::solve(objective, model.init_parameters({.seed = 3}), options);
//   std::cout << locus::solvers::summary(r);            // one line per stage at the end
//
// The per-method option structs (and their defaults) are in the method's own header.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "locus/core/objective.hpp"  // the usual function: an MLP loss
#include "locus/core/options.hpp"
#include "locus/core/problem.hpp"
#include "locus/solvers/critical_point.hpp"
#include "locus/solvers/first_order.hpp"
#include "locus/solvers/gradient_flow.hpp"
#include "locus/solvers/lbfgs.hpp"
#include "locus/solvers/levenberg_marquardt.hpp"
#include "locus/solvers/newton.hpp"
#include "locus/solvers/result.hpp"

namespace locus::solvers {

enum class Method {
  gd,        // gradient descent (first_order.hpp)
  sgd,       // mini-batch SGD (first_order.hpp)
  adam,      // Adam (first_order.hpp)
  lbfgs,     // L-BFGS, strong Wolfe (lbfgs.hpp)
  lm,        // Levenberg-Marquardt (levenberg_marquardt.hpp)
  newton,    // Newton trust region (newton.hpp)
  critical,  // critical points of any index (critical_point.hpp)
  flow,      // gradient flow by CVODE (gradient_flow.hpp)
};
std::string_view to_string(Method m);
// "gd", "sgd", "adam", "lbfgs", "lm", "newton", "critical", "flow"; throws std::invalid_argument
// listing them otherwise.
Method parse_method(std::string_view name);
const std::vector<Method>& all_methods();

struct TrainOptions {
  Method method = Method::lm;
  // Optional second stage started from where the first stopped (the flow -> polish pipeline):
  // lm, newton, lbfgs or critical.
  std::optional<Method> polish;
  GradientDescentOptions gd;
  SgdOptions sgd;
  AdamOptions adam;
  LbfgsOptions lbfgs;
  LevenbergMarquardtOptions lm;
  NewtonOptions newton;
  CriticalPointOptions critical;
  GradientFlowOptions flow;

  // Validates the options of the methods that will run and the polish choice; throws
  // std::invalid_argument naming the field.
  void validate() const;
};

// The stop criteria of method m inside options.
StopCriteria& stop_criteria(TrainOptions& options, Method m);
const StopCriteria& stop_criteria(const TrainOptions& options, Method m);

// Runs options.method on any function of core/problem.hpp with the capabilities the methods need
// (each method's header says which) from theta0, then options.polish (if set) from the first
// stage's end point. A pipeline's result: method "flow+lm", status, message and x of the last
// stage, loss_initial of the first, counts, iterations, seconds and trace summed / concatenated
// over the stages, trajectory of the flow stage, one StageSummary per stage. The polish is skipped
// when the first stage was stopped by the callback. Throws std::invalid_argument for invalid
// options or a wrong-length theta0.
SolveResult solve(FunctionRef objective, Eigen::VectorXd theta0, const TrainOptions& options = {},
                  const IterationCallback& callback = {});

// ---- options by name -------------------------------------------------------------------------
// Each method's options struct has one options::Table (core/options.hpp): stop criteria first,
// then the method's own fields, then record_trace. The CLI's --opt name=value and
// --list-options, Python's train(**options) and solver_options(), and the "method_options" of a
// JSON context all read these tables; defaults are the structs' member initialisers.

const options::Table<GradientDescentOptions>& gradient_descent_table();
const options::Table<SgdOptions>& sgd_table();
const options::Table<AdamOptions>& adam_table();
const options::Table<LbfgsOptions>& lbfgs_table();
const options::Table<LevenbergMarquardtOptions>& levenberg_marquardt_table();
const options::Table<NewtonOptions>& newton_table();
const options::Table<CriticalPointOptions>& critical_point_table();
const options::Table<GradientFlowOptions>& gradient_flow_table();

// An option's value (options::Value: bool, integer, floating point or enumerator name).
using OptionValue = options::Value;

struct OptionField {
  std::string name;   // the field name: "gradient_tolerance", "learning_rate", ...
  OptionValue value;  // its current value in the options it was read from
  std::string help;   // one line
};

// The fields of method m's table with their values in options.
std::vector<OptionField> option_fields(const TrainOptions& options, Method m);
// Sets field `name` of method m's options. Integers are accepted for floating-point fields and
// integral doubles for integer fields. Throws options::OptionError (a std::invalid_argument)
// naming the method's struct and field for an unknown name or a value of the wrong type
// (validity is checked by validate()).
void set_option(TrainOptions& options, Method m, std::string_view name, const OptionValue& value);
// As set_option, parsing text by the field's type ("1e-8", "inf", "200", "true", "exact").
void set_option_text(TrainOptions& options, Method m, std::string_view name, std::string_view text);
std::string to_string(const OptionValue& value);
// {name: value} of method m's options (non-finite numbers as io::json_number writes them).
io::Json options_to_json(const TrainOptions& options, Method m);
// The message of e (from set_option or TrainOptions::validate) with the field of method m
// spelled for the interface ("--max-iterations ...", "max_iterations= ...").
std::string rephrase(const std::exception& e, Method m, options::Interface interface);

}  // namespace locus::solvers
