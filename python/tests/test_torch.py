"""locus.from_torch / locus.to_torch against PyTorch itself: the same network, the same outputs,
and locus's exact loss, gradient, Hessian-vector product and Hessian equal to torch.autograd's.

Tolerances: both sides evaluate the same float64 sums in different orders (and libm's tanh vs
torch's), so values agree to a few ulps per operation. With widths <= 16 and O(1) entries, a
relative 1e-12 (about 5000 eps) bounds the accumulated difference with a wide margin on any CPU;
comparisons are relative to the largest entry of the compared array (entries near 0 carry the
absolute error of their larger neighbours).
"""

import json
import struct

import numpy as np
import pytest

import locus

torch = pytest.importorskip("torch", reason="PyTorch is optional (Debian: python3-torch)")

RTOL = 1e-12


def close(a, b, rtol=RTOL):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(1e-300, np.abs(b).max())
    return np.abs(a - b).max() <= rtol * scale


def trained_net(activation=torch.nn.Tanh, seed=0):
    """A 5-16-3 float64 MLP trained by Adam on 40 random points (a few hundred steps)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(40, 5, generator=g, dtype=torch.float64)
    y = torch.randn(40, 3, generator=g, dtype=torch.float64)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(5, 16), activation(), torch.nn.Linear(16, 3)).double()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(300):
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).sum()
        loss.backward()
        opt.step()
    return net, x, y


def flat_torch_loss(net, x, y):
    """L(theta) = sum |net_theta(x) - y|^2 as a torch function of the flat vector in locus's
    layout (each Linear's weight row-major, then its bias), evaluated by torch's own ops."""

    def f(theta):
        h, k = x, 0
        for layer in net:
            if isinstance(layer, torch.nn.Linear):
                n_w = layer.in_features * layer.out_features
                w = theta[k:k + n_w].reshape(layer.out_features, layer.in_features)
                b = theta[k + n_w:k + n_w + layer.out_features]
                k += n_w + layer.out_features
                h = torch.nn.functional.linear(h, w, b)
            else:
                h = layer(h)
        return ((h - y) ** 2).sum()

    return f


@pytest.mark.parametrize("act", [torch.nn.Tanh, torch.nn.Sigmoid, torch.nn.Softplus,
                                 torch.nn.GELU, torch.nn.ReLU])
def test_round_trip_same_outputs(act):
    net, x, y = trained_net(act)
    model, params = locus.from_torch(net)
    assert model.widths == [5, 16, 3] and params.dtype == np.float64
    with torch.no_grad():
        want = net(x).numpy()
    assert close(model.predict(params, x.numpy()), want)
    back = locus.to_torch(model, params)
    with torch.no_grad():
        np.testing.assert_array_equal(back(x).numpy(), want)  # same weights, same torch ops
    np.testing.assert_array_equal(locus.from_torch(back)[1], params)


def test_loss_gradient_hvp_hessian_equal_torch():
    net, x, y = trained_net()
    model, params = locus.from_torch(net)
    xn, yn = x.numpy(), y.numpy()
    f = flat_torch_loss(net, x, y)
    theta = torch.from_numpy(params.copy())
    assert close(locus.loss(model, params, xn, yn), f(theta).item())
    t = theta.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(t), t, create_graph=True)
    assert close(locus.gradient(model, params, xn, yn), g.detach().numpy())
    v = np.random.default_rng(1).standard_normal(params.size)
    (hv_torch,) = torch.autograd.grad(g @ torch.from_numpy(v), t)  # d/dtheta (g . v) = H v
    assert close(locus.hvp(model, params, xn, yn, v), hv_torch.numpy())
    h_torch = torch.autograd.functional.hessian(f, theta).numpy()
    assert close(locus.hessian(model, params, xn, yn), h_torch)


def read_safetensors_raw(path):
    """(header dict, raw bytes) of a safetensors file, read by hand: 8-byte length, JSON, data."""
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        return json.loads(fh.read(n)), fh.read()


def write_safetensors_raw(path, tensors, metadata):
    """A state dict written as safetensors by hand (F64, keys in the given order)."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float64).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F64", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def test_safetensors_follow_torch_conventions(tmp_path):
    net, x, _ = trained_net()
    model, params = locus.from_torch(net)
    path = str(tmp_path / "net.safetensors")
    locus.save_model(path, model, params)
    header, data = read_safetensors_raw(path)
    assert header["__metadata__"]["activation"] == "tanh"
    keys = [k for k in header if k != "__metadata__"]
    assert sorted(keys) == sorted(net.state_dict().keys()) == ["0.bias", "0.weight",
                                                               "2.bias", "2.weight"]
    state = {}
    for k in keys:
        h = header[k]
        assert h["dtype"] == "F64"
        a, b = h["data_offsets"]
        array = np.frombuffer(data[a:b], dtype="<f8").reshape(h["shape"]).copy()
        state[k] = torch.from_numpy(array)
    fresh = locus.to_torch(model, np.zeros_like(params))
    fresh.load_state_dict(state)  # strict: exactly torch's keys and shapes
    with torch.no_grad():
        np.testing.assert_array_equal(fresh(x).numpy(), net(x).numpy())

    # And the other way: a state dict written by hand with torch's keys loads into locus.
    other = str(tmp_path / "torch.safetensors")
    write_safetensors_raw(other, net.state_dict(), {"activation": "tanh"})
    loaded_model, loaded_params = locus.load_model(other)
    assert loaded_model.widths == model.widths and loaded_model.activation == "tanh"
    np.testing.assert_array_equal(loaded_params, params)


def test_errors_name_the_problem():
    nn = torch.nn
    with pytest.raises(ValueError, match="Conv1d"):
        locus.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Conv1d(1, 1, 1)))
    with pytest.raises(ValueError, match="mixed activations"):
        locus.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 3), nn.ReLU(),
                                       nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="follows the last Linear"):
        locus.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Tanh()))
    with pytest.raises(ValueError, match="beta"):
        locus.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Softplus(beta=2), nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="approximate"):
        locus.from_torch(nn.Sequential(nn.Linear(2, 3), nn.GELU(approximate="tanh"),
                                       nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="inputs"):
        locus.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(4, 1)))
    with pytest.raises(ValueError, match="Sequential"):
        locus.from_torch(nn.Linear(2, 3))
    with pytest.raises(ValueError, match="erf"):
        locus.to_torch(locus.Mlp([2, 3, 1], activation="erf"), np.zeros(13))
    with pytest.raises(ValueError, match="entries"):
        locus.to_torch(locus.Mlp([2, 3, 1]), np.zeros(5))


def test_float32_and_partial_bias_and_identity():
    nn = torch.nn
    net = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Linear(4, 2))  # float32, identity
    model, params = locus.from_torch(net)
    assert model.activation == "identity" and model.bias == [False, True]
    x = torch.randn(7, 3)
    with torch.no_grad():
        want = net.double()(x.double()).numpy()
    assert close(model.predict(params, x.double().numpy()), want)
    back = locus.to_torch(model, params)
    assert [type(m).__name__ for m in back] == ["Linear", "Identity", "Linear"]


def test_readme_example_runs():
    """examples/pytorch_round_trip.py (the README's "For PyTorch users" code) exits 0."""
    import os
    import subprocess
    import sys

    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = subprocess.run([sys.executable, os.path.join(repo, "examples", "pytorch_round_trip.py")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "loss torch" in p.stdout and "classification" in p.stdout


def test_non_finite_weights_are_named():
    nn = torch.nn
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    with torch.no_grad():
        net[2].bias[0] = float("nan")
    with pytest.raises(ValueError, match=r"layer 2 \(Linear\) bias .* index 0 \(nan\)"):
        locus.from_torch(net)
    params = np.zeros(13)
    params[4] = np.inf
    with pytest.raises(ValueError, match=r"params\[4\] is non-finite"):
        locus.to_torch(locus.Mlp([2, 3, 1]), params)
