"""The bgk_closure kind end to end: a small version of quick.yaml through the CLI, the learned model against
Euler at Kn = 1, Galilean shifts, reusing a saved model, resuming a killed run, and spec errors."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.kinds.bgk_closure.run.evaluate import initial_moments
from engine.store import open_result
from learners import bgk_closure as lc
from solvers import bgk, bgk_moments

QUICK = Path(__file__).resolve().parent.parent / "specs" / "bgk_closure" / "quick.yaml"
# quick.yaml made smaller still, so that the tests stay within their time budget
SMALL = ["kinetic.grid.n_x=32", "data.kn=[0.002, 10.0]", "data.n_initial=12", "data.samples_per_run=300",
         "learner.steps=300", "learner.ae_steps=300", "active_learning.candidates=4", "active_learning.max_new=2",
         "active_learning.steps=100", "evaluation.families=[wave, sod]", "evaluation.kn=[0.01, 1.0]"]


def _sets(overrides):
    return [a for o in overrides for a in ("--set", o)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The SMALL run, trained once for the module (so through ``main``: ``run_spec`` is per test): its result,
    model files and outputs folder."""
    out = tmp_path_factory.mktemp("bgkc")
    assert main(["run", str(QUICK), *_sets(SMALL), "--executor", "serial", "--quiet", "--outputs", str(out)]) == 0
    return open_result(out / "quick" / "result.nc"), sorted((out / "quick" / "runs").glob("*.model.pt")), out


def test_learned_model_beats_euler_at_kn_1(trained):
    ds, _, _ = trained
    assert ds.sizes["model"] == 3 and list(ds["quantity"].values) == ["rho", "m", "T"]
    assert set(ds["reduced_status"].sel(family="wave").values.ravel()) == {0}
    err = ds["mean_rel_error"].sel(kn=1.0, family="wave")
    for q in ("m", "T"):
        assert err.sel(model="learned", quantity=q) < err.sel(model="euler", quantity=q), q
    # the errors are per case; the mean is their average
    np.testing.assert_allclose(ds["rel_error"].sel(family="wave").mean("draw"), ds["mean_rel_error"].sel(family="wave"))
    assert set(ds["reduced_status"].sel(family="sod", draw=1).values) == {-1}  # Sod is one case
    assert ds["weight_function"].dims == ("moment", "v") and ds.sizes["moment"] == 4
    assert np.all(np.isfinite(ds["ae_val_loss"])) and ds["ae_val_loss"][-1] < ds["ae_val_loss"][0]
    assert ds["n_training_runs"] >= 12
    assert not {"speedup", "wall_kinetic", "wall_reduced", "time_training"} & set(ds.variables)  # no timings


def test_model_file_and_reuse_give_the_same_evaluation(trained, run_spec):
    ds, models, _ = trained
    assert len(models) == 1
    data = torch.load(models[0], weights_only=True)
    assert data["meta"]["n_extra"] == 4 and "closure_1" in data
    result, again = run_spec(QUICK.read_text(), *_sets(SMALL + [f"learner.checkpoint={models[0]}"]))
    assert result.code == 0
    assert int(again["n_training_runs"]) == 0  # nothing trained: the networks came from the file
    np.testing.assert_array_equal(again["rel_error"].sel(model="learned"), ds["rel_error"].sel(model="learned"))


def test_galilean_shift_gives_the_shifted_solution_within_the_model_error(trained):
    _, models, _ = trained
    weights, nets, _ = lc.load_model(models[0])
    grid = bgk.PhaseGrid(0.0, 1.0, 32, 12.0, 80)
    cl = bgk_moments.make_closure(grid.v, grid.dv, activation="tanh", **lc.export_arrays(weights, nets, grid.v))
    f0 = bgk.initial.random_wave(np.random.default_rng(11), grid, ratio=(0.6, 1.0))
    k = 2
    c, t = k * grid.dv, np.array([0.0, 0.1])
    shifted = np.zeros_like(f0)
    shifted[..., k:] = f0[..., :-k]
    assert f0[..., -k:].max() < 1e-12 * f0.max()
    out, status, _, _ = bgk_moments.solve_moments(initial_moments(np.stack([f0, shifted]), cl), cl, grid.dx, 1.0, t)
    assert list(status) == [0, 0]
    kin = bgk.solve(f0, grid, 1.0, t)
    phase = np.exp(-2j * np.pi * np.fft.fftfreq(grid.n_x, grid.dx) * c * t[-1])
    move = lambda a: np.fft.ifft(np.fft.fft(a) * phase).real  # noqa: E731  a(x - c t) on the periodic grid
    rel = lambda a, b: np.linalg.norm(a - b) / np.linalg.norm(b)  # noqa: E731
    base, moved = out[0, -1], out[1, -1]
    rho_ref, m_ref, E_ref = move(base[0]), move(base[1]), move(base[2])
    T = lambda r, m, E: 2 * E / r - (m / r) ** 2  # noqa: E731
    gal = {"rho": rel(moved[0], rho_ref), "m": rel(moved[1], m_ref + c * rho_ref),
           "T": rel(T(*moved[:3]), T(rho_ref, m_ref, E_ref))}
    model = {"rho": rel(base[0], kin.rho[0, -1]), "m": rel(base[1], kin.m[0, -1]),
             "T": rel(T(*base[:3]), kin.T[0, -1])}
    for q in gal:  # the kinetic solution is exactly Galilean; the learned one as far as its error allows
        assert gal[q] <= 2.0 * model[q], (q, gal, model)


def test_a_killed_run_resumes_from_its_checkpoint(trained, tmp_path, run_spec):
    from engine.plan import resolve
    from engine.runtime import RunTask, compute, output_path

    ds, _, _ = trained
    point = resolve(QUICK, SMALL + ["checkpoint.every_steps=1"]).points[0]
    root = tmp_path / "outputs" / "spec"  # where run_spec's run of the same spec goes
    path = output_path(root, point.run_id)
    path.parent.mkdir(parents=True)
    task = RunTask("bgk_closure", point.spec.model_dump(mode="json"), point.run_id, str(path))

    def kill(done, total):
        if done >= 450:  # the autoencoder is done, the first closure network half way
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compute(task, progress=kill)
    assert path.with_name(path.stem + ".ckpt.npz").exists()
    result, resumed = run_spec(QUICK.read_text(), *_sets(SMALL + ["checkpoint.every_steps=1"]))
    assert result.code == 0
    assert open_result(path).attrs["engine_resumed_from_step"] >= 400
    np.testing.assert_array_equal(resumed["rel_error"].values, ds["rel_error"].values)


def test_plots(trained, tmp_path, cli):
    _, _, out = trained
    assert cli("plot", str(out / "quick" / "result.nc"), "--outdir", str(tmp_path)).code == 0
    assert {p.name for p in tmp_path.glob("*.png")} == {"error_vs_kn.png", "profiles.png"}


@pytest.mark.parametrize("extra, pattern", [
    ("moments: {n_extra: 0}", r"spec\.yaml:2:\d+: moments\.n_extra: 0 is out of range"),
    ("data: {families: []}", r"spec\.yaml:2:\d+: data\.families: the list is empty \(expected at least one entry\)"),
    ("evaluation: {families: []}", r"evaluation\.families: the list is empty"),
    ("data: {kn: [1.0e-5, 10.0]}",
     r"spec\.yaml:2:\d+: data\.kn: Kn = 1e-05 is outside the kinetic grid's validity \(expected 0\.00025 <= Kn"),
    ("evaluation: {kn: [1.0e-3, .inf]}", r"spec\.yaml:2:\d+: evaluation\.kn\.1: inf is not a finite number"),
    ("data: {kn: [1.0, 0.1]}", r"data\.kn: the range \[1\.0, 0\.1\] is not an ordered finite range"),
    ("kinetic: {velocity: {v_max: 6.0, n_v: 60}}",
     r"kinetic\.velocity\.v_max: the velocity grid cannot hold family 'mix'"),
    ("kinetic: {grid: {boundary: outflow}}",
     r"kinetic\.grid\.boundary: 'outflow' is not allowed \(expected one of 'periodic'\)"),
    ("learner: {checkpoint: /nonexistent/model.pt}",
     r"learner\.checkpoint: the model file '/nonexistent/model\.pt' does not exist"),
])
def test_impossible_specs_are_rejected_with_the_field_named(rejects, extra, pattern):
    rejects("kind: bgk_closure\n" + extra + "\n", pattern)


def test_a_model_file_of_other_networks_is_rejected(trained, cli, write_spec, rejects):
    _, models, _ = trained
    text = (f"kind: bgk_closure\nkinetic: {{velocity: {{n_v: 80}}}}\nlearner: {{checkpoint: {models[0]}, "
            "widths: [24, 24], ensemble: 2}\nmoments: {n_extra: 4}\n")
    assert cli("validate", write_spec(text)).code == 0
    rejects(text.replace("n_extra: 4", "n_extra: 3"),
            r"learner\.checkpoint: the model file .* does not match the spec: its n_extra is 4, the spec asks for 3")
    rejects(text.replace("[24, 24]", "[24, 16]"), re.escape("its widths is [24, 24], the spec asks for [24, 16]"))


def test_a_relative_model_path_is_read_from_the_spec_files_folder(tmp_path, rejects, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    rejects("kind: bgk_closure\nlearner: {checkpoint: models/m.pt}\n",
            re.escape(f"the model file '{tmp_path / 'models' / 'm.pt'}' does not exist"))
