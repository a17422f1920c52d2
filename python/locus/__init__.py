"""locus: the geometry of neural-network loss landscapes, computed exactly.

The compiled core lives in locus._core (pybind11); this package re-exports it and adds the
pure-Python parts: figures (locus.plot) and the HTML report (locus.report). Caller mistakes raise
ValueError with a message naming the argument; long computations release the GIL.
"""

from ._core import *  # noqa: F401,F403
from ._core import __version__, git_commit  # noqa: F401
