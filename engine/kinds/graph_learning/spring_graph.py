"""The spring network of task ``learned_springs`` (:mod:`solvers.spring_graphs`): its rest geometry and springs.

Kept apart from the run (no torch) so that the spec can build the radius graph of the run's seed and reject a
radius that gives no edges."""

from __future__ import annotations

import numpy as np

from solvers import spring_graphs


def spring_network(section, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rest positions (n, 2) and springs (2, E) of the ``springs`` spec section; the radius graph's nodes drawn
    from ``rng`` (the run's ``graph`` stream). Raises ValueError when the radius gives no edges."""
    if section.graph == "lattice":
        return spring_graphs.lattice_graph(*section.lattice)
    return spring_graphs.radius_graph(section.n, section.radius, rng)
