"""Kind ``moire_exciton``: the physical parameters derived from a spec (light: numpy, geometry and populations
only, so that the spec's checks can use them).

Unit conversions (the solvers take consistent units):

- ``resolved``, ``kmc``: nm, ps, meV; D [nm²/ps] = 100 D [cm²/s]; n [nm⁻²] = 1e-14 n [cm⁻²];
  u₀ [meV nm²] = 1e17 u₀ [eV cm²];
- ``continuum``: µm, ns; D [µm²/ns] = 0.1 D [cm²/s]; n [µm⁻²] = 1e-8 n [cm⁻²];
  u₀/k_BT [µm²] = 1e11 u₀ [eV cm²] / k_BT [meV].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solvers.moire import geometry, populations

CM2S_TO_NM2PS = 100.0
CM2S_TO_UM2NS = 0.1
CM2_TO_NM2 = 1e-14
CM2_TO_UM2 = 1e-8


@dataclass(frozen=True)
class Parameters:
    """Derived parameters of one run; per-species tuples follow ``species``."""

    species: tuple[str, ...]
    a_m: float  # moiré period [nm]
    n_m_nm2: float  # moiré site density [nm⁻²]
    kT: float  # [meV]
    smoothing: tuple[float, ...]  # quantum smoothing factor per species
    depth: tuple[float, ...]  # effective peak-to-peak depth per species [meV]
    diffusion: tuple[float, ...]  # free D per species [cm²/s]
    lifetime: tuple[float, ...]  # [ns]
    mass: tuple[float, ...]  # [m0]
    gap: float  # E_KK − E_KQ [meV] (0 with one species)
    k_kq: float  # [1/ps]
    k_qk: float  # [1/ps]
    binding: float  # effective trap binding [meV]
    n_trap_nm2: float  # trap density [nm⁻²]
    n_c_nm2: float  # free-gas density of states [nm⁻²]
    n_peak_nm2: float
    n_peak_um2: float
    initial_split: tuple[float, ...]  # fraction of the pumped excitons per species

    def exchange(self, per: float = 1.0) -> np.ndarray:
        """Exchange matrix (n_s, n_s) in 1/ps × ``per`` (per = 1e3 for 1/ns)."""
        if len(self.species) == 1:
            return np.zeros((1, 1))
        return populations.exchange_matrix(self.k_kq, self.k_qk) * per

    def kk_fraction(self) -> float:
        """Equilibrium K–K fraction (1 with one species)."""
        return populations.kk_fraction(self.k_kq, self.k_qk) if len(self.species) == 2 and self.k_kq > 0 else 1.0


def gap_at(spec) -> float:
    """ΔE_KK−KQ [meV] at the spec's twist: the gap_vs_twist table interpolated, or gap_meV."""
    pop = spec.populations
    if not pop.gap_vs_twist:
        return pop.gap_meV
    table = np.array(sorted(pop.gap_vs_twist))
    return float(np.interp(spec.twist_deg, table[:, 0], table[:, 1]))


def parameters(spec) -> Parameters:
    """The derived parameters of a spec."""
    lat, pot, tr, pop = spec.lattice, spec.potential, spec.transport, spec.populations
    a_m = geometry.moire_period(lat.a_bottom_nm, lat.a_top_nm, spec.twist_deg)
    kT = geometry.KB_MEV * tr.temperature_K
    two = pop.enabled
    masses = (tr.mass_m0, pop.kq.mass_m0) if two else (tr.mass_m0,)
    depths = (pot.depth_meV, pop.kq.depth_meV) if two else (pot.depth_meV,)
    if pot.quantum_smoothing == "feynman_hibbs":
        smooth = tuple(geometry.smoothing_factor(a_m, m, tr.temperature_K, pot.bohr_radius_nm) for m in masses)
    else:
        smooth = (1.0,) * len(masses)
    gap, k_kq, k_qk = 0.0, 0.0, 0.0
    if two:
        gap, k_kq = gap_at(spec), pop.kq_rate_per_ps
        k_qk = populations.back_rate(k_kq, gap, kT, pop.degeneracy_ratio, pop.kq.mass_m0 / tr.mass_m0)
    tf = tr.trap_filling
    n_m = geometry.site_density(a_m)
    n0 = spec.initial.peak_density_cm2
    return Parameters(
        species=("KK", "KQ") if two else ("IX",), a_m=a_m, n_m_nm2=n_m, kT=kT, smoothing=smooth,
        depth=tuple(d * s for d, s in zip(depths, smooth)),
        diffusion=(tr.diffusion_cm2_s, pop.kq.diffusion_cm2_s) if two else (tr.diffusion_cm2_s,),
        lifetime=(tr.lifetime_ns, pop.kq.lifetime_ns) if two else (tr.lifetime_ns,), mass=masses,
        gap=gap, k_kq=k_kq, k_qk=k_qk, binding=tf.binding_meV * smooth[0],
        n_trap_nm2=tf.site_density_cm2 * CM2_TO_NM2 if tf.site_density_cm2 else n_m,
        n_c_nm2=geometry.effective_density_of_states(tr.mass_m0, tr.temperature_K, tf.degeneracy),
        n_peak_nm2=n0 * CM2_TO_NM2, n_peak_um2=n0 * CM2_TO_UM2,
        initial_split=(pop.initial_kk_fraction, 1.0 - pop.initial_kk_fraction) if two else (1.0,))
