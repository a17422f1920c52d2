"""Paths between points of parameter space and the loss along them (locus/paths/path.hpp).

A path gamma(t), t in [0, 1], is a combination sum_j w_j(t) P_j of its control points (rows of
``path.control_points``: start, vertices or bends, end). Polylines and polychains are uniform per
segment (segment k covers [k/(m-1), (k+1)/(m-1)]); a quadratic Bezier curve is
(1-t)^2 start + 2t(1-t) bend + t^2 end.

The loss profile samples L(gamma(t)) on a grid (``points``) and refines the grid's maximum by
golden-section search until t* is bracketed to ``t_tolerance`` and the peak is within
``loss_tolerance * max(1, |L_max|)`` of the best value (``max_refinements`` evaluations at most).
Its ``barriers`` are the three conventions in use: L_max minus the larger end, minus the linear
interpolation of the end losses at t*, minus the mean of the ends.

    import locus, locus.paths
    p = locus.paths.profile(model, params_a, params_b, x, y, points=65)
    p.barriers["above_larger_end"], p.t_max, p.converged
    fit = locus.paths.fit_curve(model, params_a, params_b, x, y)   # Garipov et al. 2018
    fit.profile.barriers, fit.line_profile.barriers, fit.curve.control_points
    curve = locus.paths.bezier(params_a, bend, params_b)
    locus.paths.profile_path(curve, lambda theta: float(theta @ theta))
    band = locus.paths.neb(model, params_a, params_b, x, y, images=9)   # or neb(fun, a, b)
    band.barrier, band.saddle.index, band.vertices, band.values
    al = locus.paths.align(model, params_a, params_b, x, y)   # weight matching
    al.params, al.permutations, al.line_before.barriers, al.line_after.barriers
    s = locus.paths.slice(model, params, x, y, dims=2, points=31)  # filter-normalised
    s.alpha, s.beta, s.loss                                        # loss[i, j]
    p = locus.paths.profile_slice(model, params, x, y, params_end=params_b)
    p.t, p.slice, p.profile                                        # min over z of L beside L
    d = locus.paths.dropout_path(model, params_a, params_b, x, y)  # Shevchenko-Mondelli

Every call that computes takes ``progress=True`` (a line on sys.stderr: profile points k/n, NEB
iterations with the highest image's loss and the max force, curve-fit iterations with the
integrated loss, slice points, profile-slice minimizations) or ``callback=f`` (f gets one dict
{stage, done, total, loss, gradient_max_norm} per unit of work, from the calling thread).

Bad input (ends of different lengths, non-finite values, unknown option names, a callable that
returns something other than a number) raises ValueError naming it.
"""

from ._core import _paths as _p
from .dropout import dropout_path  # noqa: F401  (the 7-segment path, locus/dropout/)

Path = _p.Path
LossProfile = _p.LossProfile
CurveFit = _p.CurveFit
NebResult = _p.NebResult
NebSaddle = _p.NebSaddle
Alignment = _p.Alignment
LossSlice = _p.LossSlice
ProfileSlice = _p.ProfileSlice
solve_assignment = _p.solve_assignment
barriers = _p.barriers


def line(start, end):
    """The straight line (1 - t) start + t end."""
    return Path.line(start, end)


def polyline(vertices):
    """The polyline through the rows of ``vertices`` (at least 2), uniform per segment."""
    return Path.polyline(vertices)


def bezier(start, bend, end):
    """The quadratic Bezier curve (1-t)^2 start + 2t(1-t) bend + t^2 end."""
    return Path.bezier(start, bend, end)


def polychain(start, bends, end):
    """The polychain start -> bends[0] -> ... -> end (one bend per row), uniform per segment."""
    return Path.polychain(start, bends, end)


def profile_path(path, model_or_fun, x=None, y=None, **options):
    """The loss profile along ``path``: of the MLP loss of ``model`` on (x, y) (keywords ``loss``
    and ``reduction`` as locus.loss), or of any callable ``fun(params) -> float``. Other keywords
    are the profile options (``options()``: points, t_tolerance, loss_tolerance,
    max_refinements)."""
    if callable(model_or_fun) and not hasattr(model_or_fun, "n_params"):
        if x is not None or y is not None:
            raise ValueError("x, y: not used with a callable; pass the data to it yourself")
        return _p.profile_function(model_or_fun, path, **options)
    if x is None or y is None:
        raise ValueError("x and y are required with a model")
    return _p.profile_model(model_or_fun, path, x, y, **options)


def profile(model, params_a, params_b, x, y, **options):
    """The loss profile of ``model`` on (x, y) along the straight line from params_a to
    params_b, with its barriers (see profile_path for the keywords)."""
    return profile_path(line(params_a, params_b), model, x, y, **options)


def fit_curve(model, params_a, params_b, x, y, **options):
    """A Bezier curve (kind="bezier") or polychain (kind="polychain", bends=k) from params_a to
    params_b whose bends minimize the loss of ``model`` on (x, y) integrated along it
    (Gauss-Legendre quadrature in t, exact gradient, L-BFGS in rounds), stopped when the curve's
    maximum stops changing (max_tolerance). Returns a CurveFit with the curve, its profile and
    the straight line's. Keywords: ``fit_options()``, and ``loss`` / ``reduction``."""
    return _p.fit_model(model, params_a, params_b, x, y, **options)


def neb(model_or_fun, start, end, x=None, y=None, **options):
    """A nudged elastic band from ``start`` to ``end`` (improved tangent, springs along it, a
    climbing image, L-BFGS or FIRE as ``optimizer``; AutoNEB insertion where a segment peaks),
    converged on the largest force max_i |F_i|_inf <= force_tolerance; its top refined to a
    critical point whose Hessian index is reported. Of the MLP loss of ``model`` on (x, y)
    (keywords ``loss``, ``reduction``), or of any callable ``fun(x) -> (value, gradient)`` on R^n
    (the refinement then uses finite-difference Hessian-vector products). Returns a NebResult:
    ``barrier`` (three conventions, top = the saddle's loss), ``saddle`` (params, loss, index),
    ``vertices``, ``values``, ``profile``, ``line_profile``. Keywords: ``neb_options()``."""
    if callable(model_or_fun) and not hasattr(model_or_fun, "n_params"):
        if x is not None or y is not None:
            raise ValueError("x, y: not used with a callable; pass the data to it yourself")
        return _p.neb_function(model_or_fun, start, end, **options)
    if x is None or y is None:
        raise ValueError("x and y are required with a model")
    return _p.neb_model(model_or_fun, start, end, x, y, **options)


def align(model, params_a, params_b, x=None, y=None, **options):
    """Weight matching (Ainsworth et al. 2023): the hidden neurons of params_b permuted, layer by
    layer, to maximize sum_K <W_K^A, P_K W_K^B P_{K-1}^T> (+ biases), i.e. to minimize
    |params_a - aligned|; exact linear assignment per layer, coordinate descent over layers with
    seeded restarts. Returns an Alignment: ``params`` (the aligned B, the same function as B),
    ``permutations``, distances and objective before and after, and with (x, y) the straight
    lines' profiles ``line_before`` / ``line_after``. Keywords: ``align_options()``."""
    return _p.align(model, params_a, params_b, x, y, **options)


def slice(model, params, x, y, params_end=None, **options):
    """The loss of ``model`` on (x, y) on a line (dims=1) or a square (dims=2) through ``params``
    along filter-normalised random directions (Li et al. 2018: each weight row of a Gaussian
    direction rescaled to the norm of the same row of params, biases zeroed), alpha and beta in
    [-radius, radius]; with ``params_end`` the first direction is params_end - params (alpha in
    [-radius, 1 + radius]) and the second a random direction orthogonal to it, as long. Returns a
    LossSlice (``alpha``, ``beta``, ``d1``, ``d2``, ``loss[i, j]``). Keywords:
    ``slice_options()``, and ``loss`` / ``reduction``."""
    return _p.slice_model(model, params, x, y, params_end, **options)


def profile_slice(model, params, x, y, params_end=None, **options):
    """The profile slice along the 1-D slice's direction d (see ``slice``): at each alpha,
    min over z orthogonal to d of L(params + alpha d + z), by the chosen solver (``solver="lm"``
    or ``"lbfgs"``) warm-started from the neighbouring alpha, beside the plain slice
    L(params + alpha d). Returns a ProfileSlice (``t``, ``slice``, ``profile``,
    ``gradient_max_norm``, ``converged``). Keywords: ``slice_options()`` (dims must be 1) and
    ``profile_slice_options()``."""
    return _p.profile_slice_model(model, params, x, y, params_end, **options)


def slice_options():
    """The slice options with their defaults: {name: value}."""
    return _p.slice_defaults()


def profile_slice_options():
    """The profile slice's solver options with their defaults: {name: value}."""
    return _p.profile_slice_defaults()


def neb_options():
    """The NEB options with their defaults: {name: value}."""
    return _p.neb_defaults()


def align_options():
    """The alignment options with their defaults: {name: value}."""
    return _p.align_defaults()


def options():
    """The profile options with their defaults: {name: value}."""
    return _p.profile_defaults()


def fit_options():
    """The curve-fitting options with their defaults: {name: value}."""
    return _p.fit_defaults()
