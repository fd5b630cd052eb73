"""Peak memory of a ``function_learning`` run, from its spec (see :mod:`engine.spec.memory`).

With ``n`` training and ``p`` test points in dimension ``d``, width ``m`` (features, neurons, or M per
residual block), depth ``L`` and residual width ``D``, and ``b`` bytes per number (``backend.dtype``):

- the data: ``(n + p)(d + 2) b``;
- hidden features / activations of the training and test sets (forward values, what autograd keeps and the
  gradients): ``3 (n + p) m b`` (two_layer, random_features with adam), ``L (n + p)(3 m + 2 D) b`` (resnet,
  flow); the closed forms of random features go through blocks of ``2^23`` features x points instead
  (:mod:`learners.function_learning.linear`), two at a time, beside the features ``w`` (numpy and torch):
  ``2 min(2^23, (n + p) m) b + 2 m d b``;
- parameters with their gradients and Adam's two moments: ``4 P b``, ``P = m (d + 1)`` (random_features,
  two_layer) or ``2 L m D`` (resnet, flow);
- Gram matrices: the kernel model and the dual forms of random features (gd, ridge, or m >= n) hold
  ``n x n`` twice (the matrix and its factorization) and ``p x n``: ``(2 n^2 + p n) b``; the primal
  min-norm form of random features ``2 m^2 b``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate

if TYPE_CHECKING:  # pragma: no cover
    from .spec import FunctionLearningSpec

ACTIVATION_COPIES = 3   # forward values, saved for autograd, gradients
CHUNK_ELEMENTS = 2 ** 23  # points x features of one feature block of the closed forms (as in learners)


def _gram(spec: "FunctionLearningSpec", b: int) -> ArrayBytes:
    """The Gram matrices of the kernel model and of random features fitted in the dual or primal form."""
    n, p, m = spec.data.n, spec.data.n_test, spec.model.width
    kind, fit = spec.model.kind, spec.fit
    if kind == "kernel" or (kind == "random_features" and fit.method != "adam"):
        primal = kind == "random_features" and fit.method in ("min_norm", "spectral") and not fit.lam and m < n
        if primal:
            return ArrayBytes("model.width", f"Gram matrix (m={m}, m) x 2", 2.0 * m * m * b)
        return ArrayBytes("data.n", f"Gram matrices (n={n}, n) x 2 and (n_test={p}, n)", (2.0 * n * n + p * n) * b)
    return ArrayBytes("data.n", "no Gram matrix", 0.0)


def peak_memory(spec: "FunctionLearningSpec") -> MemoryEstimate:
    """The estimate of the module docstring."""
    b = 8 if spec.backend.dtype == "float64" else 4
    dat, mdl = spec.data, spec.model
    n, p, d, m = dat.n, dat.n_test, dat.d, mdl.width
    points = "data.n" if n >= p else "data.n_test"
    parts = [ArrayBytes(points, f"data ({n} + {p} points, d={d})", (n + p) * (d + 2.0) * b), _gram(spec, b)]
    if mdl.kind in ("resnet", "flow_random_features"):
        L, D = mdl.depth, spec.hidden_dim
        parts += [ArrayBytes("model.width", f"activations of {L} blocks over (n + n_test = {n + p}, m={m})",
                             L * (n + p) * (ACTIVATION_COPIES * m + 2.0 * D) * b),
                  ArrayBytes("model.width", f"parameters 2 L m D = {2 * L * m * D} with gradients and Adam state x 4",
                             4.0 * 2 * L * m * D * b)]
    elif mdl.kind == "random_features" and spec.fit.method != "adam":
        parts += [ArrayBytes("model.width", f"features w (m={m}, d={d}) x 2 and two feature blocks",
                             2.0 * (min(CHUNK_ELEMENTS, (n + p) * m) + m * d) * b)]
    elif mdl.kind != "kernel":
        parts += [ArrayBytes("model.width", f"features over (n + n_test = {n + p}, m={m}) x {ACTIVATION_COPIES}",
                             ACTIVATION_COPIES * (n + p) * m * b),
                  ArrayBytes("model.width", f"parameters m (d + 1) = {m * (d + 1)} with gradients and Adam state x 4",
                             4.0 * m * (d + 1) * b)]
    return estimate(*parts)
