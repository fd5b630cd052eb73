"""Kind ``deep_linear``: gradient descent on deep linear residual networks (arXiv:1911.00645).

Model ``f(x) = W_{L+1} (I + W_L) ... (I + W_1) x`` with d x d residual blocks
and a d_y x d output layer, trained by full-batch gradient descent on

    R = 1/2 ||(W_{L+1} P - Phi) Lambda^{1/2}||_F^2 + R*,   P = (I + W_L) ... (I + W_1).

Without ``data`` this is the population loss with Lambda = I and R* = 0.
With ``data``, inputs X (d x n) and labels Y = Phi X + noise are generated
from the run's seed; the empirical loss (1/2n) sum_i ||f(x_i) - y_i||^2 equals
the form above with Lambda = X X^T/n, Phi replaced by the least-squares fit
Y X^T (X X^T)^{-1}, and R* the irreducible (noise) loss.  ``optimizer.tol``
applies to the excess loss R - R*.

Variables of a run (all nondimensional, units "1"):

- ``loss(step)``: R every ``output.every`` steps; ``sigma_min(step)``: the
  smallest singular value of P;
- ``iterations_to_tol`` (-1 if not reached), ``converged`` (0/1),
  ``final_loss``, ``steps_done`` (the step of ``final_loss``: where the run
  stopped), ``sigma_min_final``, ``invariant_drift`` =
  ||W_{L+1}^T W_{L+1} - Theta_L Theta_L^T + I||_F with Theta_L = I + W_L
  (0 along the gradient flow from ZAS), ``loss_floor`` (R*), ``lr_effective``
  (the step size used), ``target_norm`` (||Phi||_2), ``tol_effective`` (the
  threshold on the excess loss).

Whole-sweep summary, when ``model.depth`` is swept: ``depth_exponent``, the
fitted b of iterations_to_tol ~ a depth^b over the converged runs, for every
value of the other sweep keys (e.g. per ``init.scheme``).

Modules: :mod:`.spec` (the spec), :mod:`.run` (one run: target and data, the
descent, the dataset), :mod:`.analysis` (depth exponent, report, figures).
"""

from __future__ import annotations

from engine.kind import Kind


class DeepLinear(Kind):
    """Gradient descent on deep linear residual networks (ZAS initialization)."""

    kind = "deep_linear"
    version = "2"  # 2: steps_done
    summary = "GD on deep linear residual networks, ZAS vs near-identity/Xavier init (arXiv:1911.00645)"
    spec_class = ".spec:DeepLinearSpec"
    run_function = ".run:run"
    warmup_function = ".run:warmup"
    analysis_class = ".analysis:DeepLinearAnalysis"
    template_sweep = ("model.depth", [2, 4, 8])
    resumable = True
    # three intervals of the loop (a resume after the first checkpoint can be checked): too slow to converge
    smoke_overrides = ("optimizer.max_steps=4100", "optimizer.lr=1e-4")
