"""Cell-updates per second of the BGK kernel (second-order 1D1V scheme) against plain numpy.

A cell-update is one (x, v) point advanced by one time step: MUSCL-minmod transport with SSP-RK2
and exact relaxation in Strang splitting (:func:`solvers.bgk.solve`). Cases:

- (a) one run, n_x x n_v = 200 x 100,
- (b) a batch of 64 such runs (different initial data and Kn) in one call,
- (c) one run at 4000 x 200,

each next to a plain numpy implementation of the same scheme (below, vectorized over batch, x
and v with ``np.roll``) and next to the machine's memory bandwidth measured in the same run (a
copy of a 256 MiB array, counted as read + write). Each rate is the fastest of ``repeat`` calls.

Run: ``python -m benchmarks.bench_bgk`` (all benchmarks: ``python -m benchmarks``).
"""


import numba
import numpy as np

from benchmarks.timing import best_of, memory_bandwidth, multiply_add_throughput
from solvers.bgk import PhaseGrid, initial, solve, warmup

def _minmod(a, b):
    """The kernel's minmod: the median of a, b and 0."""
    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), 0.0))


def _numpy_rhs(f, v, dx):
    """-(F_{i+1/2} - F_{i-1/2})/dx for f of shape (batch, n_x, n_v), periodic, MUSCL-minmod upwind."""
    fm, fp = np.roll(f, 1, axis=1), np.roll(f, -1, axis=1)
    s = _minmod(f - fm, fp - f)
    pos = v > 0
    face = np.where(pos, v * (f + 0.5 * s), v * (fp - 0.5 * np.roll(s, -1, axis=1)))
    return -(face - np.roll(face, 1, axis=1)) / dx


def _numpy_relax(f, v, kn, h):
    """Exact relaxation over ``h`` towards the kernel's discrete Maxwellian: ``g (a0 + a1 ξ + a2 ξ²)`` with
    ``g = exp(-ξ²/2)`` and ``a`` such that it has the discrete moments of f (the cofactor solve of
    ``solvers.bgk.relaxation``)."""
    s0 = f.sum(-1)
    s1 = (f * v).sum(-1)
    s2 = (f * v * v).sum(-1)
    u = s1 / s0
    T = (s2 - s1 * u) / s0
    xi = (v - u[..., None]) / np.sqrt(T)[..., None]
    x2 = xi * xi
    g = np.exp(-0.5 * x2)
    m0, m1, m2, m3, m4 = g.sum(-1), (xi * g).sum(-1), (x2 * g).sum(-1), (xi * x2 * g).sum(-1), (x2 * x2 * g).sum(-1)
    c00, c01, c02 = m2 * m4 - m3 * m3, m2 * m3 - m1 * m4, m1 * m3 - m2 * m2
    c21, c22 = m1 * m2 - m0 * m3, m0 * m2 - m1 * m1
    k = s0 / (m0 * c00 + m1 * c01 + m2 * c02)
    a0, a1, a2 = (k * (c00 + c02))[..., None], (k * (c01 + c21))[..., None], (k * (c02 + c22))[..., None]
    M = g * (a0 + xi * (a1 + xi * a2))
    e = np.exp(-h / kn)[:, None, None]
    return M + (f - M) * e


def numpy_steps(f, v, dx, kn, dt, n):
    """``n`` steps of the kernel's algorithm in plain numpy (f: (batch, n_x, n_v), one component): the
    half relaxations of consecutive steps merged into one, as the kernel does."""
    f = _numpy_relax(f, v, kn, 0.5 * dt)
    for step in range(n):
        g = f + dt * _numpy_rhs(f, v, dx)
        f = 0.5 * (f + g + dt * _numpy_rhs(g, v, dx))
        f = _numpy_relax(f, v, kn, dt if step < n - 1 else 0.5 * dt)
    return f


def _case(n_batch, n_x, n_v, steps, numpy_steps_n, repeat, threads=None):
    """Rates of the kernel (on ``threads`` numba threads, default all) and of numpy on one case;
    each is the best of ``repeat`` short calls, the kernel's and numpy's calls taking turns."""
    grid = PhaseGrid(0.0, 1.0, n_x, 10.0, n_v)
    rng = np.random.default_rng(0)
    f0 = np.stack([initial.random_wave(rng, grid, noneq=(0.0, 0.0)) for _ in range(n_batch)])
    kn = 10.0 ** rng.uniform(-3, 1, n_batch)
    dt = 0.4 * grid.dx / np.abs(grid.v).max()
    t = [steps * dt * (1 - 1e-9)]
    taken = []
    fnp = f0[:, 0].copy()
    # the numpy version is the kernel's algorithm: the same f after its steps, to round-off
    check = solve(f0, grid, kn, [numpy_steps_n * dt], save_distribution=True)
    np.testing.assert_allclose(numpy_steps(fnp, grid.v, grid.dx, kn, check.dt[-1], numpy_steps_n),
                               check.f[:, -1, 0], rtol=1e-9, atol=1e-13)
    best, t_np = np.inf, np.inf
    all_threads = numba.get_num_threads()
    for _ in range(repeat):  # the two take turns, so that a slow phase of a shared machine hits both
        numba.set_num_threads(threads or all_threads)
        best = min(best, best_of(lambda: taken.append(solve(f0, grid, kn, t).n_steps), 1))
        numba.set_num_threads(all_threads)
        t_np = min(t_np, best_of(lambda: numpy_steps(fnp, grid.v, grid.dx, kn, dt, numpy_steps_n), 1))
    assert taken[-1] == steps
    t_np /= numpy_steps_n
    cells = n_batch * n_x * n_v
    rate = cells * steps / best
    rate_np = cells / t_np
    return {"n_batch": n_batch, "n_x": n_x, "n_v": n_v, "steps": steps, "repeat": repeat, "seconds": best,
            "cell_updates_per_s": rate, "numpy_cell_updates_per_s": rate_np, "speedup_vs_numpy": rate / rate_np,
            # bytes of f touched per cell-update if every sweep streamed f from memory: 2 sweeps,
            # reading f and g and writing each once -> about 5 x 8 bytes
            "effective_GB_per_s": rate * 40 / 1e9}


def measure(repeat=10):
    """Dict with the three cases, the memory bandwidth (GB/s) and the thread count.

    Calls are short (0.05 to 0.5 s) and many, and each rate is the fastest call, so that a
    shared machine's bursts of load do not decide the ratio.
    """
    warmup()
    bw = memory_bandwidth()
    cases = {
        "single_200x100": _case(1, 200, 100, 200, 20, repeat),
        "batch64_200x100": _case(64, 200, 100, 20, 2, repeat),
        "single_4000x200": _case(1, 4000, 200, 20, 2, repeat),
        "batch64_200x100_one_thread": _case(64, 200, 100, 20, 2, repeat, threads=1),
    }
    for c in cases.values():
        c["fraction_of_bandwidth"] = c["effective_GB_per_s"] / bw
    cores = multiply_add_throughput(numba.get_num_threads())
    return {"threads": numba.get_num_threads(), "memory_bandwidth_GB_per_s": bw, "cases": cases, "cores": cores,
            "goals": {"batch_vs_numpy_at_least": 30.0, "cell_updates_per_s_at_least": 2e8}}


def section(r: dict) -> list[str]:
    """Markdown lines for docs/performance.md from :func:`measure`'s result."""
    bw, cores = r["memory_bandwidth_GB_per_s"], r["cores"]
    rows = [f"| {name.replace('_', ' ')} | {c['steps']} | {c['cell_updates_per_s'] / 1e6:.1f} | "
            f"{c['numpy_cell_updates_per_s'] / 1e6:.2f} | {c['speedup_vs_numpy']:.1f}x | "
            f"{c['effective_GB_per_s']:.1f} | {c['fraction_of_bandwidth']:.0%} |" for name, c in r["cases"].items()]
    batch = r["cases"]["batch64_200x100"]
    one = r["cases"]["batch64_200x100_one_thread"]
    scaling = batch["cell_updates_per_s"] / one["cell_updates_per_s"]
    best = max(c["cell_updates_per_s"] for c in r["cases"].values())
    goal_np, goal_rate = r["goals"]["batch_vs_numpy_at_least"], r["goals"]["cell_updates_per_s_at_least"]
    return [
        "## Kinetic BGK kernel (`solvers.bgk`, second-order 1D1V scheme)",
        "",
        "A cell-update is one (x, v) point advanced by one time step: MUSCL-minmod transport with SSP-RK2 "
        "and exact relaxation in Strang splitting, Kn log-uniform in [1e-3, 10] across a batch. The numpy "
        "version is the kernel's algorithm (the same limiter formula, half relaxations of consecutive steps "
        "merged, the discrete Maxwellian with the moments of f) vectorized over batch, x and v (`np.roll`); the "
        "benchmark checks that it gives the kernel's f to 1e-9 before it times them. Memory traffic is estimated "
        "at 40 bytes per cell-update (two sweeps, each reading two copies of f and writing one); the "
        f"machine's memory bandwidth, measured in the same run (copy of 256 MiB, read + write), is {bw:.1f} GB/s. "
        f"{r['threads']} numba threads; each rate is the fastest of {r['cases']['batch64_200x100']['repeat']} "
        "calls (numba and numpy alike, taking turns), the steps column giving the kernel's steps per call.",
        "",
        "| case | steps | Mcell-updates/s | numpy Mcell-updates/s | vs numpy | GB/s (40 B/update) | of bandwidth |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Goals: the batch at least {goal_np:.0f}x numpy: measured {batch['speedup_vs_numpy']:.1f}x "
        f"({'met' if batch['speedup_vs_numpy'] >= goal_np else 'not met'}); at least {goal_rate / 1e6:.0f} million "
        f"cell-updates/s: best case {best / 1e6:.0f} million ({'met' if best >= goal_rate else 'not met'}). "
        "The kernel sweeps contiguous cells of one run per thread, transporting a chunk of 32 cells (one "
        "vectorized loop per cell and velocity half) and then relaxing it while it is in cache; in a batch of 64 "
        "runs or more each thread takes whole runs through all the steps of an output interval, so that a run's f "
        "and stage buffer (320 kB here) stay in its core's cache. It is bound by arithmetic (the limiter and the "
        "Maxwellian's exponential, vectorized by hand in `solvers/bgk/vexp.py`), not by memory. The batch holds "
        "two copies of f (the state and one stage buffer) and a few rows of scratch per thread. "
        f"The last row is the batch on one numba thread: {r['threads']} threads gave {scaling:.2f}x one thread in "
        "this run, for a kernel that keeps each thread's runs in its own core's cache. The machine's limit, "
        f"measured in the same run: {cores['processes']} processes running a vectorized multiply-add loop at once "
        f"get {cores['ratio']:.2f}x the throughput of one ({cores['one_s']:.2f} s alone, "
        f"{cores['together_s']:.2f} s together). Both ratios move from one minute to the next on a shared "
        "machine (the cores probably run at a varying clock), and so does the ratio to numpy, which runs on one "
        "core: read them as one measurement, not as a margin.",
        "",
    ]


def main():
    print("\n".join(section(measure())))


if __name__ == "__main__":
    main()
