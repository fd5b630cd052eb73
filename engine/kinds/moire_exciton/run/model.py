"""Kind ``moire_exciton``: the solver systems of a spec (grids, potentials, initial densities, the
cell problem, the kmc lattice), in the units of :mod:`..parameters` (resolved and kmc: nm, ps, meV;
continuum: µm, ns)."""

from __future__ import annotations

import functools
import math

import numpy as np

from solvers.moire import cell, continuum, geometry, kmc, sg

from ..parameters import CM2_TO_NM2, CM2_TO_UM2, CM2S_TO_NM2PS, CM2S_TO_UM2NS, Parameters


# ---------------------------------------------------------------------------
# method cell
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def cell_ratio(depth_over_kT: float, phase_deg: float, points: int, richardson: bool) -> tuple[float, float]:
    """(D_xx/D, D_yy/D) of the moiré cell problem (a_M = 1: the ratio does not depend on a_M)."""
    def solve(p):
        x, y, hx, hy = geometry.supercell_grid(1.0, p)
        u = geometry.potential(x[None, :], y[:, None], 1.0, geometry.amplitude(depth_over_kT, phase_deg), phase_deg)
        return np.array(cell.effective_diffusivity(u, 1.0, hx, hy))

    fine = solve(points)
    if richardson and points >= 8:
        fine = (4.0 * fine - solve(points // 2)) / 3.0
    return float(fine[0]), float(fine[1])


def moments_of_potential(depth_over_kT: float, phase_deg: float, points: int = 128) -> tuple[float, float]:
    """(⟨e^{−βU}⟩, ⟨e^{βU}⟩) over a supercell (spectrally accurate grid quadrature)."""
    x, y, _, _ = geometry.supercell_grid(1.0, points)
    u = geometry.potential(x[None, :], y[:, None], 1.0, geometry.amplitude(depth_over_kT, phase_deg), phase_deg)
    return float(np.exp(-u).mean()), float(np.exp(u).mean())


def homogenized_ratios(spec, par: Parameters) -> list[float]:
    """Isotropic D_eff/D per species (mean of D_xx and D_yy) from the cell problem at the grid.cell settings."""
    g = spec.grid.cell
    return [0.5 * sum(cell_ratio(round(d / par.kT, 12), spec.potential.phase_deg, g.points_per_period,
                                 g.richardson)) for d in par.depth]


# ---------------------------------------------------------------------------
# method resolved
# ---------------------------------------------------------------------------


def resolved_grid(spec, par: Parameters):
    """(x, y, hx, hy) [nm] of the resolved grid."""
    g = spec.grid.resolved
    return geometry.supercell_grid(par.a_m, g.points_per_period, g.cells_x, g.cells_y)


def resolved_potential(spec, par: Parameters) -> np.ndarray:
    """U_s on the resolved grid [meV], shape (n_s, n_y, n_x)."""
    x, y, _, _ = resolved_grid(spec, par)
    phase = spec.potential.phase_deg
    return np.stack([geometry.potential(x[None, :], y[:, None], par.a_m, geometry.amplitude(d, phase), phase)
                     for d in par.depth])


def resolved_system(spec, par: Parameters) -> sg.Resolved:
    """The :class:`solvers.moire.sg.Resolved` system of a spec (nm, ps, meV)."""
    _, _, hx, hy = resolved_grid(spec, par)
    tr = spec.transport
    return sg.Resolved(resolved_potential(spec, par), np.array(par.diffusion) * CM2S_TO_NM2PS, hx, hy, par.kT,
                       np.array(par.lifetime) * 1e3, tr.annihilation_cm2_s * CM2S_TO_NM2PS,
                       tr.repulsion_eV_cm2 * 1e17, par.exchange())


def resolved_initial(spec, par: Parameters) -> np.ndarray:
    """Initial densities (n_s, n_y, n_x) [nm⁻²]."""
    x, y, _, _ = resolved_grid(spec, par)
    ini, n0 = spec.initial, par.n_peak_nm2
    s2 = (ini.sigma_um * 1e3) ** 2
    shape = (y.size, x.size)
    if ini.profile == "gaussian":
        base = n0 * np.exp(-(x[None, :] ** 2 + y[:, None] ** 2) / (2 * s2))
    elif ini.profile == "stripe":
        base = n0 * np.broadcast_to(np.exp(-x[None, :] ** 2 / (2 * s2)), shape)
    else:
        base = np.full(shape, n0)
    n = np.stack([f * base for f in par.initial_split])
    if ini.profile == "boltzmann":
        w = np.exp(-(resolved_potential(spec, par) - np.array(par.depth)[:, None, None]) / par.kT)
        n = n * w / w.mean(axis=(1, 2), keepdims=True)
    return n


# ---------------------------------------------------------------------------
# method continuum
# ---------------------------------------------------------------------------


def continuum_grid(spec):
    """The grid tuple of :mod:`solvers.moire.continuum` (µm); 2d uses an odd cell count (a row at y = 0)."""
    g = spec.grid.continuum
    if g.geometry == "radial":
        return continuum.radial_grid(g.extent_um, g.cells)
    return continuum.square_grid(g.extent_um, g.cells | 1)


def continuum_diffusivity(spec, par: Parameters) -> np.ndarray:
    """D per species [cm²/s]: free, or times the cell-problem ratio of its moiré potential (homogenize)."""
    d = np.array(par.diffusion)
    if spec.grid.continuum.homogenize:
        d = d * np.array(homogenized_ratios(spec, par))
    return d


def continuum_system(spec, par: Parameters) -> continuum.Continuum:
    """The :class:`solvers.moire.continuum.Continuum` system of a spec (µm, ns, µm⁻²)."""
    tr = spec.transport
    traps = None
    if tr.trap_filling.enabled:
        k = math.exp(par.binding / par.kT) / (par.n_c_nm2 / CM2_TO_NM2 * CM2_TO_UM2)
        traps = (k, par.n_trap_nm2 / CM2_TO_NM2 * CM2_TO_UM2)
    return continuum.Continuum(continuum_grid(spec), continuum_diffusivity(spec, par) * CM2S_TO_UM2NS,
                               np.array(par.lifetime), tr.repulsion_eV_cm2 * 1e11 / par.kT, traps,
                               tr.annihilation_cm2_s * CM2S_TO_UM2NS, par.exchange(1e3))


def continuum_initial(spec, par: Parameters) -> np.ndarray:
    """Gaussian spot (n_s, n_y, n_x) [µm⁻²] on the continuum grid."""
    grid = continuum_grid(spec)
    s2 = spec.initial.sigma_um ** 2
    if spec.grid.continuum.geometry == "radial":
        r2 = (grid[0] ** 2)[None, :]
    else:
        r2 = grid[0][None, :] ** 2 + grid[0][:, None] ** 2
    base = par.n_peak_um2 * np.exp(-r2 / (2 * s2))
    return np.stack([f * base for f in par.initial_split])


# ---------------------------------------------------------------------------
# method kmc
# ---------------------------------------------------------------------------


def kmc_hop_rates(spec, par: Parameters) -> np.ndarray:
    """Hop rate per bond and species [1/ps]."""
    g = spec.grid.kmc
    free = np.array(par.diffusion) * CM2S_TO_NM2PS / (1.5 * par.a_m ** 2)
    if g.rates == "free":
        return free
    if g.rates == "homogenized":
        return free * np.array(homogenized_ratios(spec, par))
    return np.array([g.attempt_per_ps * math.exp(-geometry.barrier(d, spec.potential.phase_deg) / par.kT)
                     for d in par.depth])


def kmc_lattice(spec, par: Parameters) -> kmc.Lattice:
    """The :class:`solvers.moire.kmc.Lattice` of a spec (nm, ps), empty."""
    g, tr = spec.grid.kmc, spec.transport
    traps = None
    if tr.trap_filling.enabled:
        cap = tr.trap_filling.capture_per_ps
        traps = (cap, cap * par.n_c_nm2 / par.n_m_nm2 * math.exp(-par.binding / par.kT))
    exch = np.array([par.k_kq, par.k_qk]) if len(par.species) == 2 else None
    return kmc.Lattice(g.lattice_sites, par.a_m, kmc_hop_rates(spec, par), np.array(par.lifetime) * 1e3, exch,
                       traps, g.exclusion, g.onsite_repulsion_meV / par.kT, g.encounter_annihilation)


def kmc_place(spec, par: Parameters, lattice: kmc.Lattice, rng: np.random.Generator) -> None:
    """Draw the pumped excitons (positions from the spot, or uniform; species by initial_kk_fraction)."""
    ini, size = spec.initial, lattice.size
    if ini.profile == "gaussian":
        sig = ini.sigma_um * 1e3
        count = int(round(par.n_peak_nm2 * 2 * math.pi * sig * sig))
        i, j = kmc.nearest_sites(*rng.normal(0.0, sig, (2, count)), par.a_m)
        if lattice.exclusion:
            i, j = _unique_sites(i, j, sig, par.a_m, rng)
    else:
        count = int(round(par.n_peak_nm2 / par.n_m_nm2 * size * size))
        flat = rng.choice(size * size, count, replace=not lattice.exclusion)
        i, j = flat % size - size // 2, flat // size - size // 2
    species = (rng.random(i.size) >= par.initial_split[0]).astype(np.int64)
    lattice.place(i, j, species)


def _unique_sites(i, j, sig, a_m, rng):
    """Redraw the excitons that landed on an occupied site until every site holds at most one."""
    while True:
        _, first = np.unique(np.stack([i, j]), axis=1, return_index=True)
        dup = np.setdiff1d(np.arange(i.size), first)
        if dup.size == 0:
            return i, j
        i[dup], j[dup] = kmc.nearest_sites(*rng.normal(0.0, sig, (2, dup.size)), a_m)
