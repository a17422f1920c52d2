"""Bindings of the analysis layer and the analyze verb (numerics are tested in C++)."""

import json
import subprocess

import numpy as np
import pytest

import locus


def zero_loss_problem():
    model = locus.Mlp([3, 8, 1], activation="softplus")
    theta = model.init_parameters(scheme="normal", seed=7)
    x = np.random.default_rng(1).normal(size=(5, 3))
    return model, theta, x, model.predict(theta, x)


def test_analyze_returns_certified_counts():
    model, theta, x, y = zero_loss_problem()
    a = locus.analyze(model, theta, x, y)
    n = model.n_params
    assert a["jacobian"]["rank"] == 5 and a["manifold_dimension"] == n - 5
    assert (a["hessian"]["positive"], a["hessian"]["zero"], a["hessian"]["negative"]) == (5, n - 5, 0)
    assert a["classification"] == "global_minimum"
    assert isinstance(a["eigenvalues"], np.ndarray) and a["eigenvalues"].shape == (n,)
    with pytest.raises(ValueError, match="spectrum"):
        locus.analyze(model, theta, x, y, spectrum="qr")


def test_analyze_cli(locus_bin, tmp_path):
    model, theta, x, y = zero_loss_problem()
    locus.save_model(str(tmp_path / "m.safetensors"), model, theta)
    locus.write_npy(str(tmp_path / "x.npy"), x)
    locus.write_npy(str(tmp_path / "y.npy"), y)
    p = subprocess.run([locus_bin, "analyze", "--params", str(tmp_path / "m.safetensors"),
                        "--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy"), "--json"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert list(j)[0] == "context"
    for key in ("loss", "gradient_max_norm", "n_params", "n_residuals", "manifold_dimension",
                "classification"):
        assert key in j
    for key in ("rank", "tolerance", "gap"):
        assert key in j["jacobian"]
    for key in ("method", "positive", "zero", "negative", "tolerance", "gap"):
        assert key in j["hessian"]
    assert j["hessian"]["zero"] == j["manifold_dimension"]
    p = subprocess.run([locus_bin, "analyze", "--params", str(tmp_path / "m.safetensors"),
                        "--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy"),
                        "--max-dense-bytes", "1"], capture_output=True, text=True)
    assert p.returncode == 2 and "lanczos" in p.stderr


def test_n_minus_rank_is_named_by_what_it_is(locus_bin, tmp_path):
    """Away from zero loss, n - rank J is the local dimension of the fibre of the residual map,
    not the dimension of a manifold of minima: analyze names it so (dict, JSON and text)."""
    model, theta, x, y = zero_loss_problem()
    y = y + 0.1  # no longer interpolated: loss > 0
    a = locus.analyze(model, theta, x, y)
    assert a["loss"] > 1e-3 and not a["at_zero_loss"]
    assert a["fibre_dimension"] == model.n_params - a["jacobian"]["rank"]
    assert a["manifold_dimension"] is None
    model_path, x_path, y_path = (str(tmp_path / n) for n in ("m.safetensors", "x.npy", "y.npy"))
    locus.save_model(model_path, model, theta)
    locus.write_npy(x_path, x)
    locus.write_npy(y_path, y)
    p = subprocess.run([locus_bin, "analyze", "--params", model_path, "--x", x_path, "--y",
                        y_path, "--quiet"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "fibre dimension" in p.stdout and "manifold dimension" not in p.stdout, p.stdout
    # At zero loss the same number is the manifold's dimension, and said so.
    a0 = locus.analyze(model, theta, x, y - 0.1)
    assert a0["manifold_dimension"] == a0["fibre_dimension"] == model.n_params - 5


def test_analyze_progress_and_callback(capsys):
    model, theta, x, y = zero_loss_problem()
    events = []
    a = locus.analyze(model, theta, x, y, spectrum="lanczos", k=2, callback=events.append)
    stages = [e["stage"] for e in events]
    assert stages[0] == "loss and gradient" and any(s.startswith("Jacobian SVD") for s in stages)
    lanczos = [e["done"] for e in events if e["stage"].startswith("Lanczos")]
    assert lanczos == list(range(1, len(lanczos) + 1))  # one event per operator application
    quiet = locus.analyze(model, theta, x, y, spectrum="lanczos", k=2)
    np.testing.assert_array_equal(a["eigenvalues"], quiet["eigenvalues"])
    locus.analyze(model, theta, x, y, progress=True)
    assert "locus analyze: loss and gradient" in capsys.readouterr().err
    with pytest.raises(ValueError, match="callable"):
        locus.analyze(model, theta, x, y, callback=3)


def test_lanczos_ends_match_the_dense_spectrum(locus_bin, tmp_path):
    model = locus.Mlp([3, 8, 1], activation="tanh")
    theta = model.init_parameters(scheme="normal", seed=3)
    x = np.random.default_rng(2).normal(size=(12, 3))
    y = np.random.default_rng(4).normal(size=(12, 1))  # not a minimum: both signs in H
    dense = locus.hessian_spectrum(model, theta, x, y)["eigenvalues"]
    scale = np.abs(dense).max()
    for end, want in (("largest", dense[-4:]), ("smallest", dense[:4])):
        s = locus.hessian_spectrum(model, theta, x, y, method="lanczos", k=4, end=end,
                                   tolerance=1e-12)
        # Converged Ritz values of a backward-stable Lanczos: within ~100 eps |H| of the dense ones.
        np.testing.assert_allclose(np.sort(s["eigenvalues"]), want, rtol=0, atol=1e-13 * scale)
        counted = []
        again = locus.hessian_spectrum(model, theta, x, y, method="lanczos", k=4, end=end,
                                       tolerance=1e-12, callback=counted.append)
        assert again["applications"] == len(counted) >= 4 and again["restarts"] >= 0
    both = locus.hessian_spectrum(model, theta, x, y, method="lanczos", k=4)["eigenvalues"]
    assert both.shape == (8,)
    with pytest.raises(ValueError, match="both, largest, smallest"):
        locus.hessian_spectrum(model, theta, x, y, method="lanczos", end="top")
    with pytest.raises(ValueError, match="lanczos_tolerance"):
        locus.hessian_spectrum(model, theta, x, y, method="lanczos", tolerance=0.0)
    locus.save_model(str(tmp_path / "m.safetensors"), model, theta)
    locus.write_npy(str(tmp_path / "x.npy"), x)
    locus.write_npy(str(tmp_path / "y.npy"), y)
    args = [locus_bin, "analyze", "--params", str(tmp_path / "m.safetensors"), "--x",
            str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy"), "--spectrum", "lanczos",
            "--k", "4"]
    p = subprocess.run(args + ["--lanczos-end", "top"], capture_output=True, text=True)
    assert p.returncode == 2 and "--lanczos-end" in p.stderr
    p = subprocess.run(args + ["--lanczos-tolerance", "0"], capture_output=True, text=True)
    assert p.returncode == 2 and "--lanczos-tolerance" in p.stderr
    p = subprocess.run(args + ["--lanczos-end", "largest", "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    top = np.sort(json.loads(p.stdout)["hessian"]["eigenvalues"])
    np.testing.assert_allclose(top, dense[-4:], rtol=0, atol=1e-13 * scale)


def test_spectrum_keywords_come_from_the_table():
    model = locus.Mlp([3, 5, 1], activation="tanh")
    theta = model.init_parameters(seed=1)
    x = np.random.default_rng(0).normal(size=(8, 3))
    y = np.random.default_rng(1).normal(size=(8, 1))
    defaults = locus.options_table("spectrum")
    assert defaults["method"] == "dense" and defaults["lanczos_end"] == "both"
    # Passing every default by keyword is the same call as passing none (same arithmetic).
    np.testing.assert_array_equal(locus.hessian_spectrum(model, theta, x, y, **defaults)["eigenvalues"],
                                  locus.hessian_spectrum(model, theta, x, y)["eigenvalues"])
    # The earlier short names are aliases of the table's rows.
    a = locus.hessian_spectrum(model, theta, x, y, method="lanczos", k=3, lanczos_end="largest")
    b = locus.hessian_spectrum(model, theta, x, y, method="lanczos", k=3, end="largest")
    np.testing.assert_array_equal(a["eigenvalues"], b["eigenvalues"])
    with pytest.raises(ValueError, match=r"^slq_probes\b"):
        locus.hessian_spectrum(model, theta, x, y, method="slq", slq_probes=0)
    with pytest.raises(ValueError, match="nonsense"):
        locus.hessian_spectrum(model, theta, x, y, nonsense=1)
