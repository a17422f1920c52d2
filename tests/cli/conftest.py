"""The CLI contract tests share the fixtures of the Python tests (python/tests/conftest.py)."""
import importlib.util
import pathlib

_path = pathlib.Path(__file__).resolve().parents[2] / "python" / "tests" / "conftest.py"
_spec = importlib.util.spec_from_file_location("locus_python_tests_conftest", _path)
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)

locus_bin = _shared.locus_bin
write_safetensors = _shared.write_safetensors
