"""The feature networks of a ``cf_tracking`` run: the teacher trained on the DCF tracking loss, then the students
distilled from it (fidelity only, tracking only, both), on (frame t, frame t + gap) window pairs of the training
sequences cropped as the tracker crops its window (side padding x target, resampled to ``tracker.window`` px).

Random streams of the run's seed: ``pairs:teacher`` and ``pairs:students`` (the pairs; every student sees the
same pairs), ``init:teacher`` and ``init:students`` (initial weights; every student starts from the same
weights), so the students differ by their loss only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from engine.kind import RunContext, RunFailed
from learners.tracking_nets import Adapters, FeatureNet, train_features
from learners.training import Curves
from solvers import tracking_sequences as ts

from ..spec import CFTrackingSpec

#: student name -> (tracking weight on, fidelity weight on)
STUDENT_LOSSES = {"student_fidelity": (False, True), "student_tracking": (True, False), "student_both": (True, True)}


@dataclass
class Trained:
    """A trained network (on the CPU, float32) and its recorded training curves."""

    net: FeatureNet
    curves: Curves


def label_sigma(spec: CFTrackingSpec) -> float:
    """Width [cells] of the Gaussian label, the tracker's (solvers.dcf.DCFTracker) for the networks' cell."""
    t = spec.tracker
    return t.sigma * t.window / (t.padding * spec.cell)


def pair_source(spec: CFTrackingSpec, sequences: list[ts.Sequence],
                rng: np.random.Generator) -> Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``pairs(step)`` -> (templates, searches, shifts) of ``pairs.batch`` pairs with a gap drawn in
    1 .. max_gap frames (shifts in px of the window)."""
    side = spec.tracker.padding * spec.sequences.target

    def pairs(_step: int):
        gap = int(rng.integers(1, spec.pairs.max_gap + 1))
        return ts.window_pairs(rng, sequences, spec.pairs.batch, spec.tracker.window, gap, spec.pairs.max_shift,
                               side)
    return pairs


def _seeded_net(widths: list[int], strides: list[int], rng: np.random.Generator, where: torch.device) -> FeatureNet:
    torch.manual_seed(int(rng.integers(2**63)))
    return FeatureNet(tuple(widths), tuple(strides)).to(where)


def _fit(name: str, fit: Callable[[], Curves]) -> Curves:
    try:
        return fit()
    except FloatingPointError as exc:
        raise RunFailed(f"{name}: {exc}; try a smaller lr") from None


def train_networks(spec: CFTrackingSpec, sequences: list[ts.Sequence], names: list[str], ctx: RunContext,
                   where: torch.device, progress: Callable[[int, int], None]) -> dict[str, Trained]:
    """The networks among ``names`` (teacher, student_*), trained on ``sequences`` on ``where`` and returned
    on the CPU; ``progress(done, total)`` counts training steps of all of them."""
    students = [n for n in names if n in STUDENT_LOSSES]
    needs_teacher = "teacher" in names
    total = needs_teacher * spec.teacher.steps + len(students) * spec.students.steps
    done = 0
    common = {"sigma": label_sigma(spec), "lam": spec.tracker.lam}
    trained: dict[str, Trained] = {}
    teacher = None
    if needs_teacher:
        t = spec.teacher
        teacher = _seeded_net(t.widths, t.strides, ctx.rng("init:teacher"), where)
        pairs = pair_source(spec, sequences, ctx.rng("pairs:teacher"))
        curves = _fit("teacher", lambda: train_features(teacher, pairs, t.steps, t.lr, t.record_every, **common,
                                                        progress=lambda k, _: progress(k, total)))
        teacher.requires_grad_(False)
        done += t.steps
        trained["teacher"] = Trained(teacher, curves)
    s = spec.students
    for name in students:
        tracking, fidelity = STUDENT_LOSSES[name]
        student = _seeded_net(s.widths, s.strides, ctx.rng("init:students"), where)
        adapters = Adapters(student, teacher).to(where) if fidelity else None
        pairs = pair_source(spec, sequences, ctx.rng("pairs:students"))
        offset = done
        curves = _fit(name, lambda: train_features(
            student, pairs, s.steps, s.lr, s.record_every, tracking_weight=s.tracking_weight * tracking,
            fidelity_weight=s.fidelity_weight * fidelity, teacher=teacher if fidelity else None, adapters=adapters,
            **common, progress=lambda k, _: progress(offset + k, total)))
        done += s.steps
        trained[name] = Trained(student, curves)
    for item in trained.values():
        item.net.to("cpu").requires_grad_(False)
    return trained
