"""Multilayer perceptrons evaluated from plain arrays inside numba kernels.

A network with layer sizes ``sizes = (n_0, n_1, ..., n_L)`` is one flat float64
array ``params``: for each layer ``l`` the weight matrix ``(n_{l+1}, n_l)`` row by
row, then its bias ``(n_{l+1},)``. Hidden layers apply the activation, the last
one is linear. Activations are integer codes (:data:`ACTIVATIONS`).
"""

import math

import numpy as np
from numba import njit

from ..bgk.vexp import exp_neg

__all__ = ["ACTIVATIONS", "activation_code", "n_params", "forward", "forward_batch"]

ACTIVATIONS = ("tanh", "softplus", "silu")
TANH, SOFTPLUS, SILU = 0, 1, 2


def activation_code(name):
    """Integer code of an activation name: tanh 0, softplus 1, silu 2."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    return ACTIVATIONS.index(name)


def n_params(sizes):
    """Length of the flat parameter array of a network with layer sizes ``sizes``."""
    return int(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])))


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _tanh(x):
    """tanh from one branch-free exponential (``exp_neg``), so that loops of it vectorize;
    absolute error at most one unit in the last place of 1 (2.2e-16)."""
    e = exp_neg(-2.0 * abs(x))
    t = (1.0 - e) / (1.0 + e)
    return t if x >= 0.0 else -t


@njit(cache=True, nogil=True, error_model="numpy")
def _activate(row, code):
    """Apply the activation ``code`` to every entry of ``row`` in place (one loop per code)."""
    if code == TANH:
        for o in range(row.shape[0]):
            row[o] = _tanh(row[o])
    elif code == SOFTPLUS:
        for o in range(row.shape[0]):
            x = row[o]
            row[o] = x + math.log1p(math.exp(-x)) if x > 0.0 else math.log1p(math.exp(x))
    else:
        for o in range(row.shape[0]):
            x = row[o]
            row[o] = x / (1.0 + math.exp(-x))


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "reassoc"})
def forward(params, sizes, code, x, buf, out):
    """``out[:] = net(x)`` for one input ``x`` (``(sizes[0],)``); ``buf`` is scratch ``(2, max(sizes))``.

    Each neuron's dot product is summed in any order (``reassoc``, so that it vectorizes);
    the activation is applied to the whole layer afterwards.
    """
    n_layers = sizes.shape[0] - 1
    for i in range(sizes[0]):
        buf[0, i] = x[i]
    off = 0
    src = 0
    for layer in range(n_layers):
        nin = sizes[layer]
        nout = sizes[layer + 1]
        dst = 1 - src
        boff = off + nin * nout
        xin = buf[src, :nin]
        for o in range(nout):
            w = params[off + o * nin:off + (o + 1) * nin]
            s = 0.0
            for i in range(nin):
                s += w[i] * xin[i]
            buf[dst, o] = s + params[boff + o]
        if layer < n_layers - 1:
            _activate(buf[dst, :nout], code)
        off = boff + nout
        src = dst
    for o in range(sizes[n_layers]):
        out[o] = buf[src, o]


@njit(cache=True, nogil=True, error_model="numpy")
def forward_batch(params, sizes, code, x):
    """Outputs ``(n, sizes[-1])`` of the network for inputs ``x`` ``(n, sizes[0])`` (used by the tests)."""
    n = x.shape[0]
    out = np.empty((n, sizes[sizes.shape[0] - 1]))
    buf = np.empty((2, np.max(sizes)))
    for k in range(n):
        forward(params, sizes, code, x[k], buf, out[k])
    return out
