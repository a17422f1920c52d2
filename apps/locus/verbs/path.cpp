// locus path profile: the loss along a path between two parameter vectors of one architecture
// (the straight line by default; a Bezier curve or polychain through given bends), refined
// around its maximum, with the barrier in its three conventions (locus::paths).
// locus path fit: a Bezier curve or polychain between them whose bends minimize the integrated
// loss (Garipov et al. 2018), with its profile beside the straight line's.
// locus path neb: a nudged elastic band with a climbing image between them, its top refined to a
// critical point with its Hessian index.
// locus path align: B's hidden neurons permuted to match A's weights (weight matching), with the
// straight line's barrier before and after when data are given.

#include "locus/paths/path.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

#include "cli/common.hpp"
#include "cli/table_options.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"
#include "locus/io/model_file.hpp"
#include "locus/io/npy.hpp"
#include "locus/paths/align.hpp"
#include "locus/paths/curve.hpp"
#include "locus/paths/neb.hpp"

namespace locus::cli {
namespace {

namespace lp = locus::paths;

// The interface-only options of `path profile` (the profile's own come from profile_table()).
struct ProfileInterface {
  std::string to;  // the end point's file
  std::string kind = "linear";
  std::string bends;  // .npy: k x n (or a vector: one bend)
  std::string out;    // CSV path
};

struct ProfileCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  lp::ProfileOptions options;
  ProfileInterface interface;
  TableFlags flags;
};

// The two ends: --params (with --arch or the file's architecture) and --to, read with the same
// architecture. Throws std::invalid_argument naming --to when the ends differ in architecture or
// length, or are equal.
struct Ends {
  Mlp model;
  Eigen::VectorXd start, end;
};
Ends load_ends(const ModelOptions& model, const std::string& to) {
  LoadedModel a = load_model(model);
  if (!a.theta) throw std::invalid_argument("--params: the path needs a start point");
  if (to.empty()) throw std::invalid_argument("--to FILE (the end point) is required");
  ModelFile b = with_option("--to", [&] {
    return locus::load_model(to, {.spec = a.model.spec(), .activation = a.model.activation()});
  });
  if (b.spec.widths != a.model.spec().widths)
    throw std::invalid_argument("--to: architecture " + Mlp(b.spec).describe() +
                                " differs from --params " + a.model.describe());
  if (b.theta == *a.theta)
    throw std::invalid_argument("--to: the end point equals the start point (--params)");
  return {std::move(a.model), std::move(*a.theta), std::move(b.theta)};
}

lp::Path make_path(const ProfileInterface& ui, const Ends& ends) {
  if (ui.kind == "linear" || ui.kind == "line") {
    if (!ui.bends.empty()) throw std::invalid_argument("--bends needs --kind bezier or polychain");
    return lp::Path::line(ends.start, ends.end);
  }
  const lp::PathKind kind = with_option("--kind", [&] { return lp::parse_path_kind(ui.kind); });
  if (ui.bends.empty())
    throw std::invalid_argument("--kind " + ui.kind + " needs --bends FILE.npy (rows: bends)");
  Eigen::MatrixXd bends = io::read_npy_matrix(ui.bends);
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
  apply_output_options(cmd.out);
  const ProfileInterface& ui = cmd.interface;
  validate_for_cli(lp::profile_table(), [&] { cmd.options.validate(); });
  if (!ui.out.empty()) io::require_writable(ui.out);
  const Ends ends = load_ends(cmd.model, ui.to);
  const lp::Path path = make_path(ui, ends);
  const Dataset data = load_data(cmd.data, ends.model.spec());
  const Objective objective(ends.model, data, to_loss_spec(cmd.loss));
  const lp::LossProfile p = lp::loss_profile(objective, path, cmd.options);

  if (!ui.out.empty()) {
    Eigen::MatrixXd rows(p.t.size(), 2);
    rows << p.t, p.loss;
    io::write_csv(ui.out, {"t", "loss"}, rows);
  }
  if (cmd.out.json) {
    io::Json body = {{"model", ends.model.describe()},
                     {"n_params", objective.n_params()},
                     {"data", data.name},
                     {"n_points", data.size()},
                     {"path", std::string(lp::to_string(path.kind()))},
                     {"distance", (ends.end - ends.start).norm()}};
    body.update(lp::to_json(p));
    io::Json resolved = {{"model", to_json(cmd.model)},
                         {"to", ui.to},
                         {"data", to_json(cmd.data)},
                         {"loss", to_json(cmd.loss)},
                         {"output", to_json(cmd.out)},
                         {"profile", lp::profile_table().to_json(cmd.options)},
                         {"kind", ui.kind},
                         {"bends", ui.bends},
                         {"out", ui.out}};
    print_json(resolved, body);
  } else {
    std::printf("model       %s, n = %ld parameters; |end - start| = %.6g\n",
                ends.model.describe().c_str(), long(objective.n_params()),
                (ends.end - ends.start).norm());
    std::printf("data        %s, d = %ld points\npath        %s\n", data.name.c_str(),
                long(data.size()), std::string(lp::to_string(path.kind())).c_str());
    std::cout << lp::summary(p);
  }
  if (!p.converged()) throw std::runtime_error("profile " + p.message);
}

struct FitCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  lp::CurveFitOptions options;
  std::string to, save_control, csv;
  TableFlags flags;
};

void run_fit(const FitCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(lp::curve_fit_table(), [&] { cmd.options.validate(); });
  if (!cmd.save_control.empty()) io::require_writable(cmd.save_control);
  if (!cmd.csv.empty()) io::require_writable(cmd.csv);
  const Ends ends = load_ends(cmd.model, cmd.to);
  const Dataset data = load_data(cmd.data, ends.model.spec());
  const Objective objective(ends.model, data, to_loss_spec(cmd.loss));
  const lp::CurveFit fit = lp::fit_curve(objective, ends.start, ends.end, cmd.options);

  if (!cmd.save_control.empty()) io::write_npy(cmd.save_control, fit.curve.control_points());
  if (!cmd.csv.empty()) {
    Eigen::MatrixXd rows(fit.profile.t.size(), 2);
    rows << fit.profile.t, fit.profile.loss;
    io::write_csv(cmd.csv, {"t", "loss"}, rows);
  }
  if (cmd.out.json) {
    io::Json body = {{"model", ends.model.describe()},
                     {"n_params", objective.n_params()},
                     {"data", data.name},
                     {"n_points", data.size()},
                     {"distance", (ends.end - ends.start).norm()}};
    body.update(lp::to_json(fit));
    io::Json resolved = {
        {"model", to_json(cmd.model)},      {"to", cmd.to},
        {"data", to_json(cmd.data)},        {"loss", to_json(cmd.loss)},
        {"output", to_json(cmd.out)},       {"fit", lp::curve_fit_table().to_json(cmd.options)},
        {"save_control", cmd.save_control}, {"out", cmd.csv}};
    print_json(resolved, body);
  } else {
    std::printf("model       %s, n = %ld parameters; |end - start| = %.6g\n",
                ends.model.describe().c_str(), long(objective.n_params()),
                (ends.end - ends.start).norm());
    std::printf("data        %s, d = %ld points\n", data.name.c_str(), long(data.size()));
    std::cout << lp::summary(fit);
  }
  if (!fit.converged()) throw std::runtime_error("curve fit " + fit.message);
}

void setup_fit(CLI::App* app) {
  auto* sub = app->add_subcommand(
      "fit",
      "A Bezier curve or polychain from --params to --to whose bends minimize the loss "
      "integrated along it (Gauss-Legendre in t, L-BFGS), stopped when its maximum converges; "
      "its barriers beside the straight line's");
  sub->alias("curve");
  auto cmd = std::make_shared<FitCommand>();
  add_model_options(sub, cmd->model, true);
  sub->add_option("--to,--params-end", cmd->to,
                  "the end point: a file like --params, of the same architecture")
      ->required();
  add_data_options(sub, cmd->data);
  add_loss_options(sub, cmd->loss);
  add_output_options(sub, cmd->out);
  sub->add_option("--save-control", cmd->save_control,
                  ".npy with the fitted control points, one per row: start, bend(s), end");
  sub->add_option("--out", cmd->csv, "CSV file with the fitted curve's profile (t, loss)");
  cmd->flags.add(sub, lp::curve_fit_table(), cmd->options);
  add_list_options_flag(sub, cmd->flags);
  sub->callback([cmd] {
    cmd->flags.apply();
    run_fit(*cmd);
  });
}

struct NebCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  lp::NebOptions options;
  std::string to, save_vertices, save_saddle, csv;
  TableFlags flags;
};

// The description of the two ends and the data shared by neb's and align's JSON.
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

void run_neb(const NebCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(lp::neb_table(), [&] { cmd.options.validate(); });
  for (const std::string* f : {&cmd.save_vertices, &cmd.save_saddle, &cmd.csv})
    if (!f->empty()) io::require_writable(*f);
  const Ends ends = load_ends(cmd.model, cmd.to);
  const Dataset data = load_data(cmd.data, ends.model.spec());
  const Objective objective(ends.model, data, to_loss_spec(cmd.loss));
  const lp::NebResult r = lp::neb(objective, ends.start, ends.end, cmd.options);

  if (!cmd.save_vertices.empty()) io::write_npy(cmd.save_vertices, r.path.control_points());
  if (!cmd.save_saddle.empty() && r.saddle.theta.size() > 0)
    save_model(cmd.save_saddle, ends.model, r.saddle.theta);
  if (!cmd.csv.empty()) {
    Eigen::MatrixXd rows(r.profile.t.size(), 2);
    rows << r.profile.t, r.profile.loss;
    io::write_csv(cmd.csv, {"t", "loss"}, rows);
  }
  if (cmd.out.json) {
    io::Json body = ends_json(ends, &data);
    body.update(lp::to_json(r));
    io::Json resolved = {{"model", to_json(cmd.model)},
                         {"to", cmd.to},
                         {"data", to_json(cmd.data)},
                         {"loss", to_json(cmd.loss)},
                         {"output", to_json(cmd.out)},
                         {"neb", lp::neb_table().to_json(cmd.options)},
                         {"save_vertices", cmd.save_vertices},
                         {"save_saddle", cmd.save_saddle},
                         {"out", cmd.csv}};
    print_json(resolved, body);
  } else {
    std::printf("model       %s, n = %ld parameters; |end - start| = %.6g\n",
                ends.model.describe().c_str(), long(objective.n_params()),
                (ends.end - ends.start).norm());
    std::printf("data        %s, d = %ld points\n", data.name.c_str(), long(data.size()));
    std::cout << lp::summary(r);
  }
  if (r.status == lp::NebStatus::non_finite) throw std::runtime_error("neb " + r.message);
}

void setup_neb(CLI::App* app) {
  auto* sub = app->add_subcommand(
      "neb",
      "A nudged elastic band from --params to --to (improved tangent, climbing image, FIRE, "
      "AutoNEB insertion), converged on max |F|_inf; its top refined to a critical point and "
      "its Hessian index reported");
  auto cmd = std::make_shared<NebCommand>();
  add_model_options(sub, cmd->model, true);
  sub->add_option("--to,--params-end", cmd->to,
                  "the end point: a file like --params, of the same architecture")
      ->required();
  add_data_options(sub, cmd->data);
  add_loss_options(sub, cmd->loss);
  add_output_options(sub, cmd->out);
  sub->add_option("--save-vertices", cmd->save_vertices,
                  ".npy with the band's vertices, one per row: start, images, end");
  sub->add_option("--save-saddle", cmd->save_saddle,
                  "the refined saddle's parameters (.safetensors or .npy)");
  sub->add_option("--out", cmd->csv, "CSV file with the band's profile (t, loss)");
  cmd->flags.add(sub, lp::neb_table(), cmd->options);
  add_list_options_flag(sub, cmd->flags);
  sub->callback([cmd] {
    cmd->flags.apply();
    run_neb(*cmd);
  });
}

struct AlignCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  lp::AlignOptions options;
  std::string to, save;
  TableFlags flags;
};

void run_align(const AlignCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(lp::align_table(), [&] { cmd.options.validate(); });
  if (!cmd.save.empty()) io::require_writable(cmd.save);
  const Ends ends = load_ends(cmd.model, cmd.to);
  // Data are optional: the permutations need only the weights, the barriers need a loss.
  std::optional<Dataset> data;
  if (!cmd.data.dataset.empty() || !cmd.data.x.empty())
    data = load_data(cmd.data, ends.model.spec());
  std::optional<Objective> objective;
  if (data) objective.emplace(ends.model, *data, to_loss_spec(cmd.loss));
  const lp::Alignment al =
      objective ? lp::weight_match(ends.model, ends.start, ends.end, *objective, cmd.options)
                : lp::weight_match(ends.model, ends.start, ends.end, cmd.options);
  if (!cmd.save.empty()) save_model(cmd.save, ends.model, al.theta);
  if (cmd.out.json) {
    io::Json body = ends_json(ends, data ? &*data : nullptr);
    body.update(lp::to_json(al));
    io::Json resolved = {{"model", to_json(cmd.model)},
                         {"to", cmd.to},
                         {"data", data ? to_json(cmd.data) : io::Json(nullptr)},
                         {"loss", to_json(cmd.loss)},
                         {"output", to_json(cmd.out)},
                         {"align", lp::align_table().to_json(cmd.options)},
                         {"save", cmd.save}};
    print_json(resolved, body);
  } else {
    std::printf("model       %s, n = %ld parameters\n", ends.model.describe().c_str(),
                long(ends.model.n_params()));
    if (data)
      std::printf("data        %s, d = %ld points\n", data->name.c_str(), long(data->size()));
    std::cout << lp::summary(al);
  }
}

void setup_align(CLI::App* app) {
  auto* sub = app->add_subcommand(
      "align",
      "Permute the hidden neurons of --to to match --params (weight matching, exact linear "
      "assignment per layer, coordinate descent over layers); with data, the straight line's "
      "barrier before and after");
  auto cmd = std::make_shared<AlignCommand>();
  add_model_options(sub, cmd->model, true);
  sub->add_option("--to,--params-end", cmd->to,
                  "the network to align: a file like --params, of the same architecture")
      ->required();
  add_data_options(sub, cmd->data);
  add_loss_options(sub, cmd->loss);
  add_output_options(sub, cmd->out);
  sub->add_option("--save", cmd->save, "the aligned --to (.safetensors or .npy)");
  cmd->flags.add(sub, lp::align_table(), cmd->options);
  add_list_options_flag(sub, cmd->flags);
  sub->callback([cmd] {
    cmd->flags.apply();
    run_align(*cmd);
  });
}

void setup_path(CLI::App* app) {
  app->require_subcommand(1);
  auto* sub = app->add_subcommand(
      "profile",
      "The loss along the path from --params to --to (straight by default), its maximum refined "
      "to --t-tolerance / --loss-tolerance, and the barrier in three conventions");
  sub->alias("line");
  auto cmd = std::make_shared<ProfileCommand>();
  add_model_options(sub, cmd->model, true);
  sub->add_option("--to,--params-end", cmd->interface.to,
                  "the end point: a file like --params, of the same architecture")
      ->required();
  add_data_options(sub, cmd->data);
  add_loss_options(sub, cmd->loss);
  add_output_options(sub, cmd->out);
  sub->add_option("--kind", cmd->interface.kind,
                  "linear (the straight line), bezier (one bend) or polychain / polyline "
                  "(through the --bends)")
      ->capture_default_str();
  sub->add_option("--bends", cmd->interface.bends,
                  ".npy with one bend per row (--kind bezier: one row)");
  sub->add_option("--out", cmd->interface.out, "CSV file with the columns t, loss");
  cmd->flags.add(sub, lp::profile_table(), cmd->options);
  add_list_options_flag(sub, cmd->flags);
  sub->callback([cmd] {
    cmd->flags.apply();
    run_profile(*cmd);
  });
  setup_fit(app);
  setup_neb(app);
  setup_align(app);
}

const bool registered = register_command(
    {"path", "Paths between two parameter vectors: loss profiles and barriers", setup_path});

}  // namespace
}  // namespace locus::cli
