"""Min-norm random-feature fit (arXiv:1912.06987): this project's solver against the pipeline a user
would otherwise write, in one run.

Problem: n = 3200 training points uniform on S^19 (d = 20), target relu(x_1), m = 20 000 ReLU
features uniform on the sphere, minimum-norm interpolant, test error on 1000 fresh points.

- project: ``RandomFeatureKernel.min_norm`` of :mod:`learners.function_learning.linear` (what
  ``engine run`` calls): the n x n empirical kernel accumulated by BLAS syrk over blocks of features
  written into one reused buffer (the n x m feature matrix is never stored; the blocks are shared
  among torch's threads), Cholesky solve, a = Phi^T c, predictions by blocks; in float64 the Gram
  matrix is formed in float32 and the float64 solution reached by iterative refinement (each step
  one float64 pass over the features); float64 and float32;
- numpy/scipy: the dense feature matrix relu(X W^T) (n x m), K = Phi Phi^T / m,
  ``scipy.linalg.solve(..., assume_a="pos")``, predictions relu(X_test W^T) a / m -- what
  ``features + Ridge(alpha -> 0)`` does (for n_features > n_samples scikit-learn's Ridge solves
  the same n x n kernel system);
- scikit-learn ``Ridge(alpha=1e-14, fit_intercept=False)`` on the dense features Phi/m, when it is
  installed (it is not a dependency of this project): it solves (K/m + alpha I) c = y, i.e. K shifted
  by m alpha = 2e-10, which gives the min-norm test error to 6 digits (alpha = 1e-10 moves it in the
  4th digit).

Timings are the best of ``repeat`` calls; errors are test MSE and relative to Var f*.

Run: ``python -m benchmarks.bench_function_learning``.
"""

import os
import time

import numpy as np
import scipy.linalg
import torch

from learners.function_learning import data as fdata
from learners.function_learning import linear
from learners.function_learning.features import sample_features


def _problem(n, m, d, n_test, seed=0):
    rng = np.random.default_rng(seed)
    x, x_test = (fdata.sample_inputs("sphere", k, d, rng) for k in (n, n_test))
    w = sample_features("sphere", m, d, rng)
    return x, np.maximum(x[:, 0], 0.0), x_test, np.maximum(x_test[:, 0], 0.0), w


def project_fit(x, y, x_test, w, dtype=torch.float64):
    """Test predictions of the min-norm interpolant by this project's learner."""
    t = [torch.tensor(a, dtype=dtype) for a in (x, y, x_test, w)]
    kern = linear.RandomFeatureKernel(t[3])
    c, _ = kern.min_norm(t[0], t[1])
    return kern.predict(t[2], kern.coefficients(t[0], c)).double().numpy()


def numpy_fit(x, y, x_test, w):
    """The same estimator with dense features in numpy/scipy."""
    m = w.shape[0]
    phi = np.maximum(x @ w.T, 0.0)
    c = scipy.linalg.solve(phi @ phi.T / m, y, assume_a="pos")
    return np.maximum(x_test @ w.T, 0.0) @ (phi.T @ c) / m


def sklearn_fit(x, y, x_test, w):
    """features + Ridge(alpha = 1e-14) in scikit-learn (None if it is not installed)."""
    try:
        from sklearn.linear_model import Ridge
    except ImportError:
        return None
    m = w.shape[0]
    model = Ridge(alpha=1e-14, fit_intercept=False).fit(np.maximum(x @ w.T, 0.0) / m, y)
    return model.predict(np.maximum(x_test @ w.T, 0.0) / m)


def _timed_interleaved(runs, repeat):
    """{name: (best seconds, output)}: the implementations take turns, ``repeat`` rounds, so that a
    busy spell of a shared machine does not fall on one of them only."""
    best = {name: (np.inf, None) for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            tic = time.perf_counter()
            out = fn()
            best[name] = (min(best[name][0], time.perf_counter() - tic), out)
    return best


def measure(n=3200, m=20000, d=20, n_test=1000, repeat=2):
    """{name: (seconds, test_mse, test_mse / Var f*)} for each implementation, plus the sizes and
    the thread settings (torch threads, OPENBLAS_NUM_THREADS)."""
    x, y, x_test, f_test, w = _problem(n, m, d, n_test)
    var = float(np.var(f_test))
    runs = {
        "project, torch float64": lambda: project_fit(x, y, x_test, w, torch.float64),
        "project, torch float32": lambda: project_fit(x, y, x_test, w, torch.float32),
        "numpy/scipy dense features, float64": lambda: numpy_fit(x, y, x_test, w),
        "scikit-learn features + Ridge(alpha=1e-14)": lambda: sklearn_fit(x, y, x_test, w),
    }
    results = {}
    for name, (seconds, pred) in _timed_interleaved(runs, repeat).items():
        if pred is not None:
            mse = float(np.mean((pred - f_test) ** 2))
            results[name] = (seconds, mse, mse / var)
    threads = (torch.get_num_threads(), os.environ.get("OPENBLAS_NUM_THREADS", "unset"))
    return {"sizes": (n, m, d, n_test), "threads": threads, "results": results}


def section(measured) -> list[str]:
    """Markdown lines for docs/performance.md from :func:`measure`'s result."""
    n, m, d, n_test = measured["sizes"]
    res = measured["results"]
    base = res["numpy/scipy dense features, float64"][0]
    lines = [
        "## function_learning: min-norm random-feature fit",
        "",
        f"n = {n} points on S^{d - 1}, m = {m} ReLU features, target relu(x_1), test on {n_test} points "
        f"({measured['threads'][0]} torch threads, OPENBLAS_NUM_THREADS={measured['threads'][1]}). "
        "Speed-up relative to the numpy/scipy dense pipeline.",
        "",
        "| implementation | wall time (s) | speed-up | test MSE | test MSE / Var f* |",
        "|---|---|---|---|---|",
    ]
    for name, (seconds, mse, rel) in res.items():
        lines.append(f"| {name} | {seconds:.2f} | {base / seconds:.2f} | {mse:.3e} | {rel:.3e} |")
    if "scikit-learn features + Ridge(alpha=1e-14)" not in res:
        lines += ["", "scikit-learn is not installed here (`pip install -e '.[bench]'`); its Ridge solves the same "
                  "n x n system on the dense features (the numpy/scipy row)."]
    return lines + [""]


if __name__ == "__main__":
    print("\n".join(section(measure())))
