"""Spring–mass truth (numba Verlet), the learned simulator (interaction network), and graph-level
regression on block-diagonal batches with exact targets."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.linalg
import torch

from learners import graph_readout, interaction_network
from learners.training import torch_threads
from solvers import graph_targets, springs


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small graphs: intra-op threads only wait on each other (and on a shared machine, for long)."""
    with torch_threads(1):
        yield


# ---------------------------------------------------------------------------
# spring–mass solver
# ---------------------------------------------------------------------------


def _perturbed_radius_network(seed: int, n: int = 64):
    """A radius graph with its rest lengths and one random initial state around the rest geometry."""
    rng = np.random.default_rng(seed)
    x_rest, edges = springs.radius_graph(n, 1.5, rng)
    x0, v0 = springs.random_states(x_rest, 0.05, 0.05, 1, rng)
    return x_rest, edges, springs.rest_lengths(x_rest, edges), x0[0], v0[0]


def test_energy_conserved_to_1e_6_over_1e4_steps_with_verlet_dt2_scaling():
    _, edges, rest, x0, v0 = _perturbed_radius_network(0)
    drift = {}
    for dt in (1e-3, 5e-4):
        energy = springs.simulate(x0, v0, edges, rest, 1.0, 1.0, dt, 10_000, 10).energy
        drift[dt] = np.max(np.abs(energy - energy[0])) / energy[0]
    assert drift[1e-3] < 1e-6
    assert 3.0 < drift[1e-3] / drift[5e-4] < 5.0  # bounded O(dt^2) error of Verlet


def test_two_masses_follow_the_exact_harmonic_solution():
    m1, m2, k, rest, stretch, dt, steps = 1.0, 3.0, 2.0, 1.5, 0.5, 1e-3, 10_000
    axis = np.array([np.cos(0.7), np.sin(0.7)])
    com_velocity = np.array([0.3, -0.2])
    total, reduced = m1 + m2, m1 * m2 / (m1 + m2)
    x0 = np.array([-m2 / total * (rest + stretch) * axis, m1 / total * (rest + stretch) * axis])
    v0 = np.array([com_velocity, com_velocity])
    trajectory = springs.simulate(x0, v0, np.array([[0], [1]]), rest, k, [m1, m2], dt, steps, 100)

    t = dt * 100 * np.arange(len(trajectory.positions))
    separation = rest + stretch * np.cos(np.sqrt(k / reduced) * t)
    centre = t[:, None] * com_velocity
    exact = np.stack([centre - (m2 / total * separation)[:, None] * axis,
                      centre + (m1 / total * separation)[:, None] * axis], axis=1)
    assert np.max(np.abs(trajectory.positions - exact)) < 1e-6


def test_accelerations_equal_a_numpy_reference():
    rng = np.random.default_rng(3)
    x_rest, edges = springs.lattice_graph(5, 4, spacing=0.8)
    rest = springs.rest_lengths(x_rest, edges)
    x = x_rest + 0.1 * rng.standard_normal(x_rest.shape)
    k = rng.uniform(0.5, 2.0, edges.shape[1])
    m = rng.uniform(0.5, 2.0, len(x))

    d = x[edges[1]] - x[edges[0]]
    length = np.linalg.norm(d, axis=1)
    force = (k * (length - rest) / length)[:, None] * d
    reference = np.zeros_like(x)
    np.add.at(reference, edges[0], force)
    np.add.at(reference, edges[1], -force)
    np.testing.assert_allclose(springs.accelerations(x, edges, rest, k, m), reference / m[:, None],
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(springs.accelerations(x_rest, edges, rest, k, m), 0.0, atol=1e-14)


def test_graphs_hold_exactly_the_springs_they_describe():
    x_rest, edges = springs.lattice_graph(3, 2, spacing=2.0)
    assert edges.shape[1] == 2 * 2 + 3 * 1 + 2 * 2  # 4 along x, 3 along y, 2 diagonals per cell
    assert sorted(set(np.round(springs.rest_lengths(x_rest, edges), 12))) == [2.0, round(2 * np.sqrt(2), 12)]

    positions, edges = springs.radius_graph(40, 1.2, np.random.default_rng(5))
    distance = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
    i, j = np.nonzero(np.triu(distance < 1.2, k=1))
    np.testing.assert_array_equal(edges, np.stack([i, j]))
    with pytest.raises(ValueError, match="radius 0.001 gives no edges"):
        springs.radius_graph(10, 1e-3, np.random.default_rng(0))


# ---------------------------------------------------------------------------
# learned simulator
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def learned_springs():
    """An interaction network trained on 16 trajectories of one radius network, and its evaluation
    from a held-out initial state over 100 steps."""
    x_rest, edges, rest, _, _ = _perturbed_radius_network(1)
    system = interaction_network.SpringSystem(edges, rest, np.ones(edges.shape[1]), np.ones(len(x_rest)))
    dt = 0.02
    rng = np.random.default_rng(10)
    x0, v0 = springs.random_states(x_rest, 0.05, 0.05, 16, rng)
    held_x0, held_v0 = springs.random_states(x_rest, 0.05, 0.05, 4, np.random.default_rng(11))
    positions, accelerations = springs.state_samples(x0, v0, edges, rest, system.k, system.m, dt, 200, 20)
    held_positions, held_accelerations = springs.state_samples(held_x0, held_v0, edges, rest, system.k,
                                                               system.m, dt, 200, 50)
    with torch_threads(1):  # module scope: set up before the autouse fixture
        torch.manual_seed(0)
        model = interaction_network.InteractionNetwork(hidden=32, message=8)
        curves = interaction_network.train(model, system, positions, accelerations, held_positions,
                                           held_accelerations, steps=600, lr=1e-2, batch=8, record_every=100,
                                           seed=0)
        return curves, interaction_network.evaluate(model, system, held_x0[0], held_v0[0], dt, 100)


def test_learned_one_step_acceleration_within_1e_2_on_held_out_states(learned_springs):
    curves, errors = learned_springs
    assert curves.held_out[-1] <= 1e-2
    assert errors.one_step <= 1e-2


def test_learned_rollout_beats_constant_velocity_tenfold_at_100_steps(learned_springs):
    _, errors = learned_springs
    assert errors.position_error[0] == 0.0
    assert errors.position_error[100] <= 0.1 * errors.baseline_error[100]
    assert np.max(np.abs(errors.energy_drift)) < 1e-2
    assert np.max(np.abs(errors.truth_energy_drift)) < np.max(np.abs(errors.energy_drift))


@pytest.mark.parametrize("equivariant", [True, False])
def test_interaction_network_is_translation_invariant_and_equivariant_form_rotates(equivariant):
    x_rest, edges, rest, x0, _ = _perturbed_radius_network(2, n=20)
    system = interaction_network.SpringSystem(edges, rest, np.ones(edges.shape[1]), np.ones(len(x0)))
    torch.manual_seed(0)
    model = interaction_network.InteractionNetwork(equivariant=equivariant).double()
    edge_index, rest_t, inv_mass = system.tensors(torch.float64)
    x = torch.as_tensor(x0)
    a = model(x, edge_index, rest_t, inv_mass)
    torch.testing.assert_close(model(x + torch.tensor([3.0, -1.0], dtype=torch.float64), edge_index, rest_t,
                                     inv_mass), a, rtol=1e-12, atol=1e-12)
    c, s = np.cos(1.1), np.sin(1.1)
    rotation = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    rotated = model(x @ rotation.T, edge_index, rest_t, inv_mass)
    assert torch.allclose(rotated, a @ rotation.T, rtol=1e-10, atol=1e-12) == equivariant


# ---------------------------------------------------------------------------
# exact graph targets
# ---------------------------------------------------------------------------


def _networkx(n: int, edges: np.ndarray) -> nx.Graph:
    graph = nx.empty_graph(n)
    graph.add_edges_from(edges.T.tolist())
    return graph


def _edges(graph: nx.Graph) -> np.ndarray:
    return np.array(sorted(tuple(sorted(e)) for e in graph.edges()), dtype=np.int64).reshape(-1, 2).T


def test_triangle_counts_equal_networkx_and_connectivity_equals_scipy():
    graphs = graph_targets.random_graphs(30, graph_targets.GRAPH_KINDS, (5, 14), (0.2, 0.7), (0.3, 0.6), seed=4)
    for n, edges in graphs:
        graph = _networkx(n, edges)
        assert graph_targets.triangle_count(n, edges) == sum(nx.triangles(graph).values()) // 3
        laplacian = nx.laplacian_matrix(graph, nodelist=range(n)).toarray().astype(float)
        expected = scipy.linalg.eigh(laplacian, eigvals_only=True)[1]
        assert graph_targets.algebraic_connectivity(n, edges) == pytest.approx(expected, abs=1e-10)
    assert len({graph_targets.triangle_count(n, e) for n, e in graphs}) > 5  # the targets vary


@pytest.mark.parametrize("graph, expected", [
    (nx.path_graph(9), 2 - 2 * np.cos(np.pi / 9)),
    (nx.cycle_graph(11), 2 - 2 * np.cos(2 * np.pi / 11)),
    (nx.complete_graph(7), 7.0),
])
def test_algebraic_connectivity_closed_forms(graph, expected):
    assert graph_targets.algebraic_connectivity(len(graph), _edges(graph)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("graph, expected", [
    (nx.cycle_graph(12), -12.0),  # bipartite: every bond satisfied
    (nx.complete_bipartite_graph(4, 5), -20.0),
    (nx.cycle_graph(13), -11.0),  # odd cycle: one frustrated bond
    (nx.complete_graph(14), -7.0),  # (M^2 - n) / 2 at magnetisation M = 0
    (nx.complete_graph(9), -4.0),  # M = 1
])
def test_ising_ground_energy_closed_forms(graph, expected):
    assert graph_targets.ising_ground_energy(len(graph), _edges(graph)) == expected


def test_bad_graph_inputs_name_the_field_and_bound():
    with pytest.raises(ValueError, match="p must be in \\[0, 1\\], got -0.1"):
        graph_targets.random_graph("gnp", 10, -0.1, seed=0)
    with pytest.raises(ValueError, match="n <= 14 nodes, got n = 15"):
        graph_targets.ising_ground_energy(15, _edges(nx.path_graph(15)))


# ---------------------------------------------------------------------------
# batched graph regression
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("pool", ["add", "mean"])
def test_batched_forward_equals_graphs_one_by_one(pool):
    graphs = graph_targets.random_graphs(40, graph_targets.GRAPH_KINDS, (1, 14), (0.1, 0.8), (0.2, 0.7), seed=6)
    torch.manual_seed(1)
    model = graph_readout.GraphRegressor(hidden=16, layers=3, pool=pool).double()
    with torch.no_grad():
        batched = model(graph_readout.to_batch(graphs, dtype=torch.float64))
        single = torch.cat([model(graph_readout.to_batch([g], dtype=torch.float64)) for g in graphs])
    assert batched.shape == (40,)
    torch.testing.assert_close(batched, single, rtol=0, atol=1e-6)


def test_trained_readout_predicts_triangle_counts_far_better_than_the_mean():
    kinds, nodes, p, radius = graph_targets.GRAPH_KINDS, (6, 14), (0.1, 0.6), (0.2, 0.6)
    train_graphs = graph_targets.random_graphs(256, kinds, nodes, p, radius, seed=0)
    held_graphs = graph_targets.random_graphs(200, kinds, nodes, p, radius, seed=1)
    y, held_y = (graph_targets.targets("triangles", g) for g in (train_graphs, held_graphs))
    torch.manual_seed(0)
    model = graph_readout.GraphRegressor(hidden=32, layers=3, pool="add")
    held_batch = graph_readout.to_batch(held_graphs, held_y)
    graph_readout.train(model, graph_readout.to_batch(train_graphs, y), held_batch, steps=200, lr=3e-3,
                        record_every=100)
    with torch.no_grad():
        predicted = model(held_batch)
    assert graph_readout.r_squared(np.full_like(held_y, y.mean()), held_y) < 0.01  # the mean: R^2 about 0
    assert graph_readout.r_squared(predicted, held_y) > 0.8


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_models_on_cuda_equal_cpu():
    x_rest, edges, rest, x0, _ = _perturbed_radius_network(2, n=20)
    system = interaction_network.SpringSystem(edges, rest, np.ones(edges.shape[1]), np.ones(len(x0)))
    torch.manual_seed(0)
    model = interaction_network.InteractionNetwork().double()
    on_cpu = interaction_network.rollout(model, system, x0, np.zeros_like(x0), 0.02, 5)[0]
    on_cuda = interaction_network.rollout(model.cuda(), system, x0, np.zeros_like(x0), 0.02, 5)[0]
    np.testing.assert_allclose(on_cuda, on_cpu, rtol=0, atol=1e-10)

    graphs = graph_targets.random_graphs(20, graph_targets.GRAPH_KINDS, (2, 10), (0.2, 0.6), (0.3, 0.6), seed=2)
    readout = graph_readout.GraphRegressor(hidden=8).double()
    batch = graph_readout.to_batch(graphs, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(readout.cuda()(batch.cuda()).cpu(), readout.cpu()(batch), rtol=0, atol=1e-10)
