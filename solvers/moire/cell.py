"""Method ``cell``: the periodic cell problem of homogenization.

For overdamped diffusion in a periodic potential U (β = 1/k_BT),

    D_eff = D ⟨e^{−βU}(I + ∇χ)⟩ / ⟨e^{−βU}⟩,   ∇·[e^{−βU}(∇χ_k + e_k)] = 0, χ_k periodic,

discretised with the Scharfetter–Gummel face weights of :mod:`.sg` (w = e^{−φ_i} B(φ_{i+1} − φ_i), the flux
J = (D/h) w (ρ_i − ρ_{i+1}) in the Slotboom variable ρ = n e^{φ}), so that the discrete D_eff is exactly
the long-time diffusivity of the ``resolved`` scheme on the same grid. Periodic grid (n_y, n_x), x along
the last axis; spacings hx, hy in any length unit (the result is a ratio).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .sg import bernoulli


def face_weights(phi: np.ndarray, axis: int) -> np.ndarray:
    """Slotboom weights w = e^{−φ_i} B(φ_{i+1} − φ_i) of the faces between i and i+1 along ``axis``
    (periodic), φ shifted so that its minimum is 0. Same shape as phi."""
    phi = phi - phi.min()
    d = np.roll(phi, -1, axis=axis) - phi
    return np.exp(-phi) * np.vectorize(bernoulli, otypes=[float])(d)


def _corrector(wx: np.ndarray, wy: np.ndarray, hx: float, hy: float, rhs: np.ndarray) -> np.ndarray:
    """Periodic χ (n_y, n_x) of Σ_faces w (χ_nb − χ) / h² = −rhs, pinned at χ[0, 0] = 0."""
    ny, nx = wx.shape
    idx = np.arange(nx * ny).reshape(ny, nx)
    rows, cols, vals = [], [], []
    for w, h2, shift, axis in ((wx, hx * hx, -1, 1), (wy, hy * hy, -1, 0)):
        nb = np.roll(idx, shift, axis=axis)  # the +1 neighbour
        c = (w / h2).ravel()
        a, b = idx.ravel(), nb.ravel()
        rows += [a, a, b, b]
        cols += [b, a, a, b]
        vals += [c, -c, c, -c]
    mat = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nx * ny,) * 2)
    mat = mat.tolil()
    mat[0, :] = 0.0
    mat[0, 0] = 1.0
    b = -rhs.ravel().copy()
    b[0] = 0.0
    return spla.spsolve(mat.tocsc(), b).reshape(ny, nx)


def effective_diffusivity(potential: np.ndarray, kT: float, hx: float, hy: float) -> tuple[float, float]:
    """(D_xx/D, D_yy/D) of the potential U (n_y, n_x) [energy] sampled on a periodic cell, kT [energy]."""
    phi = np.asarray(potential, dtype=float) / kT
    wx, wy = face_weights(phi, 1), face_weights(phi, 0)
    mean_e = np.exp(-(phi - phi.min())).mean()
    out = []
    for w, h, axis in ((wx, hx, 1), (wy, hy, 0)):
        # ρ = x_k + χ: the macroscopic gradient enters through the faces along axis k
        rhs = (w - np.roll(w, 1, axis=axis)) / h
        chi = _corrector(wx, wy, hx, hy, rhs)
        grad = (np.roll(chi, -1, axis=axis) - chi) / h
        out.append(float((w * (1.0 + grad)).mean() / mean_e))
    return out[0], out[1]
