"""Kind ``hyperelastic_interface``: shear waves crossing the interface between undeformed and
pre-deformed compressible neo-Hookean material (arXiv:1909.00684).

    W = mu/2 (I1 - 3) - mu ln J + lambda/2 (ln J)^2;   SH: (rho0/J) w_tt = div((mu/J) B grad w)

The half-space ``x2 < 0`` is undeformed, ``x2 > 0`` is pre-deformed by F (a loading mode with its
orientation relative to the interface normal e2, or an explicit F). A plane wave comes from below at
angle θ from the normal. ``wave: sh`` uses the closed form of :mod:`solvers.hyperelastic.sh_interface`;
``wave: p_sv`` the 6×6 Stroh solver of :mod:`solvers.hyperelastic.psv_interface` with an incident P or SV
wave. Optionally |r| is measured by time-domain simulation at a few angles.

Variables of a run (dimension ``angle`` in degrees):

- ``r_abs``, ``r_phase`` [rad]: reflected / incident displacement amplitude of the incident wave type;
  ``t_abs``: transmitted displacement at the interface / incident; ``R``, ``T``: reflected and transmitted
  energy flux / incident flux (R + T = 1); ``n_transmitted``: number of propagating transmitted waves
  (0: total reflection, the transmitted field is evanescent);
- SH only: ``transmitted_ray_angle`` [degree] (direction of the transmitted energy flux from the normal,
  NaN where evanescent) and the scalar ``critical_angle`` [degree] (NaN: none);
- P-SV only: ``R_converted``: energy reflected into the other in-plane wave type;
- scalars ``J`` (det F), ``lateral_stretch`` (stretch of the unloaded directions; NaN for custom F) and
  ``F`` over (``row``, ``col``);
- with ``simulation.enabled``: ``r_abs_simulated`` over ``angle_simulated`` [degree], the analytic
  ``r_abs_analytic`` at the same angles and the largest difference ``r_abs_simulation_error``.
"""

from engine.kind import Kind


class HyperelasticInterface(Kind):
    """Reflection and transmission of shear waves at undeformed / pre-deformed neo-Hookean interfaces."""

    kind = "hyperelastic_interface"
    version = "1"
    summary = ("shear-wave reflection/transmission at an undeformed / pre-deformed neo-Hookean interface "
               "(SH closed form, P-SV Stroh solver, optional simulation)")
    spec_class = ".spec:HyperelasticInterfaceSpec"
    run_function = ".run:run"
    warmup_function = "solvers.hyperelastic.fem:warmup"   # the Q1 kernels of the verification by simulation
    analysis_class = ".analysis:HyperelasticInterfaceAnalysis"
    template_sweep = ("deformation.mode", ["constrained_uniaxial", "ordinary_uniaxial", "hydrostatic"])
    smoke_overrides = ("simulation.points_per_wavelength=12", "simulation.angles_deg=[30.0]")
    allow_nonfinite = frozenset({"lateral_stretch", "critical_angle", "transmitted_ray_angle"})
