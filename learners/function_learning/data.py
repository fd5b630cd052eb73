"""Inputs and targets (numpy, float64).

Inputs x in R^d (``sample_inputs``): ``sphere`` uniform on S^{d-1}, ``gaussian`` N(0, I/d)
(so that E|x|^2 = 1), ``cube`` uniform on [0, 1]^d.

Targets f*(x) (``make_target``; random parameters from the generator given):

- ``relu_neuron``: relu(x_1) (w* = e_1; Barron norm 1, infinite RKHS norm);
- ``barron``: (1/sqrt(K)) sum_k c_k relu(v_k.x), v_k uniform on S^{d-1}, c_k ~ N(0, 1);
- ``kernel_sum``: sum_k c_k k(x, z_k) with the arc-cosine kernel k, z_k uniform on S^{d-1},
  c_k = d g_k, g_k ~ N(0, 1); RKHS norm sqrt(c^T K_zz c);
- ``sine``: sin(frequency x_1);
- ``teacher_resnet``: a random scaled ResNet of depth L and width M (see :mod:`.networks`);
- ``feature_integral`` (d = 2): (1/2 pi) int_0^{2 pi} a(t) relu(cos t x_1 + sin t x_2) dt with the
  generic coefficient a(t) = exp(sin t + 0.3 cos 2t), evaluated with 2^16 midpoint nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from learners.function_learning.features import arccos_kernel_numpy, sample_features

REFERENCE_NODES = 2 ** 16  # midpoint nodes of the exact feature_integral target


def sample_inputs(kind: str, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` inputs in R^d, shape (n, d)."""
    if kind == "sphere":
        return sample_features("sphere", n, d, rng)
    if kind == "gaussian":
        return rng.standard_normal((n, d)) / math.sqrt(d)
    if kind == "cube":
        return rng.random((n, d))
    raise ValueError(f"unknown input distribution {kind!r}")


@dataclass
class Target:
    """A target function f*: (n, d) -> (n,), with the norms known in closed form.

    ``norms`` maps ``barron_norm`` / ``rkhs_norm`` to the target's norm where it is known;
    ``coefficient`` (feature_integral only) maps features w on S^1, shape (m, 2), to a(w).
    """

    f: Callable[[np.ndarray], np.ndarray]
    norms: dict[str, float] = field(default_factory=dict)
    coefficient: Callable[[np.ndarray], np.ndarray] | None = None


def circle_coefficient(w: np.ndarray) -> np.ndarray:
    """a(t) = exp(sin t + 0.3 cos 2t) at the angles t of the features w (m, 2) on S^1."""
    t = np.arctan2(w[:, 1], w[:, 0])
    return np.exp(np.sin(t) + 0.3 * np.cos(2.0 * t))


def midpoint_nodes(m: int) -> np.ndarray:
    """The ``m`` midpoint quadrature nodes (cos t_j, sin t_j), t_j = 2 pi (j + 1/2)/m, shape (m, 2)."""
    t = 2.0 * math.pi * (np.arange(m) + 0.5) / m
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def feature_sum(x: np.ndarray, w: np.ndarray, a: np.ndarray, chunk: int = 256) -> np.ndarray:
    """(1/m) sum_j a_j relu(w_j.x_i) for x (n, d), w (m, d), a (m,) -> (n,), in chunks of points."""
    out = np.empty(x.shape[0])
    for i in range(0, x.shape[0], chunk):
        out[i:i + chunk] = np.maximum(x[i:i + chunk] @ w.T, 0.0) @ a / w.shape[0]
    return out


def _feature_integral() -> Target:
    nodes = midpoint_nodes(REFERENCE_NODES)
    a = circle_coefficient(nodes)
    return Target(lambda x: feature_sum(x, nodes, a), coefficient=circle_coefficient)


def make_target(kind: str, d: int, rng: np.random.Generator, width: int = 8, depth: int = 4,
                frequency: float = math.pi) -> Target:
    """The target ``kind`` in dimension ``d``; ``width`` is K (barron, kernel_sum) or M
    (teacher_resnet), ``depth`` the teacher's L, ``frequency`` that of ``sine``."""
    if kind == "relu_neuron":
        return Target(lambda x: np.maximum(x[:, 0], 0.0), {"barron_norm": 1.0})
    if kind == "sine":
        return Target(lambda x: np.sin(frequency * x[:, 0]))
    if kind == "barron":
        v, c = sample_features("sphere", width, d, rng), rng.standard_normal(width) / math.sqrt(width)
        return Target(lambda x: np.maximum(x @ v.T, 0.0) @ c,
                      {"barron_norm": float(np.sum(np.abs(c) * np.abs(v).sum(axis=1)))})
    if kind == "kernel_sum":
        z, c = sample_features("sphere", width, d, rng), d * rng.standard_normal(width)
        rkhs2 = float(c @ arccos_kernel_numpy(z, z) @ c)
        return Target(lambda x: arccos_kernel_numpy(x, z) @ c, {"rkhs_norm": math.sqrt(rkhs2)})
    if kind == "teacher_resnet":
        from learners.function_learning.networks import teacher_resnet

        return Target(teacher_resnet(d, depth, width, rng))
    if kind == "feature_integral":
        if d != 2:
            raise ValueError(f"target feature_integral lives on S^1 (d = 2), got d = {d}")
        return _feature_integral()
    raise ValueError(f"unknown target {kind!r}")


def labels(target: Target, x: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """y_i = f*(x_i) + noise * N(0, 1), shape (n,)."""
    y = target.f(x)
    return y + noise * rng.standard_normal(y.shape) if noise > 0 else y
