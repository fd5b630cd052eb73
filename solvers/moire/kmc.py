"""Method ``kmc``: kinetic Monte Carlo of excitons on the triangular lattice of moiré sites.

Sites i·a₁ + j·a₂ (a₁ = ℓ(1, 0), a₂ = ℓ(½, √3/2), ℓ = a_M), periodic on an L × L rhombus; six
neighbours. Each exciton has a species s (K–K or K–Q) and, in trap mode, a state (free or trapped).

- site mode (no traps): hop to each neighbour at rate k_s · min(1, e^{−βΔE}), ΔE = U_on (occ(target) −
  occ(source) + 1) (on-site repulsion, Metropolis: detailed balance); with exclusion, hops onto an occupied
  site are blocked. Non-interacting walkers: ⟨r²⟩ = 4Dt with D = 1.5 k ℓ².
- trap mode (Langmuir, brief §3.3b): one trap per site (capacity 1); free excitons hop at rate k_f and are
  captured at rate k_c when their site's trap is empty; trapped excitons are released at rate k_r (detailed
  balance k_r = k_c N_c A_cell e^{−βE_b}) and do not hop.
- an exciton arriving on an occupied site annihilates one of the two with probability p_enc;
  decay at rate 1/τ_s; exchange K–K → K–Q at k_KQ, back at k_QK.

Uniformised Gillespie: each event picks an exciton uniformly, draws one of its channels or a null
event against the largest total rate; time advances by an exponential of rate N · r_max. Units: rates
in 1/time, the kind uses ps. Seeded per call (:func:`advance`), so a run is reproducible segment by segment.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

DI = np.array([1, -1, 0, 0, 1, -1], dtype=np.int64)
DJ = np.array([0, 0, 1, -1, -1, 1], dtype=np.int64)


@njit(cache=True, nogil=True)
def _remove(e, ix, iy, spec, trapped, n, occ, trap, lsize):
    """Delete exciton e (swap with the last alive one); returns the new count."""
    wx, wy = ix[e] % lsize, iy[e] % lsize
    occ[wy, wx] -= 1
    if trapped[e]:
        trap[wy, wx] = 0
    last = n - 1
    ix[e], iy[e], spec[e], trapped[e] = ix[last], iy[last], spec[last], trapped[last]
    return last


@njit(cache=True, nogil=True)
def _run(ix, iy, spec, trapped, n, occ, trap, t, t_end, seed, hop, decay, exch, capture, release,
         trap_mode, exclusion, onsite_beta, p_enc):
    """Advance the excitons from t to t_end. Returns (n alive, time reached, events done)."""
    np.random.seed(seed)
    lsize = occ.shape[0]
    ns = hop.shape[0]
    rmax = 0.0
    for s in range(ns):
        r = 6.0 * hop[s] + decay[s] + exch[s]
        if trap_mode:
            r += max(capture, release)
        rmax = max(rmax, r)
    events = 0
    while n > 0:
        t += -math.log(1.0 - np.random.random()) / (n * rmax)
        if t >= t_end:
            t = t_end
            break
        events += 1
        e = np.random.randint(n)
        s = spec[e]
        u = np.random.random() * rmax
        if u < decay[s]:
            n = _remove(e, ix, iy, spec, trapped, n, occ, trap, lsize)
            continue
        u -= decay[s]
        if u < exch[s]:
            spec[e] = 1 - s
            continue
        u -= exch[s]
        wx, wy = ix[e] % lsize, iy[e] % lsize
        if trap_mode:
            if trapped[e]:
                if u < release:
                    trapped[e] = 0
                    trap[wy, wx] = 0
                continue
            if u < capture:
                if trap[wy, wx] == 0:
                    trapped[e] = 1
                    trap[wy, wx] = 1
                continue
            u -= capture
        if u >= 6.0 * hop[s]:
            continue
        d = int(u / hop[s])
        tx, ty = (ix[e] + DI[d]) % lsize, (iy[e] + DJ[d]) % lsize
        if occ[ty, tx] > 0 and p_enc > 0.0 and np.random.random() < p_enc:
            n = _remove(e, ix, iy, spec, trapped, n, occ, trap, lsize)
            continue
        if not trap_mode:
            if exclusion and occ[ty, tx] > 0:
                continue
            if onsite_beta > 0.0:
                de = onsite_beta * (occ[ty, tx] - occ[wy, wx] + 1)
                if de > 0.0 and np.random.random() >= math.exp(-de):
                    continue
        occ[wy, wx] -= 1
        occ[ty, tx] += 1
        ix[e] += DI[d]
        iy[e] += DJ[d]
    return n, t, events


class Lattice:
    """Excitons on an L × L periodic moiré-site lattice (spacing ``spacing``), with the rates of the model.

    hop (n_s,) rate per bond; lifetime (n_s,); exchange (n_s,) rate of leaving species s for the other;
    traps: (capture, release) rates or None; exclusion; onsite_over_kT U_on/k_BT; p_encounter.
    """

    def __init__(self, size, spacing, hop, lifetime, exchange=None, traps=None, exclusion=False,
                 onsite_over_kT=0.0, p_encounter=0.0):
        self.size, self.spacing = int(size), float(spacing)
        self.hop = np.asarray(hop, dtype=float)
        self.decay = 1.0 / np.asarray(lifetime, dtype=float)
        self.exch = np.zeros_like(self.hop) if exchange is None else np.asarray(exchange, dtype=float)
        self.trap_mode = traps is not None
        self.capture, self.release = traps if traps is not None else (0.0, 0.0)
        self.exclusion, self.onsite, self.p_enc = bool(exclusion), float(onsite_over_kT), float(p_encounter)
        self.occ = np.zeros((self.size, self.size), dtype=np.int32)
        self.trap = np.zeros((self.size, self.size), dtype=np.int8)
        self.ix = self.iy = self.spec = self.trapped = None
        self.n, self.t, self.events = 0, 0.0, 0

    def place(self, ix, iy, species):
        """Put excitons at axial sites (ix, iy) (ints, unwrapped) with species (0/1), all free."""
        self.ix, self.iy = np.array(ix, dtype=np.int64), np.array(iy, dtype=np.int64)
        self.spec = np.array(species, dtype=np.int64)
        self.trapped = np.zeros(self.ix.size, dtype=np.int8)
        self.n = self.ix.size
        self.occ[:] = 0
        np.add.at(self.occ, (self.iy % self.size, self.ix % self.size), 1)
        if self.exclusion and self.occ.max() > 1:
            raise ValueError("two excitons on one site with exclusion on")

    def advance(self, t_end: float, seed: int) -> None:
        """Run the Monte Carlo until time t_end with the numba generator seeded by ``seed``."""
        self.n, self.t, ev = _run(self.ix, self.iy, self.spec, self.trapped, self.n, self.occ, self.trap, self.t,
                                  t_end, seed, self.hop, self.decay, self.exch, self.capture, self.release,
                                  self.trap_mode, self.exclusion, self.onsite, self.p_enc)
        self.events += ev

    def positions(self):
        """Cartesian (x, y) of the alive excitons [length], shape (n,) each."""
        i, j = self.ix[: self.n], self.iy[: self.n]
        return self.spacing * (i + 0.5 * j), self.spacing * (math.sqrt(3.0) / 2.0) * j

    def species(self):
        """Species (0/1) of the alive excitons."""
        return self.spec[: self.n]

    def trapped_count(self) -> int:
        """Number of trapped excitons."""
        return int(self.trapped[: self.n].sum())


def nearest_sites(x, y, spacing):
    """Axial coordinates (i, j) of the lattice sites nearest to points (x, y) [length]."""
    j = np.rint(y / (spacing * math.sqrt(3.0) / 2.0)).astype(np.int64)
    i = np.rint(x / spacing - 0.5 * j).astype(np.int64)
    return i, j


def warmup() -> None:
    """Compile the kernel on a tiny lattice."""
    for traps in (None, (1.0, 1.0)):
        lat = Lattice(8, 1.0, [1.0, 1.0], [10.0, 10.0], [0.1, 0.1], traps, False, 0.1, 0.5)
        lat.place([0, 1], [0, 0], [0, 1])
        lat.advance(0.1, 0)
