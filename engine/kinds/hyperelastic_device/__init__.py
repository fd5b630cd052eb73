"""Kind ``hyperelastic_device``: shear-wave devices made of pre-deformed neo-Hookean material, simulated.

    (rho0/J) w_tt = div( (mu/J) F F^T grad w ) + f,     C = mu F F^T / J,  rho = rho0 / J   (SH, brief §1.3)

solved in the current (deformed) configuration by :mod:`solvers.hyperelastic.fem` (Q1 elements on a
Cartesian grid, lumped mass, leapfrog, sponge layers in the undeformed host).  The device is a
pre-deformation field (:mod:`solvers.hyperelastic.devices`, :mod:`solvers.hyperelastic.deformation_fields`): ``cloak``
(slit opened into a diamond hole), ``bend`` (splicable units in a free-edged strip), ``lens``
(stretched slab or refractive lens), ``custom`` (uniform F in a polygon, triangles with holes, or a
unidirectional displacement field), ``none``.  Each run can also simulate the comparison runs
``homogeneous`` (the virtual body: no holes, no pre-deformation, e.g. the straight strip of a bend)
and ``bare`` (the same current geometry without pre-deformation, e.g. the hole without its cloak).

Variables of a run (dims ``t`` [s], ``x``, ``y`` [m]; ``x_ref``, ``y_ref`` for the homogeneous run):

- ``w`` (t, x, y) float32 [m]: the device run; ``w_bare``, ``w_homogeneous`` (t, x_ref, y_ref);
- ``E``, ``E_bare``, ``E_homogeneous`` (t) [J/m]: discrete energy per unit length out of plane;
- ``rho_cell`` (x_cell, y_cell) [kg/m^3]: the device's density per cell (0: void);
- with ``homogeneous``: ``scattered_norm`` [m^2] = ||w(x) - w_ref(chi^-1 x)|| at t_final over the
  comparison region (outside the cloak; the output arm of a bend or slab), ``output_error`` [1] (the
  same relative to ||w_ref(chi^-1 x)||), ``reflection_peak`` [1] (max |w - w_ref| / max |w_ref| on a
  receiver line between source and device), ``reflected_energy`` [1] (the ratio of sum w^2 over
  time there); each with ``_bare`` for the bare run and ``scattered_norm_ratio`` = device / bare;
- lens: ``virtual_source_shift`` and its prediction ``virtual_source_shift_predicted`` [m]
  (stretched slab), ``focal_distance`` and ``focal_distance_thin_lens`` [m] (refractive);
- ``outline_x``, ``outline_y`` (vertex) [m]: device outline, polygons separated by NaN;
- scalars ``dt`` [s], ``h`` [m], ``points_per_wavelength`` [1], ``c_max`` [m/s].
"""

from engine.kind import Kind


class HyperelasticDevice(Kind):
    """Time-domain SH simulation of pre-deformed neo-Hookean devices, with bare and homogeneous runs."""

    kind = "hyperelastic_device"
    version = "1"
    summary = "SH waves through pre-deformed neo-Hookean devices (cloak, bend, lens): Q1 leapfrog simulation"
    spec_class = ".spec:HyperelasticDeviceSpec"
    run_function = ".run:run"
    warmup_function = "solvers.hyperelastic.fem:warmup"   # the Q1 leapfrog kernels
    analysis_class = ".analysis:HyperelasticDeviceAnalysis"
    template_sweep = ("device.opening", [0.3, 0.6, 0.9])
    resumable = True
    smoke_overrides = ("grid.points_per_wavelength=10", "time.t_final=2.0", "grid.subsample=1")
    allow_nonfinite = frozenset({"outline_x", "outline_y"})
