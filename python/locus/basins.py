"""Li, Ding & Sun's narrow-to-wide transition (locus/workflows/basins.hpp).

run_basins(x=None, y=None, progress=None, **options) sweeps seeds x widths of one hidden layer
(the last by default, `layer` K otherwise; any depth), trains each run (Adam, then a Newton
polish) and certifies where it ended: global_minimum, strict_minimum, non_strict_minimum,
saddle, not_converged or undecided, with the Hessian inertia and its zero tolerance. Per width,
`widths` counts the end states and the strict minima above the lowest loss of the same net
(sub-optimal). A strict verdict is never issued when the last-hidden feature matrix Phi has a
kernel (rank Phi < h_L): output weights moved inside it leave the loss exactly constant.
Without x and y the data are the hand-made scalar problem (scalar_data(), N = 8).

descend(model, params, x=None, y=None) builds the constructive descent at last-hidden width
>= N: output weights moved inside ker Phi, zero-output neurons redrawn until rank Phi = N (loss
constant), then the straight segment to the least-squares output weights, L(t) = (1 - t)^2 L(0).

    import locus
    r = locus.basins.run_basins(arch="1,1,1", widths="1,2,8,10", seeds=10)
    r.widths[0]["suboptimal_strict"], r.runs[0].end_state, r.runs[0].hessian["min_eigenvalue"]
    m = locus.Mlp([1, 8, 1], activation="tanh")
    d = locus.basins.descend(m, m.init_parameters(scheme="normal", seed=1))
    d.status, d.loss_end, d.max_relative_increase

Results do not depend on run_threads. Bad input (widths out of order or < 1, a layer out of
range, seeds < 1, unknown keywords) raises ValueError naming it.
"""

from ._core import _basins as _b

BasinRun = _b.BasinRun
BasinsResult = _b.BasinsResult
Descent = _b.Descent
basins_options = _b.basins_options
descend = _b.descend
run_basins = _b.run_basins
scalar_data = _b.scalar_data

__all__ = ["BasinRun", "BasinsResult", "Descent", "basins_options", "descend", "run_basins",
           "scalar_data"]
