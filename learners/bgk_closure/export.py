"""Labels for the closure, export of trained networks to plain arrays, and model files.

A model file (``torch.save`` of a dict of tensors, ints and strings; read with
``weights_only=True``) holds ``meta`` (n_extra, widths, activation, ensemble, v_scale,
n_v), ``weights`` (state_dict of :class:`WeightFunctions`) and ``closure_<k>`` (state_dict of
each :class:`ClosureNet`).
"""

import numpy as np
import torch

from .models import ClosureNet, WeightFunctions, maxwellian

__all__ = ["closure_data", "export_arrays", "save_model", "load_model", "model_mismatch"]


def closure_data(weights, f, v, dv):
    """Inputs and targets of the closure from distributions ``f`` ``(n, n_v)`` (float64 tensors).

    Returns ``u, T (n,)``, ``z (n, M)`` and ``y = (q, G - G_M)/rho`` ``(n, 1 + M)``, float64.
    """
    with torch.no_grad():
        rho = f.sum(-1) * dv
        g = f / rho[:, None]
        u = (g * v).sum(-1) * dv
        c = v[None, :] - u[:, None]
        T = (g * c * c).sum(-1) * dv
        w = weights(v.to(next(weights.parameters()).dtype)).double()
        M = maxwellian(u, T, v, dv)
        z = g @ w.T * dv - M @ w.T
        q = 0.5 * (g * c ** 3).sum(-1) * dv
        G = (g * v) @ w.T * dv - (M * v) @ w.T
        return u, T, z, torch.cat([q[:, None], G], dim=1)


def export_arrays(weights, nets, v):
    """Arrays for :func:`solvers.bgk_moments.make_closure`: ``wtab (M, n_v)``, ``params (K, P)``, ``sizes``,
    and the standardization vectors of the first member (all members share them)."""
    p0 = next(weights.parameters())
    with torch.no_grad():
        wtab = weights(torch.as_tensor(v, dtype=p0.dtype, device=p0.device)).double().cpu().numpy()
        params = np.stack([torch.nn.utils.parameters_to_vector(n.parameters()).double().cpu().numpy() for n in nets])
    lin = [m for m in nets[0].net if isinstance(m, torch.nn.Linear)]
    sizes = [lin[0].in_features] + [m.out_features for m in lin]
    n0 = nets[0]
    return {"wtab": wtab, "params": params, "sizes": np.array(sizes, dtype=np.int64),
            **{k: getattr(n0, k).cpu().numpy().copy() for k in ("in_shift", "in_scale", "z_scale", "out_scale")}}


def save_model(path, weights, nets, meta):
    """Write a model file (see module docstring)."""
    data = {"meta": dict(meta), "weights": weights.state_dict()}
    for k, n in enumerate(nets):
        data[f"closure_{k}"] = n.state_dict()
    torch.save(data, path)


def _build(meta, dtype):
    weights = WeightFunctions(meta["n_extra"], meta["widths"], meta["activation"], meta["v_scale"]).to(dtype)
    nets = [ClosureNet(meta["n_extra"], meta["widths"], meta["activation"]).to(dtype) for _ in range(meta["ensemble"])]
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
