"""Kind ``boltzmann_closure``: spec errors naming the field and the bound; the training samples of the 1D3V source
(pairs, productions, reflections); a reduced run through the engine whose learned model starts exactly at the
kinetic moments and whose evaluation carries the operator's transport coefficients."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.kinds.bgk_closure.run.evaluate import initial_moments
from engine.kinds.boltzmann_closure.source import BoltzmannSource
from engine.kinds.boltzmann_closure.spec import BoltzmannClosureSpec
from learners import bgk_closure as lc
from solvers import bgk_moments

KIND = "kind: boltzmann_closure\nname: c\n"
SMALL = {"kinetic": {"grid": {"n_x": 8}, "velocity": {"n": 16, "L": 7.4, "degree": 3, "rank": 1}},
         "data": {"families": ["wave_1mode"], "amplitude": 0.5, "t_final": 0.02, "save_every": 0.01,
                  "kn": [0.01, 10.0], "samples_per_run": 12},
         "evaluation": {"families": ["wave_1mode"], "kn": [1.0]}}


@pytest.mark.parametrize("extra, pattern", [
    ("kinetic: {velocity: {L: 5.0}}", r"kinetic\.velocity\.L: the velocity box cannot hold family 'wave(_1mode)?'"),
    ("kinetic: {velocity: {n: 12}}", r"kinetic\.velocity\.n: the velocity box cannot hold family"),
    ("kinetic: {velocity: {n: 21}}", r"kinetic\.velocity\.n: n = 21 is odd \(expected an even n\)"),
    ("kinetic: {velocity: {degree: 4}}", r"kinetic\.velocity\.degree: degree = 4 has no Lebedev rule"),
    ("kinetic: {scheme: {cfl: 0.7}}", r"kinetic\.scheme\.cfl: cfl = 0\.7 is above the stability bound 0\.5"),
    ("kinetic: {grid: {boundary: outflow}}", r"kinetic\.grid\.boundary"),
    ("data: {kn: [1.0e-4, 1.0]}", r"data\.kn: Kn = 0\.0001 is outside the kinetic grid's validity \(expected "
     r"0\.00156 <= Kn"),
    ("evaluation: {kn: [1.0e-3]}", r"evaluation\.kn: Kn = 0\.001 is outside"),
    ("data: {max_shift: 0.5}", r"data\.max_shift: 0\.5 is out of range \(expected a value <= 0"),
    ("evaluation: {refine: 2}", r"evaluation\.refine: 2 is out of range \(expected a value <= 1"),
    ("data: {families: [mix]}", r"data\.families"),
    ("learner: {lr: 1.0e-3, lr_final: 1.0e-2}", r"learner\.lr_final: the learning rate decays"),
    ("learner: {checkpoint: nowhere.pt}", r"learner\.checkpoint: the model file .*nowhere\.pt' does not exist "
     r"\(expected a model file written by a boltzmann_closure run"),
])
def test_impossible_values_are_rejected_with_the_field_named(rejects, extra, pattern):
    rejects(KIND + extra + "\n", pattern)


def _closure(source, seed=0):
    """A dim-3 closure of random networks (two moments) on the source's velocity grid."""
    torch.manual_seed(seed)
    weights = lc.WeightFunctions(2, [6], "tanh", 1.0, dim=3).double()
    nets = [lc.ClosureNet(2, [6], "tanh", dim=3).double()]
    return bgk_moments.make_closure(source.v, source.dv, activation="tanh",
                                    **lc.export_arrays(weights, nets, source.v))


@pytest.fixture(scope="module")
def source():
    return BoltzmannSource(BoltzmannClosureSpec(**SMALL))


def test_samples_are_pairs_and_productions_of_the_kinetic_runs_with_reflected_copies(source):
    rng = np.random.default_rng(0)
    states, names = source.draw(rng, ["wave_1mode"], 2)
    kn = np.array([0.05, 2.0])
    t = np.array([0.0, 0.01, 0.02])
    found = source.samples(states, kn, t, rng, first_run=3)
    n_v = source.v.size
    assert found.f.shape == (48, 2 * n_v) and found.production.shape == found.f.shape
    assert np.array_equal(found.run, np.tile(np.repeat([3, 4], 12), 2))
    np.testing.assert_array_equal(found.kn, kn[found.run - 3])
    dv, v = source.dv, source.v
    g, b, pg, pb = found.f[:, :n_v], found.f[:, n_v:], found.production[:, :n_v], found.production[:, n_v:]
    # the production conserves mass, momentum and energy of each sample, to round-off of its scale rho²/Kn
    scale = (g.sum(1) * dv) ** 2 / found.kn
    for moment in (pg.sum(1), pg @ v, 0.5 * pg @ (v * v) + pb.sum(1)):
        assert np.all(np.abs(moment * dv) <= 1e-12 * scale)
    # each copy is its original, reflected v -> -v or not: same mass and energy, momentum equal or opposite
    original, copy = slice(0, 24), slice(24, 48)
    mom = g @ v * dv
    np.testing.assert_allclose(np.abs(mom[copy]), np.abs(mom[original]), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose((g.sum(1) + b.sum(1))[copy], (g.sum(1) + b.sum(1))[original], rtol=1e-13)
    flipped = ~np.isclose(mom[copy], mom[original], rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(pg[copy][flipped], pg[original][flipped][:, ::-1])


def test_the_models_start_from_the_kinetic_runs_moments(source):
    """The initial pairs are the reduction of the 3-D discrete Maxwellians: their moments are the kinetic run's at
    t = 0 to round-off, and the profiles' to the quadrature error of a discrete Maxwellian at dv = 0.93 (below 1e-7)."""
    states, _ = source.draw(np.random.default_rng(1), ["wave_1mode"], 2)
    pairs = source.distributions(states)
    assert pairs.shape == (2, 2, 8, source.v.size)
    from solvers import bgk

    rho, m, E = bgk.maxwellian.moments(pairs, source.v, source.dv, dim=3)
    u, T = m / rho, (2 * E / rho - (m / rho) ** 2) / 3
    for k, state in enumerate(states):
        sol = source.solve(state, 1.0, np.array([0.0]), production=False)
        np.testing.assert_allclose([rho[k], u[k], T[k]], [sol.rho[0], sol.u[0], sol.T[0]], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(rho, states[:, 0], rtol=1e-7)
    np.testing.assert_allclose(u, states[:, 1], atol=1e-7)
    np.testing.assert_allclose(T, states[:, 2], rtol=1e-7)
    V0 = initial_moments(pairs, _closure(source))
    np.testing.assert_array_equal(V0[:, 0], rho)


QUICK = Path(__file__).resolve().parent.parent / "specs" / "boltzmann_closure" / "quick.yaml"


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """quick.yaml through the CLI, as written (about 20 s on 2 cores)."""
    from engine.cli import main
    from engine.store import open_result

    folder = tmp_path_factory.mktemp("boltzmann_closure")
    assert main(["run", str(QUICK), "--outputs", str(folder), "--executor", "serial", "--quiet"]) == 0
    return folder / "quick", open_result(folder / "quick" / "result.nc")


def test_quick_spec_learns_a_model_that_beats_euler_in_free_flow(quick):
    _, ds = quick
    assert (ds["reduced_status"].values == 0).all()
    assert "weight_function_b" in ds and "char_speed" not in ds
    assert int(ds["n_training_runs"]) >= 6 and int(ds["n_training_samples"]) == 2 * 150 * int(ds["n_training_runs"])
    mre = ds["mean_rel_error"].sel(family="wave_1mode", quantity="m")
    for kn in (1.0, 10.0):   # far from equilibrium the Euler closure is wrong; the learned one is not
        assert float(mre.sel(kn=kn, model="learned")) < 0.7 * float(mre.sel(kn=kn, model="euler"))


def test_quick_spec_model_file_reloads_and_reproduces_the_evaluation(quick, tmp_path):
    """The model file beside the run, given as learner.checkpoint, skips training and gives the same errors."""
    from engine.cli import main
    from engine.store import open_result

    folder, ds = quick
    model = next((folder / "runs").glob("*.model.pt"))
    spec = tmp_path / "again.yaml"
    text = QUICK.read_text().replace("ensemble: 2}", f"ensemble: 2, checkpoint: {model}}}")
    spec.write_text(text)
    assert main(["run", str(spec), "--outputs", str(tmp_path), "--executor", "serial", "--quiet"]) == 0
    again = open_result(tmp_path / "again" / "result.nc")
    np.testing.assert_allclose(again["rel_error"].values, ds["rel_error"].values, rtol=1e-12)
