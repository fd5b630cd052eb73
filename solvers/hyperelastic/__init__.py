"""Shear waves in pre-deformed compressible neo-Hookean solids (arXiv:1909.00684).

Modules (plain numpy, or numba for the time-domain solver; no engine imports):

- :mod:`.material`: neo-Hookean energy, P(F), sigma, incremental tensors, SH push-forward
  ``C = mu F F^T / J``, ``rho = rho0 / J``;
- :mod:`.modes`: deformation gradients of the loading modes relative to an interface, the lateral
  stretch of ordinary uniaxial tension;
- :mod:`.sh_interface`: closed-form SH reflection/transmission vs angle, critical angle;
- :mod:`.psv_interface`: the general 6×6 Stroh-type interface solver (P, SV, SH incidence, any F).
"""

from . import material, modes, psv_interface, sh_interface

__all__ = ["material", "modes", "psv_interface", "sh_interface"]
