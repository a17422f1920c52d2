import json
import os
import shutil
import struct

import pytest


@pytest.fixture(scope="session")
def locus_bin():
    """Path of the built `locus` binary (ctest sets LOCUS_BIN)."""
    path = os.environ.get("LOCUS_BIN") or shutil.which("locus")
    if not path:
        pytest.skip("LOCUS_BIN not set")
    return path


@pytest.fixture(scope="session")
def write_safetensors():
    """write(path, [(name, array), ...], metadata): a safetensors file written byte by byte from
    the published format (F64), for tests that need files locus would not write itself."""
    import numpy as np

    def write(path, tensors, metadata):
        header, data = {"__metadata__": metadata}, b""
        for name, a in tensors:
            a = np.ascontiguousarray(a, dtype=np.float64)
            header[name] = {"dtype": "F64", "shape": list(a.shape),
                            "data_offsets": [len(data), len(data) + a.nbytes]}
            data += a.tobytes()
        h = json.dumps(header).encode()
        h += b" " * ((8 - len(h) % 8) % 8)
        path.write_bytes(struct.pack("<Q", len(h)) + h + data)

    return write
