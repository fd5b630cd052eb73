"""Report and figures of kind ``boltzmann_closure``: those of kind ``bgk_closure`` (errors of the learned model,
Euler and Navier-Stokes against the kinetic solution per family and Kn; error_vs_kn.png, profiles.png) with this
kind's acceptance criterion (:mod:`.criteria`)."""

from __future__ import annotations

from ..bgk_closure.analysis import BGKClosureAnalysis
from .criteria import verdicts


class BoltzmannClosureAnalysis(BGKClosureAnalysis):
    """Report and standard figures of a ``boltzmann_closure`` result."""

    criteria = staticmethod(verdicts)
    criteria_doc = "docs/kinds/boltzmann_closure.md"
