"""Multilayer perceptrons evaluated from plain arrays inside numba kernels, a block of inputs at a time.

A network with layer sizes ``sizes = (n_0, n_1, ..., n_L)`` is one flat float64
array ``params``: for each layer ``l`` the weight matrix ``(n_{l+1}, n_l)`` row by
row, then its bias ``(n_{l+1},)``. Hidden layers apply the activation, the last
one is linear. Activations are integer codes (:data:`ACTIVATIONS`).
"""

import math

import numpy as np
from numba import njit

from ..bgk.vexp import exp_neg

__all__ = ["ACTIVATIONS", "activation_code", "n_params", "forward_cells"]

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


@njit(cache=True, nogil=True, error_model="numpy")
def forward_cells(params, sizes, code, x, buf):
    """Outputs ``(n, sizes[-1])`` of the network for ``n`` inputs ``x`` ``(n, sizes[0])`` (C-contiguous).

    ``buf`` is scratch ``(2, n * max(sizes))``; the result is a view into it. Each layer is one
    matrix product (BLAS ``dgemm`` through ``np.dot``), then the bias and, for hidden layers, the
    activation over the whole layer.
    """
    n = x.shape[0]
    n_layers = sizes.shape[0] - 1
    src = x
    off = 0
    for layer in range(n_layers):
        nin = sizes[layer]
        nout = sizes[layer + 1]
        w = params[off:off + nin * nout].reshape((nout, nin))
        bias = params[off + nin * nout:off + nin * nout + nout]
        dst = buf[layer % 2, :n * nout].reshape((n, nout))
        np.dot(src, w.T, dst)
        for c in range(n):
            for o in range(nout):
                dst[c, o] += bias[o]
        if layer < n_layers - 1:
            _activate(buf[layer % 2, :n * nout], code)
        off += nin * nout + nout
        src = dst
    return src
