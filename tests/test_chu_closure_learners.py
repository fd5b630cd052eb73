"""The learned closure's torch side in 1D3V (``dim`` 3, Chu's pair g, b on the v_x grid): exact moments of the
stacked equilibrium, closure targets of states with known stress and heat flux, the learned collision source."""

import math

import numpy as np
import pytest
import torch

from learners import bgk_closure as lc
from solvers import bgk

M = 3
GRID = bgk.PhaseGrid(0.0, 1.0, 8, 12.0, 96, dim=3)
V = torch.as_tensor(GRID.v)
DV = GRID.dv


def _pair(rho, u, t_par, t_perp, skew=0.0):
    """The Chu pair (g, b) of a bi-Maxwellian (temperatures t_par along x, t_perp across) at the nodes, stacked
    ``(1, 2 n_v)``; ``skew`` adds an odd Hermite-3 part to g (a heat flux along x, no mass, momentum or energy)."""
    c = (V - u) / math.sqrt(t_par)
    g = rho * torch.exp(-0.5 * c * c) / math.sqrt(2.0 * math.pi * t_par) * (1.0 + skew * (c ** 3 - 3.0 * c))
    return torch.cat([g, t_perp * g])[None]


def _networks(seed=0):
    torch.manual_seed(seed)
    return lc.WeightFunctions(M, [8], "tanh", 1.0, dim=3).double(), lc.ClosureNet(M, [8], "tanh", dim=3).double()


def test_stacked_equilibrium_has_the_conserved_moments_and_zero_z():
    weights, _ = _networks()
    u, T = torch.tensor([0.0, 0.7, -1.2], dtype=torch.float64), torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64)
    f = lc.maxwellian(u, T, V, DV, dim=3) / DV
    rho, m, E = lc.moments(f, V, DV, dim=3)
    np.testing.assert_allclose(rho.numpy(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(m.numpy(), u.numpy(), atol=1e-12)
    np.testing.assert_allclose(E.numpy(), (0.5 * u * u + 1.5 * T).numpy(), rtol=1e-12)   # gamma = 5/3
    np.testing.assert_allclose(lc.temperature(rho, m, E, dim=3).numpy(), T.numpy(), rtol=1e-12)
    _, z = weights.encode(f, V, DV, u, T)
    assert z.abs().max() < 1e-15
    assert weights(V).shape == (M, 2 * GRID.n_v)


def test_closure_targets_of_a_bi_maxwellian_and_a_skewed_pair():
    weights, _ = _networks()
    rho, u, t_par, t_perp, skew = 1.3, 0.4, 1.6, 0.7, 0.05
    T = (t_par + 2.0 * t_perp) / 3.0
    uu, TT, z, y = lc.closure_data(weights, _pair(rho, u, t_par, t_perp, skew), V, DV)
    np.testing.assert_allclose([uu.item(), TT.item()], [u, T], rtol=1e-12)
    sigma, q = y[0, 0].item(), y[0, 1].item()
    assert sigma == pytest.approx(t_par - T, rel=1e-10)            # P_xx/rho - T of the bi-Maxwellian
    assert q == pytest.approx(3.0 * skew * t_par ** 1.5, rel=1e-10)  # ½∫c³ g: the Hermite-3 part's only moment
    _, _, _, y0 = lc.closure_data(weights, _pair(rho, u, T, T), V, DV)
    assert y0.abs().max() < 1e-12 and z.abs().max() > 1e-3       # at equilibrium every target vanishes


def test_a_bgk_production_is_the_source_minus_z():
    """BGK with collision frequency rho: C(f)/Kn = rho (M - f)/Kn, so the source target Kn ∫w C/rho² is -z."""
    weights, _ = _networks(1)
    f = _pair(1.7, -0.3, 1.4, 0.8, 0.03)
    u, T, z, _ = lc.closure_data(weights, f, V, DV)
    kn = torch.tensor([0.05], dtype=torch.float64)
    rho = 1.7
    production = rho * (rho * lc.maxwellian(u, T, V, DV, dim=3) / DV - f) / kn[:, None]
    *_, s = lc.closure_data(weights, f, V, DV, production=production, kn=kn)
    np.testing.assert_allclose(s.numpy(), -z.numpy(), rtol=1e-10, atol=1e-14)


def test_the_learned_source_damps_z_and_is_zero_at_equilibrium():
    _, net = _networks(2)
    n = 64
    gen = torch.Generator().manual_seed(0)
    u, T = torch.randn(n, generator=gen, dtype=torch.float64), 0.5 + torch.rand(n, generator=gen, dtype=torch.float64)
    z = torch.randn(n, M, generator=gen, dtype=torch.float64)
    fluxes, src = net.scaled_with_source(u, T, z)
    assert fluxes.shape == (n, M + 2) and src.shape == (n, M)
    zeta = z / net.z_scale
    # -ζ·(P ζ) <= -floor |ζ|²: the source only damps, at least at the floor rate
    assert torch.all((zeta * src).sum(1) <= -lc.SOURCE_FLOOR * (zeta * zeta).sum(1) * (1 - 1e-12))
    f0, s0 = net.scaled_with_source(u, T, torch.zeros_like(z))
    assert f0.abs().max() == 0 and s0.abs().max() == 0
    with pytest.raises(ValueError, match="dim-3"):
        lc.ClosureNet(M, [8], "tanh").scaled_with_source(u, T, z)
    with pytest.raises(ValueError, match="dim must be one of"):
        lc.WeightFunctions(M, [8], "tanh", 1.0, dim=2)


def test_the_closure_fits_a_known_source_and_flux():
    """1500 Adam steps fit a linear stress and a linear damping (P = diag(1/2, 1/3, 1)): the loss with the
    source falls by 100x; the loss terms are the ones the kind trains with."""
    _, net = _networks(3)
    gen = torch.Generator().manual_seed(1)
    n = 512
    u, T = 0.3 * torch.randn(n, generator=gen, dtype=torch.float64), 0.7 + 0.6 * torch.rand(n, generator=gen,
                                                                                                dtype=torch.float64)
    z = 0.1 * torch.randn(n, M, generator=gen, dtype=torch.float64)
    y = torch.cat([z[:, :1], z[:, 1:2] - z[:, 2:3], torch.zeros(n, M, dtype=torch.float64)], 1)
    s = -z * torch.tensor([0.5, 1.0 / 3.0, 1.0], dtype=torch.float64)
    net.set_scales(torch.cat([u[:, None], T[:, None], z], 1), z, y + 1e-3)
    start = lc.closure_loss(net, u, T, z, y, s).mean().item()
    lc.train(net, lambda idx: lc.closure_loss(net, u[idx], T[idx], z[idx], y[idx], s[idx]).mean(), n,
             lambda: float(lc.closure_loss(net, u, T, z, y, s).mean()), steps=1500, batch_size=64, lr=1e-2,
             lr_final=1e-3, generator=torch.Generator().manual_seed(2), record_every=1500)
    assert lc.closure_loss(net, u, T, z, y, s).mean().item() < start / 100


def test_the_exported_numba_closure_equals_the_torch_networks():
    """Fluxes (mean of the members) and the source matrix (mean of L Lᵀ, plus the floor) of the numba closure
    built by export_arrays equal the torch networks' to 1e-12; the tables split into the weights of g and b."""
    from solvers import bgk_moments
    from solvers.bgk_moments.closure import closure_cells, source_cells

    weights, _ = _networks(4)
    nets = [lc.ClosureNet(M, [8], "tanh", dim=3).double() for _ in range(2)]
    for net in nets:  # the members share their scales, as set_scales on one data set gives them
        net.in_shift.copy_(torch.tensor([0.1, 1.0, 0.0, 0.0, 0.0]))
        net.z_scale.copy_(torch.tensor([0.01, 0.02, 0.03]))
        net.out_scale.copy_(torch.tensor([0.05, 0.02, 0.03, 0.01, 0.04]))
    cl = bgk_moments.make_closure(GRID.v, DV, activation="tanh", **lc.export_arrays(weights, nets, GRID.v))
    assert cl.dim == 3 and cl.source_floor == lc.SOURCE_FLOOR
    table = weights(V).detach().numpy()
    np.testing.assert_array_equal(np.hstack([cl.wtab, cl.wbtab]), table)
    n = 6
    gen = torch.Generator().manual_seed(5)
    u, T = torch.randn(n, generator=gen, dtype=torch.float64), 0.5 + torch.rand(n, generator=gen, dtype=torch.float64)
    z = 0.02 * torch.randn(n, M, generator=gen, dtype=torch.float64)
    xin, zs, buf = np.empty((n, 2 + M)), np.empty((n, M)), np.empty((2, n * int(cl.sizes.max())))
    y, R = np.empty((n, 2 + M)), np.empty((n, M, M))
    zt = np.ascontiguousarray(z.numpy().T)
    members = np.array([0, 2])
    closure_cells(u.numpy(), T.numpy(), zt, cl, members, xin, zs, buf, y)
    source_cells(u.numpy(), T.numpy(), zt, cl, members, xin, buf, R)
    with torch.no_grad():
        np.testing.assert_allclose(y, torch.stack([net(u, T, z) for net in nets]).mean(0).numpy(), rtol=1e-12,
                                   atol=1e-15)
        # -P ζ of each member, averaged, is -R ζ (members share the scales' z_scale)
        zeta = (z / nets[0].z_scale).numpy()
        src = torch.stack([net.scaled_with_source(u, T, z)[1] for net in nets]).mean(0).numpy()
    full = np.tril(R) + np.tril(R, -1).transpose(0, 2, 1)
    np.testing.assert_allclose(-np.einsum("nij,nj->ni", full, zeta), src, rtol=1e-12, atol=1e-15)
