#!/usr/bin/python3
"""Time to loss 1e-8 / 1e-14 / 1e-20 / 1e-26 / 1e-28: locus's solvers against PyTorch's L-BFGS.

The problem is acceptance 6 of the solver issue: a [10, 200, 1] softplus student of a [10, 4, 1]
softplus teacher on d = 500 Gaussian points, L = sum_i (f(x_i) - y_i)^2 (sum reduction), float64.
For each seed the locus timing executable (bench/solvers/time_to_loss.cpp) runs lm, newton, lbfgs
and flow+lm and exports the data and the initial parameters as .npy; this script then runs
torch.optim.LBFGS (strong Wolfe line search, history 50, lr 1, tolerances 0) from the same
initial parameters (locus's flat layout is nn.Sequential's state-dict order) and records the loss
at every closure evaluation with its time. Both sides use the same number of threads.

    /usr/bin/python3 bench/solvers/compare_torch_lbfgs.py --locus-bin build-bench/bench/solvers/locus_solvers_time_to_loss \
        --seeds 0 1 2 --threads 2 --torch-seconds 300 --json out/solvers_vs_torch.json

Prints a table of seconds to each threshold (median over seeds; "-" = not reached) and the ratio
torch / locus (> 1: locus is faster; ">N" when PyTorch never reached the threshold in its
--torch-seconds: its total run time over locus's time). PyTorch is a benchmark-only tool (Debian python3-torch).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

THRESHOLDS = [1e-2, 1e-4, 1e-6, 1e-8, 1e-14, 1e-20, 1e-26, 1e-28]


def key(t):
    return "%.0e" % t


def torch_lbfgs(directory, threads, seconds, history):
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    x = torch.from_numpy(np.load(os.path.join(directory, "x.npy")))
    y = torch.from_numpy(np.load(os.path.join(directory, "y.npy")))
    theta = np.load(os.path.join(directory, "init.npy"))
    model = torch.nn.Sequential(torch.nn.Linear(10, 200), torch.nn.Softplus(),
                                torch.nn.Linear(200, 1)).double()
    offset = 0
    with torch.no_grad():
        for p in model.parameters():  # state-dict order: 0.weight, 0.bias, 2.weight, 2.bias
            n = p.numel()
            p.copy_(torch.from_numpy(theta[offset:offset + n].reshape(p.shape)))
            offset += n
    assert offset == theta.size, "init.npy does not match [10, 200, 1]"
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=100, history_size=history,
                            tolerance_grad=0.0, tolerance_change=0.0,
                            line_search_fn="strong_wolfe")
    reached = {key(t): None for t in THRESHOLDS}
    best = [float("inf")]
    start = time.perf_counter()

    def closure():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).sum()
        loss.backward()
        value = loss.item()
        now = time.perf_counter() - start
        best[0] = min(best[0], value)
        for t in THRESHOLDS:
            if value < t and reached[key(t)] is None:
                reached[key(t)] = now
        return loss

    steps = 0
    stalled = 0
    while time.perf_counter() - start < seconds and reached[key(THRESHOLDS[-1])] is None:
        before = best[0]
        opt.step(closure)
        steps += 1
        stalled = stalled + 1 if best[0] >= before else 0
        if stalled >= 3:  # three outer steps (up to 300 iterations) without any decrease
            break
    with torch.no_grad():
        loss = ((model(x) - y) ** 2).sum()
    for p in model.parameters():
        p.grad = None
    l2 = ((model(x) - y) ** 2).sum()
    l2.backward()
    gmax = max(p.grad.abs().max().item() for p in model.parameters())
    return {"seconds_to_loss": reached, "loss_final": loss.item(), "gradient_max_norm": gmax,
            "seconds": time.perf_counter() - start, "outer_steps": steps,
            "stalled": stalled >= 3}


def write_json(path, results, args):
    """Writes {"context", "results"} atomically: the locus run's context block, the torch version,
    the threads, the time and the script's options."""
    import torch
    context = dict(results[0]["locus"].get("context", {}))
    context.update({"torch_version": torch.__version__, "threads": args.threads,
                    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "options": vars(args)})
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"context": context, "results": results}, f, indent=2)
    os.replace(tmp, path)


def time_to_loss_parser(description, seeds, threads, torch_seconds):
    """The options every comparison against bench/solvers/time_to_loss.cpp takes."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--locus-bin", default="build-bench/bench/solvers/locus_solvers_time_to_loss")
    ap.add_argument("--seeds", type=int, nargs="+", default=seeds)
    ap.add_argument("--threads", type=int, default=threads)
    ap.add_argument("--torch-seconds", type=float, default=torch_seconds)
    ap.add_argument("--json", help="write all results here")
    return ap


def run_locus(args, seed, methods, directory):
    """Runs the locus timing executable for one seed with args.threads threads (OpenMP and
    OpenBLAS), exporting the data and the initial parameters to directory; returns its JSON."""
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads))
    out = subprocess.run([args.locus_bin, "--seed", str(seed), "--methods", methods,
                          "--export", directory, "--threads", str(args.threads)],
                         check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


def main():
    ap = time_to_loss_parser(__doc__.splitlines()[0], seeds=[0, 1, 2], threads=2,
                             torch_seconds=300.0)
    ap.add_argument("--methods", default="lm,newton,lbfgs,flow+lm")
    ap.add_argument("--history", type=int, default=50)
    args = ap.parse_args()

    results = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            locus_runs = run_locus(args, seed, args.methods, tmp)
            torch_run = torch_lbfgs(tmp, args.threads, args.torch_seconds, args.history)
        results.append({"seed": seed, "locus": locus_runs, "torch_lbfgs": torch_run})
        print("seed %d done: torch L-BFGS loss %.3g |g| %.3g in %.1f s" % (
            seed, torch_run["loss_final"], torch_run["gradient_max_norm"], torch_run["seconds"]),
            file=sys.stderr)

    def median(values):
        v = [x for x in values if x is not None]
        return statistics.median(v) if len(v) == len(values) else None

    names = args.methods.split(",")
    torch_t = {key(t): median([r["torch_lbfgs"]["seconds_to_loss"][key(t)] for r in results])
               for t in THRESHOLDS}
    header = "%-10s" % "threshold" + "".join("%14s" % n for n in names + ["torch"]) + \
        "".join("%16s" % ("torch/" + n) for n in names)
    print(header)
    for t in THRESHOLDS:
        row = "%-10s" % key(t)
        locus_t = {}
        for n in names:
            locus_t[n] = median([next(x for x in r["locus"]["runs"] if x["method"] == n)
                                 ["seconds_to_loss"][key(t)] for r in results])
            row += "%14s" % ("-" if locus_t[n] is None else "%.3f" % locus_t[n])
        row += "%14s" % ("-" if torch_t[key(t)] is None else "%.3f" % torch_t[key(t)])
        for n in names:
            a, b = torch_t[key(t)], locus_t[n]
            if a is not None and b is not None:
                row += "%16s" % ("%.1fx" % (a / b))
            elif b is not None:
                # PyTorch never got there: its whole run time gives a lower bound on the ratio.
                total = statistics.median([r["torch_lbfgs"]["seconds"] for r in results])
                row += "%16s" % (">%.0fx" % (total / b))
            else:
                row += "%16s" % "-"
        print(row)
    if args.json:
        write_json(args.json, results, args)


if __name__ == "__main__":
    main()
