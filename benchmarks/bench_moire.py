"""Kind moire_exciton: grid-updates per second of the ``resolved`` Scharfetter–Gummel kernel and events per
second of the ``kmc`` Monte Carlo, each next to a plain numpy version of the same algorithm in the same run.

- SG: one species on a periodic 1024 × 1024 grid (the 100 meV moiré potential at 0°, 12 points per a_M),
  static face coefficients (no repulsion); a grid-update is one cell advanced by one forward-Euler step.
  numba threaded and serial kernels (:mod:`solvers.moire.sg`) against ``np.roll`` arithmetic.
- kmc: 10⁴ excitons hopping on a 512 × 512 moiré-site lattice with exclusion and decay (uniformised
  Gillespie, :mod:`solvers.moire.kmc`) against the same event loop in Python with numpy's generator.

Timings are the best of ``repeat`` calls. Run: ``python -m benchmarks.bench_moire``. :func:`section` returns
the markdown section for docs/performance.md.
"""

from __future__ import annotations

import math
import time

import numba
import numpy as np

from solvers.moire import geometry, kmc, sg


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


def _best(fn, repeat):
    best = math.inf
    for _ in range(repeat):
        tic = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - tic)
    return best


def measure_sg(n_side=1024, steps=50, numpy_steps=5, repeat=3) -> dict:
    model = _sg_model(n_side)
    n0 = np.ones((1, n_side, n_side))
    dt = 0.9 * model.stable_dt(1.0)
    model.advance(n0, dt, dt)
    rates = {}
    for threaded in (True, False):
        model.threaded = threaded
        sec = _best(lambda: model.advance(n0, steps * dt, dt), repeat)
        rates["numba_threaded" if threaded else "numba_serial"] = n_side * n_side * steps / sec
    faces = [f[0] for f in model.face]
    ref = numpy_sg_steps(n0[0], *faces, model.decay[0], dt, numpy_steps)
    model.threaded = True
    np.testing.assert_allclose(model.advance(n0, numpy_steps * dt, dt)[0], ref, rtol=1e-12)
    sec = _best(lambda: numpy_sg_steps(n0[0], *faces, model.decay[0], dt, numpy_steps), repeat)
    rates["numpy"] = n_side * n_side * numpy_steps / sec
    return rates


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
    sec = _best(numba_run, repeat)

    def numpy_run():
        occ = np.zeros((size, size), dtype=np.int32)
        np.add.at(occ, (j, i), 1)
        return numpy_kmc(i.copy(), j.copy(), occ, 1.0, 1e-3, numpy_t_end, np.random.default_rng(1))

    np_events = numpy_run()
    np_sec = _best(numpy_run, 1)
    return {"numba": events / sec, "numpy": np_events / np_sec, "events": events}


#: Bytes moved per SG grid-update when every array streams from memory once: n, the four face
#: coefficient arrays and the output, 8 bytes each.
SG_BYTES = 6 * 8


def section() -> str:
    """Markdown section for docs/performance.md."""
    from benchmarks.bench_bgk import memory_bandwidth

    s, k, bw = measure_sg(), measure_kmc(), memory_bandwidth()
    threads = numba.get_num_threads()
    return "\n".join([
        "## moire_exciton: resolved SG kernel and kmc",
        "",
        f"numba threads: {threads}. SG: one species, periodic 1024 x 1024 grid, forward Euler with static "
        "Scharfetter-Gummel face coefficients; kmc: 10^4 excitons, 512 x 512 moire-site lattice, exclusion, decay.",
        "",
        "| case | numba | plain numpy | ratio |",
        "|---|---|---|---|",
        f"| SG grid-updates/s (threaded) | {s['numba_threaded']:.3g} | {s['numpy']:.3g} | "
        f"{s['numba_threaded'] / s['numpy']:.1f}x |",
        f"| SG grid-updates/s (serial) | {s['numba_serial']:.3g} | {s['numpy']:.3g} | "
        f"{s['numba_serial'] / s['numpy']:.1f}x |",
        f"| kmc events/s | {k['numba']:.3g} | {k['numpy']:.3g} | {k['numba'] / k['numpy']:.0f}x |",
        "",
        f"An SG update streams at least {SG_BYTES} bytes, so the copy bandwidth of {bw:.1f} GB/s (measured in the "
        f"same run) would cap it near {bw * 1e9 / SG_BYTES:.3g} updates/s; the best numba rate moves "
        f"{max(s['numba_threaded'], s['numba_serial']) * SG_BYTES / 1e9:.1f} GB/s. "
        "Goal: at least 20x numpy for the grid kernel.",
    ])


if __name__ == "__main__":
    print(section())
