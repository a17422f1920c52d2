// locus path profile|line: the loss along a path between two parameter vectors of one
// architecture (the straight line by default; a Bezier curve or polychain through given bends),
// refined around its maximum, with the barrier in its three conventions (locus::paths).
// locus path fit|curve: a Bezier curve or polychain between them whose bends minimize the
// integrated loss (Garipov et al. 2018), with its profile beside the straight line's.
// locus path neb: a nudged elastic band with a climbing image between them, its top refined to a
// critical point with its Hessian index.
// locus path align: one network's hidden neurons permuted to match the other's weights (weight
// matching), with the straight line's barrier before and after when data are given.
// locus path slice: the loss on a line or plane through --params (filter-normalised random
// directions, or the plane through --params-end), and the profile slice min_z L beside it.
//
// Every verb takes the ends as --params A and --params-end B (alias --to); align also takes
// --reference B, which aligns A to B instead of B to A.

#include "locus/paths/path.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

#include "cli/common.hpp"
#include "cli/progress.hpp"
#include "cli/table_options.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"
#include "locus/io/model_file.hpp"
#include "locus/io/npy.hpp"
#include "locus/paths/align.hpp"
#include "locus/paths/curve.hpp"
#include "locus/paths/neb.hpp"
#include "locus/paths/slices.hpp"

namespace locus::cli::path_verb {
namespace {

namespace lp = locus::paths;

// The flags every path verb shares: the model and its start point (--params), the end point,
// data, loss, output, and the library options' table flags.
struct PathFlags {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  std::string end;  // --params-end / --to
  TableFlags flags;
};

constexpr const char* kEndHelp = "the end point: a file like --params, of the same architecture";

// A new command of type Cmd (a PathFlags) and its subcommand `name` of app with PathFlags'
// options (--params-end required unless end_required is false); the verb adds its own options
// to the subcommand after.
template <class Cmd>
std::pair<std::shared_ptr<Cmd>, CLI::App*> add_path_subcommand(
    CLI::App* app, const std::string& name, const std::string& description,
    const std::string& end_help = kEndHelp, bool end_required = true) {
  auto cmd = std::make_shared<Cmd>();
  auto* sub = app->add_subcommand(name, description);
  add_model_options(sub, cmd->model, true);
  auto* end = sub->add_option("--params-end,--to", cmd->end, end_help);
  if (end_required) end->required();
  add_data_options(sub, cmd->data);
  add_loss_options(sub, cmd->loss);
  add_output_options(sub, cmd->out);
  return {cmd, sub};
}

// Adds the flags of `table` (values into `options`) and --list-options, and makes the callback
// apply them before run().
template <class Cmd, class O>
void finish_subcommand(CLI::App* sub, const std::shared_ptr<Cmd>& cmd,
                       const options::Table<O>& table, O& options, void (*run)(const Cmd&)) {
  cmd->flags.add(sub, table, options);
  add_list_options_flag(sub, cmd->flags);
  sub->callback([cmd, run] {
    cmd->flags.apply();
    run(*cmd);
  });
}

// {"model", "params_end", "data", "loss", "output"}: the resolved shared flags for the context.
io::Json to_json(const PathFlags& f, bool with_data = true) {
  return {{"model", to_json(f.model)},
          {"params_end", f.end},
          {"data", with_data ? to_json(f.data) : io::Json(nullptr)},
          {"loss", to_json(f.loss)},
          {"output", to_json(f.out)}};
}

// The ends, the data and the loss of a verb that needs all three.
struct Problem {
  Ends ends;
  Dataset data;
  Objective objective;
};
Problem load_problem(const PathFlags& f) {
  apply_output_options(f.out);
  Ends ends = load_ends(f.model, f.end, "--params-end");
  Dataset data = load_data(f.data, ends.model.spec());
  Objective objective(ends.model, data, to_loss_spec(f.loss));
  return {std::move(ends), std::move(data), std::move(objective)};
}

// The description of the two ends and the data at the head of every --json body.
io::Json ends_json(const Ends& ends, const Dataset* data) {
  io::Json j = {{"model", ends.model.describe()},
                {"n_params", ends.model.n_params()},
                {"distance", (ends.end - ends.start).norm()}};
  if (data) {
    j["data"] = data->name;
    j["n_points"] = data->size();
  }
  return j;
}

// The text header: model, n, distance and data.
void print_header(const Ends& ends, const Dataset* data) {
  std::printf("model       %s, n = %ld parameters; |end - start| = %.6g\n",
              ends.model.describe().c_str(), long(ends.model.n_params()),
              (ends.end - ends.start).norm());
  if (data) std::printf("data        %s, d = %ld points\n", data->name.c_str(), long(data->size()));
}

// Prints a verb's result on pr: with --json, the ends then `result` as the body and the shared
// flags plus `resolved` as the context; else the text header and `text`.
void print_result(const PathFlags& f, const Problem& pr, const io::Json& result,
                  const io::Json& resolved, const std::string& text) {
  if (f.out.json) {
    io::Json body = ends_json(pr.ends, &pr.data);
    body.update(result);
    io::Json context = to_json(f);
    context.update(resolved);
    print_json(context, body);
  } else {
    print_header(pr.ends, &pr.data);
    std::cout << text;
  }
}

// Appended to the message of a command that fails after computing: its files are not written.
constexpr const char* kNotWritten = " (output files not written)";

// Stages (t, loss) of a profile as CSV when `path` is set.
void stage_profile_csv(io::StagedFiles& files, const std::string& path, const lp::LossProfile& p) {
  files.write(path, [&](const std::string& tmp) {
    Eigen::MatrixXd rows(p.t.size(), 2);
    rows << p.t, p.loss;
    io::write_csv(tmp, {"t", "loss"}, rows);
  });
}

// Stages a matrix as .npy when `path` is set.
void stage_npy(io::StagedFiles& files, const std::string& path, const Eigen::MatrixXd& m) {
  files.write(path, [&](const std::string& tmp) { io::write_npy(tmp, m); });
}

// Throws std::invalid_argument naming the first of the set files that cannot be written.
void require_writable(std::initializer_list<const std::string*> files) {
  for (const std::string* f : files)
    if (!f->empty()) io::require_writable(*f);
}

// The start of a verb on two ends and data: its options validated (table's messages), its
// output files checked writable, then the problem loaded. Throws std::invalid_argument as those.
template <class O>
Problem start_verb(const PathFlags& f, const options::Table<O>& table, const O& options,
                   std::initializer_list<const std::string*> outputs) {
  validate_for_cli(table, [&] { options.validate(); });
  require_writable(outputs);
  return load_problem(f);
}

// ---- profile / line ---------------------------------------------------------------------------

struct ProfileCommand : PathFlags {
  lp::ProfileOptions options;
  std::string kind = "linear";
  std::string bends;          // .npy: k x n (or a vector: one bend)
  std::string csv;            // CSV path
  std::string save_vertices;  // .npy: the path's control points
};

lp::Path make_path(const ProfileCommand& cmd, const Ends& ends) {
  if (cmd.kind == "linear" || cmd.kind == "line") {
    if (!cmd.bends.empty()) throw std::invalid_argument("--bends needs --kind bezier or polychain");
    return lp::Path::line(ends.start, ends.end);
  }
  const lp::PathKind kind = with_option("--kind", [&] { return lp::parse_path_kind(cmd.kind); });
  if (cmd.bends.empty())
    throw std::invalid_argument("--kind " + cmd.kind + " needs --bends FILE.npy (rows: bends)");
  Eigen::MatrixXd bends = io::read_npy_matrix(cmd.bends);
  if (bends.cols() == 1 && bends.rows() == ends.start.size()) bends.transposeInPlace();
  if (bends.cols() != ends.start.size())
    throw std::invalid_argument("--bends: rows of length " + std::to_string(bends.cols()) +
                                ", the model has " + std::to_string(ends.start.size()) +
                                " parameters");
  if (kind == lp::PathKind::bezier) {
    if (bends.rows() != 1)
      throw std::invalid_argument("--bends: a quadratic Bezier curve has one bend, got " +
                                  std::to_string(bends.rows()));
    return lp::Path::bezier(ends.start, bends.row(0).transpose(), ends.end);
  }
  if (kind == lp::PathKind::polychain) return lp::Path::polychain(ends.start, bends, ends.end);
  Eigen::MatrixXd vertices(bends.rows() + 2, bends.cols());
  vertices << ends.start.transpose(), bends, ends.end.transpose();
  return lp::Path::polyline(vertices);
}

void run_profile(const ProfileCommand& cmd) {
  const Problem pr =
      start_verb(cmd, lp::profile_table(), cmd.options, {&cmd.csv, &cmd.save_vertices});
  const lp::Path path = make_path(cmd, pr.ends);
  Progress progress("path profile");
  const lp::LossProfile p = validate_for_cli(lp::profile_table(), [&] {
    return lp::loss_profile(pr.objective, path, cmd.options, progress.callback());
  });
  progress.finish();

  if (p.converged()) {      // a failed command leaves existing outputs as they were
    io::StagedFiles files;  // replaced together or not at all
    stage_profile_csv(files, cmd.csv, p);
    stage_npy(files, cmd.save_vertices, path.control_points());
    files.commit();
  }
  const std::string kind(lp::to_string(path.kind()));
  io::Json result = {{"path", kind}};
  result.update(lp::to_json(p));
  print_result(cmd, pr, result,
               {{"profile", lp::profile_table().to_json(cmd.options)},
                {"kind", cmd.kind},
                {"bends", cmd.bends},
                {"out", cmd.csv},
                {"save_vertices", cmd.save_vertices}},
               "path        " + kind + "\n" + lp::summary(p));
  if (!p.converged()) throw std::runtime_error("profile " + p.message + kNotWritten);
}

void setup_profile(CLI::App* app) {
  auto [cmd, sub] = add_path_subcommand<ProfileCommand>(
      app, "profile",
      "The loss along the path from --params to --params-end (straight by default), its maximum "
      "refined to --t-tolerance / --loss-tolerance, and the barrier in three conventions");
  sub->alias("line");
  sub->add_option("--kind", cmd->kind,
                  "linear (the straight line), bezier (one bend) or polychain / polyline "
                  "(through the --bends)")
      ->capture_default_str();
  sub->add_option("--bends", cmd->bends, ".npy with one bend per row (--kind bezier: one row)");
  sub->add_option("--out", cmd->csv, "CSV file with the columns t, loss");
  sub->add_option("--save-vertices", cmd->save_vertices,
                  ".npy with the path's control points, one per row: start, bends, end");
  finish_subcommand(sub, cmd, lp::profile_table(), cmd->options, &run_profile);
}

// ---- fit / curve ------------------------------------------------------------------------------

struct FitCommand : PathFlags {
  lp::CurveFitOptions options;
  std::string save_control, csv;
};

void run_fit(const FitCommand& cmd) {
  const Problem pr =
      start_verb(cmd, lp::curve_fit_table(), cmd.options, {&cmd.save_control, &cmd.csv});
  Progress progress("path fit");
  const lp::CurveFit fit = validate_for_cli(lp::curve_fit_table(), [&] {
    return lp::fit_curve(pr.objective, pr.ends.start, pr.ends.end, cmd.options,
                         progress.callback());
  });
  progress.finish();

  if (fit.converged()) {    // a failed command leaves existing outputs as they were
    io::StagedFiles files;  // replaced together or not at all
    stage_npy(files, cmd.save_control, fit.curve.control_points());
    stage_profile_csv(files, cmd.csv, fit.profile);
    files.commit();
  }
  print_result(cmd, pr, lp::to_json(fit),
               {{"fit", lp::curve_fit_table().to_json(cmd.options)},
                {"save_control", cmd.save_control},
                {"out", cmd.csv}},
               lp::summary(fit));
  if (!fit.converged()) throw std::runtime_error("curve fit " + fit.message + kNotWritten);
}

void setup_fit(CLI::App* app) {
  auto [cmd, sub] = add_path_subcommand<FitCommand>(
      app, "fit",
      "A Bezier curve or polychain from --params to --params-end whose bends minimize the loss "
      "integrated along it (Gauss-Legendre in t, L-BFGS), stopped when its maximum converges; "
      "its barriers beside the straight line's");
  sub->alias("curve");
  sub->add_option("--save-control", cmd->save_control,
                  ".npy with the fitted control points, one per row: start, bend(s), end");
  sub->add_option("--out", cmd->csv, "CSV file with the fitted curve's profile (t, loss)");
  finish_subcommand(sub, cmd, lp::curve_fit_table(), cmd->options, &run_fit);
}

// ---- neb --------------------------------------------------------------------------------------

struct NebCommand : PathFlags {
  lp::NebOptions options;
  std::string save_vertices, save_saddle, csv;
};

void run_neb(const NebCommand& cmd) {
  const Problem pr = start_verb(cmd, lp::neb_table(), cmd.options,
                                {&cmd.save_vertices, &cmd.save_saddle, &cmd.csv});
  Progress progress("path neb");
  const lp::NebResult r = validate_for_cli(lp::neb_table(), [&] {
    return lp::neb(pr.objective, pr.ends.start, pr.ends.end, cmd.options, progress.callback());
  });
  progress.finish();

  if (r.status != lp::NebStatus::non_finite) {  // a failed command leaves outputs as they were
    io::StagedFiles files;                      // replaced together or not at all
    stage_npy(files, cmd.save_vertices, r.path.control_points());
    if (r.saddle.theta.size() > 0)
      files.write(cmd.save_saddle,
                  [&](const std::string& tmp) { save_model(tmp, pr.ends.model, r.saddle.theta); });
    stage_profile_csv(files, cmd.csv, r.profile);
    files.commit();
  }
  print_result(cmd, pr, lp::to_json(r),
               {{"neb", lp::neb_table().to_json(cmd.options)},
                {"save_vertices", cmd.save_vertices},
                {"save_saddle", cmd.save_saddle},
                {"out", cmd.csv}},
               lp::summary(r));
  if (r.status == lp::NebStatus::non_finite)
    throw std::runtime_error("neb " + r.message + kNotWritten);
}

void setup_neb(CLI::App* app) {
  auto [cmd, sub] = add_path_subcommand<NebCommand>(
      app, "neb",
      "A nudged elastic band from --params to --params-end (improved tangent, climbing image, "
      "L-BFGS or FIRE, AutoNEB insertion), converged on max |F|_inf; its top refined to a "
      "critical point and its Hessian index reported");
  sub->add_option("--save-vertices", cmd->save_vertices,
                  ".npy with the band's vertices, one per row: start, images, end");
  sub->add_option("--save-saddle", cmd->save_saddle,
                  "the refined saddle's parameters (.safetensors or .npy)");
  sub->add_option("--out", cmd->csv, "CSV file with the band's profile (t, loss)");
  finish_subcommand(sub, cmd, lp::neb_table(), cmd->options, &run_neb);
}

// ---- align ------------------------------------------------------------------------------------

struct AlignCommand : PathFlags {
  lp::AlignOptions options;
  std::string reference, save;
};

void run_align(const AlignCommand& cmd) {
  validate_for_cli(lp::align_table(), [&] { cmd.options.validate(); });
  if (cmd.end.empty() == cmd.reference.empty())
    throw std::invalid_argument(
        "--reference B (align --params to B) or --params-end B (align B to --params): give one");
  require_writable({&cmd.save});
  apply_output_options(cmd.out);
  // --reference B: --params is the network permuted; --params-end B: B is.
  const bool to_reference = !cmd.reference.empty();
  const Ends ends = to_reference ? load_ends(cmd.model, cmd.reference, "--reference")
                                 : load_ends(cmd.model, cmd.end, "--params-end");
  const Eigen::VectorXd& fixed = to_reference ? ends.end : ends.start;
  const Eigen::VectorXd& moved = to_reference ? ends.start : ends.end;
  // Data are optional: the permutations need only the weights, the barriers need a loss.
  std::optional<Dataset> data;
  if (!cmd.data.dataset.empty() || !cmd.data.x.empty())
    data = load_data(cmd.data, ends.model.spec());
  std::optional<Objective> objective;
  if (data) objective.emplace(ends.model, *data, to_loss_spec(cmd.loss));
  Progress progress("path align");
  const lp::Alignment al =
      objective
          ? lp::weight_match(ends.model, fixed, moved, *objective, cmd.options, progress.callback())
          : lp::weight_match(ends.model, fixed, moved, cmd.options, progress.callback());
  progress.finish();
  if (!cmd.save.empty()) save_model(cmd.save, ends.model, al.theta);
  if (cmd.out.json) {
    io::Json body = ends_json(ends, data ? &*data : nullptr);
    body["aligned"] = to_reference ? "params" : "params_end";
    body.update(lp::to_json(al));
    io::Json resolved = to_json(cmd, data.has_value());
    resolved.update({{"reference", cmd.reference},
                     {"align", lp::align_table().to_json(cmd.options)},
                     {"save", cmd.save}});
    print_json(resolved, body);
  } else {
    std::printf("model       %s, n = %ld parameters\n", ends.model.describe().c_str(),
                long(ends.model.n_params()));
    std::printf("aligned     %s to %s\n", to_reference ? "--params" : "--params-end",
                to_reference ? "--reference" : "--params");
    if (data)
      std::printf("data        %s, d = %ld points\n", data->name.c_str(), long(data->size()));
    std::cout << lp::summary(al);
  }
}

void setup_align(CLI::App* app) {
  auto [cmd, sub] = add_path_subcommand<AlignCommand>(
      app, "align",
      "Permute the hidden neurons of --params to match --reference (or of --params-end to match "
      "--params) by weight matching: exact linear assignment per layer, coordinate descent over "
      "layers; with data, the straight line's barrier before and after",
      "the network to align to --params: a file like --params, of the same architecture", false);
  sub->add_option("--reference", cmd->reference,
                  "the network to align --params to: a file like --params");
  sub->add_option("--save", cmd->save, "the aligned network (.safetensors or .npy)");
  finish_subcommand(sub, cmd, lp::align_table(), cmd->options, &run_align);
}

// ---- slice ------------------------------------------------------------------------------------

struct SliceCommand : PathFlags {
  lp::SliceOptions options;
  lp::ProfileSliceOptions profile_options;
  bool profile = false;
  std::string csv;
};

void run_slice(const SliceCommand& cmd) {
  validate_for_cli(lp::slice_table(), [&] { cmd.options.validate(); });
  validate_for_cli(lp::profile_slice_table(), [&] { cmd.profile_options.validate(); });
  if (cmd.profile && cmd.options.dims != 1)
    throw std::invalid_argument("--profile needs --dims 1 (a profile slice is along one line)");
  require_writable({&cmd.csv});
  apply_output_options(cmd.out);
  LoadedModel a = load_model(cmd.model);
  if (!a.theta) throw std::invalid_argument("--params: the slice needs a point");
  std::optional<Ends> ends;
  if (!cmd.end.empty()) ends = load_ends(cmd.model, cmd.end, "--params-end");
  const Dataset data = load_data(cmd.data, a.model.spec());
  const Objective objective(a.model, data, to_loss_spec(cmd.loss));
  Progress progress("path slice");
  const lp::LossSlice s = validate_for_cli(lp::slice_table(), [&] {
    return ends ? lp::loss_slice_between(objective, ends->start, ends->end, cmd.options,
                                         progress.callback())
                : lp::loss_slice(objective, *a.theta, cmd.options, progress.callback());
  });
  std::optional<lp::ProfileSlice> p;
  if (cmd.profile)
    p = validate_for_cli(lp::profile_slice_table(), [&] {
      return lp::profile_slice(objective, *a.theta, s.d1, s.alpha, cmd.profile_options,
                               progress.callback());
    });
  progress.finish();

  if (!cmd.csv.empty() && (!p || p->converged)) {  // a failed command writes nothing
    if (cmd.options.dims == 2) {
      Eigen::MatrixXd rows(s.loss.size(), 3);
      for (Index i = 0; i < s.alpha.size(); ++i)
        for (Index j = 0; j < s.beta.size(); ++j)
          rows.row(i * s.beta.size() + j) << s.alpha[i], s.beta[j], s.loss(i, j);
      io::write_csv(cmd.csv, {"alpha", "beta", "loss"}, rows);
    } else if (p) {
      Eigen::MatrixXd rows(s.alpha.size(), 4);
      rows << s.alpha, s.loss.col(0), p->profile, p->gradient_max_norm;
      io::write_csv(cmd.csv, {"alpha", "loss", "profile", "profile_gradient_max_norm"}, rows);
    } else {
      Eigen::MatrixXd rows(s.alpha.size(), 2);
      rows << s.alpha, s.loss.col(0);
      io::write_csv(cmd.csv, {"alpha", "loss"}, rows);
    }
  }
  if (cmd.out.json) {
    io::Json body = {{"model", a.model.describe()},
                     {"n_params", a.model.n_params()},
                     {"data", data.name},
                     {"n_points", data.size()},
                     {"directions", ends ? "params_end and random" : "random"}};
    body.update(lp::to_json(s));
    if (p) body["profile_slice"] = lp::to_json(*p);
    io::Json resolved = to_json(cmd);
    resolved.update({{"slice", lp::slice_table().to_json(cmd.options)},
                     {"profile", cmd.profile},
                     {"profile_slice", lp::profile_slice_table().to_json(cmd.profile_options)},
                     {"out", cmd.csv}});
    print_json(resolved, body);
  } else {
    std::printf("model       %s, n = %ld parameters\n", a.model.describe().c_str(),
                long(a.model.n_params()));
    std::printf("data        %s, d = %ld points\n", data.name.c_str(), long(data.size()));
    std::cout << lp::summary(s);
    if (p) std::cout << lp::summary(*p);
  }
  if (p && !p->converged) throw std::runtime_error("profile slice: " + p->message + kNotWritten);
}

void setup_slice(CLI::App* app) {
  auto [cmd, sub] = add_path_subcommand<SliceCommand>(
      app, "slice",
      "The loss on a line (--dims 1) or a square (--dims 2) through --params along "
      "filter-normalised random directions, or through --params and --params-end (the plane of "
      "B - A and a random direction orthogonal to it); with --profile, the profile slice "
      "min over z orthogonal to the line of L beside it",
      "a second point: the slice's first direction is --params-end minus --params", false);
  sub->add_flag("--profile", cmd->profile,
                "also minimize L over the complement of the line at each alpha (--dims 1)");
  sub->add_option("--out", cmd->csv,
                  "CSV file: alpha, loss (1-D; with --profile also profile, "
                  "profile_gradient_max_norm) or alpha, beta, loss (2-D)");
  cmd->flags.add(sub, lp::profile_slice_table(), cmd->profile_options);
  finish_subcommand(sub, cmd, lp::slice_table(), cmd->options, &run_slice);
}

void setup_path(CLI::App* app) {
  app->require_subcommand(1);
  setup_profile(app);
  setup_fit(app);
  setup_neb(app);
  setup_align(app);
  setup_slice(app);
}

const bool registered = register_command(
    {"path", "Paths between two parameter vectors: loss profiles and barriers, slices",
     setup_path});

}  // namespace
}  // namespace locus::cli::path_verb
