"""Geometry workloads, locus against PyTorch (float64) + scipy:

  1. dense Hessian + full eigendecomposition, [10,200,1] softplus, d = 500 (n = 2401)
  2. residual Jacobian + SVD + numerical rank, same problem
  3. top-10 Hessian eigenvalues by Lanczos on [784,512,512,10], d = 1024 (n = 669,706):
     locus (Spectra on exact HVPs) vs scipy.sparse.linalg.eigsh on a PyTorch HVP operator

Medians over --repetitions runs; ratio = torch / locus (> 1: locus faster). Run with
PYTHONPATH=build/python /usr/bin/python3 bench/analysis/compare_torch_analysis.py
"""

import argparse
import statistics
import time

import numpy as np
import scipy.sparse.linalg as sla
import functorch
import torch
from torch.nn.utils.stateless import functional_call

import locus


def median_time(f, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def torch_net(widths, theta):
    """nn.Sequential with locus's parameter layout (state-dict order)."""
    layers = []
    for k in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[k], widths[k + 1]).double())
        if k + 2 < len(widths):
            layers.append(torch.nn.Softplus())
    net = torch.nn.Sequential(*layers)
    torch.nn.utils.vector_to_parameters(torch.from_numpy(theta.copy()), net.parameters())
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-large", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    locus.set_num_threads(a.threads)
    rows = []

    widths = [10, 200, 1]
    model = locus.Mlp(widths, activation="softplus")
    theta = model.init_parameters(seed=1)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(500, 10)), rng.normal(size=(500, 1))
    net = torch_net(widths, theta)
    params = list(net.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    flat = torch.nn.utils.parameters_to_vector(params).detach()

    def f_flat(p):
        out = functional_call(net, dict(zip([n for n, _ in net.named_parameters()],
                                                       unflatten(p))), (xt,))
        return ((out - yt) ** 2).sum()

    shapes = [p.shape for p in params]

    def unflatten(p):
        out, i = [], 0
        for s in shapes:
            k = int(np.prod(s))
            out.append(p[i:i + k].view(s))
            i += k
        return out

    def torch_dense():
        h = functorch.hessian(f_flat)(flat)
        return torch.linalg.eigvalsh(h)

    def locus_dense():
        return locus.hessian_spectrum(model, theta, x, y, method="dense")

    ev_t = torch_dense().numpy()
    ev_l = locus_dense()["eigenvalues"]
    rows.append(("dense Hessian + eigh, n=2401", median_time(locus_dense, a.repetitions),
                 median_time(torch_dense, a.repetitions),
                 float(np.max(np.abs(np.sort(ev_t) - ev_l)) / np.max(np.abs(ev_l)))))

    def residuals(p):
        out = functional_call(net, dict(zip([n for n, _ in net.named_parameters()],
                                                       unflatten(p))), (xt,))
        return (out - yt).reshape(-1)

    def torch_jac():
        j = functorch.jacrev(residuals)(flat)
        s = torch.linalg.svdvals(j)
        return int((s > max(j.shape) * np.finfo(float).eps * s[0]).sum())

    def locus_jac():
        return locus.jacobian_rank(model, theta, x, y)["rank"]

    assert torch_jac() == locus_jac()
    rows.append(("Jacobian + SVD + rank, 500 x 2401", median_time(locus_jac, a.repetitions),
                 median_time(torch_jac, a.repetitions), 0.0))

    if not a.skip_large:
        widths = [784, 512, 512, 10]
        model = locus.Mlp(widths, activation="softplus")
        theta = model.init_parameters(seed=1)
        x, y = rng.normal(size=(1024, 784)), rng.normal(size=(1024, 10))
        net = torch_net(widths, theta)
        params = list(net.parameters())
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        loss = ((net(xt) - yt) ** 2).sum()
        grads = torch.autograd.grad(loss, params, create_graph=True)
        n = model.n_params

        products = {"torch": 0, "locus": 0}

        def hv(v):
            products["torch"] += 1
            vs, i = [], 0
            for p in params:
                k = p.numel()
                vs.append(torch.from_numpy(np.ascontiguousarray(v[i:i + k])).view(p.shape))
                i += k
            out = torch.autograd.grad(grads, params, vs, retain_graph=True)
            return torch.cat([o.reshape(-1) for o in out]).numpy()

        op = sla.LinearOperator((n, n), matvec=hv, dtype=np.float64)
        v0 = np.random.default_rng(1).normal(size=n)

        def torch_lanczos():
            return sla.eigsh(op, k=10, which="LA", v0=v0, tol=1e-10, return_eigenvectors=False)

        def count_locus(event):  # one event per Hessian-vector product
            if event["stage"].startswith("Lanczos"):
                products["locus"] += 1

        def locus_lanczos():  # like for like: the 10 largest, relative tolerance 1e-10
            return locus.hessian_spectrum(model, theta, x, y, method="lanczos", k=10, seed=1,
                                          end="largest", tolerance=1e-10, callback=count_locus)

        def with_counts(f):
            t0 = time.perf_counter()
            r = f()
            return time.perf_counter() - t0, r

        tl, rl = with_counts(locus_lanczos)
        tt, rt = with_counts(torch_lanczos)
        top_l = np.sort(rl["eigenvalues"])[-10:]
        rows.append(("top-10 Lanczos, n=669706", tl, tt,
                     float(np.max(np.abs(np.sort(rt) - top_l)) / np.max(np.abs(top_l)))))
        # Both run Lanczos with ncv = 21 (ARPACK's and Spectra's default for k = 10); locus also
        # pays one forward and backward pass (the operator's cached state), torch builds its
        # gradient graph once, before timing.
        print(f"Hessian-vector products, top-10 Lanczos: locus {products['locus']}, "
              f"scipy eigsh {products['torch']}")

    print(f"{'workload':38s} {'locus s':>10s} {'torch s':>10s} {'ratio':>7s} {'max rel diff':>13s}")
    for name, tl, tt, diff in rows:
        print(f"{name:38s} {tl:10.4f} {tt:10.4f} {tt / tl:7.2f} {diff:13.2e}")


if __name__ == "__main__":
    main()
