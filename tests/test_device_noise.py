"""Shots, noise and ablation of the circuit adapters (`measurement`, `density`, `noise`).

The noisy simulation is checked against qiskit-aer's density-matrix simulator with the same
noise model (built here from aer's own channel functions) on random circuits of 1-6 wires;
the shot statistics against the binomial law; the limits against what the channels must do.
"""

from __future__ import annotations

import math

import pytest
import torch

from qllm.adapters.circuit.ansatz import bind, circuit_gates, fast_expvals, init_circuit_weights
from qllm.adapters.circuit.density import noisy_expvals, noisy_measure, prepare_readout
from qllm.adapters.circuit.measurement import Measurement, readout_flips, sampled_expvals, shot_counts
from qllm.circuit.device import NoiseModel, parse_noise
from qllm.errors import ArgumentError

AER_TOLERANCE = 1e-5  # complex64 density matrices against aer's float64 ones


@pytest.fixture(scope="module", params=["torchquantum", "pyvqnet"])
def simulator(request):
    if request.param == "torchquantum":
        from qllm.adapters.circuit.torchquantum_simulator import TorchquantumSimulator

        return TorchquantumSimulator()
    from qllm.adapters.circuit.pyvqnet_simulator import PyvqnetSimulator

    return PyvqnetSimulator()


def aer_noise_model(noise: NoiseModel):
    """The same channels in qiskit-aer: depolarizing then amplitude damping after each gate, on its wires."""
    from qiskit_aer.noise import NoiseModel as AerNoiseModel
    from qiskit_aer.noise import amplitude_damping_error, depolarizing_error

    model = AerNoiseModel(basis_gates=["ry", "unitary"])
    for label, wires in (("ry", 1), ("crz", 2)):
        error = depolarizing_error(noise.depolarizing, wires)
        damping = amplitude_damping_error(noise.amplitude_damping)
        error = error.compose(damping.tensor(damping) if wires == 2 else damping)
        model.add_all_qubit_quantum_error(error, [label])
    return model


def aer_circuit(ry, crz, angles_row, n):
    """The adapter's gate list for one token in qiskit; CRZ as a labelled unitary (aer's density-matrix
    method has no crz instruction; the label carries the noise to it)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate

    from qllm.circuit.qiskit_circuit import to_qiskit

    plain = to_qiskit(bind(circuit_gates(ry, crz), angles_row[None]), n, measure=False)
    circuit = QuantumCircuit(n)
    for instruction in plain.data:
        operation = instruction.operation
        if operation.name == "crz":
            operation = UnitaryGate(operation.to_matrix(), label="crz")
        circuit.append(operation, instruction.qubits)
    circuit.save_density_matrix()
    return circuit


@pytest.mark.parametrize("n, depth", [(1, 1), (2, 1), (3, 2), (4, 1), (5, 2), (6, 1)])
def test_noisy_expectations_and_probabilities_match_qiskit_aer_density_matrices(simulator, n, depth):
    from qiskit.quantum_info import DensityMatrix, SparsePauliOp
    from qiskit_aer import AerSimulator

    generator = torch.Generator().manual_seed(n * 10 + depth)
    ry, crz = init_circuit_weights(n, depth, generator)
    angles = torch.rand(3, n, generator=generator) * 2 * math.pi
    noise = NoiseModel(depolarizing=0.04, amplitude_damping=0.03)
    ours = noisy_expvals(simulator, angles, ry, crz, noise)
    probabilities = noisy_measure(
        simulator, angles, ry, crz, noise, prepare_readout(simulator, ry, crz, noise, "basis")
    )
    backend = AerSimulator(method="density_matrix", noise_model=aer_noise_model(noise))
    for token in range(angles.shape[0]):
        state = DensityMatrix(backend.run(aer_circuit(ry, crz, angles[token], n)).result().data()["density_matrix"])
        z = [state.expectation_value(SparsePauliOp.from_sparse_list([("Z", [i], 1.0)], n)).real for i in range(n)]
        assert torch.allclose(ours[token], torch.tensor(z, dtype=torch.float32), atol=AER_TOLERANCE)
        # aer's probabilities are little-endian (qubit 0 the lowest bit); ours put wire 0 first
        aer_probabilities = torch.tensor(state.probabilities(), dtype=torch.float32)
        ordered = aer_probabilities.reshape([2] * n).permute(*reversed(range(n))).reshape(-1)
        assert torch.allclose(probabilities[token], ordered, atol=AER_TOLERANCE)


def test_no_noise_reproduces_the_ideal_statevector(simulator):
    ry, crz = init_circuit_weights(4, 2, torch.Generator().manual_seed(1))
    angles = torch.rand(5, 4) * 6
    assert torch.allclose(
        noisy_expvals(simulator, angles, ry, crz, NoiseModel()), fast_expvals(simulator, angles, ry, crz), atol=1e-5
    )


def test_full_depolarizing_leaves_every_wire_at_zero(simulator):
    ry, crz = init_circuit_weights(3, 2, torch.Generator().manual_seed(2))
    angles = torch.rand(4, 3) * 6
    z = noisy_expvals(simulator, angles, ry, crz, NoiseModel(depolarizing=1.0))
    assert z.abs().max() < 1e-6


class _Circuit(torch.nn.Module):
    """The parts of a `CircuitAdapter` a `Measurement` reads, around a fixed circuit."""

    def __init__(self, simulator, n: int, depth: int, seed: int = 3) -> None:
        super().__init__()
        ry, crz = init_circuit_weights(n, depth, torch.Generator().manual_seed(seed))
        self.ry_angles, self.crz_angles = torch.nn.Parameter(ry, False), torch.nn.Parameter(crz, False)
        self.simulator, self.use_fast_path = simulator, True

    def layer_unitaries(self):
        from qllm.adapters.circuit.ansatz import layer_unitaries

        return layer_unitaries(self.simulator, self.ry_angles, self.crz_angles)

    def ideal_expvals(self, angles):
        return fast_expvals(self.simulator, angles, self.ry_angles, self.crz_angles)


def test_readout_error_scales_each_expectation_by_one_minus_two_r_exactly(simulator):
    circuit, angles, r = _Circuit(simulator, 4, 1), torch.rand(6, 4) * 6, 0.07
    ideal = circuit.ideal_expvals(angles)
    measured = Measurement(noise=NoiseModel(readout=r)).expvals(circuit, "m", angles)
    assert torch.allclose(measured, (1 - 2 * r) * ideal, atol=1e-6)
    # the flipped outcome distribution (what shots sample) has the same expectations
    from qllm.adapters.circuit.ansatz import z_signs_twice
    from qllm.adapters.circuit.measurement import _ideal_probabilities

    flipped = readout_flips(_ideal_probabilities(circuit, angles), 4, r)
    assert torch.allclose(flipped.sum(dim=1), torch.ones(6), atol=1e-6)
    assert torch.allclose(flipped @ z_signs_twice(4, angles.device)[:16], (1 - 2 * r) * ideal, atol=1e-6)


def test_shot_estimates_spread_as_the_binomial_law_says(simulator):
    """Over 200 seeded repeats the spread of a shot estimate of <Z_i> is sqrt((1 - <Z_i>^2) / N), within 15 %."""
    circuit, shots = _Circuit(simulator, 3, 1), 1000
    angles = torch.tensor([[0.4, 1.3, 2.2]])
    exact = circuit.ideal_expvals(angles)[0]
    measurement = Measurement(shots=shots, seed=11)
    repeats = torch.cat([measurement.expvals(circuit, "m", angles) for _ in range(200)])
    expected = ((1 - exact.square()) / shots).sqrt()
    assert torch.all(expected > 0.01)  # no wire sits at a pole, where the spread vanishes
    assert torch.allclose(repeats.std(dim=0), expected, rtol=0.15)
    assert torch.allclose(repeats.mean(dim=0), exact, atol=4 * float(expected.max()) / math.sqrt(200))
    again = Measurement(shots=shots, seed=11)
    assert torch.equal(again.expvals(circuit, "m", angles), repeats[:1])  # seeded: the same draw again


def test_shot_counts_are_multinomial_draws():
    """Counts sum to the shots, never land on an impossible outcome, and match N p with multinomial spread."""
    probabilities = torch.tensor([0.5, 0.2, 0.0, 0.1, 0.05, 0.05, 0.06, 0.04]).expand(4000, 8)
    counts = shot_counts(probabilities, 100, torch.Generator().manual_seed(0))
    assert torch.all(counts.sum(dim=1) == 100) and torch.all(counts[:, 2] == 0)
    assert torch.allclose(counts.mean(dim=0), 100 * probabilities[0], atol=0.35)  # 4 standard errors of 4000 rows
    expected_std = (100 * probabilities[0] * (1 - probabilities[0])).sqrt()
    assert torch.allclose(counts.std(dim=0), expected_std, rtol=0.05, atol=1e-6)
    z = sampled_expvals(torch.tensor([[0.5, 0.25, 0.25, 0.0]]), 200_000, torch.Generator().manual_seed(0))
    assert torch.allclose(z, torch.tensor([[0.5, 0.5]]), atol=0.01)  # wire 0: 0.75 - 0.25; wire 1: 0.75 - 0.25


def test_ablations_replace_the_circuit_output(simulator):
    circuit, angles = _Circuit(simulator, 3, 1), torch.rand(8, 3) * 6
    assert torch.equal(Measurement(ablation="zero").expvals(circuit, "m", angles), torch.zeros(8, 3))
    recorder = Measurement(record_means=True)
    exact = recorder.expvals(circuit, "m", angles)
    assert torch.equal(exact, circuit.ideal_expvals(angles))  # recording does not change the reading
    means = recorder.recorded_means()
    ablated = Measurement(ablation="mean", means=means).expvals(circuit, "m", angles[:2])
    assert torch.allclose(ablated, exact.mean(dim=0).expand(2, 3))
    with pytest.raises(RuntimeError, match="record_means"):
        Measurement(ablation="mean").expvals(circuit, "other", angles)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("0", NoiseModel()),
        ("0.001", NoiseModel(depolarizing=0.001)),
        ("depolarizing=0.001,readout=0.02", NoiseModel(depolarizing=0.001, readout=0.02)),
        (" amplitude_damping = 0.01 ", NoiseModel(amplitude_damping=0.01)),
    ],
)
def test_noise_specs_read_back(spec, expected):
    assert parse_noise(spec) == expected
    assert parse_noise(expected.spec()) == expected


@pytest.mark.parametrize(
    "spec, says",
    [
        ("depolarizing=2", "probability in [0, 1]"),
        ("bogus=0.1", "unknown channel 'bogus'"),
        ("depolarizing=abc", "cannot read"),
        ("readout=0.7", "readout above 0.5"),
        ("0.1,0.2", "given twice"),
    ],
)
def test_bad_noise_specs_name_the_flag_and_the_fix(spec, says):
    with pytest.raises(ArgumentError, match="noise") as raised:
        parse_noise(spec)
    assert says in str(raised.value)
