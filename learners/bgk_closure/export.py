"""Labels for the closure, export of trained networks to plain arrays, and model files.

A model file (``torch.save`` of a dict of tensors, ints and strings; read with
``weights_only=True``) holds ``meta`` (n_extra, widths, activation, ensemble, v_scale,
n_v, and dim where it is 3: files without it are dim 1), ``weights`` (state_dict of
:class:`WeightFunctions`) and ``closure_<k>`` (state_dict of each :class:`ClosureNet`).
"""

import numpy as np
import torch

from .models import N_DIST, SOURCE_FLOOR, ClosureNet, WeightFunctions, maxwellian, moments, temperature

__all__ = ["closure_data", "export_arrays", "save_model", "load_model", "model_mismatch"]


def closure_data(weights, f, v, dv, production=None, kn=None):
    """Inputs and targets of the closure from stacked distributions ``f`` ``(n, n_dist n_v)`` (float64 tensors).

    Returns ``u, T (n,)``, ``z (n, M)`` and the flux targets ``y`` ``(n, n_flux)``: ``(q, G - G_M)/rho`` (dim 1)
    or ``(sigma, q, G - G_M)/rho`` (dim 3; ``sigma = ∫ (v - u)² g / rho - T``, ``q = ∫ (v - u)((v - u)²/2 g + b)
    / rho``), float64. For dim 3 with ``production`` ``(n, n_dist n_v)`` (the stacked collision rate ``C(f)/Kn``
    of each sample) and ``kn`` ``(n,)``, also the source targets ``s = Kn ∫ w · production / rho²`` ``(n, M)``:
    ``dz/dt`` by collisions in units of rho/Kn.
    """
    dim = weights.dim
    n_v = v.shape[0]
    with torch.no_grad():
        rho = f[:, :n_v].sum(-1) * dv
        g = f / rho[:, None]
        _, m, E = moments(g, v, dv, dim)
        u, T = m, temperature(1.0, m, E, dim)
        c = v[None, :] - u[:, None]
        w = weights(v.to(next(weights.parameters()).dtype)).double()
        M = maxwellian(u, T, v, dv, dim)
        z = g @ w.T * dv - M @ w.T
        vs = v.repeat(N_DIST[dim])
        G = (g * vs) @ w.T * dv - (M * vs) @ w.T
        q = 0.5 * (g[:, :n_v] * c ** 3).sum(-1) * dv
        if dim == 1:
            return u, T, z, torch.cat([q[:, None], G], dim=1)
        q = q + (g[:, n_v:] * c).sum(-1) * dv
        sigma = (g[:, :n_v] * c * c).sum(-1) * dv - T
        y = torch.cat([sigma[:, None], q[:, None], G], dim=1)
        if production is None:
            return u, T, z, y
        s = kn[:, None] * (production @ w.T) * dv / (rho * rho)[:, None]
        return u, T, z, y, s


def export_arrays(weights, nets, v):
    """Arrays for :func:`solvers.bgk_moments.make_closure`: ``wtab (M, n_v)`` (for dim 3 also ``wbtab``, the
    weights of b, ``dim`` and ``source_floor``), ``params (K, P)``, ``sizes``, and the standardization vectors of
    the first member (all members share them)."""
    p0 = next(weights.parameters())
    n_v = len(v)
    with torch.no_grad():
        table = weights(torch.as_tensor(v, dtype=p0.dtype, device=p0.device)).double().cpu().numpy()
        params = np.stack([torch.nn.utils.parameters_to_vector(n.parameters()).double().cpu().numpy() for n in nets])
    lin = [m for m in nets[0].net if isinstance(m, torch.nn.Linear)]
    sizes = [lin[0].in_features] + [m.out_features for m in lin]
    n0 = nets[0]
    tables = {"wtab": table[:, :n_v]}
    if weights.dim == 3:
        tables.update(wbtab=table[:, n_v:], dim=3, source_floor=SOURCE_FLOOR)
    return {**tables, "params": params, "sizes": np.array(sizes, dtype=np.int64),
            **{k: getattr(n0, k).cpu().numpy().copy() for k in ("in_shift", "in_scale", "z_scale", "out_scale")}}


def save_model(path, weights, nets, meta):
    """Write a model file (see module docstring)."""
    data = {"meta": dict(meta), "weights": weights.state_dict()}
    for k, n in enumerate(nets):
        data[f"closure_{k}"] = n.state_dict()
    torch.save(data, path)


def _build(meta, dtype):
    dim = meta.get("dim", 1)
    weights = WeightFunctions(meta["n_extra"], meta["widths"], meta["activation"], meta["v_scale"], dim).to(dtype)
    nets = [ClosureNet(meta["n_extra"], meta["widths"], meta["activation"], dim).to(dtype)
            for _ in range(meta["ensemble"])]
    for n in nets:
        for b in ("in_shift", "in_scale", "z_scale", "out_scale"):
            setattr(n, b, getattr(n, b).double())
    return weights, nets


def load_model(path, dtype=torch.float32):
    """``(weights, nets, meta)`` from a model file written by :func:`save_model`."""
    data = torch.load(path, weights_only=True, map_location="cpu")
    meta = data["meta"]
    weights, nets = _build(meta, dtype)
    weights.load_state_dict(data["weights"])
    for k, n in enumerate(nets):
        n.load_state_dict(data[f"closure_{k}"])
    return weights, nets, meta


def model_mismatch(path, expected):
    """None if the model file at ``path`` has the networks that ``expected`` (a meta dict) describes;
    otherwise a one-line reason (unreadable file, different meta entry or tensor shape)."""
    try:
        data = torch.load(path, weights_only=True, map_location="cpu")
        meta = data["meta"]
    except Exception as exc:  # any unreadable or foreign file
        return f"cannot read it as a bgk_closure model file ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"
    for key, want in expected.items():
        got = meta.get(key)
        if (list(got) if isinstance(got, (list, tuple)) else got) != (list(want) if isinstance(want, (list, tuple))
                                                                      else want):
            return f"its {key} is {got!r}, the spec asks for {want!r}"
    weights, nets = _build(expected, torch.float32)
    parts = [("weights", weights)] + [(f"closure_{k}", n) for k, n in enumerate(nets)]
    for name, module in parts:
        if name not in data:
            return f"it has no entry '{name}'"
        for key, tensor in module.state_dict().items():
            stored = data[name].get(key)
            if stored is None or tuple(stored.shape) != tuple(tensor.shape):
                shape = None if stored is None else tuple(stored.shape)
                return f"{name}.{key} has shape {shape}, the spec's networks need {tuple(tensor.shape)}"
    return None
