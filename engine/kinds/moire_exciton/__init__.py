"""Kind ``moire_exciton``: interlayer-exciton transport in the moiré potential of twisted WS₂–WSe₂.

Reproduces the setting of Yuan et al., Nature Materials 19, 617 (2020) (arXiv:1910.02869) with a
hierarchy of models, one per ``method`` (physics in :mod:`solvers.moire`, parameters in
:mod:`.parameters`, solver systems in :mod:`.run.model`):

- ``resolved``: ∂n/∂t = ∇·[D∇n + (D/k_BT) n ∇(U + u₀n)] − n/τ − γn² on a grid resolving the moiré cells
  (Scharfetter–Gummel, periodic), nm and ps;
- ``cell``: the homogenization cell problem, D_eff(θ, Δ, ψ, T);
- ``continuum``: µm-scale spot with D(n) (mean-field repulsion, Langmuir trap filling with n_M(θ)),
  annihilation, decay; radial or 2-D;
- ``kmc``: kinetic Monte Carlo on moiré sites (rates from the barrier, exclusion/repulsion, encounters,
  traps, decay).

K–K and K–Q populations (``populations.enabled``) exchange in detailed balance in every method.

Variables (dims ``t`` [ns], ``x`` [µm; nm for resolved], ``species``): ``linecut`` (t, x), ``population``
(t, species), ``population_total``, ``sigma2_fit``, ``sigma2_raw``, ``msd``, ``msd_raw``, ``D_app`` (t),
``alpha``, ``L_msd``, ``L_Dtau``; geometry scalars ``moire_period``, ``site_density``, ``smoothing``,
``depth_effective``, ``barrier``, ``gap``, ``kk_fraction_eq``; from ``cell``: ``D_eff``, ``D_eff_ratio``,
``D_xx_ratio``, ``D_yy_ratio``, ``keller_dykhne_ratio``, ``wiener_bound`` (species) and ``D_eff_mixed``;
``resolved``: ``D_late``, ``D_cell_grid``; ``resolved`` and ``continuum``: ``time_step``; ``continuum``:
``D_species`` (species); ``kmc``: ``trapped_fraction`` (t), ``events``, ``hop_rate`` (species).

Modules: :mod:`.spec` (the spec), :mod:`.parameters` (derived physical parameters), :mod:`.run` (one run:
systems, methods, time stepping, line-cut analysis), :mod:`.analysis` (report, figures).
"""

from __future__ import annotations

from engine.kind import Kind


class MoireExciton(Kind):
    """Interlayer excitons in moiré potentials: resolved, cell, continuum and kmc methods."""

    kind = "moire_exciton"
    version = "1"
    summary = "interlayer exciton transport in twisted WS2-WSe2 moire potentials (resolved, cell, continuum, kmc)"
    spec_class = ".spec:MoireExcitonSpec"
    run_function = ".run:run"
    warmup_function = ".run:warmup"
    analysis_class = ".analysis:MoireExcitonAnalysis"
    template_sweep = ("twist_deg", [0.0, 2.0, 60.0])
    allow_nonfinite = frozenset({"sigma2_fit", "msd", "D_app", "alpha", "L_msd", "L_Dtau", "trapped_fraction",
                                 "sigma2_raw", "msd_raw", "linecut"})
    resumable = True
    smoke_overrides = ("time.save_every_ns=null", "grid.continuum.cells=60", "grid.cell.points_per_period=12",
                       "grid.resolved.cells_x=12", "grid.resolved.cells_y=7", "grid.resolved.points_per_period=8",
                       "grid.kmc.lattice_sites=256")
