"""Node-updates per second of the Q1 leapfrog SH kernel (``solvers.hyperelastic.fem``) against plain numpy.

A node-update is one grid node advanced by one leapfrog step ``w^{n+1} = (1 + d) w^n - d w^{n-1} - g K w^n``
(K: the Q1 stiffness with a full per-cell tensor C, here a sheared material with c12 != 0 and a
sponge-ready damping array d). The grid is 2000 x 2000 nodes with free edges. The numpy version is the
same scheme vectorized over cells (edge differences, the four cell terms, gathered per node with slices),
checked equal to the numba kernel. The machine's memory bandwidth (copy of 256 MiB, read + write) is
measured in the same run; the kernel streams about 64 bytes per node-update (w^n, w^{n-1} read and
written, three cell coefficients, d and g).

Run: ``python -m benchmarks.bench_hyperelastic``.
"""

import time

import numba
import numpy as np

from benchmarks.timing import best_of, memory_bandwidth
from solvers.hyperelastic import fem
from solvers.hyperelastic.material import push_forward

BYTES_PER_UPDATE = 64


def numpy_step(u, u_old, k11, k12, k22, damp, gain):
    """One step of the same scheme in numpy on the padded arrays of :class:`fem.SHSolver`; returns w^{n+1}."""
    a = u[1:, :-1] - u[:-1, :-1]
    b = u[1:, 1:] - u[:-1, 1:]
    c = u[:-1, 1:] - u[:-1, :-1]
    d = u[1:, 1:] - u[1:, :-1]
    ab, cd = k12 * (a + b), k12 * (c + d)
    ea, eb = k11 * (2 * a + b) + cd, k11 * (a + 2 * b) + cd
    ec, ed = k22 * (2 * c + d) + ab, k22 * (c + 2 * d) + ab
    ku = -(ea + ec)[1:, 1:] + (ea - ed)[:-1, 1:] + (ec - eb)[1:, :-1] + (eb + ed)[:-1, :-1]
    out = np.zeros_like(u)
    inner = (slice(1, -1), slice(1, -1))
    out[inner] = (1 + damp[inner]) * u[inner] - damp[inner] * u_old[inner] - gain[inner] * ku
    return out


def _solver(n: int) -> fem.SHSolver:
    g = fem.Grid(n, n, 1.0 / 64)
    C, rho = push_forward(np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), 1.0, 1.0)
    m = fem.Medium.uniform(g, C[0, 0], C[0, 1], C[1, 1], rho)
    s = fem.SHSolver(g, m, fem.cfl_dt(g, m, 0.9), fem.sponge(g, 0.5, 5.0))
    X, Y = np.meshgrid(g.x, g.y, indexing="ij")
    w0 = np.exp(-((X - g.x.mean()) ** 2 + (Y - g.y.mean()) ** 2) * 4.0)
    s.set_state(w0, w0)
    return s


def measure(n=2000, steps=20, numpy_steps=3, repeat=3):
    """Dict with node-updates/s of numba and numpy, the ratio, the bandwidth (GB/s) and the threads."""
    fem.warmup()
    bw = memory_bandwidth()
    s = _solver(n)
    u, u_old, *operator = (a.copy() for a in s.padded_arrays())
    reference = numpy_step(u, u_old, *operator)
    s.advance(1)
    np.testing.assert_allclose(s.w, reference[1:-1, 1:-1], rtol=1e-12, atol=1e-14)
    rates = {}
    for name, blocks in (("numba", s.blocks), ("numba_1thread", 1)):
        s.blocks = blocks
        rates[name] = n * n * steps / best_of(lambda: s.advance(steps), repeat)
    tic = time.perf_counter()
    for _ in range(numpy_steps):
        u, u_old = numpy_step(u, u_old, *operator), u
    t_np = (time.perf_counter() - tic) / numpy_steps
    rate_np = n * n / t_np
    return {"n": n, "steps": steps, "repeat": repeat, "threads": numba.get_num_threads(), "memory_bandwidth_GB_per_s": bw,
            "numpy_node_updates_per_s": rate_np, "goal_vs_numpy_at_least": 20.0,
            "kernels": {name: {"node_updates_per_s": r, "speedup_vs_numpy": r / rate_np,
                               "effective_GB_per_s": r * BYTES_PER_UPDATE / 1e9,
                               "fraction_of_bandwidth": r * BYTES_PER_UPDATE / 1e9 / bw} for name, r in rates.items()}}


def section(r: dict) -> list[str]:
    """Markdown lines for docs/performance.md from :func:`measure`'s result."""
    goal = r["goal_vs_numpy_at_least"]
    labels = {"numba": f"numba ({r['threads']} threads, `prange` over row blocks)", "numba_1thread": "numba (1 thread)"}
    rows = [f"| {labels[name]} | {k['node_updates_per_s'] / 1e6:.1f} | {k['speedup_vs_numpy']:.1f}x | "
            f"{k['effective_GB_per_s']:.1f} | {k['fraction_of_bandwidth']:.0%} |" for name, k in r["kernels"].items()]
    best = max(k["speedup_vs_numpy"] for k in r["kernels"].values())
    return [
        "## Q1 leapfrog SH kernel (`solvers.hyperelastic.fem`, kind `hyperelastic_device`)",
        "",
        f"A node-update is one node advanced by one leapfrog step of the matrix-free Q1 operator with a full "
        f"per-cell tensor (simple shear gamma = 0.5, so c12 != 0) on a {r['n']} x {r['n']} grid with sponge "
        "damping arrays. The numpy version is the same scheme vectorized over cells and checked equal to the "
        f"kernel. About {BYTES_PER_UPDATE} bytes are streamed per node-update; the machine's memory bandwidth, "
        f"measured in the same run (copy of 256 MiB, read + write), is {r['memory_bandwidth_GB_per_s']:.1f} GB/s. "
        f"Best of {r['repeat']} calls of {r['steps']} steps. Each cell's four nodal forces are computed once per step (the "
        "previous cell row is kept while the next is swept), then gathered per node and the update is done in "
        "place.",
        "",
        "| implementation | Mnode-updates/s | vs numpy | GB/s (64 B/update) | of bandwidth |",
        "|---|---|---|---|---|",
        *rows,
        f"| numpy (vectorized over cells) | {r['numpy_node_updates_per_s'] / 1e6:.2f} | 1.0x | "
        f"{r['numpy_node_updates_per_s'] * BYTES_PER_UPDATE / 1e9:.2f} | - |",
        "",
        f"Goal: at least {goal:.0f}x numpy: measured {best:.1f}x ({'met' if best >= goal else 'not met'}).",
        "",
    ]


def main():
    print("\n".join(section(measure())))


if __name__ == "__main__":
    main()
