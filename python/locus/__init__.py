"""locus: the geometry of neural-network loss landscapes, computed exactly.

The compiled core lives in locus._core (pybind11); this package re-exports it and adds the
pure-Python parts: figures (locus.plot) and the HTML report (locus.report).

Arrays go in as any real numeric NumPy array (or nested list), C or Fortran order, and are
converted to float64; results come back as float64 NumPy arrays. Caller mistakes (bad shapes,
NaN/inf, a parameter vector of the wrong length, unknown names, unreadable files) raise
ValueError with a message naming the argument or file. Long computations release the GIL.

    import locus
    model = locus.Mlp([4, 8, 3], activation="tanh")
    x, y = locus.load_dataset("iris", standardize=True)
    theta = model.init_parameters(seed=1)
    g = locus.gradient(model, theta, x, y)

For repeated calls on the same data, locus.Objective converts x and y once:

    obj = locus.Objective(model, x, y)
    g = obj.gradient(theta)
    H = obj.hessian_operator(theta)   # forward and backward pass once; H @ v: R-passes only
"""

from ._core import *  # noqa: F401,F403
from ._core import __version__, git_commit  # noqa: F401
from . import transforms  # noqa: F401,E402
from . import paths  # noqa: F401,E402
from . import symmetry  # noqa: F401,E402
from .torch_io import from_torch, to_torch  # noqa: F401,E402
from . import basins  # noqa: F401,E402
from . import dropout  # noqa: F401,E402
