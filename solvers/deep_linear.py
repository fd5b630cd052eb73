"""Gradient descent on deep linear residual networks (ZAS, arXiv:1911.00645).

Model: ``f(x) = W_{L+1} (I + W_L) ... (I + W_1) x`` with residual blocks
``W_l`` (``dim x dim``, ``l = 1..L``, stored as ``w_hidden[l - 1]``) and an
output layer ``V = W_{L+1}`` (``out_dim x dim``, stored as ``w_out``).
With ``P = (I + W_L) ... (I + W_1)`` the population loss is

    R = 1/2 tr((V P - Phi) Lam (V P - Phi)^T),

where ``phi`` (``out_dim x dim``) is the target matrix and ``lam`` (``dim x
dim``, symmetric positive definite) the input covariance. Its gradients, with
``E = (V P - Phi) Lam``, ``Theta_l = I + W_l``, prefix products
``Q_0 = I, Q_l = Theta_l Q_{l-1}`` and suffix products
``S_L = V, S_{l-1} = S_l Theta_l``, are

    dR/dV = E P^T,    dR/dW_l = S_l^T E Q_{l-1}^T,

which costs O(L dim^3) per step. Every quantity in this module is
nondimensional (units "1"): weights, targets, covariances, losses, step sizes
and singular values are pure numbers, and steps are counted in iterations.

The kernels are numba-compiled for float64 C-contiguous arrays only, so each
compiles once; the public functions check and convert their inputs.
"""

import contextlib
import enum

import numba
import numpy as np
from numba import njit, prange

__all__ = [
    "Status",
    "loss_and_gradients",
    "gradient_descent",
    "product",
    "sigma_min",
    "invariant_drift",
    "balance_drift",
    "check_records",
    "warmup",
    "initial_weights",
    "target_matrix",
    "INIT_SCHEMES",
    "TARGET_KINDS",
]

INIT_SCHEMES = ("zas", "identity", "near_identity", "xavier")
TARGET_KINDS = (
    "gaussian",
    "negative_identity",
    "orthogonal",
    "negative_definite",
    "positive_definite",
    "diagonal",
    "matrix",
)


# Below this depth * dim**3, waking worker threads costs more than the parallel
# products save: small networks never gain from threads, larger ones do
# (measurements in docs/performance.md).
_PARALLEL_MIN_WORK = 1 << 17


class Status(enum.IntEnum):
    """Why :func:`gradient_descent` stopped."""

    CONVERGED = 0  # loss <= tol at the current iterate
    MAX_STEPS = 1  # n_steps updates taken without reaching tol
    DIVERGED = 2  # loss at the current iterate is not finite


# ---------------------------------------------------------------------------
# numba kernels (float64, C-contiguous)
# ---------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _prefix_products(w_hidden, prefix):
    """Fill ``prefix[l] = Q_l = (I + W_l) ... (I + W_1)``, ``prefix[0] = I``.

    prefix: (L + 1, dim, dim), overwritten.
    """
    prefix[0] = np.eye(prefix.shape[1])
    for l in range(w_hidden.shape[0]):
        np.dot(w_hidden[l], prefix[l], prefix[l + 1])
        prefix[l + 1] += prefix[l]


@njit(cache=True, nogil=True)
def _suffix_products(w_hidden, w_out, suffix):
    """Fill ``suffix[l] = S_l = V (I + W_L) ... (I + W_{l+1})``, ``suffix[L] = V``.

    suffix: (L + 1, out_dim, dim), overwritten; ``suffix[0] = V P``.
    """
    depth = w_hidden.shape[0]
    suffix[depth] = w_out
    for l in range(depth, 0, -1):
        np.dot(suffix[l], w_hidden[l - 1], suffix[l - 1])
        suffix[l - 1] += suffix[l]


@njit(cache=True, nogil=True, parallel=True)
def _chain_products(w_hidden, w_out, prefix, suffix):
    """Prefix and suffix products; the two chains run on two threads."""
    for chain in prange(2):
        if chain == 0:
            _prefix_products(w_hidden, prefix)
        else:
            _suffix_products(w_hidden, w_out, suffix)


@njit(cache=True, nogil=True)
def _loss(phi, lam, suffix, err):
    """Return ``R = 1/2 tr(Res Lam Res^T)`` with ``Res = V P - Phi = suffix[0] - Phi``.

    Stores ``E = Res Lam`` (out_dim, dim) in ``err``.
    """
    residual = suffix[0] - phi
    np.dot(residual, lam, err)
    return 0.5 * np.sum(residual * err)


@njit(cache=True, nogil=True, parallel=True)
def _gradients(prefix, suffix, err, g_hidden, g_out):
    """Fill ``g_out = E P^T`` and ``g_hidden[l - 1] = S_l^T E Q_{l-1}^T``.

    The L per-layer products are independent and run in parallel.
    """
    depth = g_hidden.shape[0]
    np.dot(err, prefix[depth].T, g_out)
    for l in prange(depth):
        np.dot(np.dot(suffix[l + 1].T, err), prefix[l].T, g_hidden[l])


@njit(cache=True, nogil=True)
def _workspace(w_hidden, w_out):
    """Buffers (prefix, suffix, err, g_hidden, g_out) for one network."""
    depth, dim = w_hidden.shape[0], w_hidden.shape[1]
    out_dim = w_out.shape[0]
    prefix = np.empty((depth + 1, dim, dim))
    suffix = np.empty((depth + 1, out_dim, dim))
    return prefix, suffix, np.empty_like(w_out), np.empty_like(w_hidden), np.empty_like(w_out)


@njit(cache=True, nogil=True)
def _smallest_singular_value(matrix):
    """sigma_min of a square matrix; NaN if it has a non-finite entry."""
    if not np.all(np.isfinite(matrix)):
        return np.nan
    return np.linalg.svd(matrix)[1][-1]


@njit(cache=True, nogil=True)
def _descend(weights, gradient, lr):
    """``weights -= lr * gradient`` in place, without a temporary."""
    w = weights.reshape(-1)
    g = gradient.reshape(-1)
    for i in range(w.size):
        w[i] -= lr * g[i]


@njit(cache=True, nogil=True)
def _gradient_descent(w_hidden, w_out, phi, lam, lr, n_steps, tol, every, start, losses, sigma_mins):
    prefix, suffix, err, g_hidden, g_out = _workspace(w_hidden, w_out)
    depth = w_hidden.shape[0]
    for i in range(n_steps):
        _chain_products(w_hidden, w_out, prefix, suffix)
        loss = _loss(phi, lam, suffix, err)
        step = start + i
        if step % every == 0:
            losses[step // every] = loss
            sigma_mins[step // every] = _smallest_singular_value(prefix[depth])
        if not np.isfinite(loss):
            return i, Status.DIVERGED
        if loss <= tol:
            return i, Status.CONVERGED
        _gradients(prefix, suffix, err, g_hidden, g_out)
        _descend(w_hidden, g_hidden, lr)
        _descend(w_out, g_out, lr)
    return n_steps, Status.MAX_STEPS


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def _checked(w_hidden, w_out, phi, lam):
    """Check shapes; return the arrays as float64 C-contiguous (copies only if needed)."""
    w_hidden, w_out, phi, lam = (np.ascontiguousarray(a, dtype=np.float64) for a in (w_hidden, w_out, phi, lam))
    if w_hidden.ndim != 3 or w_hidden.shape[1] != w_hidden.shape[2]:
        raise ValueError(f"w_hidden must have shape (depth, dim, dim), got {w_hidden.shape}")
    dim = w_hidden.shape[1]
    if w_out.ndim != 2 or w_out.shape[1] != dim:
        raise ValueError(f"w_out must have shape (out_dim, {dim}), got {w_out.shape}")
    if phi.shape != w_out.shape:
        raise ValueError(f"phi must have the shape of w_out {w_out.shape}, got {phi.shape}")
    if lam.shape != (dim, dim):
        raise ValueError(f"lam must have shape ({dim}, {dim}), got {lam.shape}")
    return w_hidden, w_out, phi, lam


@contextlib.contextmanager
def _threads_for(w_hidden):
    """Run the kernels on one thread for small networks, else on numba's configured threads."""
    threads = numba.get_num_threads()
    if w_hidden.shape[0] * w_hidden.shape[1] ** 3 < _PARALLEL_MIN_WORK:
        numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def check_records(n_steps, every, start, losses, sigma_mins):
    """Check the arguments that say what a gradient-descent call records.

    Steps ``start .. start + n_steps - 1`` may be evaluated; step ``k`` with
    ``k % every == 0`` is written at index ``k // every``, so both record
    arrays need more than ``(start + n_steps - 1) // every`` entries.
    """
    if n_steps < 0 or start < 0 or every < 1:
        raise ValueError(f"need n_steps >= 0, start >= 0, every >= 1; got {n_steps}, {start}, {every}")
    needed = (start + n_steps - 1) // every + 1 if n_steps else 0
    for name, record in (("losses", losses), ("sigma_mins", sigma_mins)):
        if not (isinstance(record, np.ndarray) and record.dtype == np.float64 and record.ndim == 1):
            raise ValueError(f"{name} must be a 1-D float64 numpy array")
        if record.shape[0] < needed:
            raise ValueError(f"{name} has {record.shape[0]} entries, steps up to {start + n_steps - 1} need {needed}")


def loss_and_gradients(w_hidden, w_out, phi, lam):
    """Loss and its gradients at one point.

    Parameters
    ----------
    w_hidden : (L, dim, dim) array, residual blocks W_1..W_L.
    w_out : (out_dim, dim) array, output layer W_{L+1}.
    phi : (out_dim, dim) array, target matrix.
    lam : (dim, dim) array, input covariance (symmetric positive definite).

    Returns
    -------
    loss : float, ``1/2 tr((V P - Phi) Lam (V P - Phi)^T)``.
    g_hidden : (L, dim, dim) array, dR/dW_l.
    g_out : (out_dim, dim) array, dR/dW_{L+1}.

    All quantities are nondimensional.
    """
    w_hidden, w_out, phi, lam = _checked(w_hidden, w_out, phi, lam)
    prefix, suffix, err, g_hidden, g_out = _workspace(w_hidden, w_out)
    with _threads_for(w_hidden):
        _chain_products(w_hidden, w_out, prefix, suffix)
        loss = _loss(phi, lam, suffix, err)
        _gradients(prefix, suffix, err, g_hidden, g_out)
    return loss, g_hidden, g_out


def gradient_descent(w_hidden, w_out, phi, lam, lr, n_steps, tol, every, losses, sigma_mins, start=0):
    """Full-batch gradient descent, updating ``w_hidden`` and ``w_out`` in place.

    Each step evaluates the loss at the current iterate, stops if it is not
    finite (``Status.DIVERGED``) or ``<= tol`` (``Status.CONVERGED``), and
    otherwise updates all layers simultaneously with step size ``lr``. After
    ``n_steps`` updates it stops with ``Status.MAX_STEPS``. The run is
    deterministic.

    Steps are numbered globally from ``start`` so that a run can be done in
    chunks: call again with ``start += steps``. At every evaluated step ``k``
    with ``k % every == 0`` the loss and ``sigma_min(P)`` (NaN if P is not
    finite) of the iterate *before* its update are written to
    ``losses[k // every]`` and ``sigma_mins[k // every]``.

    Parameters
    ----------
    w_hidden : (L, dim, dim) float64 C-contiguous array, updated in place.
    w_out : (out_dim, dim) float64 C-contiguous array, updated in place.
    phi : (out_dim, dim) array, target matrix.
    lam : (dim, dim) array, input covariance.
    lr : float, step size.
    n_steps : int, maximum number of updates in this call.
    tol : float, loss at or below which the run has converged.
    every : int, record every ``every``-th global step.
    losses, sigma_mins : 1-D float64 arrays, written as described above.
    start : int, global number of the first step of this call.

    Returns
    -------
    steps : int, updates taken in this call; the stopping iterate is global
        step ``start + steps``.
    status : Status.

    All quantities are nondimensional.
    """
    checked = _checked(w_hidden, w_out, phi, lam)
    if not all(c is w and w.flags.writeable for c, w in zip(checked, (w_hidden, w_out))):
        raise ValueError("w_hidden and w_out must be writeable float64 C-contiguous arrays: they are updated in place")
    check_records(n_steps, every, start, losses, sigma_mins)
    with _threads_for(w_hidden):
        return _gradient_descent(
            *checked, float(lr), int(n_steps), float(tol), int(every), int(start), losses, sigma_mins
        )


def product(w_hidden):
    """``P = (I + W_L) ... (I + W_1)``, shape (dim, dim), from w_hidden (L, dim, dim)."""
    w_hidden = np.ascontiguousarray(w_hidden, dtype=np.float64)
    depth, dim = w_hidden.shape[0], w_hidden.shape[1]
    prefix = np.empty((depth + 1, dim, dim))
    _prefix_products(w_hidden, prefix)
    return prefix[depth].copy()


def sigma_min(w_hidden):
    """Smallest singular value of ``P = (I + W_L) ... (I + W_1)``; w_hidden (L, dim, dim)."""
    return float(np.linalg.svd(product(w_hidden), compute_uv=False)[-1])


def invariant_drift(w_hidden, w_out):
    """``||W_{L+1}^T W_{L+1} - Theta_L Theta_L^T + I||_F`` with ``Theta_L = I + W_L``.

    Gradient flow from ZAS keeps this at 0; gradient descent keeps it O(lr).
    w_hidden (L >= 1, dim, dim), w_out (out_dim, dim).
    """
    w_hidden, w_out = np.asarray(w_hidden, dtype=np.float64), np.asarray(w_out, dtype=np.float64)
    if w_hidden.shape[0] < 1:
        raise ValueError("invariant_drift needs depth >= 1")
    eye = np.eye(w_hidden.shape[1])
    theta = eye + w_hidden[-1]
    return float(np.linalg.norm(w_out.T @ w_out - theta @ theta.T + eye))


def balance_drift(w_hidden):
    """``max_l ||Theta_{l+1}^T Theta_{l+1} - Theta_l Theta_l^T||_F`` over l = 1..L-1.

    Gradient flow keeps hidden layers balanced; 0.0 for depth < 2.
    w_hidden (L, dim, dim).
    """
    theta = np.eye(np.shape(w_hidden)[1]) + np.asarray(w_hidden, dtype=np.float64)
    gram_left = np.swapaxes(theta[1:], 1, 2) @ theta[1:]
    gram_right = theta[:-1] @ np.swapaxes(theta[:-1], 1, 2)
    return float(np.max(np.linalg.norm(gram_left - gram_right, axis=(1, 2)), initial=0.0))


# ---------------------------------------------------------------------------
# initializations and targets (plain numpy)
# ---------------------------------------------------------------------------


def _require_square(what, dim, out_dim):
    if out_dim != dim:
        raise ValueError(f"{what} needs out_dim == dim, got out_dim={out_dim}, dim={dim}")


def initial_weights(scheme, depth, dim, out_dim, noise, rng):
    """Initial ``(w_hidden, w_out)``, shapes (depth, dim, dim) and (out_dim, dim).

    Schemes:
      'zas': W_l = 0 and W_{L+1} = 0 (zero-asymmetric).
      'identity', 'near_identity': W_l = 0 and W_{L+1} = I (out_dim == dim).
      'xavier': I + W_l and W_{L+1} with iid N(0, 1/dim) entries.
    Then iid N(0, noise^2) entries are added to every W_l and to W_{L+1};
    ``noise = 0`` draws nothing from ``rng`` (a numpy.random.Generator, which
    may then be None for the non-random schemes).
    All quantities are nondimensional.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; expected one of {INIT_SCHEMES}")
    if depth < 0 or dim < 1 or out_dim < 1 or noise < 0:
        raise ValueError(f"need depth >= 0, dim >= 1, out_dim >= 1, noise >= 0; got {depth}, {dim}, {out_dim}, {noise}")
    w_hidden = np.zeros((depth, dim, dim))
    w_out = np.zeros((out_dim, dim))
    if scheme in ("identity", "near_identity"):
        _require_square(f"init {scheme!r}", dim, out_dim)
        w_out = np.eye(dim)
    elif scheme == "xavier":
        w_hidden = rng.standard_normal((depth, dim, dim)) / np.sqrt(dim) - np.eye(dim)
        w_out = rng.standard_normal((out_dim, dim)) / np.sqrt(dim)
    if noise > 0:
        w_hidden += noise * rng.standard_normal(w_hidden.shape)
        w_out += noise * rng.standard_normal(w_out.shape)
    return w_hidden, w_out


def _random_orthogonal(dim, rng):
    """Haar-random orthogonal matrix with determinant -1."""
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) > 0:
        q[:, 0] = -q[:, 0]
    return q


def target_matrix(kind, dim, out_dim, scale, rng, values=None, matrix=None):
    """Target matrix ``phi`` of shape (out_dim, dim), multiplied by ``scale``.

    Kinds (G has iid N(0, 1) entries, drawn from the numpy.random.Generator ``rng``):
      'gaussian': G / sqrt(dim), G of shape (out_dim, dim).
      'negative_identity': -I.
      'orthogonal': random orthogonal matrix with determinant -1.
      'negative_definite': -(I + G G^T / dim) / 2.
      'positive_definite': (I + G G^T / dim) / 2.
      'diagonal': diag(values), len(values) == dim.
      'matrix': ``matrix`` itself, shape (out_dim, dim).
    All kinds except 'gaussian' and 'matrix' are square and need out_dim == dim.
    All quantities are nondimensional.
    """
    if kind not in TARGET_KINDS:
        raise ValueError(f"unknown target kind {kind!r}; expected one of {TARGET_KINDS}")
    if kind == "gaussian":
        return scale * rng.standard_normal((out_dim, dim)) / np.sqrt(dim)
    if kind == "matrix":
        phi = np.array(matrix, dtype=np.float64)
        if phi.shape != (out_dim, dim):
            raise ValueError(f"target 'matrix' must have shape ({out_dim}, {dim}), got {phi.shape}")
        return scale * phi
    _require_square(f"target {kind!r}", dim, out_dim)
    if kind == "negative_identity":
        return -scale * np.eye(dim)
    if kind == "orthogonal":
        return scale * _random_orthogonal(dim, rng)
    if kind == "diagonal":
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (dim,):
            raise ValueError(f"target 'diagonal' needs {dim} values, got shape {values.shape}")
        return scale * np.diag(values)
    g = rng.standard_normal((dim, dim))
    spd = (np.eye(dim) + g @ g.T / dim) / 2
    return scale * spd if kind == "positive_definite" else -scale * spd


def warmup():
    """Compile (or load from numba's on-disk cache) every kernel of this module on a tiny network.

    Call it once before starting parallel workers, so that they do not compile
    and write the same cache files at the same time.
    """
    w_hidden, w_out = np.zeros((1, 1, 1)), np.zeros((1, 1))
    phi, lam, records = np.ones((1, 1)), np.eye(1), np.zeros(2)
    loss_and_gradients(w_hidden, w_out, phi, lam)
    gradient_descent(w_hidden, w_out, phi, lam, 0.1, 1, 0.0, 1, records, records.copy())
    sigma_min(w_hidden)
