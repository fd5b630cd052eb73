"""bgk_closure evaluation: the fixed ``sine`` case against research/bgk.md §5's Euler and NS table, and the
refined kinetic truth (``evaluation.refine``) converging at second order."""

import numpy as np
import pytest
import torch

from engine.kinds.bgk_closure.run.evaluate import MODELS, QUANTITIES, evaluate
from engine.kinds.bgk_closure.run.source import coarsen
from engine.kinds.bgk_closure.spec import BGKClosureSpec, phase_grid
from learners import bgk_closure as lc
from solvers import bgk_moments

# research/bgk.md §5 (N_x = 200, N_v = 100, t = 0.1): relative L2 errors of (rho, m, T) against the kinetic solution
BRIEF_TABLE = {
    1e-2: {"euler": (9.0e-4, 3.0e-2, 6.7e-3), "navier_stokes": (2.2e-4, 4.1e-3, 6.6e-4)},
    1.0: {"euler": (3.1e-3, 1.3e-1, 3.8e-2), "navier_stokes": (1.5e-2, 3.1e-1, 4.6e-2)},
}


def _spec(n_x, kn, refine=1):
    return BGKClosureSpec(kinetic={"grid": {"n_x": n_x}, "velocity": {"v_max": 10.0, "n_v": 100}},
                          moments={"n_extra": 3}, evaluation={"families": ["sine"], "kn": kn, "refine": refine})


def _evaluate(spec):
    """Evaluation of the fixed case with a small random closure (its errors are not checked here)."""
    grid = phase_grid(spec)
    torch.manual_seed(0)
    weights = lc.WeightFunctions(3, [8], "tanh", 1.0).double()
    nets = [lc.ClosureNet(3, [8], "tanh").double()]
    closure = bgk_moments.make_closure(grid.v, grid.dv, activation="tanh", **lc.export_arrays(weights, nets, grid.v))
    return evaluate(spec, closure, (weights, nets), ctx=None)  # the fixed cases draw nothing


def test_sine_case_reproduces_the_briefs_euler_and_navier_stokes_errors():
    ds = _evaluate(_spec(200, list(BRIEF_TABLE)))
    err = ds["rel_error"].sel(family="sine", draw=0)
    for kn, models in BRIEF_TABLE.items():
        for model, values in models.items():
            got = err.sel(kn=kn, model=model).values
            np.testing.assert_allclose(got, values, rtol=0.05, err_msg=f"{model} at Kn {kn}")
    assert np.all(ds["kinetic_grid_error"].sel(draw=0).values == 0.0)  # refine 1: the truth is the same-grid solution
    assert np.all(np.isnan(ds["rel_error"].sel(family="sine", draw=slice(1, None)).values))  # a single case


def test_refined_truth_converges_at_second_order():
    errors = [_evaluate(_spec(n_x, [1e-3, 1.0], refine=2))["kinetic_grid_error"].sel(family="sine", draw=0).values
              for n_x in (50, 100)]
    ratio = errors[0] / errors[1]  # (kn, quantity)
    assert np.all(errors[1] > 0)
    assert np.all(ratio > 2.8), f"error ratios under halving dx: {ratio} (2 would be first order)"


def test_coarsen_averages_consecutive_cells():
    f = np.arange(2 * 1 * 6 * 3, dtype=float).reshape(2, 1, 6, 3)
    np.testing.assert_array_equal(coarsen(f, 3)[1, 0, 1], f[1, 0, 3:6].mean(axis=0))
    a = np.arange(12.0).reshape(2, 6)
    np.testing.assert_array_equal(coarsen(a, 2), [[0.5, 2.5, 4.5], [6.5, 8.5, 10.5]])
    assert coarsen(a, 1) is a


@pytest.mark.parametrize("family", ["sine", "sod"])
def test_fixed_cases_have_every_model_and_quantity(family):
    spec = BGKClosureSpec(kinetic={"grid": {"n_x": 32}, "velocity": {"v_max": 10.0, "n_v": 64}},
                          data={"kn": [0.01, 10.0]}, moments={"n_extra": 3},
                          evaluation={"families": [family], "kn": [1.0], "refine": 2})
    ds = _evaluate(spec)
    assert ds.sizes["model"] == len(MODELS) and ds.sizes["quantity"] == len(QUANTITIES)
    case0 = ds["rel_error"].sel(family=family, draw=0, model=["euler", "navier_stokes"])
    assert np.all(np.isfinite(case0.values)) and np.all(case0.values > 0)


def _errors(values: dict) -> "xr.DataArray":
    """mean_rel_error over (kn, family, model, quantity) from {(family, model, quantity): errors over KN}."""
    import xarray as xr

    families = sorted({f for f, _, _ in values})
    data = np.full((len(CRITERIA_KN), len(families), len(MODELS), len(QUANTITIES)), np.nan)
    for (f, model, q), errors in values.items():
        data[:, families.index(f), MODELS.index(model), QUANTITIES.index(q)] = errors
    return xr.DataArray(data, dims=("kn", "family", "model", "quantity"),
                        coords={"kn": CRITERIA_KN, "family": families, "model": list(MODELS),
                                "quantity": list(QUANTITIES)})


CRITERIA_KN = [1e-3, 1e-2, 1e-1, 1.0, 10.0]
#: the wave family of paper.yaml's evaluation (docs/kinds/bgk_closure.md), learned / Euler / NS
PAPER_WAVE = {
    ("wave", "learned", "m"): [1.2e-2, 9.6e-3, 3.1e-2, 4.9e-2, 5.2e-2],
    ("wave", "euler", "m"): [4.0e-2, 2.8e-1, 5.3e-1, 5.7e-1, 5.7e-1],
    ("wave", "navier_stokes", "m"): [8.0e-3, 6.9e-2, 5.8e-1, 1.0, 1.1],
    ("wave", "learned", "T"): [2.5e-3, 1.6e-3, 8.2e-3, 1.2e-2, 1.3e-2],
    ("wave", "euler", "T"): [6.6e-3, 4.8e-2, 1.0e-1, 1.2e-1, 1.2e-1],
    ("wave", "navier_stokes", "T"): [1.8e-3, 1.1e-2, 1.0e-1, 1.8e-1, 2.0e-1],
}


def test_acceptance_criteria_judge_the_measured_errors():
    """The verdicts of issue 26's criteria on paper.yaml's wave errors (all met, the Kn = 1e-3 ratio 1.5 exactly
    at its bound), and what fails them: a learned error above 0.2 x min(Euler, NS), a 10x variation, a NaN, the
    sine wave's rho above 1e-3."""
    from engine.kinds.bgk_closure.criteria import verdicts

    found = {(v.family, v.criterion): v for v in verdicts(_errors(PAPER_WAVE))}
    assert len(found) == 8 and all(v.met for v in found.values()), [v.line() for v in found.values() if not v.met]
    assert found["wave", "m <= 1.5 x NS at Kn = 1e-3 (largest ratio)"].measured == pytest.approx(1.5)
    assert found["wave", "T varies < 10x across Kn (max / min)"].measured == pytest.approx(1.3e-2 / 1.6e-3)
    worse = dict(PAPER_WAVE)
    worse["wave", "learned", "m"] = [1.2e-2, 1.5e-2, 3.1e-2, 4.9e-2, 1.2e-1]   # 0.217 x NS at Kn 1e-2; 12.5x
    worse["wave", "learned", "T"] = [2.5e-3, np.nan, 8.2e-3, 1.2e-2, 1.3e-2]
    worse |= {("sine", "learned", q): [1e-3, 1e-3, 1e-3, 2e-3 if q == "rho" else 1e-3, 1e-3]
              for q in ("rho", "m", "T")}
    failed = {v.criterion for v in verdicts(_errors(worse)) if not v.met}
    assert failed == {"m <= 0.2 x min(Euler, NS) at Kn >= 1e-2 (largest ratio)", "m varies < 10x across Kn (max / min)",
                      "m <= 0.1 at every Kn (largest)", "T <= 0.2 x min(Euler, NS) at Kn >= 1e-2 (largest ratio)",
                      "T varies < 10x across Kn (max / min)", "T <= 0.03 at every Kn (largest)",
                      "rho <= 0.001 at every Kn (largest)"}
