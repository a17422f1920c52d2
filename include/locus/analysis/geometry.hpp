#pragma once
// Compatibility umbrella: the whole analysis layer (Jacobian, spectra, inertia, traces,
// classification). New code includes the header it needs.
#include "locus/analysis/classify.hpp"
#include "locus/analysis/inertia.hpp"
#include "locus/analysis/jacobian.hpp"
#include "locus/analysis/spectrum.hpp"
#include "locus/analysis/trace.hpp"
