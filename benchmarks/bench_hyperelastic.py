"""Node-updates per second of the Q1 leapfrog SH kernel (``solvers.hyperelastic.fem``) against plain numpy.

A node-update is one grid node advanced by one leapfrog step ``w^{n+1} = (1 + d) w^n - d w^{n-1} - g K w^n``
(K: the Q1 stiffness with a full per-cell tensor C, here a sheared material with c12 != 0 and a
sponge-ready damping array d). The grid is 2000 x 2000 nodes with free edges. The numpy version is the
same scheme vectorized over cells (edge differences, the four cell terms, gathered per node with slices),
checked equal to the numba kernel. The machine's memory bandwidth (copy of 256 MiB, read + write) is
measured in the same run; the kernel streams about 64 bytes per node-update (w^n, w^{n-1} read and
written, three cell coefficients, d and g).

Independent peer (the ``bench`` extra): the same case on 1001 x 1001 nodes with the operator assembled by
scikit-fem (``ElementQuad1`` on a ``MeshQuad``, 2 x 2 Gauss points, row-sum lumped mass) and stepped by a
scipy.sparse matrix-vector product per leapfrog step (:func:`skfem_operator`, :func:`sparse_leapfrog`),
checked equal to the kernel's w to 1e-12 after :data:`PEER_CHECK_STEPS` steps, then timed in turns with
the kernel (ms/step, the machine's load average before and after).

Run: ``python -m benchmarks.bench_hyperelastic``.
"""

import os
import time

import numba
import numpy as np
import scipy.sparse
from skfem import Basis, BilinearForm, ElementQuad1, MeshQuad

from benchmarks.timing import auto_threads, best_of, memory_bandwidth
from solvers.hyperelastic import fem
from solvers.hyperelastic.material import push_forward

BYTES_PER_UPDATE = 64
PEER_NODES = 1001  # nodes per side of the peer comparison (scikit-fem's assembly of 2000^2 takes minutes)
PEER_CHECK_STEPS = 20  # steps after which the peer's w must equal the kernel's to PEER_RTOL
PEER_RTOL = 1e-12  # max |w_peer - w_kernel| / max |w_kernel|


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


@BilinearForm
def _sh_stiffness(u, v, w):
    """Integrand of K: grad v . C grad u, C = [[c11, c12], [c12, c22]] (Pa) at the quadrature points."""
    return (w.c11 * u.grad[0] * v.grad[0] + w.c12 * (u.grad[0] * v.grad[1] + u.grad[1] * v.grad[0])
            + w.c22 * u.grad[1] * v.grad[1])


@BilinearForm
def _sh_mass(u, v, w):
    """Integrand of the consistent mass: rho u v (rho in kg/m^3 at the quadrature points)."""
    return w.rho * u * v


def skfem_operator(grid: fem.Grid, medium: fem.Medium) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """The Q1 SH operator of ``grid`` (free edges) and ``medium`` assembled by scikit-fem, as a user of it
    writes it: the stiffness K (CSR, (nx ny, nx ny), Pa) and the row-sum lumped mass (nx ny,) (kg/m per unit
    length), node (i, j) at index ``i ny + j`` (a C-ordered (nx, ny) array, flattened)."""
    if grid.periodic_x or grid.periodic_y:
        raise ValueError("the scikit-fem peer is written for free edges only")
    mesh = MeshQuad.init_tensor(grid.x, grid.y)
    basis = Basis(mesh, ElementQuad1(), intorder=3)  # 2 x 2 Gauss points: exact for both forms
    corner = mesh.p[:, mesh.t].min(axis=1)  # lower-left corner of each element, (2, n_elements)
    p = np.rint((corner[0] - grid.x0) / grid.h).astype(np.int64)
    q = np.rint((corner[1] - grid.y0) / grid.h).astype(np.int64)
    at_points = {name: np.repeat(getattr(medium, name)[p, q][:, None], basis.W.size, axis=1)
                 for name in ("c11", "c12", "c22", "rho")}
    K = _sh_stiffness.assemble(basis, c11=at_points["c11"], c12=at_points["c12"], c22=at_points["c22"]).tocoo()
    mass = np.asarray(_sh_mass.assemble(basis, rho=at_points["rho"]).sum(axis=1)).ravel()
    node = (np.rint((mesh.p[0] - grid.x0) / grid.h).astype(np.int64) * grid.ny
            + np.rint((mesh.p[1] - grid.y0) / grid.h).astype(np.int64))
    lumped = np.empty_like(mass)
    lumped[node] = mass
    return scipy.sparse.csr_matrix((K.data, (node[K.row], node[K.col])), shape=K.shape), lumped


def sparse_leapfrog(K, mass, sigma, dt, w, w_prev, n_steps):
    """``n_steps`` of ``(1 + s) w^{n+1} = 2 w^n - (1 - s) w^{n-1} - dt^2 K w^n / M``, ``s = sigma dt / 2``,
    on flat node arrays (nx ny,): K from :func:`skfem_operator`, M its lumped mass (kg/m), sigma the damping
    rate (1/s), dt (s); returns ``(w^{n+1}, w^n)`` after the last step."""
    s = 0.5 * dt * sigma
    a, b, c = 2.0 / (1.0 + s), (1.0 - s) / (1.0 + s), dt * dt / (mass * (1.0 + s))
    for _ in range(n_steps):
        w, w_prev = a * w - b * w_prev - c * (K @ w), w
    return w, w_prev


def bench_case(n: int):
    """The benchmark's case on n x n nodes: grid, medium (simple shear gamma = 0.5), time step (s), sponge
    damping rate (nx, ny) (1/s) and the initial Gaussian w (nx, ny) (m), at rest (w^{-1} = w^0)."""
    g = fem.Grid(n, n, 1.0 / 64)
    C, rho = push_forward(np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), 1.0, 1.0)
    m = fem.Medium.uniform(g, C[0, 0], C[0, 1], C[1, 1], rho)
    X, Y = np.meshgrid(g.x, g.y, indexing="ij")
    w0 = np.exp(-((X - g.x.mean()) ** 2 + (Y - g.y.mean()) ** 2) * 4.0)
    return g, m, fem.cfl_dt(g, m, 0.9), fem.sponge(g, 0.5, 5.0), w0


def _solver(case) -> fem.SHSolver:
    """The kernel's solver at the initial state of :func:`bench_case`'s ``case``."""
    g, m, dt, sigma, w0 = case
    s = fem.SHSolver(g, m, dt, sigma)
    s.set_state(w0, w0)
    return s


def peer_difference(case, operator, steps: int) -> float:
    """max |w_peer - w_kernel| / max |w_kernel| after ``steps`` steps of :func:`bench_case`'s ``case``, the
    peer stepping ``operator`` = (K, lumped mass) of :func:`skfem_operator`."""
    _, _, dt, sigma, w0 = case
    s = _solver(case)
    s.advance(steps)
    w, _ = sparse_leapfrog(*operator, sigma.ravel(), dt, w0.ravel(), w0.ravel(), steps)
    return float(np.abs(w - s.w.ravel()).max() / np.abs(s.w).max())


def measure_peer(n=PEER_NODES, steps=10, repeat=3) -> dict:
    """ms/step of the kernel (on the threads ``threads: auto`` gives, and on one thread) and of the scikit-fem + scipy.sparse peer on
    the case with n x n nodes, taking turns ``repeat`` times (each the fastest of its calls of ``steps``
    steps), after checking the peer's w against the kernel's; with the assembly time (s), the difference
    and the 1-minute load average before and after the turns."""
    case = bench_case(n)
    g, m, dt, sigma, w0 = case
    tic = time.perf_counter()
    K, mass = skfem_operator(g, m)
    assembly = time.perf_counter() - tic
    difference = peer_difference(case, (K, mass), PEER_CHECK_STEPS)
    assert difference <= PEER_RTOL, (f"{__file__}: the scikit-fem peer's w differs from the kernel's by "
                                     f"{difference:.3g} (relative) after {PEER_CHECK_STEPS} steps, above {PEER_RTOL:g}")
    s = _solver(case)
    w, w_prev, sigma = w0.ravel(), w0.ravel(), sigma.ravel()
    best = {"kernel": np.inf, "kernel_1thread": np.inf, "peer": np.inf}
    default_blocks = s.blocks
    load_before = os.getloadavg()[0]
    threads, chosen = numba.get_num_threads(), []
    for _ in range(repeat):
        for name, blocks in (("kernel", default_blocks), ("kernel_1thread", 1)):
            s.blocks = blocks
            if name == "kernel":
                chosen.append(auto_threads())
            best[name] = min(best[name], best_of(lambda: s.advance(steps), 1))
            numba.set_num_threads(threads)
        best["peer"] = min(best["peer"], best_of(lambda: sparse_leapfrog(K, mass, sigma, dt, w, w_prev, steps), 1))
    s.blocks = default_blocks
    return {"n": n, "steps": steps, "repeat": repeat, "threads": "/".join(map(str, chosen)), "assembly_s": assembly,
            "relative_difference": difference, "load_before": load_before, "load_after": os.getloadavg()[0],
            "ms_per_step": {name: 1e3 * t / steps for name, t in best.items()}}


def measure(n=2000, steps=20, numpy_steps=3, repeat=3):
    """Dict with node-updates/s of numba and numpy, the ratio, the bandwidth (GB/s) and the threads."""
    fem.warmup()
    bw = memory_bandwidth()
    s = _solver(bench_case(n))
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
                               "fraction_of_bandwidth": r * BYTES_PER_UPDATE / 1e9 / bw} for name, r in rates.items()},
            "peer": measure_peer()}


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
        *_peer_lines(r["peer"]),
    ]


def _peer_lines(peer: dict) -> list[str]:
    """Markdown lines of the comparison with the scikit-fem + scipy.sparse peer (:func:`measure_peer`)."""
    ms = peer["ms_per_step"]
    return [
        "### Against an independent peer: scikit-fem assembly + scipy.sparse leapfrog",
        "",
        f"What a user of scikit-fem writes: the same case on {peer['n']} x {peer['n']} nodes, "
        "the operator assembled by scikit-fem (`ElementQuad1` on a `MeshQuad`, 2 x 2 Gauss points, row-sum "
        "lumped mass; assembly took "
        f"{peer['assembly_s']:.1f} s) and stepped with a scipy.sparse matrix-vector product per step, "
        f"`w+ = 2/(1+s) w - (1-s)/(1+s) w- - dt^2/(M (1+s)) K w`. Its w equals the kernel's after "
        f"{PEER_CHECK_STEPS} steps to {peer['relative_difference']:.1e} (max difference over max |w|; the "
        f"benchmark stops above {PEER_RTOL:g}). Each time is the fastest of {peer['repeat']} calls of "
        f"{peer['steps']} steps, the three implementations taking turns; load is the machine's 1-minute load "
        "average (`os.getloadavg`) before and after the turns.",
        "",
        "| nodes | scikit-fem + scipy.sparse (ms/step) | numba, `threads: auto` "
        f"(threads per turn: {peer['threads']}) (ms/step) | vs peer | numba, 1 thread (ms/step) | vs peer | "
        "difference to the kernel | load before / after |",
        "|---|---|---|---|---|---|---|---|",
        f"| {peer['n']} x {peer['n']} | {ms['peer']:.2f} | {ms['kernel']:.2f} | {ms['peer'] / ms['kernel']:.1f}x | "
        f"{ms['kernel_1thread']:.2f} | {ms['peer'] / ms['kernel_1thread']:.1f}x | "
        f"{peer['relative_difference']:.1e} | {peer['load_before']:.2f} / {peer['load_after']:.2f} |",
        "",
    ]


def main():
    print("\n".join(section(measure())))


if __name__ == "__main__":
    main()
