"""Bad input through the Python API (issue 16): sizes that overflow or would not fit in memory,
flags that do not apply, and corrupt files end in ValueError naming the argument or file, never in
MemoryError, an abort or a wrong answer."""

import struct

import numpy as np
import pytest

import locus


@pytest.fixture
def small_memory_limit():
    saved = locus.max_memory()
    locus.set_max_memory(1.0)  # GiB
    yield
    locus.set_max_memory(saved)


def test_parameter_count_overflow_is_a_value_error():
    # 3 * 2^62 wraps around a 64-bit count (to n_params == 1 before the check).
    with pytest.raises(ValueError, match="overflows"):
        locus.Mlp([3, 2**62, 1, 1], bias=[False, False, False])


def test_sizes_beyond_the_memory_limit_are_value_errors(small_memory_limit):
    assert locus.max_memory() == 1.0
    # One parameter vector of 5e9 entries: 37.3 GiB, refused when the network is built.
    with pytest.raises(ValueError, match=r"\[3,1000000000,1\].*37.3 GiB.*set_max_memory"):
        locus.Mlp([3, 10**9, 1])
    with pytest.raises(ValueError, match="gaussian data of n_points = 1000000000000"):
        locus.load_data(dataset="gaussian", n_points=10**12, input_dim=3)
    with pytest.raises(ValueError, match="teacher data"):
        locus.load_data(dataset="teacher", teacher_arch="3,2,1", n_points=10**12)
    with pytest.raises(ValueError, match="memory limit must be"):
        locus.set_max_memory(0)
    # Below the limit everything works as before.
    model = locus.Mlp([3, 100, 1])
    assert model.init_parameters(seed=1).shape == (model.n_params,)


def test_flags_that_do_not_apply_are_refused(tmp_path):
    locus.write_npy(str(tmp_path / "x.npy"), np.ones((4, 2)))
    locus.write_npy(str(tmp_path / "y.npy"), np.ones((4, 1)))
    with pytest.raises(ValueError, match="n_points .*x/y"):
        locus.load_data(x=str(tmp_path / "x.npy"), y=str(tmp_path / "y.npy"), n_points=2)
    with pytest.raises(ValueError, match="input_dim applies to dataset gaussian only"):
        locus.load_data(dataset="iris", input_dim=4)


def npy_with_shape(shape_text, data):
    header = ("{'descr': '<f8', 'fortran_order': False, 'shape': " + shape_text + ", }").encode()
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def test_npy_shapes_that_overflow_name_the_file(tmp_path):
    six = np.arange(6.0).tobytes()
    (tmp_path / "wrap.npy").write_bytes(npy_with_shape("(18446744073709551622,)", six))
    with pytest.raises(ValueError, match="wrap.npy.*too large"):
        locus.read_npy(str(tmp_path / "wrap.npy"))
    (tmp_path / "product.npy").write_bytes(npy_with_shape("(4294967296, 4294967296, 6)", six))
    with pytest.raises(ValueError, match="product.npy.*truncated"):
        locus.read_npy(str(tmp_path / "product.npy"))


def test_model_files_name_the_file(tmp_path, write_safetensors):
    write_safetensors(tmp_path / "act.safetensors", [("0.weight", np.ones((1, 2)))],
                {"activation": "swishy"})
    with pytest.raises(ValueError, match="act.safetensors.*swishy"):
        locus.load_model(str(tmp_path / "act.safetensors"))
    model, theta = locus.load_model(str(tmp_path / "act.safetensors"), activation="tanh")
    assert model.activation == "tanh" and theta.shape == (2,)
    write_safetensors(tmp_path / "index.safetensors", [("99999999999999999999999.weight",
                                                 np.ones((1, 2)))], {"activation": "tanh"})
    with pytest.raises(ValueError, match="index.safetensors.*99999999999999999999999"):
        locus.load_model(str(tmp_path / "index.safetensors"))
    write_safetensors(tmp_path / "zero.safetensors", [("0.weight", np.ones((0, 2)))],
                {"activation": "tanh"})
    with pytest.raises(ValueError, match="zero.safetensors"):
        locus.load_model(str(tmp_path / "zero.safetensors"))


def test_integer_keywords_too_large_for_their_field_are_value_errors():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    # depth is an int: 2^32 + 1 used to wrap to 1 and build a depth-1 network without a word.
    with pytest.raises(ValueError, match=r"depth= must be <= 2147483647.*4294967297"):
        locus.construct_cooper(x, y, depth=2**32 + 1)
    c = locus.construct_cooper(x, y, seed=1)
    with pytest.raises(ValueError, match=r"steps= must be <= 2147483647.*1000000000000"):
        locus.walk(c.model, c.params, x, y, steps=10**12)
    # Beyond 64 bits: named, not pybind11's RuntimeError "Unable to cast".
    with pytest.raises(ValueError, match=r"steps= is out of range.*1267650600228229401496"):
        locus.walk(c.model, c.params, x, y, steps=2**100)
    with pytest.raises(ValueError, match=r"seed= is out of range"):
        locus.walk(c.model, c.params, x, y, seed=np.uint64(2**64 - 1))
    # A float that is an integer is accepted, one beyond 2^63 is out of range.
    with pytest.raises(ValueError, match=r"steps= is out of range.*1e\+30"):
        locus.walk(c.model, c.params, x, y, steps=1e30)
    assert locus.walk(c.model, c.params, x, y, steps=2.0, seed=1).trace["loss"].shape == (3,)


def test_dropout_and_path_sizes_are_value_errors(small_memory_limit):
    import locus.dropout
    import locus.paths

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    model = locus.Mlp([2, 4, 1], activation="tanh", mean_field=True)
    a, b = rng.normal(size=model.n_params), rng.normal(size=model.n_params)
    with pytest.raises(ValueError, match=r"samples.*1000000000000.*GiB"):
        locus.dropout.dropout_error(model, a, x, y, kept=2, samples=10**12)
    with pytest.raises(ValueError, match=r"images = 1000000000 .*GiB"):
        locus.paths.neb(model, a, b, x, y, images=10**9)
    with pytest.raises(ValueError, match=r"points = 100000 .*GiB"):
        locus.paths.slice(model, a, x, y, dims=2, points=10**5)
