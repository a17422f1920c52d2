"""Geometry workloads, locus against PyTorch (float64) + scipy:

  1. dense Hessian + full eigendecomposition, [10,200,1] softplus, d = 500 (n = 2401)
  2. residual Jacobian + SVD + numerical rank, same problem
  3. top-10 Hessian eigenvalues by Lanczos on [784,512,512,10], d = 1024 (n = 669,706):
     locus (thick-restart Lanczos on exact HVPs) vs scipy.sparse.linalg.eigsh on a PyTorch HVP
     operator
  4. (mlpgf) MLPGradientFlow's benchmark conditions: the dense Hessian alone, 1 thread, softplus,
     [2,h,1] with h = 10, 25, 50, 100 (n = 41..401) on N = 10^2, 10^3, 10^4 points

For the dense Hessian and the Jacobian the torch side is the FASTEST of several methods, timed
separately (the table names the winner): torch.autograd.functional.hessian, functorch.hessian
(jacfwd over jacrev, vmapped) and a loop of n double-backward HVPs on one retained graph; for
eigenvalues scipy.linalg.eigvalsh (LAPACK evd) and torch.linalg.eigvalsh; for the Jacobian
functorch.jacrev (vmapped) and torch.autograd.functional.jacobian(vectorize=True), then LAPACK
gesdd singular values. The HVP loop and jacrev run both on one flat parameter vector and on the
module's own tensor per layer's weights and biases (no slices in the graph, results concatenated;
checked to agree), as an nn.Module user would write them; the Lanczos operator uses the latter.
Medians over --repetitions runs (for Lanczos, seconds a run, the two sides alternate run by run);
ratio = torch / locus (> 1: locus faster). Run with
PYTHONPATH=build/python /usr/bin/python3 bench/analysis/compare_torch_analysis.py \
    [--workloads dense,jacobian,lanczos,mlpgf] [--threads 2] [--repetitions 3]

Threads: locus runs on --threads; every torch method is timed with torch.set_num_threads(threads)
and, for threads > 1, with one intra-op thread (OpenBLAS keeps its own pool of --threads: on 2
cores PyTorch's OpenMP threads and OpenBLAS's compete, and one intra-op thread is often faster);
the faster counts. The steps that call LAPACK (eigenvalues, the Jacobian's SVD) are also timed
with OpenBLAS's pool at one thread (openblas_set_num_threads through ctypes), as locus runs its
own LAPACK calls (core/blas_threads.hpp); the faster counts. mlpgf runs in a subprocess with OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1,
so that both sides really run on one core. OPENBLAS_CORETYPE, when set, holds both sides' LAPACK
and PyTorch's GEMMs to that core's kernels; run with `env -u OPENBLAS_CORETYPE` to let OpenBLAS
choose for the CPU it finds (locus's layer GEMMs are its own with AVX-512 and do not read it;
without AVX-512 its products deeper than 64 call OpenBLAS's dgemm and follow it too).
"""

import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import scipy.linalg
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


TORCH_THREADS = [1]  # torch.set_num_threads settings tried by fastest(); main() sets them
BLAS_THREADS = [1]  # OpenBLAS pool sizes tried by fastest(..., blas=True); main() sets them


def set_blas_threads(n):
    """Sizes OpenBLAS's own thread pool, which scipy's and torch's LAPACK calls use and
    torch.set_num_threads does not reach (every OpenBLAS copy the process loaded)."""
    for name in ("libopenblas.so.0", "libblas.so.3", "liblapack.so.3"):
        try:
            f = getattr(ctypes.CDLL(name), "openblas_set_num_threads", None)
        except OSError:
            continue
        if f is not None:
            f(n)


def fastest(methods, reps, blas=False):
    """(median seconds, name) of the fastest of {name: function}, each timed at every
    torch.set_num_threads setting in TORCH_THREADS and, with blas=True (methods that call
    LAPACK), every OpenBLAS pool size in BLAS_THREADS (named in the result when there are
    several)."""
    best = None
    for b in BLAS_THREADS if blas else BLAS_THREADS[:1]:
        set_blas_threads(b)
        for t in TORCH_THREADS:
            torch.set_num_threads(t)
            for name, f in methods.items():
                how = [f"intra-op threads {t}"] if len(TORCH_THREADS) > 1 else []
                how += [f"OpenBLAS threads {b}"] if blas and len(BLAS_THREADS) > 1 else []
                label = f"{name} ({', '.join(how)})" if how else name
                r = (median_time(f, reps), label)
                best = r if best is None or r < best else best
    torch.set_num_threads(TORCH_THREADS[0])
    set_blas_threads(BLAS_THREADS[0])
    return best


class TorchLoss:
    """A float64 torch MLP with locus's parameter layout: the squared loss (sum) of its flat
    parameters, its residuals, and the fastest ways to its dense Hessian."""

    def __init__(self, widths, theta, x, y):
        self.net = torch_net(widths, theta)
        self.names = [n for n, _ in self.net.named_parameters()]
        self.shapes = [p.shape for p in self.net.parameters()]
        self.xt, self.yt = torch.from_numpy(x), torch.from_numpy(y)
        self.flat = torch.from_numpy(theta.copy())

    def unflatten(self, p):
        out, i = [], 0
        for s in self.shapes:
            k = int(np.prod(s))
            out.append(p[i:i + k].view(s))
            i += k
        return out

    def residuals(self, p):
        return self.net_residuals(*self.unflatten(p))

    def loss(self, p):
        return (self.residuals(p) ** 2).sum()

    def hvp_loop(self):
        """n double-backward HVPs with the unit vectors on one retained graph."""
        p = self.flat.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(self.loss(p), p, create_graph=True)
        n = p.numel()
        h = torch.empty(n, n, dtype=torch.float64)
        e = torch.zeros(n, dtype=torch.float64)
        for j in range(n):
            e[j] = 1.0
            (h[j],) = torch.autograd.grad(g, p, e, retain_graph=True)
            e[j] = 0.0
        return h

    def net_residuals(self, *ps):
        """The residuals as a function of one tensor per layer's weights and biases (the way an
        nn.Module holds them: no slices of a flat vector in the graph)."""
        out = functional_call(self.net, dict(zip(self.names, ps)), (self.xt,))
        return (out - self.yt).reshape(-1)

    def hvp_loop_layers(self):
        """hvp_loop on the module's own parameters, each column concatenated."""
        ps = tuple(self.net.parameters())
        g = torch.autograd.grad((self.net_residuals(*ps) ** 2).sum(), ps, create_graph=True)
        n = self.flat.numel()
        h = torch.empty(n, n, dtype=torch.float64)
        e = torch.zeros(n, dtype=torch.float64)
        e_parts = self.unflatten(e)  # views into e
        for j in range(n):
            e[j] = 1.0
            h[j] = torch.cat([c.reshape(-1) for c in
                              torch.autograd.grad(g, ps, e_parts, retain_graph=True)])
            e[j] = 0.0
        return h

    def jacobian_layers(self):
        """functorch.jacrev over the module's own parameters, the blocks concatenated."""
        ps = tuple(p.detach() for p in self.net.parameters())
        blocks = functorch.jacrev(self.net_residuals, argnums=tuple(range(len(ps))))(*ps)
        return torch.cat([b.reshape(b.shape[0], -1) for b in blocks], dim=1)

    def hessian_methods(self, max_functorch_doubles=2e8):
        """The torch ways to the dense Hessian; functorch's vmapped forward-over-reverse holds
        n x (N x width) tangents and is left out above max_functorch_doubles."""
        n, d = self.flat.numel(), self.xt.shape[0]
        width = max(s[0] for s in self.shapes)
        methods = {"autograd.functional.hessian":
                   lambda: torch.autograd.functional.hessian(self.loss, self.flat),
                   "HVP loop, retained graph": self.hvp_loop,
                   "HVP loop, retained graph, per-layer tensors": self.hvp_loop_layers}
        if n * d * width <= max_functorch_doubles:
            methods["functorch.hessian"] = lambda: functorch.hessian(self.loss)(self.flat)
        return methods


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


def print_row(name, t_locus, t_torch, how, diff):
    print(f"{name:38s} {t_locus:10.5f} {t_torch:10.5f} {t_torch / t_locus:7.2f} {diff:13.2e}"
          f"  {how}", flush=True)


def mlpgf_rows(reps, widths_h, sizes):
    """MLPGradientFlow's conditions, 1 thread: (name, locus s, torch s, torch method, diff)."""
    rows = []
    rng = np.random.default_rng(0)
    for h in widths_h:
        for d in sizes:
            widths = [2, h, 1]
            model = locus.Mlp(widths, activation="softplus")
            theta = model.init_parameters(seed=1)
            x, y = rng.normal(size=(d, 2)), rng.normal(size=(d, 1))
            tl = TorchLoss(widths, theta, x, y)
            locus_h = locus.hessian(model, theta, x, y)
            torch_h = tl.hvp_loop().numpy()
            diff = float(np.max(np.abs(locus_h - torch_h)) / np.max(np.abs(torch_h)))
            tt, how = fastest(tl.hessian_methods(), reps)
            t_locus = median_time(lambda: locus.hessian(model, theta, x, y), max(reps, 5))
            rows.append((f"Hessian [2,{h},1] n={model.n_params} N={d}", t_locus, tt, how, diff))
            print_row(*rows[-1])
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workloads", default="dense,jacobian,lanczos,mlpgf")
    ap.add_argument("--skip-large", action="store_true", help="the same as leaving out lanczos")
    ap.add_argument("--mlpgf-widths", default="10,25,50,100", help="hidden widths h of [2,h,1]")
    ap.add_argument("--mlpgf-points", default="100,1000,10000", help="numbers of points N")
    ap.add_argument("--no-header", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    workloads = set(a.workloads.split(","))
    rows = []
    if not a.no_header:
        print(f"{'workload':38s} {'locus s':>10s} {'torch s':>10s} {'ratio':>7s} "
              f"{'max rel diff':>13s}  fastest torch method", flush=True)
    if "mlpgf" in workloads:
        one_core = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        if all(os.environ.get(k) == v for k, v in one_core.items()):
            TORCH_THREADS[:] = [1]
            torch.set_num_threads(1)
            locus.set_num_threads(1)
            rows += mlpgf_rows(a.repetitions, [int(h) for h in a.mlpgf_widths.split(",")],
                               [int(d) for d in a.mlpgf_points.split(",")])
        else:  # OpenBLAS's pool is sized when it loads: a process of its own
            subprocess.run([sys.executable, os.path.abspath(__file__), "--workloads", "mlpgf",
                            "--repetitions", str(a.repetitions), "--mlpgf-widths", a.mlpgf_widths,
                            "--mlpgf-points", a.mlpgf_points, "--no-header"],
                           env=dict(os.environ, **one_core), check=True)
    TORCH_THREADS[:] = [a.threads] + ([1] if a.threads > 1 else [])
    BLAS_THREADS[:] = [a.threads] + ([1] if a.threads > 1 else [])
    torch.set_num_threads(a.threads)
    set_blas_threads(a.threads)
    locus.set_num_threads(a.threads)

    widths = [10, 200, 1]
    model = locus.Mlp(widths, activation="softplus")
    theta = model.init_parameters(seed=1)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(500, 10)), rng.normal(size=(500, 1))
    tl = TorchLoss(widths, theta, x, y)

    if "dense" in workloads:
        # The Hessian by the fastest torch method, then the fastest eigenvalue routine on it.
        t_h, how_h = fastest(tl.hessian_methods(), a.repetitions)
        h = tl.hvp_loop()
        hn = h.numpy()
        # The per-layer loop computes the same matrix (sums in another order: round-off only).
        assert float((tl.hvp_loop_layers() - h).abs().max() / h.abs().max()) < 1e-10
        t_e, how_e = fastest({"scipy eigvalsh (evd)":
                              lambda: scipy.linalg.eigvalsh(hn, driver="evd"),
                              "torch.linalg.eigvalsh": lambda: torch.linalg.eigvalsh(h)},
                             a.repetitions, blas=True)

        def locus_dense():
            return locus.hessian_spectrum(model, theta, x, y, method="dense")

        ev_t = scipy.linalg.eigvalsh(hn, driver="evd")
        ev_l = locus_dense()["eigenvalues"]
        rows.append(("dense Hessian + eigenvalues, n=2401", median_time(locus_dense, a.repetitions),
                     t_h + t_e, how_h + " + " + how_e,
                     float(np.max(np.abs(ev_t - ev_l)) / np.max(np.abs(ev_l)))))
        print_row(*rows[-1])
        rows.append(("dense Hessian only, n=2401",
                     median_time(lambda: locus.hessian(model, theta, x, y), a.repetitions),
                     t_h, how_h, float(np.max(np.abs(locus.hessian(model, theta, x, y) - hn)) /
                                       np.max(np.abs(hn)))))
        print_row(*rows[-1])

    if "jacobian" in workloads:
        eps = np.finfo(float).eps

        def rank_of(j):
            s = torch.linalg.svdvals(j)  # LAPACK gesdd
            return int((s > max(j.shape) * eps * s[0]).sum())

        jac_methods = {
            "functorch.jacrev + gesdd": lambda: rank_of(functorch.jacrev(tl.residuals)(tl.flat)),
            "functional.jacobian(vectorize) + gesdd": lambda: rank_of(
                torch.autograd.functional.jacobian(tl.residuals, tl.flat, vectorize=True)),
            "functorch.jacrev, per-layer tensors + gesdd": lambda: rank_of(tl.jacobian_layers())}
        j_flat = functorch.jacrev(tl.residuals)(tl.flat)
        assert float((tl.jacobian_layers() - j_flat).abs().max() / j_flat.abs().max()) < 1e-12

        def locus_jac():
            return locus.jacobian_rank(model, theta, x, y)["rank"]

        for f in jac_methods.values():
            assert f() == locus_jac()
        t_j, how_j = fastest(jac_methods, a.repetitions, blas=True)
        rows.append(("Jacobian + SVD + rank, 500 x 2401", median_time(locus_jac, a.repetitions),
                     t_j, how_j, 0.0))
        print_row(*rows[-1])

    if "lanczos" in workloads and not a.skip_large:
        widths = [784, 512, 512, 10]
        model = locus.Mlp(widths, activation="softplus")
        theta = model.init_parameters(seed=1)
        x, y = rng.normal(size=(1024, 784)), rng.normal(size=(1024, 10))
        net = torch_net(widths, theta)
        params = list(net.parameters())
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def gradient_graph():  # the forward and backward pass an HVP operator differentiates
            loss = ((net(xt) - yt) ** 2).sum()
            return torch.autograd.grad(loss, params, create_graph=True)

        graph = {"grads": gradient_graph()}
        n = model.n_params

        products = {"torch": 0, "locus": 0}

        def hv(v):
            products["torch"] += 1
            vs, i = [], 0
            for p in params:
                k = p.numel()
                vs.append(torch.from_numpy(np.ascontiguousarray(v[i:i + k])).view(p.shape))
                i += k
            out = torch.autograd.grad(graph["grads"], params, vs, retain_graph=True)
            return torch.cat([o.reshape(-1) for o in out]).numpy()

        op = sla.LinearOperator((n, n), matvec=hv, dtype=np.float64)
        v0 = np.random.default_rng(1).normal(size=n)

        def torch_lanczos():  # from the parameters and data, as locus_lanczos: graph included
            graph["grads"] = gradient_graph()
            return sla.eigsh(op, k=10, which="LA", v0=v0, tol=1e-10, return_eigenvectors=False)

        def count_locus(event):  # one event per Hessian-vector product
            if event["stage"].startswith("Lanczos"):
                products["locus"] += 1

        def locus_lanczos():  # like for like: the 10 largest, relative tolerance 1e-10
            return locus.hessian_spectrum(model, theta, x, y, method="lanczos", k=10, seed=1,
                                          end="largest", tolerance=1e-10, callback=count_locus)

        # eigsh at the faster intra-op thread setting for one HVP (see the module docstring).
        t_hv, how_hv = fastest({"one HVP": lambda: hv(v0)}, 3)
        intra = TORCH_THREADS[0] if len(TORCH_THREADS) == 1 else int(how_hv.split()[-1][:-1])

        def on_threads(f, threads):  # torch's setting is OpenMP's, which locus's pool reads too
            def run():
                torch.set_num_threads(threads)
                locus.set_num_threads(a.threads)
                return f()
            return run

        # The sides alternate run by run (locus, eigsh, locus, eigsh, ...), so that a change in
        # the host's speed during the measurement (several seconds a run) reaches both medians.
        sides = {"locus": on_threads(locus_lanczos, a.threads),
                 "torch": on_threads(torch_lanczos, intra)}
        times = {side: [] for side in sides}
        first = {}
        for rep in range(a.repetitions):
            for side, f in sides.items():
                count_before = products[side]
                t0 = time.perf_counter()
                r = f()
                times[side].append(time.perf_counter() - t0)
                if rep == 0:  # the first run's result and count of Hessian-vector products
                    first[side], first[side + " products"] = r, products[side] - count_before
        torch.set_num_threads(a.threads)
        tl, rl = statistics.median(times["locus"]), first["locus"]
        tt, rt = statistics.median(times["torch"]), first["torch"]
        products.update(locus=first["locus products"], torch=first["torch products"])
        top_l = np.sort(rl["eigenvalues"])[-10:]
        rows.append(("top-10 Lanczos, n=669706", tl, tt,
                     f"scipy eigsh on torch HVPs (intra-op threads {intra})",
                     float(np.max(np.abs(np.sort(rt) - top_l)) / np.max(np.abs(top_l)))))
        print_row(*rows[-1])
        # Both run Lanczos with ncv = 21 (ARPACK's default for k = 10; locus tests convergence
        # after every step, eigsh when the space is full), and both times include one forward
        # and backward pass: locus's operator's cached state, torch's gradient graph with
        # create_graph=True.
        print(f"Hessian-vector products, top-10 Lanczos: locus {products['locus']}, "
              f"scipy eigsh {products['torch']}; runs in turn (s): locus "
              f"{', '.join(f'{t:.2f}' for t in times['locus'])}, eigsh "
              f"{', '.join(f'{t:.2f}' for t in times['torch'])}")

    print("\nratio = torch / locus (> 1: locus faster); each row was printed when measured",
          flush=True)


if __name__ == "__main__":
    main()
