"""Cell-updates per second of the BGK kernel (second-order 1D1V scheme) against plain numpy.

A cell-update is one (x, v) point advanced by one time step: MUSCL-minmod transport with SSP-RK2
and exact relaxation in Strang splitting (:func:`solvers.bgk.solve`). Cases:

- (a) one run, n_x x n_v = 200 x 100,
- (b) a batch of 64 such runs (different initial data and Kn) in one call,
- (c) one run at 4000 x 200,

each next to a plain numpy implementation of the same scheme (below, vectorized over batch, x
and v with ``np.roll``) and next to the machine's memory bandwidth measured in the same run (a
copy of a 256 MiB array, counted as read + write). Each rate is the fastest of ``repeat`` calls.

Independent peer: a first-order discrete-velocity model in plain numpy, written as a user writes it first
(:func:`numpy_dvm`: upwind fluxes with zero-gradient ghost cells, the Maxwellian by its formula, the IMEX
relaxation), against :func:`solvers.bgk.solve` with ``transport="upwind", relaxation="imex"`` on Sod's tube in
1D3V (the reduced distributions h, b) with 108 velocities on [-8, 8]: 200 cells to t = 0.1 with the ``bgk``
kind's defaults (cfl 0.4, Kn 1e-2, ten saved intervals), and 20 000 cells for 40 steps. Each case is
checked (the peer's h, b against the solver's) before the solver (default threads and one thread) and the
peer are timed in turns; the machine's 1-minute load average is recorded before and after the turns.

Run: ``python -m benchmarks.bench_bgk`` (all benchmarks: ``python -m benchmarks``).
"""

import os

import numba
import numpy as np

from benchmarks.timing import auto_threads, best_of, memory_bandwidth, multiply_add_throughput
from solvers.bgk import PhaseGrid, initial, solve, time_steps, warmup

#: The peer's cases: cells -> (steps (None: Sod to t = 0.1 with the kind's ten saved intervals), turns timed)
PEER_CASES = {200: (None, 5), 20_000: (40, 2)}
PEER_N_V, PEER_V_MAX, PEER_KN, PEER_CFL = 108, 8.0, 1e-2, 0.4
#: max |f_peer - f_solver| / max |f_solver| allowed: the peer's Maxwellian formula misses the discrete
#: moments by the quadrature and cut-off error of the velocity grid, which the solver's Maxwellian corrects
PEER_RTOL = 1e-9


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


def _upwind(f, v, lam):
    """``f - lam (F_{i+1/2} - F_{i-1/2})`` with upwind fluxes ``F = v f_upwind`` for f (n_x, n_v) at
    velocities v (n_v,), ``lam = dt/dx``, zero-gradient ghost cells at both ends (outflow)."""
    padded = np.concatenate([f[:1], f, f[-1:]])
    flux = np.maximum(v, 0.0) * padded[:-1] + np.minimum(v, 0.0) * padded[1:]
    return f - lam * (flux[1:] - flux[:-1])


def maxwellian_formula(rho, u, T, v, dv):
    """``rho (2 pi T)^(-1/2) exp(-(v-u)^2/(2T))``, shape (n_x, n_v), from rho, u, T (n_x,) at velocities v
    (n_v,); ``dv`` is not needed (the signature of :func:`numpy_dvm`'s ``maxwellian``)."""
    return (rho / np.sqrt(2.0 * np.pi * T))[:, None] * np.exp(-((v - u[:, None]) ** 2) / (2.0 * T[:, None]))


def numpy_dvm(h, b, v, dx, kn, dts, maxwellian=maxwellian_formula):
    """The reduced 1D3V BGK model ``∂_t (h, b) + v ∂_x (h, b) = ((M, T M) - (h, b)) / kn`` by a first-order
    discrete-velocity method in plain numpy: per step ``dt`` of ``dts``, upwind transport (:func:`_upwind`),
    then ``f <- (f + (dt/kn) M) / (1 + dt/kn)`` with ``M = maxwellian(rho, u, T, v, dv)`` of the transported
    moments (by default :func:`maxwellian_formula`). h, b: (n_x, n_v), v: (n_v,) equally spaced, dx, kn,
    dts (n_steps,): units "1". Returns (h, b) after the steps."""
    dv = v[1] - v[0]
    for dt in dts:
        h, b = _upwind(h, v, dt / dx), _upwind(b, v, dt / dx)
        rho = h.sum(axis=1) * dv
        m = (h * v).sum(axis=1) * dv
        E = ((0.5 * v * v) * h + b).sum(axis=1) * dv
        u = m / rho
        T = (2.0 * E - m * u) / (3.0 * rho)
        M = maxwellian(rho, u, T, v, dv)
        r = dt / kn
        h, b = (h + r * M) / (1.0 + r), (b + r * T[:, None] * M) / (1.0 + r)
    return h, b


def peer_case(n_x, steps=None):
    """Sod's tube in 1D3V on n_x cells (outflow) and the peer's velocity grid: (grid, f0 (2, n_x, n_v), save
    times); to t = 0.1 in ten saved intervals, or ``steps`` steps of the CFL limit."""
    grid = PhaseGrid(0.0, 1.0, n_x, PEER_V_MAX, PEER_N_V, dim=3, boundary="outflow")
    t_save = np.linspace(0.0, 0.1, 11) if steps is None else np.array([steps * _dt_limit(grid) * (1 - 1e-9)])
    return grid, initial.sod(grid), t_save


def _dt_limit(grid):
    """The CFL limit of the time step, ``cfl dx / max|v|``, as the solver computes it."""
    return PEER_CFL * grid.dx / np.abs(grid.v).max()


def peer_steps(grid, t_save):
    """The solver's time steps to ``t_save[-1]``, one entry per step (``(n_steps,)``)."""
    n, dts = time_steps(t_save, _dt_limit(grid))
    return np.repeat(dts, n)


def _solver_run(grid, f0, t_save, save_distribution=False):
    """The solver on the peer's scheme (upwind, IMEX), as the ``bgk`` kind calls it."""
    return solve(f0, grid, PEER_KN, t_save, transport="upwind", relaxation="imex", cfl=PEER_CFL,
                 save_distribution=save_distribution)


def _peer_run(grid, f0, t_save):
    """:func:`numpy_dvm` through the solver's steps to ``t_save[-1]``."""
    return numpy_dvm(f0[0], f0[1], grid.v, grid.dx, PEER_KN, peer_steps(grid, t_save))


def peer_difference(grid, f0, t_save):
    """max |f_peer - f_solver| / max |f_solver| over h and b at ``t_save[-1]``."""
    f = _solver_run(grid, f0, t_save, save_distribution=True).f[0, -1]
    return float(np.abs(np.stack(_peer_run(grid, f0, t_save)) - f).max() / np.abs(f).max())


def _peer_timing(n_x, steps, repeat):
    """Seconds of the solver (threads as ``threads: auto`` chooses them in each turn, one thread) and of the peer on one case, each the fastest of
    ``repeat`` calls taking turns, after the check; with the difference and the load average."""
    grid, f0, t_save = peer_case(n_x, steps)
    difference = peer_difference(grid, f0, t_save)
    assert difference <= PEER_RTOL, (f"{__file__}: the numpy DVM differs from the solver by {difference:.3g} "
                                     f"(relative) on {n_x} cells, above {PEER_RTOL:g}")
    best = {"solver": np.inf, "solver_1thread": np.inf, "peer": np.inf}
    threads, chosen = numba.get_num_threads(), []
    load_before = os.getloadavg()[0]
    for _ in range(repeat):
        chosen.append(auto_threads())
        best["solver"] = min(best["solver"], best_of(lambda: _solver_run(grid, f0, t_save), 1))
        numba.set_num_threads(1)
        best["solver_1thread"] = min(best["solver_1thread"], best_of(lambda: _solver_run(grid, f0, t_save), 1))
        numba.set_num_threads(threads)
        best["peer"] = min(best["peer"], best_of(lambda: _peer_run(grid, f0, t_save), 1))
    return {"n_x": n_x, "steps": peer_steps(grid, t_save).size,
            "repeat": repeat, "threads": "/".join(map(str, chosen)), "relative_difference": difference, "seconds": best,
            "load_before": load_before, "load_after": os.getloadavg()[0]}


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
    """Dict with the cases, the memory bandwidth (GB/s), the thread count and the peer's cases
    (:func:`_peer_timing`).

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
    peer = [_peer_timing(n_x, steps, turns) for n_x, (steps, turns) in PEER_CASES.items()]
    return {"threads": numba.get_num_threads(), "memory_bandwidth_GB_per_s": bw, "cases": cases, "cores": cores,
            "goals": {"batch_vs_numpy_at_least": 30.0, "cell_updates_per_s_at_least": 2e8}, "peer": peer}


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
        *_peer_lines(r["peer"]),
    ]


def _peer_lines(peer: list[dict]) -> list[str]:
    """Markdown lines of the comparison with the plain numpy DVM (:func:`_peer_timing`'s results)."""
    rows = []
    for c in peer:
        s = c["seconds"]
        rows.append(f"| Sod 1D3V, {c['n_x']} x {PEER_N_V} | {c['steps']} | {c['repeat']} | {s['peer']:.3f} | "
                    f"{s['solver']:.3f} | {s['peer'] / s['solver']:.1f}x | {s['solver_1thread']:.3f} | "
                    f"{s['peer'] / s['solver_1thread']:.1f}x | {c['relative_difference']:.1e} | "
                    f"{c['load_before']:.2f} / {c['load_after']:.2f} |")
    return [
        "### Against an independent peer: a plain numpy DVM (first order, 1D3V)",
        "",
        "What a user writes first: a first-order discrete-velocity model in plain numpy "
        "(upwind fluxes with zero-gradient ghost cells, vectorized over cells and velocities; the Maxwellian "
        "by its formula `rho (2 pi T)^(-1/2) exp(-(v-u)^2/(2T))`; IMEX relaxation "
        "`f <- (f + (dt/Kn) M) / (1 + dt/Kn)`), against `solvers.bgk.solve` with `transport: upwind, "
        f"relaxation: imex`, on Sod's tube in 1D3V (reduced h, b) with {PEER_N_V} velocities on "
        f"[-{PEER_V_MAX:g}, {PEER_V_MAX:g}], Kn = {PEER_KN:g}, cfl {PEER_CFL:g}, outflow: 200 cells to t = 0.1 in "
        "ten saved intervals (the `bgk` kind's defaults), and 20 000 cells for 40 steps. The two schemes differ "
        "only in the Maxwellian: the solver's is fitted to the discrete moments of f, the peer's formula misses "
        "them by the midpoint rule's error and the cut-off at v_max (on this grid 1e-13 at u = 0, T = 1 and "
        "2e-9 at u = 0.9, T = 1.2 in the temperature, growing as u + 7 sqrt(T) nears v_max), so the peer's h, b "
        "differ from the solver's by the column below (checked before the "
        f"timing, at most {PEER_RTOL:g}); with a Maxwellian fitted to the moments in its place the peer gives "
        "the solver's f to 1e-12 (`tests/test_bench_peers.py`). Each time is the whole run of the case, the "
        "fastest of as many calls as the turns column says (the solver on the threads `threads: auto` gives a "
        "run started then (the engine's default: the idle cores), on one "
        "thread, and the peer taking turns); load is the machine's 1-minute load average (`os.getloadavg`) "
        "before and after the turns.",
        "",
        f"| case | steps | turns | numpy DVM (s) | solver, `threads: auto` (threads per turn: {peer[0]['threads']}) (s) "
        "| vs peer | "
        "solver, 1 thread (s) | vs peer | difference to the solver | load before / after |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def main():
    print("\n".join(section(measure())))


if __name__ == "__main__":
    main()
