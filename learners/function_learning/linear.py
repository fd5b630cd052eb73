"""Random-feature and kernel estimators in dual form (torch, any device/dtype).

Random features: f(x) = (1/m) sum_j a_j sigma(w_j.x) with w_j fixed; empirical kernel
k_m(x, x') = (1/m) sum_j sigma(w_j.x) sigma(w_j.x'). Every estimator here keeps
a = a_0 + Phi^T c (Phi_ij = sigma(w_j.x_i)), so that f = f_0 + k_m(., X) c and the
kernel model (m -> infinity, arc-cosine kernel) uses the same code with its exact kernel:

- ``min_norm``: c = K^+ y, the minimum-norm interpolant (min (1/m)|a|^2 s.t. f(x_i) = y_i);
  Cholesky when K is numerically positive definite, else an eigen-decomposition pseudo-inverse
  (``RandomFeatureKernel.min_norm`` on the CPU in float64: float32 Gram matrix, float64 refinement);
- ``ridge``: c = (K + n lam I)^{-1} y, the minimizer of (1/n)|f - y|^2 + lam (1/m)|a|^2, by Cholesky
  (``RandomFeatureKernel.ridge``: the same refinement as min_norm on the CPU in float64;
  ``RandomFeatureKernel.ridge_primal``: the m x m system, for m < n);
- ``gd``: c <- c - lr (f - y)/n, i.e. a <- a - lr m dR/da (mean-field step scaling).

The RKHS norm of f - f_0 is sqrt(c^T K c).
"""

from __future__ import annotations

from typing import Callable

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.linalg
import torch

from learners.function_learning.features import activate, activate_, arccos_kernel
from learners.function_learning.training import Curves, half_mse, run_steps

CHUNK_ELEMENTS = 2 ** 23  # entries of one (points x features) block
GRAM_ROWS = 512  # rows of the diagonal and lower blocks of a Gram matrix (non-CPU devices)
REFINE_TOL = 1e-13  # relative residual |y - K c| / |y| at which min-norm refinement stops
REFINE_STEPS = 8  # most refinement steps (each one float64 pass over the features)
SYRK = {torch.float64: np.float64, torch.float32: np.float32}  # dtypes with a BLAS syrk on the CPU


class RandomFeatureKernel:
    """The empirical kernel of the features w (m, d) (a tensor) and activation."""

    def __init__(self, w: torch.Tensor, activation: str = "relu"):
        self.w, self.activation = w, activation

    @property
    def width(self) -> int:
        return self.w.shape[0]

    def _blocks(self, n: int) -> list[tuple[int, torch.Tensor]]:
        """(first index j, w[j:j + s]) for blocks of s features with n * s about CHUNK_ELEMENTS."""
        size = max(1, CHUNK_ELEMENTS // max(n, 1))
        return [(j, self.w[j:j + size]) for j in range(0, self.width, size)]

    def _feature_blocks(self, x: torch.Tensor, blocks: list[tuple[int, torch.Tensor]] | None = None):
        """Yield (j, Phi(x)[:, j:j + s]) (n, s) for the feature blocks; all blocks are written into one
        buffer (no allocation per block), so each is valid only until the next one is yielded."""
        n = x.shape[0]
        blocks = self._blocks(n) if blocks is None else blocks
        buf = x.new_empty(n * max(w.shape[0] for _, w in blocks))
        for j, w in blocks:
            yield j, activate_(torch.mm(x, w.T, out=buf[: n * w.shape[0]].view(n, w.shape[0])), self.activation)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """k_m(x_i, y_k), shape (n, p), accumulated over blocks of features; for ``x is y`` only one
        triangle is computed (:meth:`gram`)."""
        if x is y:
            return self.gram(x)
        out = x.new_zeros((x.shape[0], y.shape[0]))
        blocks = self._blocks(max(x.shape[0], y.shape[0]))
        for (_, fx), (_, fy) in zip(self._feature_blocks(x, blocks), self._feature_blocks(y, blocks)):
            out.addmm_(fx, fy.T)
        return out / self.width

    def gram(self, x: torch.Tensor) -> torch.Tensor:
        """k_m(x_i, x_k) (n, n): BLAS syrk on the CPU (:meth:`gram_syrk`), else :meth:`gram_lower_blocks`."""
        if x.device.type == "cpu" and x.dtype in SYRK:
            return self.gram_syrk(x)
        return self.gram_lower_blocks(x)

    def gram_syrk(self, x: torch.Tensor) -> torch.Tensor:
        """k_m(x_i, x_k) (n, n) for a CPU float32/float64 x: the lower triangle accumulated in place by
        BLAS syrk (n^2 s flops for a block of s features, half the full product) over the feature
        blocks, which are dealt to torch.get_num_threads() threads (syrk releases the GIL) with one
        (n, n) accumulator each: torch's thread budget is used even where BLAS runs one thread per
        call (``engine`` sets OPENBLAS_NUM_THREADS=1)."""
        n = x.shape[0]
        blocks = self._blocks(n)
        workers = max(1, min(torch.get_num_threads(), len(blocks)))
        dtype = SYRK[x.dtype]
        syrk = scipy.linalg.get_blas_funcs("syrk", dtype=dtype)

        def accumulate(share):
            acc = np.zeros((n, n), dtype=dtype, order="F")
            for _, phi in self._feature_blocks(x, share):
                acc = syrk(1.0 / self.width, phi.numpy().T, beta=1.0, c=acc, trans=1, lower=1, overwrite_c=1)
            return acc

        shares = [blocks[i::workers] for i in range(workers)]
        if workers == 1:
            lower = accumulate(shares[0])
        else:
            with ThreadPoolExecutor(workers) as pool:
                lower = functools.reduce(lambda a, b: np.add(a, b, out=a), pool.map(accumulate, shares))
        full = lower + lower.T  # the upper triangle of ``lower`` is zero: the diagonal is doubled
        full[np.diag_indices(n)] *= 0.5
        return torch.from_numpy(full)

    def gram_lower_blocks(self, x: torch.Tensor) -> torch.Tensor:
        """k_m(x_i, x_k) (n, n) from the row blocks on and below the diagonal, mirrored (about
        (B + 1)/(2B) of the flops of the full product for B blocks of GRAM_ROWS rows)."""
        n = x.shape[0]
        rows = [slice(i, min(i + GRAM_ROWS, n)) for i in range(0, n, GRAM_ROWS)]
        out = x.new_zeros((n, n))
        for _, fx in self._feature_blocks(x):
            for i, ri in enumerate(rows):
                for rj in rows[: i + 1]:
                    out[ri, rj].addmm_(fx[ri], fx[rj].T)
        return _mirror_lower(out) / self.width

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Phi_ij = sigma(w_j.x_i), shape (n, m) (in one block: for small m)."""
        return activate(x @ self.w.T, self.activation)

    def min_norm_primal(self, x: torch.Tensor, y: torch.Tensor, rcond: float | None = None) -> torch.Tensor:
        """a = m Phi^+ y, the minimum-norm least-squares coefficients, shape (m,); cheaper than the
        dual form when m < n."""
        phi = self.features(x) / self.width
        rtol = max(phi.shape) * torch.finfo(phi.dtype).eps if rcond is None else rcond
        return torch.linalg.pinv(phi, rtol=rtol) @ y

    def kernel_matvec(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """k_m(X, X) c = Phi (Phi^T c) / m, shape (n,), in one pass over the feature blocks (no Gram matrix)."""
        out = torch.zeros_like(c)
        for _, phi in self._feature_blocks(x):
            out.addmv_(phi, phi.T @ c)
        return out / self.width

    def min_norm(self, x: torch.Tensor, y: torch.Tensor, rcond: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(c, K c) for the min-norm interpolant c = K^+ y, K = k_m(X, X) (n, n), y (n,).

        A CPU float64 problem is solved by mixed-precision iterative refinement: the Gram matrix in
        float32 (half the time of float64) is Cholesky-factored (in float64) and preconditions
        c <- c + K32^{-1} (y - K c), with K c in float64 by :meth:`kernel_matvec` (2nm flops against
        the Gram's n^2 m), until |y - K c| <= REFINE_TOL |y|. Where K32 is not safely positive definite
        or the residual stops shrinking tenfold per step (K too ill-conditioned for float32), and on
        other dtypes/devices: the float64 Gram matrix and :func:`pseudo_solve`.
        """
        if x.device.type == "cpu" and x.dtype == torch.float64:
            refined = self._refined_solve(x, y, 0.0, rcond)
            if refined is not None:
                return refined
        k = self(x, x)
        c = pseudo_solve(k, y, rcond)
        return c, k @ c

    def ridge(self, x: torch.Tensor, y: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(c, K c) for the ridge coefficients c = (K + n lam I)^{-1} y, K = k_m(X, X) (n, n), y (n,):
        the refinement of :meth:`min_norm` with the shift n lam on the CPU in float64, else the
        Gram matrix and :func:`ridge`."""
        if x.device.type == "cpu" and x.dtype == torch.float64:
            refined = self._refined_solve(x, y, x.shape[0] * lam, None)
            if refined is not None:
                return refined
        k = self(x, x)
        c = ridge(k, y, lam)
        return c, k @ c

    def ridge_primal(self, x: torch.Tensor, y: torch.Tensor, lam: float) -> torch.Tensor:
        """a = (Phi^T Phi / m + n lam I)^{-1} Phi^T y, shape (m,): the ridge coefficients solved in the
        m x m system, the same a as the dual Phi^T (K + n lam I)^{-1} y (push-through identity);
        cheaper than the dual form when m < n. Phi^T Phi / m is (n/m) times the empirical kernel of
        the "features" x evaluated at the points w (sigma(w.x) is symmetric in w and x), so it is
        formed by :meth:`gram` with the roles swapped."""
        n, m = x.shape[0], self.width
        g = RandomFeatureKernel(x, self.activation).gram(self.w) * (n / m)
        return cholesky_solve_shifted(g, self.coefficients(x, y), n * lam)

    def _refined_solve(self, x, y, shift, rcond):
        """(c, K c) with (K + shift I) c = y by float32-preconditioned refinement, or None where it
        does not apply (see :meth:`min_norm`; shift = 0 there, n lam for :meth:`ridge`)."""
        n = x.shape[0]
        k32 = RandomFeatureKernel(self.w.float(), self.activation).gram(x.float()).double()
        k32.diagonal().add_(shift)
        chol, info = torch.linalg.cholesky_ex(k32)
        pivots = torch.diagonal(chol) ** 2
        # the float64 path's Cholesky condition (pivots above rcond), and pivots above float32's noise
        rcond = max(n * torch.finfo(torch.float32).eps, 0.0 if rcond is None else rcond)
        threshold = rcond * float(pivots.max())
        if int(info) != 0 or float(pivots.min()) <= threshold:
            return None
        c = torch.zeros_like(y)
        r, kc, norm = y, torch.zeros_like(y), float(y.norm())
        for _ in range(REFINE_STEPS):
            c = c + torch.cholesky_solve(r[:, None], chol)[:, 0]
            kc = self.kernel_matvec(x, c)
            r, previous = y - kc - shift * c, float(r.norm())
            if float(r.norm()) <= REFINE_TOL * norm:
                return c, kc
            if float(r.norm()) > 0.1 * previous:
                return None
        return None

    def coefficients(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """a = Phi(x)^T c, shape (m,)."""
        return torch.cat([phi.T @ c for _, phi in self._feature_blocks(x)])

    def predict(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """(1/m) Phi(x) a, shape (n,)."""
        out = x.new_zeros(x.shape[0])
        for j, phi in self._feature_blocks(x):
            out += phi @ a[j:j + phi.shape[1]]
        return out / self.width


def _mirror_lower(lower: torch.Tensor) -> torch.Tensor:
    """The symmetric matrix whose lower triangle is that of ``lower`` (n, n)."""
    return torch.tril(lower) + torch.tril(lower, -1).T


def arccos(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The kernel model's kernel (m -> infinity limit of ReLU random features), (n, p)."""
    return arccos_kernel(x, y)


def pseudo_solve(k: torch.Tensor, y: torch.Tensor, rcond: float | None = None) -> torch.Tensor:
    """c = K^+ y for a symmetric positive semi-definite K (n, n).

    Cholesky if it succeeds and no pivot is below rcond * max diag; otherwise the eigen
    pseudo-inverse dropping eigenvalues below rcond * lambda_max. Default rcond: n * eps.
    """
    n = k.shape[0]
    rcond = n * torch.finfo(k.dtype).eps if rcond is None else rcond
    chol, info = torch.linalg.cholesky_ex(k)
    if int(info) == 0:
        pivots = torch.diagonal(chol) ** 2
        if float(pivots.min()) > rcond * float(pivots.max()):
            return torch.cholesky_solve(y[:, None], chol)[:, 0]
    vals, vecs = torch.linalg.eigh(k)
    keep = vals > rcond * vals[-1]
    inv = torch.where(keep, 1.0 / torch.where(keep, vals, torch.ones_like(vals)), torch.zeros_like(vals))
    return vecs @ (inv * (vecs.T @ y))


def min_norm(k: torch.Tensor, y: torch.Tensor, rcond: float | None = None) -> torch.Tensor:
    """Dual coefficients of the minimum-norm interpolant (least squares if K is singular)."""
    return pseudo_solve(k, y, rcond)


def ridge(k: torch.Tensor, y: torch.Tensor, lam: float) -> torch.Tensor:
    """Dual coefficients c = (K + n lam I)^{-1} y of kernel ridge regression, K (n, n)."""
    return cholesky_solve_shifted(k, y, k.shape[0] * lam)


def cholesky_solve_shifted(k: torch.Tensor, y: torch.Tensor, shift: float) -> torch.Tensor:
    """(K + shift I)^{-1} y for a symmetric positive semi-definite K (n, n) and shift > 0: Cholesky
    (half the flops of LU), LU where rounding makes the factorization fail (float32)."""
    shifted = k.clone()
    shifted.diagonal().add_(shift)
    chol, info = torch.linalg.cholesky_ex(shifted)
    if int(info) == 0:
        return torch.cholesky_solve(y[:, None], chol)[:, 0]
    return torch.linalg.solve(shifted, y)


def gradient_descent(k: torch.Tensor, y: torch.Tensor, k_test: torch.Tensor, y_test: torch.Tensor,
                     f0: torch.Tensor, f0_test: torch.Tensor, lr: float, steps: int, every: int,
                     progress: Callable[[int, int], None] | None = None) -> tuple[torch.Tensor, Curves]:
    """Full-batch GD on R = (1/2n)|f - y|^2 in dual form: f = f0 + K c, c <- c - lr (f - y)/n.

    k (n, n), k_test (p, n), f0 (n,) and f0_test (p,) the initial predictions. Returns
    (c (n,), curves of R on the training and test sets).
    """
    n = k.shape[0]
    c = torch.zeros_like(y)
    f = f0.clone()

    def step():
        nonlocal f
        loss = half_mse(f, y)
        c.add_(f - y, alpha=-lr / n)
        f = f0 + k @ c
        return loss

    def losses():
        return half_mse(f, y), half_mse(f0_test + k_test @ c, y_test)

    return c, run_steps(step, losses, steps, every, lr, progress)


def rkhs_norm(k: torch.Tensor, c: torch.Tensor) -> float:
    """sqrt(c^T K c): the RKHS norm of k(., X) c."""
    return float(torch.sqrt(torch.clamp(c @ (k @ c), min=0.0)))
