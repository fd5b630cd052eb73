"""Relative differences between profiles, used to compare a solution with a reference."""

import numpy as np


def relative_difference(a: np.ndarray, b: np.ndarray, order: int) -> float:
    """``||a - b||_order / ||b||_order`` over all entries (arrays of one shape, any units), or the
    absolute ``||a - b||`` when the reference ``b`` vanishes (e.g. the momentum of a gas at rest)."""
    den = np.linalg.norm(b.ravel(), order)
    diff = np.linalg.norm((a - b).ravel(), order)
    scale = np.linalg.norm(np.ones(b.size), order)
    return float(diff / den) if den > 1e-10 * scale else float(diff)
