"""Kernel and random-feature fits of ``function_learning``: this project's estimators (what ``engine run``
calls: :func:`engine.kinds.function_learning.run.fit.fit` on a resolved spec) against the pipelines a user
would otherwise write with numpy/scipy and scikit-learn, interleaved in one run.

Problem: n = 3200 training points uniform on S^19 (d = 20), target relu(x_1), test error on 1000 fresh
points; ReLU features uniform on the sphere (m = 20 000, and m = 800 for the m < n primal ridge).

- kernel ridge (lam = 1e-6): the project (arc-cosine kernel once, fused numba loop on the CPU; Cholesky)
  against scikit-learn ``KernelRidge(alpha=n lam, kernel="precomputed")`` fed the same kernel written in
  numpy (its time included);
- kernel min-norm: the project (Cholesky, eigen pseudo-inverse if K is singular) against the numpy kernel
  and ``scipy.linalg.solve(K, y, assume_a="pos")``;
- random-feature ridge (lam = 1e-6): the project (the n x n dual system for m > n, float32 Gram matrix and
  float64 refinement; the m x m primal system for m < n) against scikit-learn ``Ridge(alpha=n lam/m)`` on the
  dense features Phi/m (the same objective: (1/n)|f - y|^2 + lam (1/m)|a|^2 times n);
- random-feature min-norm: the project in float64 and float32, the dense numpy pipeline with
  ``scipy.linalg.solve(assume_a="pos")``, and scikit-learn ``Ridge(alpha=1e-14)`` (it solves K shifted by
  m alpha = 2e-10, which gives the min-norm test error to 6 digits).

The implementations of one problem take turns ``repeat`` rounds and each counts with its shortest wall time;
ratio = peer's time / project's time (above 1: the project is faster). Equal error: the relative
difference of the test MSEs, against 1e-6. scikit-learn is not a dependency of this project (``pip install
-e '.[bench]'``); its rows are left out where it is missing. The machine's load average (os.getloadavg)
is recorded before and after.

Run: ``python -m benchmarks.bench_function_learning``.
"""

import importlib.util
import math
import os
import time

import numpy as np
import scipy.linalg
import torch

from engine.kind import RunContext
from engine.kinds.function_learning.run.data import Data
from engine.kinds.function_learning.run.fit import fit
from engine.kinds.function_learning.spec import FunctionLearningSpec
from learners.function_learning import data as fdata
from learners.function_learning.features import sample_features

N, D, N_TEST, WIDTH, NARROW, LAM = 3200, 20, 1000, 20_000, 800, 1e-6
EQUAL_ERROR = 1e-6  # relative difference of test MSEs that counts as equal


def _spec(model: dict, fit_section: dict, dtype: str = "float64") -> FunctionLearningSpec:
    return FunctionLearningSpec.model_validate({
        "kind": "function_learning", "name": "bench", "data": {"d": D, "n": N, "n_test": N_TEST},
        "model": model, "fit": fit_section, "backend": {"device": "cpu", "dtype": dtype}})


def project(spec: FunctionLearningSpec, x, y, x_test):
    """Test predictions (p,) of the engine's fit of ``spec`` on (x, y), seed 0 (its feature stream)."""
    dtype = getattr(torch, spec.backend.dtype)
    t = [torch.tensor(a, dtype=dtype) for a in (x, y, x_test)]
    data = Data(t[0], t[1], t[2], torch.zeros(len(x_test), dtype=dtype), fdata.Target(lambda z: z[:, 0]))
    return fit(spec, data, RunContext(seed=0)).f_test.double().numpy()


def features(m: int) -> np.ndarray:
    """The (m, d) features the engine draws for seed 0 (stream ``features``)."""
    return sample_features("sphere", m, D, RunContext(seed=0).rng("features"))


def numpy_arccos_kernel(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """|x||z| (sin t + (pi - t) cos t)/(2 pi d) in numpy element-wise operations, (n, p)."""
    scale = np.outer(np.linalg.norm(x, axis=1), np.linalg.norm(z, axis=1))
    cos = np.clip(x @ z.T / scale, -1.0, 1.0)
    t = np.arccos(cos)
    return scale * (np.sin(t) + (math.pi - t) * cos) / (2.0 * math.pi * x.shape[1])


def sklearn_kernel_ridge(x, y, x_test, lam):
    from sklearn.kernel_ridge import KernelRidge

    model = KernelRidge(alpha=len(x) * lam, kernel="precomputed").fit(numpy_arccos_kernel(x, x), y)
    return model.predict(numpy_arccos_kernel(x_test, x))


def scipy_kernel_min_norm(x, y, x_test):
    c = scipy.linalg.solve(numpy_arccos_kernel(x, x), y, assume_a="pos")
    return numpy_arccos_kernel(x_test, x) @ c


def sklearn_feature_ridge(x, y, x_test, w, alpha):
    from sklearn.linear_model import Ridge

    m = w.shape[0]
    model = Ridge(alpha=alpha, fit_intercept=False).fit(np.maximum(x @ w.T, 0.0) / m, y)
    return model.predict(np.maximum(x_test @ w.T, 0.0) / m)


def numpy_feature_min_norm(x, y, x_test, w):
    m = w.shape[0]
    phi = np.maximum(x @ w.T, 0.0)
    c = scipy.linalg.solve(phi @ phi.T / m, y, assume_a="pos")
    return np.maximum(x_test @ w.T, 0.0) @ (phi.T @ c) / m


def _have_sklearn() -> bool:
    return importlib.util.find_spec("sklearn") is not None


def problems(x, y, x_test) -> dict:
    """{problem: (repeat, {implementation: fn() -> test predictions})}; the project's entry first."""
    wide, narrow = features(WIDTH), features(NARROW)
    rf = {"kind": "random_features", "width": WIDTH}
    peers = _have_sklearn()
    return {
        f"kernel ridge (lam = {LAM:g})": (3, {
            "project": lambda: project(_spec({"kind": "kernel"}, {"method": "ridge", "lam": LAM}), x, y, x_test),
            **({"scikit-learn KernelRidge (precomputed numpy kernel)":
                lambda: sklearn_kernel_ridge(x, y, x_test, LAM)} if peers else {})}),
        "kernel min-norm": (3, {
            "project": lambda: project(_spec({"kind": "kernel"}, {"method": "min_norm"}), x, y, x_test),
            "numpy kernel + scipy solve(assume_a='pos')": lambda: scipy_kernel_min_norm(x, y, x_test)}),
        f"random-feature ridge, m = {WIDTH} (dual n x n)": (2, {
            "project": lambda: project(_spec(rf, {"method": "ridge", "lam": LAM}), x, y, x_test),
            **({"scikit-learn Ridge (dense features)":
                lambda: sklearn_feature_ridge(x, y, x_test, wide, N * LAM / WIDTH)} if peers else {})}),
        f"random-feature ridge, m = {NARROW} (primal m x m)": (3, {
            "project": lambda: project(_spec({"kind": "random_features", "width": NARROW},
                                             {"method": "ridge", "lam": LAM}), x, y, x_test),
            **({"scikit-learn Ridge (dense features)":
                lambda: sklearn_feature_ridge(x, y, x_test, narrow, N * LAM / NARROW)} if peers else {})}),
        f"random-feature min-norm, m = {WIDTH}": (2, {
            "project": lambda: project(_spec(rf, {"method": "min_norm"}), x, y, x_test),
            "project, float32": lambda: project(_spec(rf, {"method": "min_norm"}, "float32"), x, y, x_test),
            "numpy dense features + scipy solve(assume_a='pos')": lambda: numpy_feature_min_norm(x, y, x_test, wide),
            **({"scikit-learn Ridge(alpha=1e-14) (dense features)":
                lambda: sklearn_feature_ridge(x, y, x_test, wide, 1e-14)} if peers else {})}),
    }


def _timed_interleaved(runs: dict, repeat: int) -> dict:
    """{name: (best seconds, output)}: the implementations take turns, ``repeat`` rounds, so that a busy
    spell of a shared machine does not fall on one of them only."""
    best = {name: (np.inf, None) for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            tic = time.perf_counter()
            out = fn()
            best[name] = (min(best[name][0], time.perf_counter() - tic), out)
    return best


def measure() -> dict:
    """{"results": {problem: {implementation: (seconds, test_mse)}}, "load": (before, after) 1-minute load
    averages, "threads": (torch threads, OPENBLAS_NUM_THREADS), "sizes": (n, d, n_test)}."""
    rng = np.random.default_rng(0)
    x, x_test = (fdata.sample_inputs("sphere", k, D, rng) for k in (N, N_TEST))
    y, f_test = np.maximum(x[:, 0], 0.0), np.maximum(x_test[:, 0], 0.0)
    load_before = os.getloadavg()[0]
    results = {}
    for problem, (repeat, runs) in problems(x, y, x_test).items():
        results[problem] = {name: (seconds, float(np.mean((pred - f_test) ** 2)))
                            for name, (seconds, pred) in _timed_interleaved(runs, repeat).items()}
    return {"results": results, "load": (load_before, os.getloadavg()[0]),
            "threads": (torch.get_num_threads(), os.environ.get("OPENBLAS_NUM_THREADS", "unset")),
            "sizes": (N, D, N_TEST)}


def section(measured: dict) -> list[str]:
    """Markdown lines for docs/performance.md from :func:`measure`'s result."""
    n, d, n_test = measured["sizes"]
    torch_threads, blas_threads = measured["threads"]
    lines = [
        "## function_learning: kernel and random-feature fits against scikit-learn and scipy",
        "",
        f"n = {n} points on S^{d - 1}, target relu(x_1), test on {n_test} points, {torch_threads} torch threads, "
        f"OPENBLAS_NUM_THREADS={blas_threads}; load average {measured['load'][0]:.1f} before and "
        f"{measured['load'][1]:.1f} after (1 minute, {os.cpu_count()} cores). The project's row is the engine's "
        "fit of the resolved spec; ratio = the peer's wall time / the project's (above 1: the project is faster); "
        f"equal error: relative difference of the test MSEs at most {EQUAL_ERROR:g}.",
        "",
        "| problem | implementation | wall time (s) | ratio | test MSE | rel. difference of test MSE |",
        "|---|---|---|---|---|---|",
    ]
    for problem, res in measured["results"].items():
        seconds, mse = res["project"]
        for name, (s, e) in res.items():
            ratio = "1 (reference)" if name == "project" else f"{s / seconds:.2f}"
            diff = abs(e - mse) / mse
            if name == "project":
                equal = ""
            elif name.startswith("project"):  # the project in another precision: no verdict
                equal = f"{diff:.1e}"
            else:
                equal = f"{diff:.1e} ({'equal' if diff <= EQUAL_ERROR else 'NOT equal'})"
            lines.append(f"| {problem} | {name} | {s:.2f} | {ratio} | {e:.6e} | {equal} |")
    if not _have_sklearn():
        lines += ["", "scikit-learn is not installed here (`pip install -e '.[bench]'`): its rows are left out."]
    return lines + [""]


if __name__ == "__main__":
    print("\n".join(section(measure())))
