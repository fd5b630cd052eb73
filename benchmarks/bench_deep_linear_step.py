"""Time one gradient-descent step on a deep linear residual network.

Compares, at the same size and in the same process:

- the numba kernel :func:`solvers.deep_linear.gradient_descent`,
- the torch backend :func:`learners.deep_linear.gradient_descent_torch`
  (CPU, float64, autograd),
- a plain numpy implementation of the same prefix/suffix formula (below),

against the machine's float64 matmul rate measured in the same run.

A step is loss + gradients + update. Each backend runs ``number`` steps in a
single call (no recording, no stopping), so per-call setup is amortized as in a
real run; the time per step is the median over ``repeat`` calls divided by
``number``. The numba kernel runs with numba's configured threads ("numba")
and with one thread ("numba_1thread"); torch uses its default intra-op threads.

On small shared machines the threaded numba time varies between runs: when
OpenBLAS worker threads (numpy's or scipy's) are spinning, numba's worker
threads wait for a core. Limiting BLAS to one thread (OPENBLAS_NUM_THREADS=1)
while numba runs threaded avoids it.

Run: ``python benchmarks/bench_deep_linear_step.py [--dim 32 --depth 64]``.
"""

import argparse
import contextlib
import time

import numba
import numpy as np
import torch

from learners.deep_linear import gradient_descent_torch
from solvers.deep_linear import gradient_descent, initial_weights, target_matrix


def step_flops(dim, depth, out_dim):
    """Floating-point operations of one step of the prefix/suffix formula.

    A (m x k)(k x n) product counts 2 m k n. Per step: L prefix products
    (2 d^3 each), L suffix products (2 d_y d^2), E = Res Lam and E P^T
    (2 d_y d^2 each) and, per layer, S_l^T E (2 d^2 d_y) and (.) Q_{l-1}^T
    (2 d^3). The O(L d^2) additions and updates are not counted.
    """
    return 4 * depth * dim**3 + 4 * depth * out_dim * dim**2 + 4 * out_dim * dim**2


def numpy_gradient_descent(w_hidden, w_out, phi, lam, lr, n_steps):
    """Reference: ``n_steps`` plain-numpy GD steps in place, one ``@`` per product."""
    depth, dim = w_hidden.shape[0], w_hidden.shape[1]
    for _ in range(n_steps):
        prefix = [np.eye(dim)]
        for w in w_hidden:
            prefix.append(w @ prefix[-1] + prefix[-1])
        suffix = [w_out]
        for w in w_hidden[::-1]:
            suffix.append(suffix[-1] @ w + suffix[-1])
        suffix.reverse()
        residual = suffix[0] - phi
        err = residual @ lam
        loss = 0.5 * np.sum(residual * err)
        g_out = err @ prefix[depth].T
        g_hidden = np.stack([suffix[l + 1].T @ err @ prefix[l].T for l in range(depth)])
        w_hidden -= lr * g_hidden
        w_out -= lr * g_out
    return loss


def _seconds(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


@contextlib.contextmanager
def _numba_threads(n):
    threads = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def matmul_rate(n=1024, repeat=5):
    """Float64 matmul rate of this machine in GFLOP/s (an n x n np.dot, all BLAS threads)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    np.dot(a, b)
    return 2 * n**3 / np.median([_seconds(lambda: np.dot(a, b)) for _ in range(repeat)]) / 1e9


def measure(dim=32, depth=64, repeat=7, number=20):
    """Seconds per step, GFLOP/s, speedup vs numpy and fraction of the matmul rate, per backend."""
    rng = np.random.default_rng(0)
    w_hidden0, w_out0 = initial_weights("zas", depth, dim, dim, 0.01, rng)
    phi = target_matrix("gaussian", dim, dim, 1.0, rng)
    lam = np.eye(dim)
    lr = 0.05 / depth
    # Steps 1..number: none is a multiple of `every`, so nothing is recorded.
    records = dict(every=number + 1, losses=np.zeros(1), sigma_mins=np.zeros(1), start=1)

    def numba_run():
        steps, _ = gradient_descent(w_hidden0.copy(), w_out0.copy(), phi, lam, lr, number, -np.inf, **records)
        assert steps == number, "the numba run stopped early"

    def numba_one_thread_run():
        with _numba_threads(1):
            numba_run()

    def torch_run():
        *_, steps, _ = gradient_descent_torch(w_hidden0, w_out0, phi, lam, lr, number, -np.inf, **records)
        assert steps == number, "the torch run stopped early"

    def numpy_run():
        assert np.isfinite(numpy_gradient_descent(w_hidden0.copy(), w_out0.copy(), phi, lam, lr, number))

    runs = {"numpy": numpy_run, "numba": numba_run, "numba_1thread": numba_one_thread_run, "torch": torch_run}
    for run in runs.values():  # warm-up: numba compilation, torch start-up
        run()
    # Interleaved repeats, so that slow phases of a shared machine hit every backend alike.
    times = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            times[name].append(_seconds(run))
    seconds = {name: float(np.median(t)) / number for name, t in times.items()}
    # Last: after a large product, BLAS worker threads keep spinning for about 0.1 s
    # and slow down numba's threads.
    peak = matmul_rate()
    flops = step_flops(dim, depth, dim)
    return {
        "dim": dim,
        "depth": depth,
        "numba_threads": numba.get_num_threads(),
        "torch_threads": torch.get_num_threads(),
        "flops_per_step": flops,
        "matmul_gflops": peak,
        "backends": {
            name: {
                "seconds_per_step": s,
                "gflops": flops / s / 1e9,
                "speedup_vs_numpy": seconds["numpy"] / s,
                "fraction_of_matmul_rate": flops / s / 1e9 / peak,
            }
            for name, s in seconds.items()
        },
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--depth", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    result = measure(args.dim, args.depth, args.repeat)
    print(f"dim={result['dim']} depth={result['depth']} flops/step={result['flops_per_step']:.3e} "
          f"matmul rate={result['matmul_gflops']:.1f} GFLOP/s "
          f"threads: numba {result['numba_threads']}, torch {result['torch_threads']}")
    print(f"{'backend':14s} {'s/step':>10s} {'GFLOP/s':>8s} {'vs numpy':>9s} {'of peak':>8s}")
    for name, r in result["backends"].items():
        print(f"{name:14s} {r['seconds_per_step']:10.3e} {r['gflops']:8.2f} "
              f"{r['speedup_vs_numpy']:8.2f}x {r['fraction_of_matmul_rate']:8.1%}")


if __name__ == "__main__":
    main()
