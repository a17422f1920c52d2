import os
import shutil

import pytest


@pytest.fixture(scope="session")
def locus_bin():
    """Path of the built `locus` binary (ctest sets LOCUS_BIN)."""
    path = os.environ.get("LOCUS_BIN") or shutil.which("locus")
    if not path:
        pytest.skip("LOCUS_BIN not set")
    return path
