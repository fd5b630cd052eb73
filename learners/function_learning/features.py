"""Activations, the Gaussian-smoothed ReLU and the arc-cosine kernel (torch, any device/dtype).

Feature distributions pi_0 on R^d: ``sphere`` (uniform on S^{d-1}) and ``gaussian``
(N(0, I/d)). For the ReLU both give the same kernel

    k(x, x') = E_w[relu(w.x) relu(w.x')] = |x| |x'| (sin t + (pi - t) cos t) / (2 pi d),

with cos t = x.x' / (|x| |x'|): the degree-1 arc-cosine kernel of Cho and Saul divided by d.
On the CPU the element-wise part runs in one fused numba loop over the inner products (one
pass, no temporaries; about 4x less CPU than torch's element-wise kernels here); on other
devices in torch.
"""

import math

import numba
import numpy as np
import torch


def sample_features(kind: str, m: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` feature vectors w_j ~ pi_0 in R^d, shape (m, d): uniform on S^{d-1} or N(0, I/d)."""
    w = rng.standard_normal((m, d))
    if kind == "sphere":
        return w / np.linalg.norm(w, axis=1, keepdims=True)
    if kind == "gaussian":
        return w / math.sqrt(d)
    raise ValueError(f"unknown feature distribution {kind!r}")


def smoothed_relu(mu: torch.Tensor, s: torch.Tensor | float) -> torch.Tensor:
    """E_xi relu(mu + s xi), xi ~ N(0, 1): ``s phi(mu/s) + mu Phi(mu/s)``; relu(mu) where s = 0.

    With mu = w.x and s = h |x| this is the ReLU feature of a particle blurred by N(0, h^2 I).
    """
    s = torch.as_tensor(s, dtype=mu.dtype, device=mu.device)
    safe = torch.where(s > 0, s, torch.ones_like(s))
    z = mu / safe
    pdf = torch.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    cdf = 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))
    return torch.where(s > 0, safe * pdf + mu * cdf, torch.relu(mu))


def activate(pre: torch.Tensor, activation: str, x_norm: torch.Tensor | None = None, h: float = 0.0):
    """sigma(pre) for pre = x @ w.T of shape (n, m); with ``h > 0`` (ReLU only) the smoothed ReLU,
    ``x_norm`` (n,) being |x_i|."""
    if activation == "relu":
        if h > 0:
            return smoothed_relu(pre, h * x_norm[:, None])
        return torch.relu(pre)
    if activation == "tanh":
        return torch.tanh(pre)
    raise ValueError(f"unknown activation {activation!r}")


def activate_(pre: torch.Tensor, activation: str) -> torch.Tensor:
    """sigma(pre) in place (no smoothing), for feature blocks written into a reused buffer."""
    if activation == "relu":
        return pre.clamp_(min=0.0)
    if activation == "tanh":
        return pre.tanh_()
    raise ValueError(f"unknown activation {activation!r}")


def arccos_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """k(x_i, y_k) of the ReLU feature model with pi_0 uniform on S^{d-1} (or N(0, I/d)).

    x (n, d), y (p, d) -> (n, p), on x's device and dtype: :func:`arccos_kernel_cpu` for CPU
    float32/float64 tensors, else :func:`arccos_kernel_torch`.
    """
    if x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64):
        return arccos_kernel_cpu(x, y)
    return arccos_kernel_torch(x, y)


def arccos_kernel_torch(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """:func:`arccos_kernel` in torch element-wise operations (any device/dtype), (n, p)."""
    d = x.shape[1]
    nx, ny = x.norm(dim=1), y.norm(dim=1)
    scale = nx[:, None] * ny[None, :]
    cos = ((x @ y.T) / torch.where(scale > 0, scale, torch.ones_like(scale))).clamp(-1.0, 1.0)
    theta = torch.arccos(cos)
    return scale * (torch.sin(theta) + (math.pi - theta) * cos) / (2.0 * math.pi * d)


def arccos_kernel_cpu(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """:func:`arccos_kernel` for CPU tensors: the inner products x @ y.T by torch's BLAS, then
    :func:`_arccos_from_inner` in place on torch.get_num_threads() numba threads, (n, p)."""
    inner = (x @ y.T).contiguous()
    threads = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        _arccos_from_inner(inner.numpy(), x.norm(dim=1).numpy(), y.norm(dim=1).numpy(), x.shape[1])
    finally:
        numba.set_num_threads(before)
    return inner


@numba.njit(parallel=True, cache=True, nogil=True)
def _arccos_from_inner(inner, nx, ny, d):
    """k = |x||y| (sin t + (pi - t) cos t) / (2 pi d) written over the inner products x_i.y_k,
    inner (n, p), nx (n,) = |x_i|, ny (p,) = |y_k|; sin t = sqrt((1 - cos t)(1 + cos t)) and
    cos t = 0 where |x||y| = 0 (the kernel is 0 there)."""
    factor = 1.0 / (2.0 * math.pi * d)
    for i in numba.prange(inner.shape[0]):
        for k in range(inner.shape[1]):
            scale = nx[i] * ny[k]
            cos = min(max(inner[i, k] / scale, -1.0), 1.0) if scale > 0 else 0.0
            inner[i, k] = scale * (math.sqrt((1.0 - cos) * (1.0 + cos)) + (math.pi - math.acos(cos)) * cos) * factor


def arccos_kernel_numpy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:func:`arccos_kernel` on float64 numpy arrays (used by targets)."""
    return arccos_kernel(torch.from_numpy(np.asarray(x, np.float64)),
                         torch.from_numpy(np.asarray(y, np.float64))).numpy()


def warmup() -> None:
    """Compile (or load from numba's cache) :func:`_arccos_from_inner` for float64 and float32."""
    for dtype in (torch.float64, torch.float32):
        arccos_kernel_cpu(torch.ones((1, 2), dtype=dtype), torch.ones((1, 2), dtype=dtype))
