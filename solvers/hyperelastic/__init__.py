"""Shear waves in pre-deformed compressible neo-Hookean solids (arXiv:1909.00684).

Modules (plain numpy/numba, no engine imports):

- :mod:`.material`: neo-Hookean energy, P(F), sigma, incremental tensors, SH push-forward
  ``C = mu F F^T / J``, ``rho = rho0 / J``.
"""

from . import material

__all__ = ["material"]
