#include "locus/analysis/options.hpp"

#include <vector>

namespace locus::analysis {

const options::Table<AnalyzeOptions>& analyze_table() {
  using O = AnalyzeOptions;
  static const auto t =
      options::Table<O>("AnalyzeOptions")
          .reported_as("SpectrumOptions")
          .reported_as("JacobianOptions", "jacobian_")
          .add_enum(
              "spectrum",
              "dense (every eigenvalue) | lanczos (k at each end, matrix-free) | slq "
              "(density)",
              [](O& o) -> SpectrumMethod& { return o.spectrum.method; }, &to_string,
              &parse_spectrum_method,
              std::vector<SpectrumMethod>{SpectrumMethod::dense, SpectrumMethod::lanczos,
                                          SpectrumMethod::slq})
          .add("k", "Lanczos: eigenvalues per end", [](O& o) -> int& { return o.spectrum.k; })
          .add_enum(
              "lanczos_end", "Lanczos: which end (the inertia needs the smallest)",
              [](O& o) -> LanczosEnd& { return o.spectrum.lanczos_end; }, &to_string,
              &parse_lanczos_end,
              std::vector<LanczosEnd>{LanczosEnd::both, LanczosEnd::largest, LanczosEnd::smallest})
          .add("lanczos_tolerance", "Lanczos: relative tolerance on each Ritz value",
               [](O& o) -> double& { return o.spectrum.lanczos_tolerance; })
          .add("lanczos_max_restarts", "Lanczos: restarts before giving up",
               [](O& o) -> int& { return o.spectrum.lanczos_max_restarts; })
          .add("slq_probes", "SLQ: Rademacher probe vectors",
               [](O& o) -> int& { return o.spectrum.slq_probes; })
          .add("slq_steps", "SLQ: Lanczos steps per probe",
               [](O& o) -> int& { return o.spectrum.slq_steps; })
          .add("seed", "seed of the Lanczos start and the SLQ probes",
               [](O& o) -> std::uint64_t& { return o.spectrum.seed; })
          .add("zero_tolerance_factor", "|lambda| <= factor * n * eps * max|lambda| counts as zero",
               [](O& o) -> double& { return o.spectrum.zero_tolerance_factor; })
          .add("max_dense_bytes", "dense spectrum: refuse when 24 n^2 bytes exceed this",
               [](O& o) -> double& { return o.spectrum.max_dense_bytes; })
          .add("jacobian_tolerance_factor",
               "rank J counts sigma > factor * max(l d, n) * eps * sigma_max",
               [](O& o) -> double& { return o.jacobian.tolerance_factor; })
          .add("jacobian_max_bytes", "J is not formed when 8 l d n bytes exceed this",
               [](O& o) -> double& { return o.jacobian.max_bytes; })
          .add("jacobian_bases", "also compute the tangent and normal bases of J",
               [](O& o) -> bool& { return o.jacobian.bases; })
          .add("gradient_tolerance", "critical point: |grad L|_inf <= this", &O::gradient_tolerance)
          .add("loss_tolerance", "zero loss: L <= this", &O::loss_tolerance)
          .add("min_gap", "a count decides the class only when its gap is at least this",
               &O::min_gap);
  return t;
}

const options::Table<SpectrumOptions>& spectrum_table() {
  using O = SpectrumOptions;
  static const auto t =
      options::Table<O>("SpectrumOptions")
          .add_enum("method", "dense | lanczos | slq", &O::method, &to_string,
                    &parse_spectrum_method,
                    std::vector<SpectrumMethod>{SpectrumMethod::dense, SpectrumMethod::lanczos,
                                                SpectrumMethod::slq})
          .add("k", "Lanczos: eigenvalues per end", &O::k)
          .add_enum(
              "lanczos_end", "Lanczos: which end", &O::lanczos_end, &to_string, &parse_lanczos_end,
              std::vector<LanczosEnd>{LanczosEnd::both, LanczosEnd::largest, LanczosEnd::smallest})
          .add("lanczos_tolerance", "Lanczos: relative tolerance on each Ritz value",
               &O::lanczos_tolerance)
          .add("lanczos_max_restarts", "Lanczos: restarts before giving up",
               &O::lanczos_max_restarts)
          .add("slq_probes", "SLQ: Rademacher probe vectors", &O::slq_probes)
          .add("slq_steps", "SLQ: Lanczos steps per probe", &O::slq_steps)
          .add("seed", "seed of the Lanczos start and the SLQ probes", &O::seed)
          .add("zero_tolerance_factor", "|lambda| <= factor * n * eps * max|lambda| counts as zero",
               &O::zero_tolerance_factor)
          .add("max_dense_bytes", "dense: refuse when 24 n^2 bytes exceed this",
               &O::max_dense_bytes);
  return t;
}

}  // namespace locus::analysis
