"""Per-cell time of the fast spectral Boltzmann collision operator (3-D Maxwell molecules) against plain numpy and
against the machine's FFT rate.

Operator: :class:`solvers.boltzmann_collision.MaxwellCollision` at its defaults (box [-7.5, 7.5]³, R = 0.75 L,
Lebedev degree 17: 55 half-sphere directions, 12 separable kernel terms: 2 + 2 x 12 x 55 = 1322 real 3-D FFTs
per cell) on the BKW distribution at K = 3/5, N = 16, 24, 32, one cell per call. Compared with:

- the plain numpy version of the same operator (:func:`solvers.boltzmann_collision.collide_reference`: Python
  loops over directions and terms, numpy FFTs one at a time, numpy interpolation of the multipliers), checked
  against the operator to 1e-12 before timing;
- the machine's FFT: the best time of one ``scipy.fft.irfftn`` of the same size (complex N x N x (N/2+1) to real
  N³, the transform the operator does 2 P n_e times), single thread and with the default threads. The operator's
  time per FFT it performs over that time bounds how far its FFT part is from the machine's FFT rate (the ratio
  includes the multipliers and the products, so the FFT part alone is at most that far).

The project's operator runs single thread (numba and scipy.fft one thread) and with the default threads
(``threads: auto``, :func:`benchmarks.timing.auto_threads`; scipy.fft ``workers`` the same count); numpy runs
on one thread. The cases take turns ``repeat`` times and each keeps its best; the 1-minute load average is
recorded before and after.

Run: ``python -m benchmarks.bench_boltzmann``.
"""

import os
import time

import numba
import numpy as np
import scipy.fft

from benchmarks.timing import auto_threads, best_of
from solvers.boltzmann_collision import MaxwellCollision, collide_reference
from solvers.boltzmann_velocity import bkw

SIZES = (16, 24, 32)
#: K(T_START) = 3/5
T_START = -6.0 * np.log(0.4)
GOALS = {"vs_numpy_at_least": 20.0, "fft_ratio_at_most": 3.0}


def _fft_seconds(n: int, workers: int) -> float:
    """Best time of one irfftn of size n³ (complex (n, n, n/2+1) -> real), 200 calls timed in a row."""
    x = scipy.fft.rfftn(np.random.default_rng(0).random((n, n, n)))
    return best_of(lambda: [scipy.fft.irfftn(x, s=(n, n, n), workers=workers) for _ in range(200)], 3) / 200


def _case(n: int, threads: int, repeat: int) -> dict:
    """Best per-cell seconds of the operator (one thread, ``threads`` threads), numpy, and one FFT."""
    ops = {1: MaxwellCollision(n=n, workers=1), threads: MaxwellCollision(n=n, workers=threads)}
    f = bkw(ops[1].grid, T_START)[None]
    reference = collide_reference(ops[1], f)
    for op in ops.values():
        numba.set_num_threads(1 if op.workers == 1 else threads)
        err = np.abs(op(f) - reference).max() / np.abs(reference).max()
        assert err < 1e-12, f"bench_boltzmann: N = {n}: operator and numpy differ by {err:.2e}"
    best = {"one_thread": np.inf, "threads": np.inf, "numpy": np.inf, "fft_one_thread": np.inf,
            "fft_threads": np.inf}
    for _ in range(repeat):
        numba.set_num_threads(1)
        best["one_thread"] = min(best["one_thread"], best_of(lambda: ops[1](f), 1))
        best["fft_one_thread"] = min(best["fft_one_thread"], _fft_seconds(n, 1))
        numba.set_num_threads(threads)
        best["threads"] = min(best["threads"], best_of(lambda: ops[threads](f), 1))
        best["fft_threads"] = min(best["fft_threads"], _fft_seconds(n, threads))
        best["numpy"] = min(best["numpy"], best_of(lambda: collide_reference(ops[1], f), 1))
    ffts = ops[1].fft_count
    return {"n": n, "ffts_per_cell": ffts, "directions": len(ops[1].weights), "rank": ops[1].kernel.rank,
            "seconds": best,
            "vs_numpy_one_thread": best["numpy"] / best["one_thread"],
            "vs_numpy_threads": best["numpy"] / best["threads"],
            "fft_ratio_one_thread": best["one_thread"] / ffts / best["fft_one_thread"],
            "fft_ratio_threads": best["threads"] / ffts / best["fft_threads"]}


def measure(repeat: int = 3) -> dict:
    """Dict: threads, load averages before/after, cases per N (:func:`_case`), goals."""
    threads = auto_threads()
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    cases = [_case(n, threads, repeat) for n in SIZES]
    return {"threads": threads, "load_before": load_before, "load_after": os.getloadavg()[0],
            "seconds_total": time.perf_counter() - start, "cases": cases, "goals": GOALS}


def section(r: dict) -> list[str]:
    """Markdown lines for docs/performance.md from :func:`measure`'s result."""
    rows = [f"| {c['n']} | {c['ffts_per_cell']} | {c['vs_numpy_one_thread']:.1f}x | {c['vs_numpy_threads']:.1f}x | "
            f"{c['fft_ratio_one_thread']:.2f} | {c['fft_ratio_threads']:.2f} |" for c in r["cases"]]
    last = r["cases"][-1]
    goal_np, goal_fft = r["goals"]["vs_numpy_at_least"], r["goals"]["fft_ratio_at_most"]
    best_np = max(last["vs_numpy_one_thread"], last["vs_numpy_threads"])
    fft_ratio = last["fft_ratio_one_thread"]
    return [
        "## Boltzmann collision operator (`solvers.boltzmann_collision`, 3-D Maxwell molecules)",
        "",
        f"Per-cell time of Q(f, f) by the fast spectral method ({last['directions']} directions x {last['rank']} "
        "kernel terms) on the BKW distribution, as ratios: the plain numpy version of the same operator over the project's (one thread, "
        f"and {r['threads']} threads), and the project's time per FFT it performs over the best time of one "
        "scipy.fft transform of the same size (one thread, and the same threads). "
        f"Load average {r['load_before']:.1f} before, {r['load_after']:.1f} after; each time the best of "
        "interleaved turns.",
        "",
        "| N | FFTs per cell | vs numpy (1 thread) | vs numpy (threads) | per FFT / machine FFT (1 thread) | "
        "(threads) |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Goals at N = {last['n']}: at least {goal_np:.0f}x numpy: {best_np:.1f}x "
        f"({'met' if best_np >= goal_np else 'not met'}); FFT part within {goal_fft:.0f}x of the machine's FFT "
        f"rate: {fft_ratio:.2f} ({'met' if fft_ratio <= goal_fft else 'not met'}). "
        "Both versions do the same 2 P n_e FFTs per cell, which take most of the time, so the ratio to numpy is "
        "bounded by the share of the time numpy spends outside its FFTs.",
    ]


if __name__ == "__main__":
    result = measure()
    print("\n".join(section(result)))
