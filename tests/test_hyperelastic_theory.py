"""Theory of shear waves at undeformed / pre-deformed neo-Hookean interfaces (brief §1-§2), and the kind
hyperelastic_interface through the engine: values from the brief's tables, exact identities, bad input."""

import math
import sys

import numpy as np
import pytest

from solvers.hyperelastic import material, modes, psv_interface, sh_interface

DEG = np.pi / 180
TABLE_ANGLES = np.array([0, 15, 30, 45, 60, 75]) * DEG


def _F(mode, **kw):
    return modes.deformation_gradient(mode, mu=1.0, **kw)[0]


# ---------------------------------------------------------------------------
# constitutive model
# ---------------------------------------------------------------------------

GRADIENTS = [np.diag([1.0, 1.5, 1.0]), np.eye(3) + 0.7 * np.outer([1, 0, 0], [0, 1, 0]),
             np.array([[1.1, 0.3, -0.2], [0.05, 0.9, 0.1], [0.2, -0.1, 1.2]]), 0.8 * np.eye(3)]


@pytest.mark.parametrize("F", GRADIENTS)
def test_incremental_tensor_is_the_derivative_of_the_piola_stress(F):
    mu, lam, h = 1.3, 2.1, 1e-6
    A = material.incremental_tensor_reference(F, mu, lam)
    for j in range(3):
        for b in range(3):
            dF = np.zeros((3, 3))
            dF[j, b] = h
            fd = (material.piola(F + dF, mu, lam) - material.piola(F - dF, mu, lam)) / (2 * h)
            np.testing.assert_allclose(A[:, :, j, b], fd, atol=2e-9)
    # P is the derivative of W, A0 the push-forward J^-1 F_pa F_qb A_iajb, sigma = P F^T / J
    fd_W = np.array([[(material.energy(F + h * np.outer(np.eye(3)[i], np.eye(3)[a]), mu, lam)
                       - material.energy(F - h * np.outer(np.eye(3)[i], np.eye(3)[a]), mu, lam)) / (2 * h)
                      for a in range(3)] for i in range(3)])
    np.testing.assert_allclose(material.piola(F, mu, lam), fd_W, atol=2e-9)
    J = np.linalg.det(F)
    np.testing.assert_allclose(material.incremental_tensor(F, mu, lam),
                               np.einsum("pa,qb,iajb->ipjq", F, F, A) / J, atol=1e-13)
    np.testing.assert_allclose(material.cauchy(F, mu, lam), material.piola(F, mu, lam) @ F.T / J, atol=1e-13)
    A0 = material.incremental_tensor(F, mu, lam)
    np.testing.assert_allclose(A0, A0.transpose(2, 3, 0, 1), atol=1e-13)          # major symmetry


def test_sh_push_forward_is_the_antiplane_block_of_the_incremental_tensor():
    F = np.array([[1.2, 0.4, 0.0], [-0.1, 0.9, 0.0], [0.0, 0.0, 1.1]])
    C, rho = material.push_forward(F, mu=2.0, rho0=3.0)
    A0 = material.incremental_tensor(F, 2.0, 5.0)
    np.testing.assert_allclose(C, A0[2, :2, 2, :2], atol=1e-14)                    # A0_3p3q = mu B_pq / J
    assert rho == pytest.approx(3.0 / np.linalg.det(F))
    assert material.push_forward(np.stack([F, F]), 2.0, 3.0)[0].shape == (2, 2, 2)
    with pytest.raises(ValueError, match="not positive"):
        material.jacobian(np.diag([1.0, -1.0, 1.0]))


@pytest.mark.parametrize("lam, a, expect", [(2, 1.2, (0.939879, 0.908974)), (2, 1.5, (0.868300, 0.798868)),
                                            (10, 1.2, (0.919916, 0.855918)), (10, 1.5, (0.829342, 0.701410))])
def test_lateral_stretch_of_ordinary_uniaxial_tension(lam, a, expect):
    for plane, value in zip((False, True), expect):
        lt = modes.lateral_stretch(a, 1.0, lam, plane)
        assert lt == pytest.approx(value, abs=1e-6)
        F = _F("ordinary_uniaxial", stretch=a, lam=lam, plane_strain=plane)
        sigma = material.cauchy(F, 1.0, lam)
        lateral = [0, 2] if not plane else [0]
        np.testing.assert_allclose(sigma[lateral, lateral], 0.0, atol=1e-12)     # traction-free sides
    assert modes.lateral_stretch(1.5, 1.0, math.inf) == pytest.approx(1.5 ** -0.5)


# ---------------------------------------------------------------------------
# SH closed form: the brief's table §2.3 (R / |r| at 0, 15, ..., 75 degrees)
# ---------------------------------------------------------------------------

TABLE = [
    (dict(mode="constrained_uniaxial", stretch=1.2, orientation="tangent"),
     [(0.0083, 0.0909), (0.0098, 0.0989), (0.0169, 0.1301), (0.0537, 0.2318), (1, 1), (1, 1)]),
    (dict(mode="constrained_uniaxial", stretch=1.5, orientation="tangent"),
     [(0.0400, 0.2000), (0.0495, 0.2225), (0.1058, 0.3252), (1, 1), (1, 1), (1, 1)]),
    (dict(mode="constrained_uniaxial", stretch=2.0, orientation="tangent"),
     [(0.1111, 0.3333), (0.1491, 0.3861), (1, 1), (1, 1), (1, 1), (1, 1)]),
    (dict(mode="simple_shear", shear=0.5, orientation="tangent"),
     [(0.0031, 0.0557), (0.0035, 0.0593), (0.0052, 0.0718), (0.0102, 0.1010), (0.0294, 0.1716), (0.1370, 0.3701)]),
    (dict(mode="simple_shear", shear=1.0, orientation="tangent"),
     [(0.0294, 0.1716), (0.0324, 0.1801), (0.0436, 0.2087), (0.0718, 0.2679), (0.1459, 0.3820), (0.3591, 0.5993)]),
    (dict(mode="ordinary_uniaxial", stretch=1.2, lam=2.0),
     [(0.0038, 0.0619), (0.0041, 0.0640), (0.0051, 0.0714), (0.0080, 0.0893), (0.0185, 0.1362), (0.0866, 0.2943)]),
    (dict(mode="ordinary_uniaxial", stretch=1.5, lam=2.0),
     [(0.0197, 0.1403), (0.0209, 0.1446), (0.0255, 0.1596), (0.0375, 0.1937), (0.0742, 0.2724), (0.2232, 0.4724)]),
    (dict(mode="ordinary_uniaxial", stretch=1.5, lam=2.0, orientation="tangent"),
     [(0.0173, 0.1314), (0.0238, 0.1544), (0.0680, 0.2607), (1, 1), (1, 1), (1, 1)]),
    (dict(mode="ordinary_uniaxial", stretch=1.5, lam=10.0),
     [(0.0342, 0.1850), (0.0362, 0.1903), (0.0436, 0.2088), (0.0623, 0.2497), (0.1146, 0.3385), (0.2933, 0.5415)]),
    (dict(mode="ordinary_uniaxial", stretch=1.5, lam=math.inf),
     [(0.0400, 0.2000), (0.0423, 0.2057), (0.0507, 0.2251), (0.0718, 0.2679), (0.1291, 0.3592), (0.3155, 0.5617)]),
    (dict(mode="hydrostatic", scale=0.9),
     [(0.0110, 0.1050), (0.0117, 0.1083), (0.0144, 0.1201), (0.0218, 0.1478), (0.0461, 0.2147), (0.1635, 0.4043)]),
    (dict(mode="hydrostatic", scale=0.8),
     [(0.0482, 0.2195), (0.0509, 0.2256), (0.0607, 0.2463), (0.0849, 0.2913), (0.1484, 0.3853), (0.3435, 0.5861)]),
    (dict(mode="hydrostatic", scale=0.8, plane_strain=True),
     [(0.0123, 0.1111), (0.0138, 0.1174), (0.0193, 0.1390), (0.0347, 0.1862), (0.0820, 0.2864), (0.2581, 0.5081)]),
] + [(dict(mode="constrained_uniaxial", stretch=a), [(0, 0)] * 6) for a in (1.2, 1.5, 2.0)] \
  + [(dict(mode="simple_shear", shear=g), [(0, 0)] * 6) for g in (0.5, 1.0)]


def _case_id(value):
    return "-".join(map(str, value.values())) if isinstance(value, dict) else ""


@pytest.mark.parametrize("case, expect", TABLE, ids=_case_id)
def test_sh_coefficients_match_the_table(case, expect):
    c = sh_interface.coefficients(_F(**case), TABLE_ANGLES)
    R_ref, r_ref = np.array(expect).T
    np.testing.assert_allclose(c.R, R_ref, atol=5.1e-5)
    np.testing.assert_allclose(np.abs(c.r), r_ref, atol=5.1e-5)
    np.testing.assert_allclose(c.R + c.T, 1.0, atol=1e-14)
    np.testing.assert_allclose(c.t, 1 + c.r, atol=1e-14)
    total = R_ref == 1
    assert np.all(c.evanescent == total) and np.all(c.T[total] < 1e-7)   # 1e-7: sin 30° rounded, a = 2


def test_normal_incidence_and_the_hydrostatic_spot_check():
    F = _F("hydrostatic", scale=0.8)
    c = sh_interface.coefficients(F, [0.0])
    assert c.zeta[0] == pytest.approx(1 / 0.8**2) and c.r[0].real == pytest.approx(-0.5625 / 2.5625)
    for case, _ in TABLE:
        F = _F(**case)
        assert sh_interface.coefficients(F, [0.0]).r[0] == pytest.approx(sh_interface.normal_incidence_reflection(F))


def test_critical_angle_and_evanescent_transmission():
    F = _F("constrained_uniaxial", stretch=1.5, orientation="tangent")
    crit = sh_interface.critical_angle(F)
    assert crit == pytest.approx(math.asin(1 / 1.5))
    c = sh_interface.coefficients(F, [crit - 1e-6, crit + 1e-6, 80 * DEG])
    assert not c.evanescent[0] and np.all(c.evanescent[1:])
    np.testing.assert_allclose(c.R[1:], 1.0, atol=1e-14)
    assert np.all(c.k2[1:].imag > 0)                               # decays into the deformed half-space
    assert np.isnan(sh_interface.critical_angle(_F("hydrostatic", scale=0.8)))


def test_energy_balance_for_random_plane_deformations():
    rng = np.random.default_rng(6)
    theta = np.linspace(0, 89.9, 300) * DEG
    for _ in range(50):
        F = np.eye(3)
        F[:2, :2] += rng.uniform(-0.5, 0.5, (2, 2))
        F[2, 2] = rng.uniform(0.6, 1.5)
        c = sh_interface.coefficients(F, theta)
        np.testing.assert_allclose(c.R + c.T, 1.0, atol=1e-13)
        assert np.all((c.R >= 0) & (c.R <= 1 + 1e-14) & (c.T >= -1e-14))


def test_every_rank_one_deformation_transmits_totally():
    rng = np.random.default_rng(7)
    theta = np.linspace(0, 89.9, 200) * DEG
    for d in [*rng.uniform(-0.8, 1.5, (40, 2)), (0.5, 0.0), (0.0, 0.5), (-0.634, 0.366)]:
        F = modes.rank_one(d)
        assert sh_interface.is_transparent(F)
        c = sh_interface.coefficients(F, theta)
        np.testing.assert_allclose(c.r, 0.0, atol=1e-10)                # cos 89.9° = 1.7e-3 loses digits
        np.testing.assert_allclose(c.t, 1.0, atol=1e-10)
        k = np.stack([np.sin(theta), np.cos(theta)])
        k_t = np.linalg.inv(F[:2, :2]).T @ k                          # k' = F^-T k
        np.testing.assert_allclose(c.k2, k_t[1], atol=1e-12)
        np.testing.assert_allclose(k_t[0], k[0], atol=1e-12)         # k1 conserved
        ray = F[:2, :2] @ k                                          # the transmitted ray is F times the incident one
        np.testing.assert_allclose(c.ray_angle, np.arctan2(ray[0], ray[1]), atol=1e-12)
    for bad in (_F("constrained_uniaxial", stretch=1.5, orientation="tangent"),
                _F("simple_shear", shear=0.5, orientation="tangent"), _F("hydrostatic", scale=0.9)):
        assert not sh_interface.is_transparent(bad)


def test_transmitted_rays_of_the_brief():
    for F, ray in ((_F("constrained_uniaxial", stretch=1.5), (0.35921, 0.93326)),
                   (_F("simple_shear", shear=0.5), (0.73293, 0.68031))):
        c = sh_interface.coefficients(F, [30 * DEG])
        assert abs(c.t[0]) == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose([math.sin(c.ray_angle[0]), math.cos(c.ray_angle[0])], ray, atol=1e-5)


# ---------------------------------------------------------------------------
# P-SV (6×6 Stroh): the brief's table §2.4, energy flux, reduction to SH
# ---------------------------------------------------------------------------

PSV_TABLE = [
    (dict(mode="constrained_uniaxial", stretch=1.5), "sv", [0, 0.0137, 0.0523, 0.1567, 0.2778]),
    (dict(mode="constrained_uniaxial", stretch=1.5), "p", [0.0306, 0.0292, 0.0257, 0.0214, 0.0217]),
    (dict(mode="simple_shear", shear=0.5), "sv", [0, 0.0003, 0.0039, 0.0011, 0.0056]),
    (dict(mode="simple_shear", shear=0.5), "p", [0, 0, 0.0001, 0.0007, 0.0032]),
    (dict(mode="hydrostatic", scale=0.8), "sv", [0.0482, 0.0902, 0.1958, 0.6608, 0.8841]),
]


@pytest.mark.parametrize("case, incident, expect", PSV_TABLE)
def test_psv_reflection_matches_the_table(case, incident, expect):
    sols = psv_interface.sweep(_F(**case), 1.0, 2.0, 1.0, TABLE_ANGLES[:5], incident)
    np.testing.assert_allclose([s.R for s in sols], expect, atol=5.1e-5)
    assert max(abs(s.balance) for s in sols) < 1e-12


@pytest.mark.parametrize("theta", [0.0, 20 * DEG, 70 * DEG])   # P propagating, P evanescent
def test_stroh_modes_of_the_undeformed_solid_are_the_closed_form_waves(theta):
    mu, lam, rho, omega = 1.0, 2.0, 1.0, 1.0
    A0, k1 = material.incremental_tensor(np.eye(3), mu, lam), np.sin(theta)   # SV/SH incidence: k1 = k0 sin θ
    for upward in (True, False):
        k2, U, W = psv_interface.modes(A0, rho, omega, k1, upward)
        expect = [psv_interface.isotropic_wave(mu, lam, rho, omega, k1, kind, not upward) for kind in ("p", "sv", "sh")]
        np.testing.assert_allclose(np.sort_complex(k2), np.sort_complex([k for k, _ in expect]), atol=1e-12)
        for k, Ue in expect:                                       # each closed-form wave lies in its eigenspace
            same = np.abs(k2 - k) < 1e-9
            basis = U[same].T
            coef = np.linalg.lstsq(basis, Ue, rcond=None)[0]
            np.testing.assert_allclose(basis @ coef, Ue, atol=1e-12)
            np.testing.assert_allclose(W[same].T @ coef, psv_interface.traction_amplitude(A0, k1, k, Ue), atol=1e-12)


def test_psv_conversion_grows_with_lambda():
    s = psv_interface.solve_interface(_F("constrained_uniaxial", stretch=1.5), 1.0, 10.0, 1.0, 30 * DEG, "sv")
    assert s.R == pytest.approx(0.43, abs=0.005)


def test_psv_conserves_energy_flux_for_general_deformations():
    rng = np.random.default_rng(8)
    for _ in range(12):
        F = np.eye(3) + rng.uniform(-0.3, 0.3, (3, 3))                # not plane: all wave types couple
        for incident in psv_interface.INCIDENT:
            for th in (0.0, 20 * DEG, 50 * DEG, 80 * DEG):
                s = psv_interface.solve_interface(F, 1.0, 3.0, 1.0, th, incident)
                assert abs(s.balance) < 1e-11, (F, incident, th)
                assert s.R >= -1e-12 and s.T >= -1e-12


@pytest.mark.parametrize("case", [dict(mode="hydrostatic", scale=0.8),
                                  dict(mode="simple_shear", shear=1.0, orientation="tangent"),
                                  dict(mode="constrained_uniaxial", stretch=1.5, orientation="tangent"),
                                  dict(mode="ordinary_uniaxial", stretch=1.5, lam=2.0, plane_strain=True),
                                  dict(mode="constrained_uniaxial", stretch=1.5)])
def test_psv_solver_reduces_to_sh_for_plane_deformations(case):
    F = _F(**case)
    theta = np.array([0, 15, 30, 45, 60, 75, 85]) * DEG
    c = sh_interface.coefficients(F, theta)
    for k, s in enumerate(psv_interface.sweep(F, 1.0, 2.0, 1.0, theta, "sh")):
        assert s.reflected["sh"] == pytest.approx(c.r[k], abs=1e-12)
        assert s.T == pytest.approx(c.T[k], abs=1e-12)
        assert s.t_abs == pytest.approx(abs(c.t[k]), abs=1e-12)
        assert abs(s.reflected["p"]) < 1e-12 and abs(s.reflected["sv"]) < 1e-12   # no conversion
    for incident in ("p", "sv"):                                     # and in-plane waves reflect no SH
        assert all(abs(s.reflected["sh"]) < 1e-12 for s in psv_interface.sweep(F, 1.0, 2.0, 1.0, theta, incident))


# ---------------------------------------------------------------------------
# the kind through the engine
# ---------------------------------------------------------------------------

KIND = "hyperelastic_interface"
HEAD = f"kind: {KIND}\nname: run\n"   # a test spec's own lines start at line 3 (of error messages)


def test_mode_sweep_through_the_engine(cli, run_spec, tmp_path):
    result, ds = run_spec(HEAD + (
        "material: {mu: 1.0, rho: 1.0, lame_lambda: 2.0}\nangles_deg: [0, 15, 30, 45, 60, 75]\n"
        "sweep:\n  cases:\n"
        "    - {deformation.mode: ordinary_uniaxial, deformation.stretch: 1.5}\n"
        "    - {deformation.mode: constrained_uniaxial, deformation.stretch: 1.5, deformation.orientation: tangent}\n"
        "    - {deformation.mode: simple_shear, deformation.shear: 0.5}\n"
        "    - {deformation.mode: custom, deformation.F: [[1.0, 0.3], [0.0, 1.4]]}\n"))
    assert result.code == 0, result.err
    assert ds["angle"].attrs["units"] == "degree" and ds["r_phase"].attrs["units"] == "rad"
    np.testing.assert_allclose(ds["R"].isel(case=0), [0.0197, 0.0209, 0.0255, 0.0375, 0.0742, 0.2232], atol=5.1e-5)
    np.testing.assert_allclose(ds["r_abs"] ** 2, ds["R"], atol=1e-14)
    np.testing.assert_allclose(ds["R"] + ds["T"], 1.0, atol=1e-14)
    np.testing.assert_allclose(ds["r_abs"].isel(case=[2, 3]), 0.0, atol=1e-12)
    assert ds["lateral_stretch"].values[0] == pytest.approx(0.868300, abs=1e-6)
    assert ds["J"].values[0] == pytest.approx(1.5 * 0.868300**2, abs=1e-5)
    assert ds["critical_angle"].values[1] == pytest.approx(math.degrees(math.asin(1 / 1.5)))
    assert list(ds["n_transmitted"].isel(case=1).values) == [1, 1, 1, 0, 0, 0]
    assert np.isnan(ds["lateral_stretch"].values[3])
    plots = cli("plot", str(tmp_path / "outputs" / "run" / "result.nc"), "--outdir", str(tmp_path / "fig"))
    assert plots.code == 0, plots.err
    assert (tmp_path / "fig" / "reflection.png").stat().st_size > 0


def test_psv_run_through_the_engine(run_spec):
    result, ds = run_spec(HEAD + "deformation: {mode: hydrostatic, scale: 0.8}\nwave: p_sv\nincident: sv\n"
                          "angles_deg: {start: 0.0, stop: 60.0, num: 5}\n")
    assert result.code == 0, result.err
    np.testing.assert_allclose(ds["R"], [0.0482, 0.0902, 0.1958, 0.6608, 0.8841], atol=5.1e-5)
    np.testing.assert_allclose(ds["R"] + ds["T"], 1.0, atol=1e-12)
    assert "R_converted" in ds and "critical_angle" not in ds


def test_simulation_without_the_time_domain_solver_fails_clearly(run_spec, monkeypatch):
    monkeypatch.setitem(sys.modules, "solvers.hyperelastic.simulate", None)     # import fails
    result, _ = run_spec(HEAD + "simulation: {enabled: true, angles_deg: [30.0]}\n")
    assert result.code != 0
    assert "simulation.enabled: the time-domain solver is not available" in result.err


@pytest.mark.parametrize("extra, pattern", [
    ("deformation: {mode: custom, F: [[1.0, 0.0], [0.0, -0.5]]}",
     r"spec\.yaml:3:\d+: deformation\.F: J = det F = -0\.5 is not positive .*\(expected det F > 0\)"),
    ("deformation: {mode: custom, F: [[1.0, 2.0], [0.5, 1.0]]}", r"deformation\.F: J = det F = 0 is not positive"),
    ("deformation: {mode: custom}", r"deformation\.F: mode custom needs the deformation gradient F"),
    ("deformation: {mode: hydrostatic, F: [[1.0, 0.0], [0.0, 1.0]]}", r"deformation\.F: F is only used by mode custom"),
    ("wave: p_sv\nmaterial: {lame_lambda: .inf}", r"material\.lame_lambda: in-plane waves need a finite lambda"),
    ("deformation: {mode: custom, F: [[1.0, 0.0, 0.0], [0.0, 1.0]]}", r"deformation\.F: F must be a square"),
    ("deformation: {mode: constrained_uniaxial, stretch: 0.0}",
     r"spec\.yaml:3:\d+: deformation\.stretch: 0\.0 is out of range \(expected a value > 0\.0\)"),
    ("deformation: {mode: hydrostatic, scale: -0.8}",
     r"deformation\.scale: -0\.8 is out of range \(expected a value > 0\.0\)"),
    ("angles_deg: [0.0, 30.0, 90.0]",
     r"spec\.yaml:3:\d+: angles_deg: incidence angle 90\.0° is outside \[0°, 90°\) \(expected 0 <= angle < 90\)"),
    ("angles_deg: [-5.0]", r"angles_deg: incidence angle -5\.0° is outside \[0°, 90°\)"),
    ("angles_deg: {start: 0.0, stop: 95.0, num: 10}", r"angles_deg\.stop: incidence angle 95\.0° is outside"),
    ("simulation: {enabled: true, angles_deg: [30.0, 91.0]}", r"simulation\.angles_deg: incidence angle 91\.0°"),
    ("simulation: {points_per_wavelength: 6.0}",
     r"simulation\.points_per_wavelength: 6\.0 is out of range \(expected a value >= 10\.0\)"),
    ("deformation: {mode: custom, F: [[1.0, 0.0, 0.2], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]}",
     r"deformation\.F: SH waves decouple only for a plane deformation"),
    ("wave: p_sv\nsimulation: {enabled: true}", r"simulation\.enabled: the time-domain verification simulates SH"),
    ("material: {mu: 0.0}", r"material\.mu: 0\.0 is out of range"),
])
def test_bad_input_is_rejected_with_the_field_and_bound(rejects, extra, pattern):
    rejects(HEAD + extra + "\n", pattern)
