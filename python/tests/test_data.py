"""Bindings of the data sources, the dataset description and the derivative checker: keywords
and defaults match the C++ structs, results are typed objects with dicts/arrays, caller errors
are ValueError naming the keyword. The numerics are tested in C++ (tests/data, tests/analysis)."""

import numpy as np
import pytest

import locus


def test_load_data_matches_the_specific_loaders():
    d = locus.load_data(dataset="iris", standardize=True)
    ref = locus.load_dataset("iris", standardize=True)
    np.testing.assert_array_equal(d.x, ref.x)
    np.testing.assert_array_equal(d.y, ref.y)
    g = locus.load_data(dataset="gaussian", n_points=7, input_dim=3, output_dim=2, data_seed=4)
    ref = locus.gaussian_data(7, 3, 2, 4)
    np.testing.assert_array_equal(g.x, ref.x)
    # teacher_arch as text or as a list; the model supplies the teacher's activation.
    student = locus.Mlp([3, 5, 1], activation="tanh")
    a = locus.load_data(dataset="teacher", teacher_arch="3,2,1", n_points=9, model=student)
    b = locus.load_data(dataset="teacher", teacher_arch=[3, 2, 1], n_points=9,
                        teacher_activation="tanh")
    np.testing.assert_array_equal(a.y, b.y)
    assert a.x.shape == (9, 3)
    assert locus.load_data(dataset="grid").x.shape == (41 * 41, 2)
    assert set(locus.builtin_datasets()) < set(locus.data_sources())


def test_load_data_from_files(tmp_path):
    x = np.arange(12.0).reshape(4, 3)
    locus.write_npy(str(tmp_path / "x.npy"), x)
    locus.write_npy(str(tmp_path / "y.npy"), np.ones(4))
    d = locus.load_data(x=str(tmp_path / "x.npy"), y=str(tmp_path / "y.npy"))
    np.testing.assert_array_equal(d.x, x)
    assert d.y.shape == (4, 1)


@pytest.mark.parametrize("kwargs,word", [
    ({}, "dataset"),
    ({"dataset": "mnist"}, "dataset"),
    ({"dataset": "gaussian"}, "n_points"),
    ({"dataset": "teacher"}, "teacher_arch"),
    ({"dataset": "teacher", "teacher_arch": "3,x,1"}, "teacher_arch"),
    ({"dataset": "iris", "labels": "ordinal"}, "labels"),
    ({"dataset": "iris", "teacher_init": "uniform"}, "teacher_init"),
    ({"x": "a.npy"}, "y"),
    ({"dataset": "iris", "n_points": 1000}, "n_points"),
])
def test_load_data_errors_name_the_keyword(kwargs, word):
    with pytest.raises(ValueError, match=word):
        locus.load_data(**kwargs)


def test_load_data_is_keyword_only():
    with pytest.raises(TypeError):
        locus.load_data("iris")


def test_describe_data():
    desc = locus.describe_data(locus.load_data(dataset="iris"))
    assert (desc.n_points, desc.input_dim, desc.output_dim) == (150, 4, 3)
    assert desc.label_counts == {0: 50, 1: 50, 2: 50}
    assert not desc.distinct_inputs and desc.duplicate  # iris has repeated rows
    assert len(desc.features) == 4 and set(desc.features[0]) == {"min", "max", "mean"}
    j = desc.to_dict()
    assert j["n_points"] == 150 and j["label_counts"] == {"0": 50, "1": 50, "2": 50}
    assert "d = 150" in desc.summary() and "d = 150" in repr(desc)
    g = locus.describe_data(locus.load_data(dataset="gaussian", n_points=5, input_dim=2))
    assert g.distinct_inputs and g.label_counts == {} and "label_counts" not in g.to_dict()


def test_check_derivatives():
    model = locus.Mlp([4, 5, 3], activation="tanh")
    x, y = locus.load_dataset("iris", n_points=20, standardize=True)
    theta = model.init_parameters(seed=1)
    r = locus.check_derivatives(model, theta, x, y, seed=2)
    assert r.passed and bool(r), r.summary()
    names = [c["name"] for c in r.comparisons]
    assert names == ["gradient", "hessian_vector_product", "jacobian", "hvp_vs_dense_hessian",
                     "gradient_vs_jacobian"]
    assert all(0 <= c["max_error"] <= c["tolerance"] for c in r.comparisons)
    assert r.to_dict()["passed"] is True and "holds" in r.summary()
    ce = locus.check_derivatives(model, theta, x, y, loss="cross_entropy", directions=0)
    assert [c["name"] for c in ce.comparisons] == ["gradient", "hvp_vs_dense_hessian"]
    with pytest.raises(ValueError, match="coordinates"):
        locus.check_derivatives(model, theta, x, y, coordinates=0)
    with pytest.raises(ValueError, match="params"):
        locus.check_derivatives(model, theta[:-1], x, y)
