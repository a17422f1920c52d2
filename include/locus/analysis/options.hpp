#pragma once
// The field table of AnalyzeOptions (core/options.hpp): `locus analyze`'s flags, the keyword
// arguments of Python's locus.analyze, `--list-options` and the "analyze" block of the JSON
// context all come from it. Rows of the nested SpectrumOptions keep their member names
// ("k", "lanczos_end", ...; "spectrum" for spectrum.method); rows of JacobianOptions carry the
// prefix "jacobian_" ("jacobian_max_bytes"). Defaults are the structs' member initialisers.
//
//   locus::analysis::AnalyzeOptions o;
//   locus::analysis::analyze_table().set_text(o, "spectrum", "lanczos");
//   locus::analysis::analyze_table().set(o, "k", std::int64_t{4});
//   io::Json resolved = locus::analysis::analyze_table().to_json(o);

#include "locus/analysis/geometry.hpp"
#include "locus/core/options.hpp"

namespace locus::analysis {

// Rows: spectrum, k, lanczos_end, lanczos_tolerance, lanczos_max_restarts, slq_probes,
// slq_steps, seed, zero_tolerance_factor, max_dense_bytes, jacobian_tolerance_factor,
// jacobian_max_bytes, jacobian_bases, gradient_tolerance, loss_tolerance, min_gap. rephrase()
// recognises validate()'s "SpectrumOptions.<member>" and "JacobianOptions.<member>" messages.
const options::Table<AnalyzeOptions>& analyze_table();

// The field table of SpectrumOptions alone (rows named as the members: method, k, lanczos_end,
// lanczos_tolerance, lanczos_max_restarts, slq_probes, slq_steps, seed, zero_tolerance_factor,
// max_dense_bytes): the keywords of Python's locus.hessian_spectrum.
const options::Table<SpectrumOptions>& spectrum_table();

}  // namespace locus::analysis
