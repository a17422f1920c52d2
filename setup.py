"""Builds the locus Python package: CMake compiles the library and the pybind11 module
locus._core (scikit-build installs it next to the pure-Python files of python/locus).

    /usr/bin/python3 -m venv --system-site-packages /tmp/v
    /tmp/v/bin/pip install --no-build-isolation .

--no-build-isolation uses the venv's (Debian's) setuptools and scikit-build; NumPy comes from
Debian too. The version is read from CMakeLists.txt, where it is defined once.
"""

import re
from pathlib import Path

from skbuild import setup

root = Path(__file__).resolve().parent
version = re.search(r"project\(locus VERSION ([0-9.]+)",
                    (root / "CMakeLists.txt").read_text()).group(1)

setup(
    name="locus",
    version=version,
    description="Exact derivatives, solvers and certified geometry of neural-network loss "
    "landscapes",
    license="see the repository",
    packages=["locus"],
    package_dir={"": "python"},
    package_data={"locus": ["py.typed", "__init__.pyi"]},
    python_requires=">=3.9",
    install_requires=["numpy"],
    # CMake's install prefix is the package directory: install(TARGETS locus_python ...) in
    # CMakeLists.txt (under SKBUILD) puts _core*.so there.
    cmake_install_dir="python/locus",
    cmake_args=["-DCMAKE_BUILD_TYPE=Release", "-DLOCUS_BUILD_TESTS=OFF",
                "-DLOCUS_BUILD_PYTHON=ON", "-DLOCUS_BUILD_BENCHMARKS=OFF",
                "-DLOCUS_BUILD_CLI=OFF"],
)
