import json
import os
import shutil
import struct
import subprocess

import pytest


@pytest.fixture(scope="session")
def locus_bin():
    """Path of the built `locus` binary (ctest sets LOCUS_BIN)."""
    path = os.environ.get("LOCUS_BIN") or shutil.which("locus")
    if not path:
        pytest.skip("LOCUS_BIN not set")
    return path


@pytest.fixture(scope="session")
def headless_chromium():
    """run(profile, *args, text=False) -> subprocess.CompletedProcess: headless Chromium, the
    report tests' browser, with a fresh profile folder and 10 s of virtual time for the page's
    scripts; fails the test when no Chromium is installed (scripts/setup.sh installs it). The
    browser is not sanitized: it runs without a sanitizer build's preloaded ASan runtime, which
    stays with Python (under it Chromium hangs)."""
    browser = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                    if shutil.which(n)), None)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--virtual-time-budget=10000"]
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}

    def run(profile, *args, text=False):
        if browser is None:
            pytest.fail("chromium is not installed (scripts/setup.sh installs it)")
        return subprocess.run([browser, *flags, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=text, timeout=120, env=env)

    return run


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
