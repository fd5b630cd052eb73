"""The Q1 leapfrog SH solver against exact answers (brief §4.4): energy, CFL bound, plane-wave speeds
c0 sqrt(n.Bn) with second-order convergence, interface |r| against the closed-form table (§2.3),
and the pre-deformation fields and sources it is fed with."""

import math

import numpy as np
import pytest

from solvers.hyperelastic import modes, sources
from solvers.hyperelastic.deformation_fields import PiecewiseAffine, Piece, Unidirectional, cell_medium
from solvers.hyperelastic.fem import Grid, Medium, PointLoads, SHSolver, cfl_dt, lumped_mass, stiffness
from solvers.hyperelastic.material import push_forward
from solvers.hyperelastic.simulate import reflection_by_simulation

MU = RHO = 1.0


def medium_of(grid, F):
    C, rho = push_forward(np.asarray(F, float), MU, RHO)
    return Medium.uniform(grid, C[0, 0], C[0, 1], C[1, 1], rho)


def test_energy_is_conserved_without_sources_and_sponges_also_with_holes():
    """Periodic box: a simple-shear half, a constrained-tension half and a void (traction-free) hole."""
    g = Grid(48, 40, 1.0 / 16, periodic_x=True, periodic_y=True)
    ss, cut = medium_of(g, [[1, 0.5], [0, 1]]), medium_of(g, [[1, 0], [0, 1.5]])
    half = np.arange(g.cells[0])[:, None] < 24
    m = Medium(*(np.where(half, getattr(ss, f), getattr(cut, f)) for f in ("c11", "c12", "c22", "rho")))
    m.c11[30:36, 10:16] = m.c12[30:36, 10:16] = m.c22[30:36, 10:16] = m.rho[30:36, 10:16] = 0.0
    X, Y = np.meshgrid(g.x, g.y, indexing="ij")
    w0 = np.exp(-((X - 1.0) ** 2 + (Y - 1.2) ** 2) / 0.05)
    s = SHSolver(g, m, cfl_dt(g, m, 0.9))
    s.set_state(w0, 0.999 * w0)
    e0 = s.energy()
    drift = []
    for _ in range(8):
        s.advance(250)
        drift.append(abs(s.energy() / e0 - 1.0))
    assert max(drift) < 1e-12
    assert np.abs(s.w[30 + 1:36, 10 + 1:16]).max() == 0.0        # nodes inside the hole stay frozen
    a, b = np.random.default_rng(0).standard_normal((2, g.nx, g.ny))
    assert abs(np.sum(a * stiffness(g, m, b)) - np.sum(b * stiffness(g, m, a))) < 1e-12 * np.sum(a * a)


@pytest.mark.parametrize("F, c_max", [(np.eye(2), 1.0), ([[1.5, 0.0], [0.0, 1.0]], 1.5)])
def test_stable_at_099_of_the_cfl_bound_and_unstable_above(F, c_max):
    g = Grid(32, 32, 0.1, periodic_x=True, periodic_y=True)
    m = medium_of(g, F)
    assert cfl_dt(g, m, 1.0) == pytest.approx(g.h / c_max)
    w0 = np.random.default_rng(1).standard_normal((g.nx, g.ny))
    peaks = []
    for cfl, steps in ((0.99, 3000), (1.02, 400)):
        s = SHSolver(g, m, cfl_dt(g, m, cfl))
        s.set_state(w0, w0)
        s.advance(steps)
        peaks.append(np.abs(s.w).max())
    assert peaks[0] < 10 * np.abs(w0).max()
    assert not peaks[1] < 1e6                               # grows without bound (or overflows)


def phase_speed(F, direction, ppw, periods=3.0):
    """Phase speed of a travelling plane wave in a periodic box one wavelength (lambda = 1) wide along n."""
    n = np.asarray(direction, float)
    m1, m2 = (int(round(v)) for v in n / np.abs(n).max())
    k = 2 * math.pi * np.array([m1, m2], float)         # box [0, 1]^2; wavelength 1/|(m1, m2)|
    g = Grid(ppw, ppw, 1.0 / ppw, periodic_x=True, periodic_y=True)
    m = medium_of(g, F)
    c = math.sqrt(np.asarray(n / np.linalg.norm(n)) @ push_forward(np.asarray(F, float), MU, RHO)[0]
                  @ (n / np.linalg.norm(n)) / m.rho[0, 0])
    omega = c * np.linalg.norm(k)
    dt = cfl_dt(g, m, 0.5)
    X, Y = np.meshgrid(g.x, g.y, indexing="ij")
    arg = k[0] * X + k[1] * Y
    s = SHSolver(g, m, dt)
    s.set_state(np.sin(arg), np.sin(arg + omega * dt))
    chunk = max(1, int(0.05 * 2 * math.pi / omega / dt))
    t, phase = [0.0], [0.0]
    while t[-1] < periods * 2 * math.pi / omega:
        s.advance(chunk)
        t.append(s.t)
        phase.append(math.atan2(-np.sum(s.w * np.cos(arg)), np.sum(s.w * np.sin(arg))))
    slope = np.polyfit(t, np.unwrap(phase), 1)[0]
    return slope / np.linalg.norm(k), c


@pytest.mark.parametrize("F, direction, expected", [
    ([[1, 0], [0, 1.5]], (0, 1), 1.5), ([[1, 0], [0, 1.5]], (1, 0), 1.0),          # CUT a = 1.5
    ([[1, 0.5], [0, 1]], (1, 0), math.sqrt(1.25)), ([[1, 0.5], [0, 1]], (0, 1), 1.0),   # SS gamma = 0.5
    ([[1, 0.5], [0, 1]], (1, 1), math.sqrt(1.625)),
])
def test_plane_wave_speed_is_c0_sqrt_nBn_with_second_order_convergence(F, direction, expected):
    errors = []
    for ppw in (16, 32):
        c_h, c = phase_speed(F, direction, ppw)
        assert c == pytest.approx(expected, rel=1e-12)
        errors.append(abs(c_h / c - 1.0))
    assert errors[1] < 5e-3                  # (kh)^2/24 ~ 1.6e-3 along the axes at 32 points per wavelength
    assert 3.0 < errors[0] / errors[1] < 5.0, errors


TABLE = {   # brief §2.3, |r| at 0°, 15°, 30°
    "ordinary_uniaxial": (dict(stretch=1.5, mu=1.0, lam=2.0), (0.1403, 0.1446, 0.1596)),
    "hydrostatic": (dict(scale=0.8), (0.2195, 0.2256, 0.2463)),
}


@pytest.mark.parametrize("mode", sorted(TABLE))
def test_simulated_reflection_matches_the_table_for_reflecting_modes(mode):
    kw, expected = TABLE[mode]
    F, _ = modes.deformation_gradient(mode, **kw)
    r = reflection_by_simulation(MU, RHO, F, [0.0, 15.0, 30.0], 24)
    np.testing.assert_allclose(r, expected, atol=0.01)


@pytest.mark.parametrize("mode, kw", [("constrained_uniaxial", dict(stretch=1.5)), ("simple_shear", dict(shear=0.5))])
def test_simulated_reflection_vanishes_for_transmitting_modes(mode, kw):
    F, _ = modes.deformation_gradient(mode, orientation="normal", **kw)
    r = reflection_by_simulation(MU, RHO, F, [0.0, 30.0], 24)
    assert np.all(r < 0.005), r


def test_reflection_rejects_angles_outside_0_90():
    with pytest.raises(ValueError, match=r"\[0, 90\)"):
        reflection_by_simulation(MU, RHO, np.eye(3), [90.0], 24)


def test_piecewise_affine_checks_inverted_and_overlapping_triangles():
    ref = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="piece 0 is inverted"):
        PiecewiseAffine((Piece(ref, ref[[0, 2, 1]]),)).check()
    with pytest.raises(ValueError, match="pieces 0 and 1 overlap in the current configuration"):
        PiecewiseAffine((Piece(ref, ref), Piece(ref + [2.0, 0.0], ref + [0.3, 0.3]))).check()
    PiecewiseAffine((Piece(ref, ref), Piece(ref[[1, 2]].tolist() + [[1.0, 1.0]], ref[[1, 2]].tolist() + [[1.0, 1.0]]))
                    ).check()                                # sharing an edge is fine


def test_cell_material_is_the_push_forward_and_holes_are_void():
    g = Grid(21, 21, 0.1, -1.0, -1.0)
    F = np.array([[1.0, -0.634], [0.0, 1.366]])
    tri_ref = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    fld = PiecewiseAffine((Piece(tri_ref, tri_ref @ F.T),), (np.array([[-1.0, -1.0], [-0.5, -1.0], [-0.5, -0.5],
                                                                         [-1.0, -0.5]]),))
    m = cell_medium(g, fld, 2.0, 3.0, sub=4)
    C, rho = push_forward(F, 2.0, 3.0)
    i, j = 15, 11                                          # cell [0.5, 0.6] x [0.1, 0.2], inside the triangle
    assert (m.c11[i, j], m.c12[i, j], m.c22[i, j], m.rho[i, j]) == pytest.approx((C[0, 0], C[0, 1], C[1, 1], rho))
    assert m.rho[2, 2] == 0 and m.c11[2, 2] == 0            # in the hole
    assert m.rho[18, 2] == 3.0 and m.c12[18, 2] == 0.0      # undeformed host
    assert lumped_mass(g, m).sum() == pytest.approx(m.rho.sum() * g.h ** 2)


def test_unidirectional_field_inverse_and_gradient():
    fld = Unidirectional("gaussian", direction=(0.6, 0.8), amplitude=0.4, center=(0.2, -0.1), width=0.7)
    X = np.random.default_rng(2).uniform(-2, 2, (50, 2))
    phi, grad = fld.phi_grad(X)
    x = X + phi[:, None] * fld.e
    np.testing.assert_allclose(fld.inverse(x), X, atol=1e-12)
    F, solid = fld.gradient(x)
    np.testing.assert_allclose(F[:, :2, :2], np.eye(2) + fld.e[None, :, None] * grad[:, None, :], atol=1e-12)
    assert solid.all() and fld.min_jacobian() > 0


def test_sources_carry_their_total_load():
    g = Grid(41, 31, 0.05)
    loads, _ = sources.line(g, (0.2, 0.73), (1.8, 0.73))
    assert loads.weight.sum() == pytest.approx(1.6)
    loads, _ = sources.line(g, (0.0, 0.73), (2.0, 0.73), profile="gaussian", waist=0.3)
    assert loads.weight.sum() == pytest.approx(math.sqrt(math.pi) * 0.3, rel=1e-4)   # ∫ exp(-(s/w)^2) ds
    loads, _ = sources.point(g, (1.013, 0.77), radius=0.1)
    assert loads.weight.sum() == pytest.approx(1.0)
    xc = np.sum(loads.weight * (g.x0 + g.h * loads.i))
    assert xc == pytest.approx(1.013, abs=1e-3)
    with pytest.raises(ValueError, match="outside the grid"):
        sources.spread(g, np.array([[5.0, 0.5]]), np.ones(1))
    assert isinstance(loads, PointLoads)
