#!/usr/bin/python3
"""Compare locus's loss derivatives with PyTorch's on the same networks, data sizes and threads.

Runs locus's google/benchmark binary (bench/core/loss_bench.cpp) with --benchmark_format=json,
times the same workloads in PyTorch (float64), and prints one table of medians and the ratio
torch/locus (> 1: locus is faster). Optionally runs the dgemm benchmark (locus_dgemm_bench beside
the locus binary, so the same build) and reports how much of the machine's dgemm throughput, and
of the multiply-add peak of the build's vectors, the large network's passes reach, with the
largest torch/locus that peak allows (the row's GEMM FLOPs at the peak against PyTorch's time).

PyTorch is a benchmark-only tool, not a locus dependency (Debian: apt-get install python3-torch).
Run with /usr/bin/python3 from the repository root:

    /usr/bin/python3 bench/compare_torch.py                       # build-bench/bench/locus_bench
    /usr/bin/python3 bench/compare_torch.py --save-baselines --machine cpp-2core

Workloads (locus benchmark -> PyTorch counterpart; the faster PyTorch method is reported):
  loss        BM_Loss_Value                 forward pass under torch.no_grad()
  gradient    BM_Loss_Gradient              autograd: torch.autograd.grad(L, theta)
  hvp         BM_Loss_Hvp                   double backward (grad of <grad L, v> with create_graph)
                                            on the flat theta or on one tensor per layer's weights
                                            and biases (as an nn.Module holds them), or
                                            functorch.jvp(functorch.grad(L)) forward-over-reverse
  hvp_after_gradient                        H v right after a gradient at the same point (a Newton
              BM_Loss_HvpAfterGradient      step's pattern), only the HVP timed, both sides. PyTorch:
                                            the hvp methods after an untimed torch.autograd.grad, or
                                            the gradient taken with create_graph=True (untimed) and
                                            H v by one backward pass through its graph (timed)
  hvp_cached  BM_Loss_HessianOperatorApply  double backward through a retained graph of grad L
                                            (forward and backward done once, as HessianOperator)
  jacobian    BM_Loss_Jacobian              functorch.jacrev of the residuals, or
                                            functorch.vmap over points of per-point jacrev
  hessian     BM_Loss_Hessian               functorch.hessian (jacfwd(jacrev)) where its memory fits,
                                            or one HVP per column through a retained graph
Every workload is a function of one flat float64 parameter vector theta in locus's layout (layer
by layer, W row-major out x in, then b), softplus hidden layers, L = sum_i |f(x_i) - y_i|^2.

Timing protocol (the same as google/benchmark's): each repetition runs the call as often as fits in
--min-time seconds (at least once) and records the mean; the median over --repetitions
repetitions is reported. Each repetition of a locus benchmark runs in a process of its own, so a
small net's timing does not depend on what ran before it (glibc's allocator adapts its mmap
threshold to earlier frees). PyTorch runs in subprocesses, each row keeping the fastest
process's median (PyTorch's timings vary between processes). For n threads, OpenBLAS gets n
threads or one (OPENBLAS_NUM_THREADS: Debian's PyTorch does its float64 GEMMs in the system BLAS,
whose thread pool torch.set_num_threads does not control) and every configuration a user could
pick is tried, --torch-processes processes each:
  - torch.set_num_threads(n) (OMP_NUM_THREADS=n), and, for n > 1, torch.set_num_threads(1): on 2
    cores PyTorch's own OpenMP threads and OpenBLAS's pool compete, and one intra-op thread with a
    2-thread OpenBLAS is often the fastest PyTorch there is; for n > 1 also everything on one
    thread (OpenBLAS too: on a small net's tiny products waking its second thread costs more than
    it saves, and a user with n cores may choose one);
  - OPENBLAS_CORETYPE as set in the environment and, when it is set, unset (OpenBLAS then picks
    the kernels for the CPU it finds, which can be faster: Haswell kernels on an AVX-512 CPU).
With --openblas-coretype NAME only that core type runs, for PyTorch and the dgemm ceiling alike:
`--openblas-coretype Haswell` holds OpenBLAS to its AVX2 kernels (Debian's PyTorch runs its own
kernels with AVX2 at most; an x86-64-v3 build of locus calls dgemm for its products deeper than
64), so such a build meets PyTorch as on an AVX2-only CPU.
The table names the winning configuration of each row; a row of n threads takes the fastest
process that used at most n threads (so the one-thread row's processes count for it too).

On a shared machine a repetition is repeated while other processes use more than a tenth of a
core (see quiet_samples); rows that never got a quiet machine are flagged "(machine busy)".
What a process count cannot see, a virtual machine's vCPUs slowing each other down (or one of
them slowed by the host), is probed before the locus runs and after PyTorch's: a small net's
one-thread HVP pinned to each CPU alone and on all at once (core_probe); when the slowest of them
with all running takes over 5% longer than the fastest alone, the multi-thread rows are flagged
"(cores contended)", and the one-thread rows too when the slowest alone does: both sides' times
there may be longer than idle cores give (by different factors, as the contention comes and goes
within minutes), so such a row is worth repeating. When the fastest CPU alone differs by over 5%
between the two probes (the host slowed every vCPU at once for part of the run, which neither probe
alone shows), every row is flagged "(machine speed changed)". Each probe also times a cache line's
round trip between the first two CPUs (BM_CacheLineRoundTrip, bench/core/cores_bench.cpp): what
every hand-off between two threads pays, and on a virtual machine it moves with where the host
places the vCPUs (a small net's two-thread HVP followed it from 30 to 40 us); when the two probes'
round trips differ by over 1.5x, the multi-thread rows are flagged "(cores moved)". With
--wait-for-even-cores SECONDS the first probe is repeated until it would flag nothing (or the time
is up), so that a run starts when the host leaves the vCPUs alone.

The host's speed also drifts by 10-40% over minutes, and the locus rows run minutes before
PyTorch's. With --rounds N the locus runs and the PyTorch runs alternate N times: each side's
figure is then the median of its N rounds, and torch/locus the median of the N ratios, each from
runs minutes apart at most. --networks limits a run to some of the networks (a round of the
`[10,64,1]` rows takes about a minute), e.g.

    /usr/bin/python3 bench/compare_torch.py --workloads hvp,hvp_after_gradient --threads 2 \
        --networks 10,64,1 --rounds 5 --dgemm-bench none
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# The benchmark problems of bench/core/loss_bench.cpp: (widths, d). Keep the two lists in step.
PROBLEMS = [
    ([10, 64, 1], 256),
    ([10, 200, 1], 100),
    ([10, 200, 1], 500),
    ([784, 512, 512, 10], 1024),
]
# No Jacobian (55 GB) and no dense Hessian (3.6 TB) for the large network.
DENSE_MAX_PARAMS = 10_000

LOCUS_TO_WORKLOAD = {
    "BM_Loss_Value": "loss",
    "BM_Loss_Gradient": "gradient",
    "BM_Loss_Hvp": "hvp",
    "BM_Loss_HvpAfterGradient": "hvp_after_gradient",
    "BM_Loss_HessianOperatorApply": "hvp_cached",
    "BM_Loss_Jacobian": "jacobian",
    "BM_Loss_Hessian": "hessian",
}
WORKLOADS = list(LOCUS_TO_WORKLOAD.values())

LOCUS_NAME = re.compile(
    r"^(BM_\w+)/p:(\d+)/h:(\d+)/depth:(\d+)/l:(\d+)/d:(\d+)/nthreads:(\d+)")
FMA_PEAK_NAME = re.compile(r"^BM_FmaPeak/nthreads:(\d+)")
DGEMM_NAME = re.compile(r"^(BM_Dgemm_\w+)/m:(\d+)/k:(\d+)/n:(\d+)(?:/chunk:(\d+))?/nthreads:(\d+)")
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def n_params(widths):
    return sum(widths[k + 1] * (widths[k] + 1) for k in range(len(widths) - 1))


def gemm_flops(widths, d, workload):
    """GEMM FLOPs of one call; the formula of gemm_flops() in bench/core/loss_bench.cpp."""
    sizes = [widths[k] * widths[k + 1] for k in range(len(widths) - 1)]
    f = 2.0 * d * sum(sizes)
    f0 = 2.0 * d * sizes[0]
    return {
        "loss": f,
        "gradient": 3 * f - f0,
        "hvp": 8 * f - 5 * f0,
        # locus's hvp reuses the passes loss_gradient kept at the same point: the cached work
        "hvp_after_gradient": 6 * f - 4 * f0,
        "hvp_cached": 6 * f - 4 * f0,
        "hessian": 3 * f - f0 + n_params(widths) * (6 * f - 4 * f0),
    }.get(workload)


def arch_name(widths):
    return "[" + ",".join(str(w) for w in widths) + "]"


# The largest network (the last problem), whose rows are compared with the dgemm ceiling; taken
# before --networks narrows PROBLEMS.
LARGE_NETWORK = arch_name(PROBLEMS[-1][0])


def format_seconds(s):
    if s is None or not math.isfinite(s):
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.3f} s"


# --------------------------------------------------------------------------------------------
# Shared machines: a measurement counts only if the rest of the machine stayed (nearly) idle.
# "Foreign" CPU time is the machine's busy time (/proc/stat, steal included) minus our own; a
# measurement during which it exceeded QUIET_FRACTION of the wall time is repeated after waiting
# for the machine to calm down (at most --max-attempts times; the last one is kept and flagged).
QUIET_FRACTION = 0.10


def machine_busy_seconds():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    # user nice system idle iowait irq softirq steal
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_wait_seconds):
    """Waits (up to max_wait_seconds) until others use < QUIET_FRACTION of a core for 0.25 s."""
    deadline = time.monotonic() + max_wait_seconds
    while True:
        b0 = machine_busy_seconds()
        time.sleep(0.25)
        if (machine_busy_seconds() - b0) / 0.25 < QUIET_FRACTION or time.monotonic() > deadline:
            return


def quiet_samples(sample, own_cpu_seconds, count, attempts, max_wait_seconds):
    """Calls sample() until `count` calls ran while others left the machine (nearly) idle, at most
    count * attempts calls; returns the `count` least disturbed as (foreign cores, value) pairs."""
    got = []
    for _ in range(count * attempts):
        wait_for_quiet(max_wait_seconds)
        b0, c0, t0 = machine_busy_seconds(), own_cpu_seconds(), time.monotonic()
        value = sample()
        wall = time.monotonic() - t0
        foreign = max(0.0, (machine_busy_seconds() - b0) - (own_cpu_seconds() - c0)) / wall
        got.append((foreign, value))
        if sum(f < QUIET_FRACTION for f, _ in got) >= count:
            break
    got.sort(key=lambda fv: fv[0])
    return got[:count]


def self_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


# --------------------------------------------------------------------------------------------
# PyTorch side (runs in a subprocess: python compare_torch.py --torch-worker N)


def median_seconds(fn, min_time, repetitions, attempts, max_wait):
    """Median over repetitions of the mean call time, each repetition >= min_time seconds and run
    on a quiet machine; returns (median seconds, the most others used during one, in cores).
    A function with the attribute self_timed returns the seconds of the part it times (work
    before that part, e.g. an untimed gradient, is left out)."""
    self_timed = getattr(fn, "self_timed", False)

    def timed():
        if self_timed:
            return fn()
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    one = timed()  # warm-up (allocator, thread pool, lazy initialisation) and calibration
    if one < min_time:  # cheap call: warm up once more and time it again
        timed()
        one = timed()
    calls = max(1, int(math.ceil(min_time / max(one, 1e-9))))

    def repetition():
        if self_timed:
            return sum(fn() for _ in range(calls)) / calls
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - t0) / calls

    samples = quiet_samples(repetition, self_cpu_seconds, repetitions, attempts, max_wait)
    return statistics.median(v for _, v in samples), max(f for f, _ in samples)


def torch_worker(threads, intra_threads, min_time, repetitions, workloads, attempts, max_wait):
    """Times the workloads for the `threads`-thread rows with torch.set_num_threads(intra_threads)
    (OpenBLAS's threads come from the environment, see run_torch)."""
    import torch
    import functorch

    torch.set_num_threads(intra_threads)
    torch.set_default_dtype(torch.float64)
    F = torch.nn.functional
    results = []

    for widths, d in PROBLEMS:
        gen = torch.Generator().manual_seed(3)
        p, l = widths[0], widths[-1]
        x = torch.randn(d, p, generator=gen)
        y = torch.randn(d, l, generator=gen)
        # Layout and Glorot initialisation as locus's Mlp (values differ; timings do not care).
        layers, chunks, off = [], [], 0
        for k in range(len(widths) - 1):
            fan_in, fan_out = widths[k], widths[k + 1]
            a = math.sqrt(6.0 / (fan_in + fan_out))
            chunks.append((torch.rand(fan_out * fan_in, generator=gen) * 2 - 1) * a)
            chunks.append(torch.zeros(fan_out))
            layers.append((fan_in, fan_out, off, off + fan_in * fan_out))
            off += fan_out * (fan_in + 1)
        theta0 = torch.cat(chunks)
        n = theta0.numel()
        v = torch.randn(n, generator=gen)

        def per_layer(flat):  # one view into flat per layer's weights and biases
            out = []
            for fi, fo, wo, bo in layers:
                out += [flat[wo:bo].view(fo, fi), flat[bo:bo + fo]]
            return tuple(out)

        def forward_layers(ps, inputs):
            a = inputs
            for k in range(len(layers)):
                a = F.linear(a, ps[2 * k], ps[2 * k + 1])
                if k + 1 < len(layers):
                    a = F.softplus(a)
            return a

        def forward(theta, inputs):  # slices of the flat vector inside the graph
            return forward_layers(per_layer(theta), inputs)

        def loss(theta):
            r = forward(theta, x) - y
            return (r * r).sum()

        def residuals(theta):
            return (forward(theta, x) - y).reshape(-1)

        def residuals_one(theta, xi, yi):
            return forward(theta, xi.unsqueeze(0)).squeeze(0) - yi

        theta_req = theta0.clone().requires_grad_(True)

        def run_loss():
            with torch.no_grad():
                return loss(theta0)

        def run_gradient():
            return torch.autograd.grad(loss(theta_req), theta_req)[0]

        def run_hvp_double_backward():
            g = torch.autograd.grad(loss(theta_req), theta_req, create_graph=True)[0]
            return torch.autograd.grad(g, theta_req, grad_outputs=v)[0]

        def run_hvp_jvp():
            return functorch.jvp(functorch.grad(loss), (theta0,), (v,))[1]

        # The way an nn.Module holds a network: one tensor per layer's weights and biases, so no
        # slices of a flat vector in the graph (each slice's backward fills an n-vector); the
        # results concatenated into locus's flat layout (timed too). Often the faster form.
        params = tuple(t.clone().requires_grad_(True) for t in per_layer(theta0))
        v_parts = per_layer(v)

        def flat_of(parts):
            return torch.cat([t.reshape(-1) for t in parts])

        def loss_layers(ps):
            r = forward_layers(ps, x) - y
            return (r * r).sum()

        def gradient_layers(create_graph=False):
            return torch.autograd.grad(loss_layers(params), params, create_graph=create_graph)

        def run_gradient_layers():
            return flat_of(gradient_layers())

        def hvp_through_layers(g):
            return flat_of(torch.autograd.grad(g, params, grad_outputs=v_parts))

        def run_hvp_per_layer():
            return hvp_through_layers(gradient_layers(create_graph=True))

        def run_hvp_cached_layers():
            if "g_layers" not in cached:
                cached["g_layers"] = gradient_layers(create_graph=True)
            return flat_of(torch.autograd.grad(cached["g_layers"], params, grad_outputs=v_parts,
                                               retain_graph=True))

        def run_jacobian_layers():
            def residuals_of(*ps):
                return (forward_layers(ps, x) - y).reshape(-1)
            parts = functorch.jacrev(residuals_of, argnums=tuple(range(len(params))))(*params)
            return torch.cat([j.reshape(d * l, -1) for j in parts], dim=1)

        def run_hessian_columns_layers():
            g = gradient_layers(create_graph=True)
            h = torch.empty(n, n)
            e = torch.zeros(n)
            e_parts = per_layer(e)
            for j in range(n):
                e.zero_()
                e[j] = 1.0
                h[j] = flat_of(torch.autograd.grad(g, params, grad_outputs=e_parts,
                                                   retain_graph=True))
            return h

        cached = {}

        def cached_gradient():
            if "g" not in cached:
                cached["g"] = torch.autograd.grad(loss(theta_req), theta_req, create_graph=True)[0]
            return cached["g"]

        def run_hvp_cached():
            return torch.autograd.grad(cached_gradient(), theta_req, grad_outputs=v,
                                       retain_graph=True)[0]

        def after_gradient(gradient, hvp):
            """Runs gradient() untimed, then times hvp(its result); returns the HVP's seconds."""
            def run():
                g = gradient()
                t0 = time.perf_counter()
                hvp(g)
                return time.perf_counter() - t0
            run.self_timed = True
            return run

        def gradient_with_graph():
            return torch.autograd.grad(loss(theta_req), theta_req, create_graph=True)[0]

        def hvp_through(g):
            return torch.autograd.grad(g, theta_req, grad_outputs=v)[0]

        def run_jacobian_jacrev():
            return functorch.jacrev(residuals)(theta0)

        def run_jacobian_per_point():
            j = functorch.vmap(functorch.jacrev(residuals_one), in_dims=(None, 0, 0))(theta0, x, y)
            return j.reshape(d * l, n)

        def run_hessian_functorch():
            return functorch.hessian(loss)(theta0)

        def run_hessian_columns():
            # One forward/backward pass with create_graph, then one HVP per column through the
            # retained graph. (Faster here than vmapped HVPs: is_grads_batched or
            # vmap(jvp(grad)) in chunks of 128 columns were 3-5x slower on [10,200,1], d=500.)
            g = torch.autograd.grad(loss(theta_req), theta_req, create_graph=True)[0]
            h = torch.empty(n, n)
            e = torch.zeros(n)
            for j in range(n):
                e.zero_()
                e[j] = 1.0
                h[j] = torch.autograd.grad(g, theta_req, grad_outputs=e, retain_graph=True)[0]
            return h

        # functorch.hessian vmaps over all n tangents at once: about n * d * (hidden widths) * 8
        # bytes per intermediate, a dozen of them alive; skip it where that would not fit.
        hessian_bytes = 12 * 8 * n * d * sum(widths[1:-1])
        def run_loss_layers():
            with torch.no_grad():
                return loss_layers(params)

        per_layer_name = ", per-layer tensors"
        candidates = {
            "loss": {"no_grad forward": run_loss, "no_grad forward" + per_layer_name: run_loss_layers},
            "gradient": {"autograd": run_gradient, "autograd" + per_layer_name: run_gradient_layers},
            "hvp": {"double backward": run_hvp_double_backward, "functorch.jvp(grad)": run_hvp_jvp,
                    "double backward" + per_layer_name: run_hvp_per_layer},
            "hvp_after_gradient": {
                "double backward": after_gradient(run_gradient,
                                                  lambda g: run_hvp_double_backward()),
                "functorch.jvp(grad)": after_gradient(run_gradient, lambda g: run_hvp_jvp()),
                "backward through the gradient's graph": after_gradient(gradient_with_graph,
                                                                        hvp_through),
                "double backward" + per_layer_name: after_gradient(
                    run_gradient_layers, lambda g: run_hvp_per_layer()),
                "backward through the gradient's graph" + per_layer_name: after_gradient(
                    lambda: gradient_layers(create_graph=True), hvp_through_layers),
            },
            "hvp_cached": {"double backward, retained graph": run_hvp_cached,
                           "double backward, retained graph" + per_layer_name:
                               run_hvp_cached_layers},
            "jacobian": {"functorch.jacrev": run_jacobian_jacrev,
                         "vmap(jacrev) per point": run_jacobian_per_point,
                         "functorch.jacrev" + per_layer_name: run_jacobian_layers},
            "hessian": {"per-column HVPs, retained graph": run_hessian_columns,
                        "per-column HVPs, retained graph" + per_layer_name:
                            run_hessian_columns_layers},
        }
        if hessian_bytes < 6e9:
            candidates["hessian"]["functorch.hessian"] = run_hessian_functorch
        # The methods of a workload compute the same thing: check that once (the self-timed
        # after-gradient ones return seconds and run the hvp methods' code).
        for workload in workloads:
            if workload == "hvp_after_gradient" or (
                    workload in ("jacobian", "hessian") and n > DENSE_MAX_PARAMS):
                continue
            values = [fn() for fn in candidates[workload].values()]
            cached.clear()
            for name, value in zip(candidates[workload], values):
                gap = ((value - values[0]).abs().max() / values[0].abs().max()).item()
                if gap > 1e-10:  # round-off of differently ordered sums is ~1e-15
                    raise RuntimeError(f"torch {workload} {name} differs from "
                                       f"{next(iter(candidates[workload]))} by {gap:.2e} "
                                       f"(relative) on {arch_name(widths)}")

        for workload in workloads:
            if workload in ("jacobian", "hessian") and n > DENSE_MAX_PARAMS:
                continue
            methods, foreign = {}, {}
            for name, fn in candidates[workload].items():
                try:
                    methods[name], foreign[name] = median_seconds(fn, min_time, repetitions,
                                                                  attempts, max_wait)
                except Exception as e:  # a functorch transform PyTorch cannot do here
                    methods[name] = None
                    print(f"torch {workload} {name} {arch_name(widths)} d={d}: {e!r}",
                          file=sys.stderr)
            timed = {k: s for k, s in methods.items() if s is not None}
            best = min(timed, key=timed.get) if timed else None
            results.append({
                "workload": workload, "widths": widths, "d": d, "threads": threads,
                "torch_threads": torch.get_num_threads(), "n_params": n,
                "median_seconds": timed.get(best), "method": best, "methods": methods,
                "foreign_cores": foreign.get(best),
            })
            cached.clear()
            print(f"  torch {workload:10s} {arch_name(widths):18s} d={d:<5d} threads={threads} "
                  f"{format_seconds(timed.get(best))} ({best})", file=sys.stderr, flush=True)
    return results


def torch_configurations(threads, only_coretype=None):
    """(intra-op threads, OpenBLAS threads, OpenBLAS core type or None for OpenBLAS's own) for a
    `threads`-thread row: every setting a user could choose, see the module docstring;
    only_coretype: that core type alone."""
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    pools = [(threads, threads), (1, threads), (1, 1)] if threads > 1 else [(threads, threads)]
    if only_coretype:
        cores = [only_coretype]
    else:
        cores = [coretype, None] if coretype else [None]
    return [(i, b, c) for i, b in pools for c in cores]


def run_torch(threads, args, intra_threads, blas_threads, coretype):
    """One PyTorch worker process for the `threads`-thread rows: OpenBLAS on blas_threads threads,
    torch.set_num_threads(intra_threads), OPENBLAS_CORETYPE=coretype (None: unset)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(intra_threads),
               OPENBLAS_NUM_THREADS=str(blas_threads), MKL_NUM_THREADS=str(blas_threads))
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-worker", str(threads),
           "--torch-intra-threads", str(intra_threads),
           "--min-time", str(args.min_time), "--repetitions", str(args.repetitions),
           "--workloads", ",".join(args.workloads), "--max-attempts", str(args.max_attempts),
           "--max-wait", str(args.max_wait)]
    if args.networks:
        cmd += ["--networks"] + args.networks
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def torch_context():
    cmd = [sys.executable, "-c",
           "import torch, json; print(json.dumps({'torch_version': torch.__version__, "
           "'torch_config': torch.__config__.show(), 'torch_parallel': torch.__config__.parallel_info()}))"]
    return json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout)


# --------------------------------------------------------------------------------------------
# locus side


def run_benchmark_binary(binary, args, name_filter=None, env=None):
    """Runs a google/benchmark binary one benchmark and one repetition per process, each on a quiet
    machine (environment `env`, default ours); returns google/benchmark's JSON with every accepted
    repetition (run_type iteration, plus "foreign_cores": others' CPU use during it)."""
    if not os.path.exists(binary):
        print(f"compare_torch.py: benchmark binary '{binary}' not found: configure with "
              "-DLOCUS_BUILD_BENCHMARKS=ON and build it (see bench/README.md), or pass its path",
              file=sys.stderr)
        sys.exit(2)
    listed = subprocess.run([binary, "--benchmark_list_tests=true"] +
                            ([f"--benchmark_filter={name_filter}"] if name_filter else []),
                            check=True, stdout=subprocess.PIPE, text=True).stdout.split()
    merged = None
    with tempfile.TemporaryDirectory() as tmp:
        out_path = os.path.join(tmp, "out.json")
        for name in listed:
            cmd = [binary, f"--benchmark_filter=^{re.escape(name)}$",
                   f"--benchmark_out={out_path}", "--benchmark_out_format=json",
                   f"--benchmark_min_time={args.min_time}"]

            def repetition():
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env)
                with open(out_path) as f:
                    return json.load(f)

            samples = quiet_samples(repetition, children_cpu_seconds, args.repetitions,
                                    args.max_attempts, args.max_wait)
            if merged is None:
                merged = {"context": samples[0][1]["context"], "benchmarks": []}
            for i, (foreign, data) in enumerate(samples):
                for b in data["benchmarks"]:
                    b.update(foreign_cores=foreign, repetitions=len(samples), repetition_index=i)
                    merged["benchmarks"].append(b)
            seconds = statistics.median(
                b["real_time"] * UNIT_SECONDS[b["time_unit"]]
                for _, data in samples for b in data["benchmarks"])
            busy = max(f for f, _ in samples) >= QUIET_FRACTION
            print(f"  {name}: {format_seconds(seconds)}{'  (machine busy)' if busy else ''}",
                  file=sys.stderr, flush=True)
    return merged


def medians(bench_json, pattern):
    """{name groups: (median real seconds, entry)}: google/benchmark's median aggregate, or the
    median of the single runs when there was only one repetition (no aggregates then)."""
    runs, out = {}, {}
    for b in bench_json["benchmarks"]:
        m = pattern.match(b["run_name"])
        if not m:
            continue
        seconds = b["real_time"] * UNIT_SECONDS[b["time_unit"]]
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                out[m.groups()] = (seconds, b)
        else:
            runs.setdefault(m.groups(), []).append((seconds, b))
    for key, values in runs.items():
        if key not in out:
            entry = dict(values[0][1])
            entry["foreign_cores"] = max((b.get("foreign_cores") or 0.0) for _, b in values)
            out[key] = (statistics.median(s for s, _ in values), entry)
    return out


def fastest_torch(threads, args):
    """{row key: PyTorch's fastest result}. PyTorch's medians vary from process to process and
    with its thread settings (see the module docstring), so each row keeps its fastest process over
    every configuration that uses at most the row's threads (a one-thread process also counts for
    the two-thread row)."""
    torch = {}
    for t in threads:
        for intra, blas, core in torch_configurations(t, args.openblas_coretype):
            for _ in range(args.torch_processes):
                for r in run_torch(t, args, intra, blas, core):
                    r["configuration"] = (f"intra-op threads {intra}, OpenBLAS threads {blas}, " +
                                          (f"core type {core}" if core else "own core type"))
                    for row_threads in threads:
                        if row_threads < max(intra, blas):
                            continue
                        key = (r["workload"], arch_name(r["widths"]), r["d"], row_threads)
                        best = torch.get(key)
                        if r["median_seconds"] is not None and (
                                best is None or best["median_seconds"] is None or
                                r["median_seconds"] < best["median_seconds"]):
                            torch[key] = dict(r, threads=row_threads)
                        elif best is None:
                            torch[key] = dict(r, threads=row_threads)
    return torch


def combine_rounds(rounds):
    """(locus rows, PyTorch rows, {row key: [(locus s, torch s)] per round}) from the rounds'
    (locus_results, fastest_torch) pairs: each side's seconds the median over the rounds that
    timed the row (its other fields from the round at the lower median); one round as it is."""
    if len(rounds) == 1:
        return rounds[0][0], rounds[0][1], {}
    locus, torch, figures = {}, {}, {}
    for key in set().union(*(set(l) | set(t) for l, t in rounds)):
        ls = [l[key] for l, _ in rounds if key in l and l[key]["seconds"] is not None]
        ts = [t[key] for _, t in rounds if key in t and t[key]["median_seconds"] is not None]
        if ls:
            mid = sorted(ls, key=lambda r: r["seconds"])[(len(ls) - 1) // 2]
            locus[key] = dict(mid, seconds=statistics.median(r["seconds"] for r in ls),
                              foreign_cores=max((r["foreign_cores"] or 0.0) for r in ls))
        if ts:
            mid = sorted(ts, key=lambda r: r["median_seconds"])[(len(ts) - 1) // 2]
            torch[key] = dict(mid, median_seconds=statistics.median(r["median_seconds"] for r in ts),
                              foreign_cores=max((r.get("foreign_cores") or 0.0) for r in ts))
        figures[key] = [(l[key]["seconds"] if key in l else None,
                         t[key]["median_seconds"] if key in t else None) for l, t in rounds]
    return locus, torch, figures


def locus_results(bench_json):
    rows = {}
    for (name, p, h, depth, l, d, threads), (seconds, entry) in medians(bench_json, LOCUS_NAME).items():
        if name not in LOCUS_TO_WORKLOAD:
            continue
        widths = [int(p)] + [int(h)] * int(depth) + [int(l)]
        key = (LOCUS_TO_WORKLOAD[name], arch_name(widths), int(d), int(threads))
        rows[key] = {"seconds": seconds, "name": entry["run_name"], "widths": widths,
                     "omp_threads": entry.get("omp_threads"),
                     "foreign_cores": entry.get("foreign_cores")}
    return rows


def default_dgemm_bench(locus_bench):
    """locus_dgemm_bench beside the locus benchmark binary: the same build, so its GEMMs and FMA
    peak are those of the vectors the locus rows ran with (an x86-64-v3 build's AVX2, not the
    native build's AVX-512)."""
    return os.path.join(os.path.dirname(locus_bench), "locus_dgemm_bench")


def fma_peaks(bench_json):
    """{threads: GFLOP/s} of BM_FmaPeak, the multiply-add peak of the benchmark build's vectors
    (no GEMM built for them can exceed it); empty for a binary without it (a build without SIMD)."""
    peaks = {}
    for (threads,), (seconds, entry) in medians(bench_json, FMA_PEAK_NAME).items():
        if entry.get("flop") and seconds:
            peaks[int(threads)] = entry["flop"] / seconds / 1e9  # at the median time
    return peaks


def peak_bound(row, peak_gflops):
    """(seconds, ratio): the least time a row's GEMM FLOPs take at the FMA peak (so no
    implementation built for these vectors does the row faster, elementwise work aside), and the
    largest torch/locus that time allows against the row's PyTorch time (None without one)."""
    seconds = row["gemm_flops"] / (peak_gflops * 1e9)
    return seconds, (row["torch_seconds"] / seconds if row.get("torch_seconds") else None)


def dgemm_results(bench_json):
    rows = []
    for (name, m, k, n, chunk, threads), (seconds, entry) in medians(bench_json, DGEMM_NAME).items():
        flop = 2.0 * int(m) * int(k) * int(n)
        rows.append({"name": name, "m": int(m), "k": int(k), "n": int(n),
                     "foreign_cores": entry.get("foreign_cores"),
                     "chunk": int(chunk) if chunk is not None else None,
                     "threads": int(threads), "seconds": seconds, "gflops": flop / seconds / 1e9})
    return rows


# --------------------------------------------------------------------------------------------


# The probe of core_probe: a small net's one-thread HVP, compute-bound and in cache.
PROBE_BENCHMARK = "BM_Loss_Hvp/p:10/h:64/depth:1/l:1/d:256/nthreads:1/real_time"
ROUND_TRIP_BENCHMARK = "BM_CacheLineRoundTrip/real_time"
# A probe's ratio (slowest over fastest CPU, or the fastest CPU's time between two probes) above
# which rows are flagged, and below which --wait-for-even-cores stops waiting.
UNEVEN_CORES = 1.05
# The ratio of the two probes' round trips above which the multi-thread rows are flagged "(cores
# moved)": near and far placements differ by 3-5x (bench/README.md), a probe's noise by under 1.3x.
MOVED_CORES = 1.5


def single_real_time(output):
    """The real time (seconds) of the one benchmark in google/benchmark's JSON `output`; None when
    the output is not such JSON, holds no benchmark, or the benchmark stopped with an error (e.g.
    the round trip on one CPU)."""
    try:
        found = json.loads(output)["benchmarks"]
    except (ValueError, KeyError, TypeError):
        return None
    if not found or found[0].get("error_occurred"):
        return None
    return found[0]["real_time"] * UNIT_SECONDS[found[0]["time_unit"]]


def core_probe(binary, rounds=3):
    """The one-thread time of PROBE_BENCHMARK (microseconds, best of `rounds`) pinned to each CPU
    alone, then on every CPU at once. On a virtual machine a vCPU can run slower than the others
    (the host's other work on its physical core), or two vCPUs can share a physical core (or its
    power budget) and each be as fast as ever alone: a multi-thread row, which waits for its
    slowest thread, then runs slower than idle cores would. Returns {"cpus", "alone_us",
    "together_us", "slowdown"} with slowdown = the slowest CPU's time with all running over the
    fastest CPU's time alone, and "spread" = the slowest CPU alone over the fastest alone (what a
    one-thread run can meet), or None where the probe cannot run (no such binary, or one without
    the benchmark)."""
    if not os.path.exists(binary):
        return None  # run_benchmark_binary says what is missing
    cpus = sorted(os.sched_getaffinity(0))
    cmd = [binary, f"--benchmark_filter=^{re.escape(PROBE_BENCHMARK)}$", "--benchmark_format=json",
           "--benchmark_min_time=0.1"]

    def start(cpu):
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))

    def microseconds(process):
        out, _ = process.communicate()
        seconds = single_real_time(out) if process.returncode == 0 else None
        return seconds * 1e6 if seconds is not None else None

    alone = [min((microseconds(start(c)) or math.inf) for _ in range(rounds)) for c in cpus]
    together = [math.inf] * len(cpus)
    for _ in range(rounds):
        processes = [start(c) for c in cpus]
        together = [min(t, microseconds(p) or math.inf) for t, p in zip(together, processes)]
    if not all(math.isfinite(x) for x in alone + together):
        return None
    return {"benchmark": PROBE_BENCHMARK, "cpus": cpus, "alone_us": alone, "together_us": together,
            "slowdown": max(together) / min(alone), "spread": max(alone) / min(alone),
            "round_trip_ns": round_trip_ns(binary, rounds)}


def even(probe):
    """Whether no CPU of the probe ran over 5% slower than the fastest alone, alone or with all
    running: the probe that flags no row."""
    return (probe is not None and probe["slowdown"] <= UNEVEN_CORES and
            probe["spread"] <= UNEVEN_CORES)


def wait_for_even_cores(binary, seconds):
    """core_probe, repeated every 10 s for up to `seconds` until it is even (a host's other work
    on a vCPU's physical core comes and goes within minutes); returns the last probe, and says how
    long it waited."""
    start = time.monotonic()
    probe = core_probe(binary)
    while seconds > 0 and probe is not None and not even(probe):
        if time.monotonic() - start + 10 > seconds:
            print(f"cores: still uneven after {time.monotonic() - start:.0f} s of waiting "
                  f"(slowdown {probe['slowdown']:.2f}x, alone {probe['spread']:.2f}x); "
                  "running anyway", flush=True)
            return probe
        time.sleep(10)
        probe = core_probe(binary)
    if seconds > 0 and probe is not None:
        print(f"cores: even after {time.monotonic() - start:.0f} s", flush=True)
    return probe


def round_trip_ns(binary, rounds=3):
    """ROUND_TRIP_BENCHMARK's time (nanoseconds, best of `rounds` processes): a cache line from the
    process's first CPU to its second and back, what every hand-off between two threads pays. On a
    virtual machine it moves with where the host places the vCPUs (the same core complex or
    not), and a small net's multi-thread rows move with it (bench/README.md). None where it cannot
    run (one CPU, or a binary without the benchmark)."""
    cmd = [binary, f"--benchmark_filter=^{re.escape(ROUND_TRIP_BENCHMARK)}$",
           "--benchmark_format=json", "--benchmark_min_time=0.05"]
    best = math.inf
    for _ in range(rounds):
        process = subprocess.run(cmd, capture_output=True, text=True)
        seconds = single_real_time(process.stdout) if process.returncode == 0 else None
        if seconds is None:
            return None
        best = min(best, seconds * 1e9)
    return best


def round_trip_change(probes):
    """The larger over the smaller round trip of the two probes, None without both."""
    trips = [p.get("round_trip_ns") for p in (probes.get("before"), probes.get("after")) if p]
    if len(trips) < 2 or not all(trips):
        return None
    return max(trips) / min(trips)


def speed_drift(probes):
    """How much the machine's speed moved between the probes: (before, after, ratio) with before
    and after the fastest CPU alone (us) in each probe and ratio the larger over the smaller;
    None without both probes."""
    if not (probes.get("before") and probes.get("after")):
        return None
    before, after = (min(probes[k]["alone_us"]) for k in ("before", "after"))
    return before, after, max(before, after) / min(before, after)


def print_probe(label, probe):
    if probe is None:
        print(f"cores ({label}): probe did not run")
        return
    alone = ", ".join(f"{x:.1f}" for x in probe["alone_us"])
    together = ", ".join(f"{x:.1f}" for x in probe["together_us"])
    trip = probe.get("round_trip_ns")
    cpus = probe["cpus"]
    trip = (f"; a cache line from cpu {cpus[0]} to {cpus[1]} and back {trip:.0f} ns" if trip else "")
    print(f"cores ({label}): [10,64,1] HVP on one thread, cpus {cpus}: alone {alone} us; "
          f"all at once {together} us (slowdown {probe['slowdown']:.2f}x, "
          f"alone {probe['spread']:.2f}x){trip}")


def write_json(path, data):
    """data as indented JSON at path, through a temporary file renamed over it: an interrupted
    run leaves the previous file whole."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def print_table(rows):
    header = f"{'workload':11s} {'network':18s} {'d':>5s} {'thr':>3s} {'locus':>11s} " \
             f"{'torch':>11s} {'torch/locus':>11s}  torch method"
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = f"{r['ratio']:.1f}x" if r["ratio"] else "-"
        print(f"{r['workload']:11s} {r['network']:18s} {r['d']:5d} {r['threads']:3d} "
              f"{format_seconds(r['locus_seconds']):>11s} {format_seconds(r['torch_seconds']):>11s} "
              f"{ratio:>11s}  {r['torch_method'] or '-'}"
              f"{' (' + r['torch_configuration'] + ')' if r.get('torch_configuration') else ''}"
              f"{'  (machine busy)' if r['busy'] else ''}"
              f"{'  (cores contended)' if r.get('contended') else ''}"
              f"{'  (machine speed changed)' if r.get('speed_changed') else ''}"
              f"{'  (cores moved)' if r.get('cores_moved') else ''}")
        if r.get("rounds"):
            each = " ".join(f"{b / a:.1f}x" if a and b else "-"
                            for a, b in ((x["locus_seconds"], x["torch_seconds"])
                                         for x in r["rounds"]))
            print(f"{'':12s}rounds: {each}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locus-bench", default="build-bench/bench/locus_bench",
                        help="locus's loss benchmark binary (default: %(default)s)")
    parser.add_argument("--dgemm-bench",
                        help="dgemm benchmark binary; 'none' to skip (default: locus_dgemm_bench "
                             "beside --locus-bench, built with the same flags, whose FMA peak "
                             "is then the one of the vectors locus's rows used)")
    parser.add_argument("--threads", default="2,1", help="thread counts (default: %(default)s)")
    parser.add_argument("--repetitions", type=int, default=5,
                        help="repetitions; the median is reported (default: %(default)s)")
    parser.add_argument("--min-time", type=float, default=0.2,
                        help="seconds per repetition, at least one call (default: %(default)s)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated subset of " + ",".join(WORKLOADS))
    parser.add_argument("--machine",
                        help="machine name for the baseline files, required by --save-baselines "
                             "(those in bench/baselines: cpp-2core, the Zen 3 guest, and "
                             "cpp-2core-zen5)")
    parser.add_argument("--save-baselines", action="store_true",
                        help="write bench/baselines/<machine>.json (locus, google/benchmark JSON), "
                             "<machine>-dgemm.json and <machine>-torch.json (the comparison)")
    parser.add_argument("--torch-processes", type=int, default=1,
                        help="PyTorch processes per thread count and configuration (intra-op "
                             "threads, OpenBLAS core type); each row keeps the fastest "
                             "(default: %(default)s)")
    parser.add_argument("--max-attempts", type=int, default=4,
                        help="measurements repeated while others load the machine "
                             "(default: %(default)s)")
    parser.add_argument("--max-wait", type=float, default=120.0,
                        help="seconds to wait for a quiet machine before each attempt "
                             "(default: %(default)s)")
    parser.add_argument("--openblas-coretype", metavar="NAME",
                        help="run PyTorch and the dgemm ceiling with this OPENBLAS_CORETYPE only "
                             "(Haswell: AVX2 kernels, to compare an x86-64-v3 build of locus as "
                             "on an AVX2-only CPU)")
    parser.add_argument("--no-core-probe", dest="core_probe", action="store_false",
                        help="skip the probe of whether the cores slow each other down, run "
                             "before the locus benchmarks and after PyTorch's (see core_probe)")
    parser.add_argument("--wait-for-even-cores", type=float, default=0.0, metavar="SECONDS",
                        help="before the locus benchmarks, repeat the core probe for up to this "
                             "long until no CPU runs over 5%% slower than the fastest, alone or "
                             "with all running (default: %(default)s, no waiting)")
    parser.add_argument("--networks", nargs="+", metavar="WIDTHS",
                        help="only these networks, by their widths (10,64,1 or [10,64,1]; "
                             "default: all of " + " ".join(dict.fromkeys(arch_name(w) for w, _ in PROBLEMS)) +
                             ")")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate the locus and PyTorch runs this many times; each side "
                             "reports the median of the rounds, torch/locus the median of the "
                             "rounds' ratios (default: %(default)s)")
    parser.add_argument("--torch-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--torch-intra-threads", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.wait_for_even_cores < 0:
        parser.error(f"--wait-for-even-cores: {args.wait_for_even_cores:g} seconds is negative "
                     "(0 runs without waiting)")
    if args.save_baselines and not args.machine:
        parser.error("--save-baselines: name the machine with --machine NAME (the files are "
                     "bench/baselines/NAME{,-dgemm,-torch}.json; an existing name's are replaced)")
    if args.machine and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", args.machine):
        parser.error(f"--machine: '{args.machine}' is not a file name (letters, digits, '.', "
                     "'_' and '-')")
    if args.rounds < 1:
        parser.error(f"--rounds: {args.rounds} rounds; at least 1")
    if args.dgemm_bench is None:
        args.dgemm_bench = default_dgemm_bench(args.locus_bench)
    if args.networks:
        known = list(dict.fromkeys(arch_name(w) for w, _ in PROBLEMS))
        args.networks = ["[" + n.strip("[]") + "]" for n in args.networks]
        for n in args.networks:
            if n not in known:
                parser.error(f"--networks: unknown network '{n}' (valid: {' '.join(known)})")
        PROBLEMS[:] = [(w, d) for w, d in PROBLEMS if arch_name(w) in args.networks]
    args.workloads = [w for w in args.workloads.split(",") if w]
    for w in args.workloads:
        if w not in WORKLOADS:
            parser.error(f"--workloads: unknown workload '{w}' (valid: {', '.join(WORKLOADS)})")
    # Checked before anything runs: the dgemm benchmark runs last, after minutes of timings.
    if args.torch_worker is None and args.dgemm_bench != "none" and \
            not os.path.exists(args.dgemm_bench):
        parser.error(f"--dgemm-bench: '{args.dgemm_bench}' not found (build locus_dgemm_bench "
                     "beside --locus-bench, pass its path, or 'none' to skip it)")

    if args.torch_worker is not None:
        json.dump(torch_worker(args.torch_worker, args.torch_intra_threads or args.torch_worker,
                               args.min_time, args.repetitions, args.workloads,
                               args.max_attempts, args.max_wait), sys.stdout)
        return

    if args.openblas_coretype:
        os.environ["OPENBLAS_CORETYPE"] = args.openblas_coretype
    threads = [int(t) for t in args.threads.split(",")]
    inverse = {v: k for k, v in LOCUS_TO_WORKLOAD.items()}
    problems = "|".join(f"p:{w[0]}/h:{w[1]}/depth:{len(w) - 2}/l:{w[-1]}/d:{d}"
                        for w, d in PROBLEMS)
    locus_filter = "(" + "|".join(inverse[w] for w in args.workloads) + ")/(" + problems + \
                   ")/nthreads:(" + "|".join(str(t) for t in threads) + ")/"
    probes = {}
    if args.core_probe:
        probes["before"] = wait_for_even_cores(args.locus_bench, args.wait_for_even_cores)
    locus_runs, rounds = [], []
    for k in range(args.rounds):
        if args.rounds > 1:
            print(f"round {k + 1} of {args.rounds}: locus", file=sys.stderr, flush=True)
        locus_runs.append(run_benchmark_binary(args.locus_bench, args, locus_filter))
        if args.rounds > 1:
            print(f"round {k + 1} of {args.rounds}: PyTorch", file=sys.stderr, flush=True)
        rounds.append((locus_results(locus_runs[-1]), fastest_torch(threads, args)))
    locus, torch, round_figures = combine_rounds(rounds)
    locus_json = {"context": locus_runs[0]["context"],
                  "benchmarks": [dict(b, round=k) for k, run in enumerate(locus_runs)
                                 for b in run["benchmarks"]]}
    # OPENBLAS_CORETYPE (e.g. Haswell on an AVX-512 machine) can hold OpenBLAS below what the CPU
    # does: measure dgemm as configured and, when the variable is set, also without it; the
    # GEMM-throughput ceiling is the higher figure.
    dgemm_json, dgemm_own_json = None, None
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    if args.dgemm_bench != "none":
        dgemm_json = run_benchmark_binary(args.dgemm_bench, args)
        if coretype and not args.openblas_coretype:
            env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
            dgemm_own_json = run_benchmark_binary(args.dgemm_bench, args, env=env)


    if args.core_probe:
        probes["after"] = core_probe(args.locus_bench)
    # Rows measured while the cores slowed each other (or one was slowed) by more than 5%, before
    # or after the runs, are flagged (see the module docstring): multi-thread rows by the
    # slowdown, one-thread rows by the spread of the CPUs alone.
    contended = {t: any(p and p["slowdown" if t > 1 else "spread"] > UNEVEN_CORES
                        for p in probes.values()) for t in threads}
    # Both probes can be even and the machine still slower in one than in the other (the host
    # slowing every vCPU at once): then every row is flagged, both sides having run at unknown
    # speeds.
    drift = speed_drift(probes)
    speed_changed = drift is not None and drift[2] > UNEVEN_CORES
    # The cores moved closer or apart between the probes (the host placed the vCPUs elsewhere):
    # the multi-thread rows, whose hand-offs cross between the cores, ran at either distance.
    trip_change = round_trip_change(probes)
    moved = trip_change is not None and trip_change > MOVED_CORES
    rows = []
    for workload in args.workloads:
        for widths, d in PROBLEMS:
            for t in threads:
                key = (workload, arch_name(widths), d, t)
                if key not in locus and key not in torch:
                    continue
                ls = locus.get(key, {}).get("seconds")
                tr = torch.get(key, {})
                ts = tr.get("median_seconds")
                per_round = round_figures.get(key)
                ratios = [b / a for a, b in per_round or [] if a and b]
                rows.append({"workload": workload, "network": arch_name(widths), "d": d,
                             "threads": t, "n_params": n_params(widths),
                             "locus_seconds": ls, "torch_seconds": ts,
                             "ratio": (statistics.median(ratios) if ratios else None)
                             if per_round else (ts / ls if ls and ts else None),
                             "rounds": [{"locus_seconds": a, "torch_seconds": b}
                                        for a, b in per_round] if per_round else None,
                             "torch_method": tr.get("method"), "torch_methods": tr.get("methods"),
                             "torch_configuration": tr.get("configuration"),
                             "busy": any((x or 0) >= QUIET_FRACTION for x in
                                         (locus.get(key, {}).get("foreign_cores"),
                                          tr.get("foreign_cores"))),
                             "contended": contended[t], "speed_changed": speed_changed,
                             "cores_moved": moved and t > 1,
                             "gemm_flops": gemm_flops(widths, d, workload),
                             "locus_gflops": gemm_flops(widths, d, workload) / ls / 1e9
                             if ls and gemm_flops(widths, d, workload) else None})
    print()
    for label, probe in probes.items():
        print_probe(label, probe)
    if drift is not None:
        before, after, ratio = drift
        print(f"cores: the fastest CPU alone took {before:.1f} us before and {after:.1f} us after "
              f"({ratio:.2f}x){': the machine changed speed during the runs' if speed_changed else ''}")
    if trip_change is not None:
        print(f"cores: a cache line's round trip took {probes['before']['round_trip_ns']:.0f} ns "
              f"before and {probes['after']['round_trip_ns']:.0f} ns after ({trip_change:.2f}x)"
              f"{': the host moved the cores during the runs' if moved else ''}")
    print("Medians of wall time per call; torch/locus > 1 means locus is faster." +
          (f" Over {args.rounds} rounds: each side's median, and the median of the rounds' "
           "ratios (listed under each row)." if args.rounds > 1 else ""))
    print_table(rows)

    if dgemm_json:
        dg = []
        for label, bench in ((f"OPENBLAS_CORETYPE={coretype}" if coretype else "as configured",
                              dgemm_json), ("OpenBLAS's own core type", dgemm_own_json)):
            if not bench:
                continue
            part = dgemm_results(bench)
            dg += part
            print()
            print(f"dgemm (C = A B, m x k times k x n), median GFLOP/s, {label}:")
            for r in sorted(part, key=lambda r: (r["name"], r["m"], r["k"], r["chunk"] or 0,
                                                 r["threads"])):
                chunk = f" chunk {r['chunk']}" if r["chunk"] else ""
                print(f"  {r['name']:18s} {r['m']:5d} x {r['k']:4d} x {r['n']:4d}{chunk:10s} "
                      f"threads {r['threads']}: {r['gflops']:6.1f}")
        peaks = fma_peaks(dgemm_json)
        if peaks:
            print()
            print("Multiply-add peak of the dgemm binary's vectors (BM_FmaPeak; no GEMM exceeds it): " +
                  ", ".join(f"{peaks[t]:.1f} GFLOP/s on {t} thread{'s' if t > 1 else ''}"
                            for t in sorted(peaks)))
        large = LARGE_NETWORK
        print()
        print("Large network GEMM throughput (GEMM FLOPs from the architecture, see loss_bench.cpp):")
        for r in rows:
            if r["network"] != large or not r["locus_gflops"]:
                continue
            ref = [g["gflops"] for g in dg if g["name"] == "BM_Dgemm_OpenBlas" and g["threads"] == r["threads"]]
            frac = f" = {100 * r['locus_gflops'] / max(ref):.0f}% of OpenBLAS dgemm ({max(ref):.1f})" if ref else ""
            peak = peaks.get(r["threads"])
            bound = ""
            if peak:
                frac += f", {100 * r['locus_gflops'] / peak:.0f}% of the FMA peak ({peak:.1f})"
                floor, most = peak_bound(r, peak)
                bound = f"\n{'':25s}at the peak no less than {floor * 1e3:.2f} ms" + (
                    f": torch/locus at most {most:.2f}x" if most else "")
            print(f"  {r['workload']:11s} threads {r['threads']}: {r['locus_gflops']:6.1f} GFLOP/s{frac}{bound}")

    if args.save_baselines:
        here = os.path.dirname(os.path.abspath(__file__))
        base = os.path.join(here, "baselines")
        os.makedirs(base, exist_ok=True)
        write_json(os.path.join(base, f"{args.machine}.json"), locus_json)
        if dgemm_json:
            write_json(os.path.join(base, f"{args.machine}-dgemm.json"), dgemm_json)
        if dgemm_own_json:
            write_json(os.path.join(base, f"{args.machine}-dgemm-own-coretype.json"),
                       dgemm_own_json)
        context = {
            "machine": args.machine,
            "host": socket.gethostname(),
            "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "threads": threads, "repetitions": args.repetitions, "min_time_seconds": args.min_time,
            "torch_processes": args.torch_processes, "rounds": args.rounds,
            "networks": list(dict.fromkeys(arch_name(w) for w, _ in PROBLEMS)),
            "core_probe": probes, "core_probe_speed_drift": drift[2] if drift else None,
            "core_probe_round_trip_change": trip_change,
            "locus_context": locus_json.get("context"),
            **torch_context(),
        }
        write_json(os.path.join(base, f"{args.machine}-torch.json"),
                   {"context": context, "rows": rows})
        print(f"\nbaselines written to {base}/{args.machine}{{,-dgemm,-torch}}.json")


if __name__ == "__main__":
    main()
