"""Kind moire_exciton: grid-updates per second of the ``resolved`` Scharfetter–Gummel kernel and events per
second of the ``kmc`` Monte Carlo, each next to a plain numpy version of the same algorithm in the same run.

- SG: one species on a periodic 1024 × 1024 grid (the 100 meV moiré potential at 0°, 12 points per a_M),
  static face coefficients (no repulsion); a grid-update is one cell advanced by one forward-Euler step.
  numba threaded and serial kernels (:mod:`solvers.moire.sg`) against ``np.roll`` arithmetic.
- kmc: 10⁴ excitons hopping on a 512 × 512 moiré-site lattice with exclusion and decay (uniformised
  Gillespie, :mod:`solvers.moire.kmc`) against the same event loop in Python with numpy's generator.
- Time stepping of a pumped spot (σ₀ = 40 nm, same potential, D = 0.5 cm²/s) to 5 ps and to the 25 ps of
  ``homogenization.yaml``: the project's explicit kernel with the defaults a user gets, the same forward-Euler
  step as a scipy.sparse CSR product n + dt (L n) (the peer), and the implicit path (TR-BDF2 with ``splu``,
  :mod:`solvers.moire.implicit`) at its default step, called in turn in the same run, with the errors of the
  two others against the project's explicit result and the machine's load average. 516 × 525 grid points
  (about 512², threaded by default) to 5 ps, 252² to 5 and 25 ps (25 ps on 512² would add about 3 minutes
  of peer time on this 2-core machine).

Timings of the kernel rates are the best of ``repeat`` calls; each time-stepping variant is called once.
Run: ``python -m benchmarks.bench_moire``. :func:`measure` does all the timing (and the memory bandwidth,
:func:`benchmarks.timing.memory_bandwidth`); :func:`section` turns its result into the markdown lines for
docs/performance.md.
"""

from __future__ import annotations

import math
import os
import time

import numba
import numpy as np

from benchmarks.timing import auto_threads, best_of, memory_bandwidth
from solvers.moire import geometry, implicit, kmc, sg


def _sg_model(n_side: int) -> sg.Resolved:
    a_m = 8.0
    ppp = 12
    x = (np.arange(n_side) + 0.5) * a_m / ppp
    u = geometry.potential(x[None, :], x[:, None], a_m, geometry.amplitude(100.0, 0.0), 0.0)[None]
    return sg.Resolved(u, [50.0], a_m / ppp, a_m / ppp, geometry.KB_MEV * 295.0, [500.0])


def numpy_sg_steps(n, bxp, bxm, byp, bym, decay, dt, steps):
    """The same forward-Euler SG update in numpy: n (n_y, n_x), face coefficients (n_y, n_x), periodic."""
    for _ in range(steps):
        west, east = np.roll(n, 1, axis=1), np.roll(n, -1, axis=1)
        south, north = np.roll(n, 1, axis=0), np.roll(n, -1, axis=0)
        div = (np.roll(bxp, 1, axis=1) * west - np.roll(bxm, 1, axis=1) * n - bxp * n + bxm * east
               + np.roll(byp, 1, axis=0) * south - np.roll(bym, 1, axis=0) * n - byp * n + bym * north)
        n = n + dt * (div - decay * n)
    return n


def _best_interleaved(fns: dict, repeat: int) -> dict:
    """{name: (best wall seconds, best CPU seconds of this process)} of the callables, called in turn
    ``repeat`` times, so that all of them see the same load on a shared machine."""
    best = {name: (math.inf, math.inf) for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def measure_sg(n_side=1024, steps=48, numpy_steps=5, repeat=5) -> dict:
    """Grid-updates/s of the SG kernel, 1 thread and all of numba's threads, with the production number of
    fused steps per sweep and with one step per sweep, next to the numpy version in the same run."""
    model = _sg_model(n_side)
    n0 = np.ones((1, n_side, n_side))
    dt = 0.9 * model.stable_dt(1.0)
    faces = [f[0] for f in model.face]
    ref = numpy_sg_steps(n0[0], *faces, model.decay[0], dt, numpy_steps)
    fused, threads = model.fused, numba.get_num_threads()

    def kernel(nt, per_sweep, n_steps=steps):
        numba.set_num_threads(nt)
        model.threaded, model.fused = nt > 1, per_sweep
        return model.advance(n0, n_steps * dt, dt)

    variants = {(nt, k): (lambda nt=nt, k=k: kernel(nt, k)) for nt in sorted({1, threads}) for k in (fused, 1)}
    for (nt, k) in variants:
        np.testing.assert_allclose(kernel(nt, k, numpy_steps)[0], ref, rtol=1e-12)
    sec = _best_interleaved({**variants, "numpy": lambda: numpy_sg_steps(n0[0], *faces, model.decay[0], dt,
                                                                         numpy_steps)}, repeat)
    numba.set_num_threads(threads)
    model.fused = fused
    rate_np, rate_np_cpu = (n_side * n_side * numpy_steps / t for t in sec["numpy"])
    runs = []
    for (nt, k) in variants:
        rate = n_side * n_side * steps / sec[nt, k][0]
        runs.append({"threads": nt, "steps_per_sweep": k, "updates_per_s": rate, "vs_numpy": rate / rate_np,
                     "GB_per_s": rate * SG_BYTES / k / 1e9,
                     "vs_numpy_cpu_time": n_side * n_side * steps / sec[nt, k][1] / rate_np_cpu})
    return {"n_side": n_side, "steps": steps, "repeat": repeat, "numpy_updates_per_s": rate_np, "runs": runs}


def numpy_kmc(ix, iy, occ, hop, decay, t_end, rng):
    """The same uniformised Gillespie loop (exclusion, decay; one species) in Python; returns events."""
    size, n, t, events = occ.shape[0], ix.size, 0.0, 0
    di, dj = kmc.DI, kmc.DJ
    rmax = 6.0 * hop + decay
    while n > 0:
        t += -math.log(1.0 - rng.random()) / (n * rmax)
        if t >= t_end:
            break
        events += 1
        e = int(rng.integers(n))
        u = rng.random() * rmax
        wx, wy = ix[e] % size, iy[e] % size
        if u < decay:
            occ[wy, wx] -= 1
            n -= 1
            ix[e], iy[e] = ix[n], iy[n]
            continue
        d = int((u - decay) / hop)
        tx, ty = (ix[e] + di[d]) % size, (iy[e] + dj[d]) % size
        if occ[ty, tx] > 0:
            continue
        occ[wy, wx] -= 1
        occ[ty, tx] += 1
        ix[e] += di[d]
        iy[e] += dj[d]
    return events


def measure_kmc(count=10_000, size=512, t_end=20.0, numpy_t_end=0.5, repeat=3) -> dict:
    rng = np.random.default_rng(0)
    flat = rng.choice(size * size, count, replace=False)
    i, j = flat % size, flat // size

    def numba_run():
        lat = kmc.Lattice(size, 1.0, [1.0], [1e3], exclusion=True)
        lat.place(i, j, np.zeros(count, dtype=int))
        lat.advance(t_end, 1)
        return lat.events

    numba_run()
    events = numba_run()
    sec = best_of(numba_run, repeat)

    def numpy_run():
        occ = np.zeros((size, size), dtype=np.int32)
        np.add.at(occ, (j, i), 1)
        return numpy_kmc(i.copy(), j.copy(), occ, 1.0, 1e-3, numpy_t_end, np.random.default_rng(1))

    np_events = numpy_run()
    np_sec = best_of(numpy_run, 1)
    return {"numba": events / sec, "numpy": np_events / np_sec, "events": events}


def _pumped_supercells(cells_x: int, cells_y: int, sigma: float = 40.0):
    """(model, n0) of a spot of width sigma [nm] (peak 0.01 nm⁻²) on cells_x × cells_y periodic moiré
    supercells (12 points per a_M = 8 nm, the 100 meV potential at 0°, D = 0.5 cm²/s, τ = 0.5 ns)."""
    a_m = 8.0
    x, y, hx, hy = geometry.supercell_grid(a_m, 12, cells_x, cells_y)
    u = geometry.potential(x[None, :], y[:, None], a_m, geometry.amplitude(100.0, 0.0), 0.0)[None]
    n0 = 0.01 * np.exp(-(x[None, :] ** 2 + y[:, None] ** 2) / (2 * sigma ** 2))[None]
    return sg.Resolved(u, [50.0], hx, hy, geometry.KB_MEV * 295.0, [500.0]), n0


def measure_stepping(cases=((43, 25, 5.0), (21, 12, 5.0), (21, 12, 25.0))) -> list[dict]:
    """Seconds to advance a spot by t [ps] on cells_x × cells_y supercells (43 × 25: 516 × 525 grid points;
    21 × 12: 252²): project explicit (numba, on the threads ``threads: auto`` gives, and on one thread),
    scipy CSR explicit (the peer) and implicit (TR-BDF2 + splu, default step), called in turn; errors relative
    to the peak of the project's explicit result; the cost model's choice; load averages before and after."""
    rows = []
    threads = numba.get_num_threads()
    for cells_x, cells_y, t_end in cases:
        model, n0 = _pumped_supercells(cells_x, cells_y)
        explicit_dt = 0.9 * model.stable_dt(float(n0.max()))
        dt, relax = implicit.default_steps(model, 8.0, float(n0.max()))
        csr = implicit.operator(model)
        steps = math.ceil(t_end / explicit_dt * (1.0 - 1e-12))

        def peer():
            n, h = n0.ravel(), t_end / steps
            for _ in range(steps):
                n = n + h * (csr @ n)
            return n.reshape(n0.shape)

        def project(nt):
            numba.set_num_threads(nt)
            try:
                return model.advance(n0, t_end, explicit_dt)
            finally:
                numba.set_num_threads(threads)

        stepper = implicit.Implicit(model, dt, explicit_dt, relax)
        chosen = []

        def project_auto():
            chosen.append(auto_threads())
            return project(chosen[-1])

        runs = {"project explicit": project_auto}
        if model.threaded:
            runs["project explicit, 1 thread"] = lambda: project(1)
        runs.update({"scipy CSR explicit": peer, "implicit TR-BDF2 splu": lambda: stepper.advance(n0, 0.0, t_end)})
        load = os.getloadavg()[0]
        seconds, results = {}, {}
        for name, fn in runs.items():
            tic = time.perf_counter()
            results[name] = fn()
            seconds[name] = time.perf_counter() - tic
        ref = results["project explicit"]
        cost = implicit.costs(model, t_end, explicit_dt, dt, relax)
        rows.append({"grid": n0.shape[1:], "t_ps": t_end, "seconds": seconds, "threads": chosen[-1]
                     if model.threaded else 1, "explicit_dt": explicit_dt, "implicit_dt": dt,
                     "errors": {name: float(np.abs(r - ref).max() / ref.max()) for name, r in results.items()},
                     "auto": min(cost, key=cost.get), "load": (load, os.getloadavg()[0])})
    return rows


#: Bytes moved per SG grid-update when every array streams from memory once per sweep: n, the four face
#: coefficient arrays and the output, 8 bytes each; a sweep of k fused steps moves SG_BYTES / k per update.
SG_BYTES = 6 * 8


def measure(repeat=5) -> dict:
    """SG and kmc rates (:func:`measure_sg`, :func:`measure_kmc`), explicit and implicit time stepping
    (:func:`measure_stepping`) and the memory bandwidth (GB/s)."""
    sg.warmup()
    return {"sg": measure_sg(repeat=repeat), "kmc": measure_kmc(), "stepping": measure_stepping(),
            "memory_bandwidth_GB_per_s": memory_bandwidth(), "goal_sg_vs_numpy_at_least": 20.0}


def section(r: dict) -> list[str]:
    """Markdown lines for docs/performance.md from :func:`measure`'s result."""
    s, k, bw = r["sg"], r["kmc"], r["memory_bandwidth_GB_per_s"]
    rows = [f"| SG, {x['threads']} thread{'s' if x['threads'] > 1 else ''}, {x['steps_per_sweep']} "
            f"step{'s' if x['steps_per_sweep'] > 1 else ''}/sweep | {x['updates_per_s']:.3g} | "
            f"{s['numpy_updates_per_s']:.3g} | {x['vs_numpy']:.1f}x | {x['GB_per_s']:.1f} ({x['GB_per_s'] / bw:.0%}) |"
            for x in s["runs"]]
    best = max(s["runs"], key=lambda x: x["vs_numpy"])
    serial = next(x for x in s["runs"] if x["threads"] == 1 and x["steps_per_sweep"] > 1)
    goal = r["goal_sg_vs_numpy_at_least"]
    return [
        "## moire_exciton: resolved SG kernel and kmc",
        "",
        f"SG: one species on a periodic {s['n_side']} x {s['n_side']} grid, forward Euler with static "
        "Scharfetter-Gummel face coefficients (no repulsion), a grid-update being one cell advanced one step; "
        f"{s['steps']} steps per call, best of {s['repeat']}, the variants called in turn. The numpy version is "
        "the same update with `np.roll`. Without "
        "repulsion the kernel fuses several steps in one sweep down the rows (temporal blocking, ring buffers of "
        "three rows per intermediate level; bitwise the same result as single steps), so n and the four face "
        f"arrays stream from memory once per sweep: {SG_BYTES} bytes per sweep and cell. The memory column is "
        f"that traffic against the copy bandwidth measured in the same run, {bw:.1f} GB/s. "
        "kmc: 10^4 excitons on a 512 x 512 moire-site lattice, exclusion, decay.",
        "",
        "| case | numba /s | plain numpy /s | vs numpy | memory GB/s (of bandwidth) |",
        "|---|---|---|---|---|",
        *rows,
        f"| kmc events | {k['numba']:.3g} | {k['numpy']:.3g} | {k['numba'] / k['numpy']:.0f}x | |",
        "",
        f"Goal: the grid kernel at least {goal:.0f}x numpy: best {best['vs_numpy']:.1f}x with "
        f"{best['threads']} thread(s) ({'met' if best['vs_numpy'] >= goal else 'not met'}). "
        "On a shared machine wall-clock ratios move with the load; counted in CPU seconds of this process "
        f"(both single-threaded), the serial fused kernel is {serial['vs_numpy_cpu_time']:.1f}x numpy.",
        "",
        *stepping_section(r["stepping"]),
    ]


def stepping_section(rows: list[dict]) -> list[str]:
    """Markdown lines of :func:`measure_stepping`'s result."""
    lines = [
        "### moire_exciton: explicit and implicit time stepping of the resolved method",
        "",
        "A spot (σ₀ = 40 nm) in the 100 meV moiré potential (periodic supercells, 12 points per a_M = 8 nm, "
        "D = 0.5 cm²/s), advanced to t. Project explicit: the numba forward-Euler kernel with the defaults a user "
        f"gets (threaded from {sg.PARALLEL_CELLS} cells), and on one thread; scipy CSR explicit: the same step as "
        "n + dt (L n) with the operator of `solvers.moire.implicit.operator` (the peer); implicit: TR-BDF2 with "
        "one `splu` factorization at the default step a_M²/(2D), after forward Euler over a_M²/(4D). One call "
        "of each, in turn, in the same run; ratios are seconds over the project's default explicit run; error = "
        "max |n - n_explicit| / max n_explicit at t; load = the 1-minute load average before/after.",
        "",
        "| grid (y x x) | t (ps) | project explicit, `threads: auto` s | 1 thread s | scipy CSR s (ratio) | implicit s (ratio) "
        "| implicit error | CSR error | auto picks | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        sec, err = r["seconds"], r["errors"]
        exp, csr, imp = sec["project explicit"], sec["scipy CSR explicit"], sec["implicit TR-BDF2 splu"]
        one = sec.get("project explicit, 1 thread")
        lines.append(f"| {r['grid'][0]} x {r['grid'][1]} ({r['threads']} thread{'s' if r['threads'] > 1 else ''}) "
                     f"| {r['t_ps']:g} | {exp:.2f} | {'' if one is None else f'{one:.2f}'} | {csr:.2f} "
                     f"({csr / exp:.2f}) | {imp:.2f} ({imp / exp:.2f}) | {err['implicit TR-BDF2 splu']:.1e} | "
                     f"{err['scipy CSR explicit']:.0e} | {r['auto']} | {r['load'][0]:.1f}/{r['load'][1]:.1f} |")
    return [*lines, ""]


def main():
    print("\n".join(section(measure())))


if __name__ == "__main__":
    main()
