"""Single-thread CPU time of the learned closure's reduced solve against the 1D3V kinetic solve (issue 26's goal:
the reduced solve at least 10x faster on the same spatial grid).

Both solve the same runs to t = 0.1 on the same periodic grid in x (kind boltzmann_closure's default, 32 cells):
the kinetic solver (:func:`solvers.boltzmann_kinetic.solve`, Maxwell molecules, the kind's default quadrature,
degree 5 and rank 4) on N³ velocities for N = 16, 20 and 24, and the reduced solver
(:func:`solvers.bgk_moments.solve_moments`, dim 3) with the kind's default networks (M = 4 moments, hidden widths
[32, 32], an ensemble of 2; random weights with small outputs: timings do not depend on their values), whose
equilibrium quadratures run on the N nodes of v_x. One numba thread and one torch thread; each time is the best
of ``repeat`` calls (the kinetic one: of one call, at Kn = 0.01 and 1, whose collision sub-steps differ).
Reported per run and per cell-step, with the ratio; timings never enter the results of a run.

Run: ``python benchmarks/bench_boltzmann_closure.py``.
"""

import os

import numpy as np
import torch

from benchmarks.timing import best_cpu_of
from engine.kinds.bgk_closure.run.evaluate import initial_moments
from engine.kinds.boltzmann_closure.source import BoltzmannSource
from engine.kinds.boltzmann_closure.spec import BoltzmannClosureSpec
from learners import bgk_closure as lc
from solvers import bgk_moments

N_VALUES = (16, 20, 24)
KN = (0.01, 1.0)
M, WIDTHS, MEMBERS = 4, [32, 32], 2
T = np.array([0.0, 0.1])


def _closure(source):
    torch.manual_seed(0)
    weights = lc.WeightFunctions(M, WIDTHS, "tanh", 1.0, dim=3).double()
    nets = [lc.ClosureNet(M, WIDTHS, "tanh", dim=3).double() for _ in range(MEMBERS)]
    for n in nets:
        n.z_scale.fill_(1e-2)
        n.in_scale.fill_(0.3)
        n.out_scale.fill_(1e-3)
    return bgk_moments.make_closure(source.v, source.dv, activation="tanh", **lc.export_arrays(weights, nets, source.v))


def measure(repeat=3) -> dict:
    """{"rows": [{n, kn, kinetic, kinetic_steps, reduced, reduced_steps}] in CPU seconds per run, "n_x", "load"}."""
    import numba

    threads = numba.get_num_threads(), torch.get_num_threads()
    numba.set_num_threads(1)
    torch.set_num_threads(1)
    rows = []
    try:
        for n in N_VALUES:
            L = 8.0 if n > 16 else 7.4
            spec = BoltzmannClosureSpec(kinetic={"velocity": {"n": n, "L": L}},
                                        data={"families": ["wave_1mode"], "amplitude": 0.5},
                                        evaluation={"families": ["wave_1mode"]})
            source = BoltzmannSource(spec)
            states, _ = source.draw(np.random.default_rng(0), ["wave_1mode"], 1)
            cl = _closure(source)
            V0 = initial_moments(source.distributions(states), cl)
            for kn in KN:
                sol = source.solve(states[0], kn, T, production=False)   # compiles, and counts the steps
                kin = best_cpu_of(lambda: source.solve(states[0], kn, T, production=False), 1)
                out = bgk_moments.solve_moments(V0, cl, source.dx, kn, T, cfl=spec.reduced.cfl,
                                                c_max=spec.reduced.c_max)
                red = best_cpu_of(lambda: bgk_moments.solve_moments(V0, cl, source.dx, kn, T, cfl=spec.reduced.cfl,
                                                                    c_max=spec.reduced.c_max), repeat)
                rows.append({"n": n, "kn": kn, "kinetic": kin, "kinetic_steps": sol.n_steps, "reduced": red,
                             "reduced_steps": int(out[3][0]), "status": int(out[1][0])})
    finally:
        numba.set_num_threads(threads[0])
        torch.set_num_threads(threads[1])
    return {"rows": rows, "n_x": source.grid.n_x, "load": os.getloadavg()[0]}


def section(res) -> list[str]:
    """Markdown lines for docs/performance.md."""
    lines = [f"## boltzmann_closure: reduced solve against the kinetic solve ({res['n_x']} cells, t = 0.1)", "",
             f"Single-thread CPU time (one numba and one torch thread), load {res['load']:.1f} when measured. Kinetic: "
             "Maxwell molecules on N³ velocities, Lebedev degree 5, rank 4; reduced: M = 4, widths [32, 32], an "
             "ensemble of 2, on the N nodes of v_x.", "",
             "| N | Kn | kinetic (s/run) | steps | reduced (s/run) | steps | kinetic / reduced per run | "
             "per cell-step |", "|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        per_step = (r["kinetic"] / r["kinetic_steps"]) / (r["reduced"] / r["reduced_steps"])
        lines.append(f"| {r['n']} | {r['kn']:g} | {r['kinetic']:.3g} | {r['kinetic_steps']} | {r['reduced']:.3g} | "
                     f"{r['reduced_steps']} | {r['kinetic'] / r['reduced']:.0f} | {per_step:.0f} |")
    return lines + [""]


if __name__ == "__main__":
    print("\n".join(section(measure())))
