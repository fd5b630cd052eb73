"""Interlayer-exciton transport in moiré potentials (twisted WS₂–WSe₂): geometry and the method hierarchy.

Plain numpy arrays in and out; ``solvers`` never imports ``engine``. Units are stated per module
(geometry: nm, meV, K; the time-domain solvers take any consistent set, the kind uses nm/ps/meV for
``resolved`` and ``kmc`` and µm/ns for ``continuum``).

Public API
----------
:mod:`.geometry`: moire_period(a_bottom, a_top, twist_deg), site_density(a_m), reciprocal_vectors(a_m),
    amplitude(depth, phase), depth_per_amplitude(phase), potential(x, y, a_m, v, phase),
    supercell_grid(a_m, points_per_period, cells_x, cells_y), smoothing_factor(a_m, mass, T, a_B),
    effective_density_of_states(mass, T, g), barrier(depth, phase), KB_MEV, HBAR2_M0
:mod:`.sg` (``resolved``): Resolved(potential, diffusivity, hx, hy, kT, lifetime, annihilation, repulsion,
    exchange) .advance(n, duration, dt) .stable_dt(n_max); bernoulli(x)
:mod:`.cell` (``cell``): effective_diffusivity(potential, kT, hx, hy) -> (D_xx/D, D_yy/D)
:mod:`.continuum` (``continuum``): Continuum(grid, diffusivity, lifetime, repulsion_over_kT, traps,
    annihilation, exchange, linear) .advance .stable_dt; radial_grid(r_max, n_r), square_grid(L, n),
    diffusivity_ratio(n, E_b/kT, N_c, n_M, u0/kT), free_fraction, mobility
:mod:`.kmc` (``kmc``): Lattice(size, spacing, hop, lifetime, exchange, traps, exclusion, onsite/kT, p_enc)
    .place(i, j, species) .advance(t_end, seed) .positions() .species() .trapped_count(); nearest_sites
:mod:`.populations`: back_rate, exchange_matrix, kk_fraction, homogeneous (exact two-population solution)
:mod:`.observables`: gaussian_fit, fit_widths, second_moment, apparent_diffusivity, anomalous_exponent,
    diffusion_lengths

The package imports its modules on first use (PEP 562): ``geometry`` and ``populations`` are numpy
only, so spec validation compiles nothing; the time-domain methods load numba when first named.
"""

import importlib

_MODULES = ("cell", "continuum", "geometry", "kmc", "observables", "populations", "sg")
__all__ = [*_MODULES, "warmup"]


def warmup() -> None:
    """Compile every numba kernel on tiny inputs (numba caches them on disk)."""
    for name in ("sg", "continuum", "kmc"):
        importlib.import_module(f".{name}", __name__).warmup()


def __getattr__(name):
    """Import the submodule ``name`` on first use."""
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
