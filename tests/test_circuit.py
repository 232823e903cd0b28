"""`qllm circuit`: diagrams and OpenQASM 3 built from the gate list the simulators run.

The QASM round trip is the proof that the export is the adapter's circuit: the file is parsed
by qiskit's OpenQASM 3 importer, its inputs bound to the angles a real token of qllm-tiny gives
(h = A x at an adapted module), and qiskit's Statevector gives the adapter's own <Z_i> to 1e-5.
"""

from __future__ import annotations

import json

import pytest
import torch
from seed import DATA_DIR

from qllm.cli import main
from qllm.train.workflow import run_train

TOLERANCE = 1e-5  # float32 adapter against qiskit's float64 statevector


@pytest.fixture(scope="module", params=["vqc", "tq"])
def trained(request, tmp_path_factory):
    """A vqc / tq adapter on qllm-tiny, 4 qubits, 2 layers, a few steps from its random start."""
    output = tmp_path_factory.mktemp(request.param) / "run"
    run_train(
        {
            "model_name_or_path": "qllm-tiny",
            "dataset": "qllm_tasks",
            "dataset_dir": str(DATA_DIR),
            "template": "qwen",
            "finetuning_type": request.param,
            "n_qubits": 4,
            "q_depth": 2,
            "output_dir": str(output),
            "max_samples": 16,
            "per_device_train_batch_size": 4,
            "learning_rate": 5e-2,
            "max_steps": 3,
            "logging_steps": 1,
            "save_strategy": "no",
            "seed": 0,
        }
    )
    return request.param, output


def test_the_qasm_export_runs_in_qiskit_to_the_adapter_s_own_expectations(trained, tmp_path, capsys):
    from peft import PeftModel
    from qiskit import qasm3
    from qiskit.quantum_info import SparsePauliOp, Statevector
    from safetensors import safe_open

    from qllm.model.loader import load_model, load_tokenizer

    method, folder = trained
    exported = tmp_path / "circuit.qasm"
    assert main(["circuit", "--adapter_name_or_path", str(folder), "--format", "qasm", "--output", str(exported)]) == 0
    program = qasm3.loads(exported.read_text())  # qiskit's own importer
    note = json.loads(exported.with_suffix(".json").read_text())
    assert note["n_qubits"] == 4 and note["q_depth"] == 2 and note["method"] == method
    inputs = sorted(f"h_{layer}_{i}" for layer in range(2) for i in range(4))  # input float[64] h_<l>_<i>;
    assert sorted(p.name for p in program.parameters) == inputs

    model = PeftModel.from_pretrained(load_model("qllm-tiny"), folder).eval()
    module = model.base_model.model.get_submodule(note["module"])
    adapter = getattr(module, f"{method}_circuit")["default"]
    seen = {}
    hook = module.register_forward_hook(lambda _module, args, _output: seen.setdefault("x", args[0]))
    ids = load_tokenizer("qllm-tiny")("54 km is how many meters?", return_tensors="pt").input_ids
    with torch.no_grad():
        model(ids)
        hook.remove()
        x = seen["x"][0, -1].float()  # the last token's input to the module
        with safe_open(str(folder / "adapter_model.safetensors"), framework="pt") as weights:
            h = weights.get_tensor(note["classical_maps"]["A"]["key"]).float() @ x  # A as the note says
        assert torch.allclose(h, adapter.A(x), atol=1e-6)
        expected = adapter.expvals(h[None])[0].double()

    state = Statevector(program.remove_final_measurements(inplace=False).assign_parameters(
        {p: float(h[int(p.name.split("_")[2])]) for p in program.parameters}
    ))  # fmt: skip
    got = torch.tensor([state.expectation_value(SparsePauliOp.from_sparse_list([("Z", [i], 1)], 4)).real
                        for i in range(4)])  # fmt: skip
    assert (got - expected).abs().max().item() < TOLERANCE, (got, expected)
    assert expected.abs().max() > 1e-3  # a real readout, not all zeros


def test_diagrams_of_a_trained_adapter_and_of_the_ansatz(trained, tmp_path, capsys):
    method, folder = trained
    assert main(["circuit", "--adapter_name_or_path", str(folder), "--list"]) == 0
    modules = capsys.readouterr().out.split()
    assert "model.layers.0.self_attn.q_proj" in modules
    assert main(["circuit", "--adapter_name_or_path", str(folder), "--module", "layers.1.self_attn.v_proj"]) == 0
    diagram = capsys.readouterr().out
    assert "layers.1.self_attn.v_proj" in diagram and "h[1][3]" in diagram and "Ry(" in diagram
    for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<?xml")):
        picture = tmp_path / f"c.{fmt}"
        assert main(["circuit", "--adapter_name_or_path", str(folder), "--format", fmt, "--output", str(picture)]) == 0
        assert picture.read_bytes().startswith(magic)
    assert main(["circuit", "--finetuning_type", method, "--n_qubits", "3", "--q_depth", "2"]) == 0
    ansatz = capsys.readouterr().out
    assert "before training" in ansatz and "a[1][2]" in ansatz and "d[0][0]" in ansatz


def _refused(argv: list[str], capsys) -> str:
    assert main(["circuit", *argv]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: --") and "\n" not in error, error
    return error


def test_bad_input_is_one_line_and_writes_nothing(trained, tmp_path, capsys):
    from safetensors.torch import save_file

    _, folder = trained
    lora = tmp_path / "lora"
    lora.mkdir()
    (lora / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 8}))
    save_file({"w": torch.zeros(1)}, str(lora / "adapter_model.safetensors"))
    assert "no circuit to draw" in _refused(["--adapter_name_or_path", str(lora)], capsys)
    assert "no circuit to draw" in _refused(["--finetuning_type", "quanTA"], capsys)
    assert "--module" in _refused(["--adapter_name_or_path", str(folder), "--module", "nowhere"], capsys)
    assert "--n_qubits" in _refused(["--finetuning_type", "vqc", "--n_qubits", "40"], capsys)
    assert "--format" in _refused(["--finetuning_type", "vqc", "--format", "qasm"], capsys)
    assert "--output" in _refused(["--finetuning_type", "vqc", "--format", "png"], capsys)
    mine = tmp_path / "mine.qasm"
    mine.write_text("my own file")
    argv = ["--adapter_name_or_path", str(folder), "--format", "qasm", "--output", str(mine)]
    assert "--overwrite" in _refused(argv, capsys)
    assert mine.read_text() == "my own file" and not mine.with_suffix(".json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lora", "mine.qasm"]


def test_the_gradient_variance_of_one_wire_is_the_known_one_half(tmp_path, capsys):
    """One wire, one layer: <Z> = cos(h + b + d), so ∂<Z>/∂b = -sin(h + b + d), whose variance over uniform
    angles is 1/2; wider circuits get their own rows, files and plot."""
    argv = ["circuit", "--gradient_variance", "--n_qubits", "1,3", "--q_depth", "1", "--samples", "400"]
    assert main([*argv, "--output", str(tmp_path / "gv")]) == 0
    points = json.loads((tmp_path / "gv" / "gradient_variance.json").read_text())["points"]
    assert [(p["n_qubits"], p["q_depth"]) for p in points] == [(1, 1), (3, 1)]
    assert abs(points[0]["first_angle"] - 0.5) < 0.08, points[0]
    assert all(0 < p["all_angles"] < 1 for p in points)
    assert sorted(p.name for p in (tmp_path / "gv").iterdir()) == sorted(
        f"gradient_variance.{ext}" for ext in ("md", "json", "png", "html")
    )
    assert "| 3 | 1 | 400 |" in capsys.readouterr().out
    assert "--n_qubits" in _refused(["--gradient_variance", "--n_qubits", "2,x", "--output", str(tmp_path)], capsys)
    assert "--overwrite" in _refused([*argv[1:], "--output", str(tmp_path / "gv")], capsys)


def test_a_run_logs_what_its_circuits_learn(trained):
    """circuit_log.jsonl: a line per logging step with readout, entanglement, drift and gradient norms; the last
    drift is the distance between the saved adapter's angles and the start angles the run kept."""
    from safetensors.torch import load_file

    from qllm.circuit.saved import read_circuits

    _, folder = trained
    lines = [json.loads(line) for line in (folder / "circuit_log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2, 3]
    for line in lines:
        assert len(line["modules"]) == 8  # q_proj and v_proj of qllm-tiny's 4 layers
        mean = line["mean"]
        assert len(mean["mean_abs_z"]) == 4 and all(0 <= z <= 1 for z in mean["mean_abs_z"])
        assert 0 < mean["entanglement"] <= 1
    # B starts at zero (the model starts unchanged), so the first step's gradient reaches B alone
    first, later = lines[0]["mean"], lines[1:]
    assert first["grad_norm_circuit"] == 0 and first["grad_norm_classical"]["A"] == 0
    assert first["grad_norm_classical"]["B"] > 0
    for line in later:
        norms = line["mean"]
        assert norms["grad_norm_circuit"] > 0 and all(v > 0 for v in norms["grad_norm_classical"].values())
    drifts = [line["mean"]["angle_drift"] for line in lines]
    assert drifts[0] == 0 < drifts[1] < drifts[2], drifts
    start = load_file(str(folder / "circuit_start.safetensors"))
    for name, circuit in read_circuits(folder).items():
        moved = torch.cat([(circuit.ry - start[f"{name}.ry_angles"]).flatten(),
                           (circuit.crz - start[f"{name}.crz_angles"]).flatten()])  # fmt: skip
        assert abs(moved.norm().item() - lines[-1]["modules"][name]["angle_drift"]) < 1e-5


def test_meyer_wallach_entanglement_agrees_with_qiskit():
    """Q = 2 (1 - mean_i Tr rho_i^2): 0 for a product state, 1 for GHZ, and qiskit's partial traces on random states."""
    from qiskit.quantum_info import Statevector, partial_trace, random_statevector

    from qllm.adapters.circuit.ansatz import meyer_wallach

    def as_rows(vector) -> torch.Tensor:  # qiskit's qubit 0 is the least significant bit; ours the most
        n = vector.num_qubits
        amplitudes = torch.tensor(vector.data.reshape([2] * n).transpose(), dtype=torch.complex64).reshape(1, -1)
        return torch.cat((amplitudes.real, amplitudes.imag), dim=1)

    ghz = Statevector.from_label("000") / 2**0.5 + Statevector.from_label("111") / 2**0.5
    assert abs(meyer_wallach(as_rows(ghz), 3).item() - 1) < 1e-6
    assert abs(meyer_wallach(as_rows(Statevector.from_label("0+1")), 3).item()) < 1e-6
    for n in (2, 3, 5):
        state = random_statevector(2**n, seed=n)
        purity = sum(partial_trace(state, [q for q in range(n) if q != i]).purity().real for i in range(n)) / n
        assert abs(meyer_wallach(as_rows(state), n).item() - 2 * (1 - purity)) < 1e-5


def test_circuit_log_false_writes_no_circuit_log(tmp_path):
    run_train(
        {
            "model_name_or_path": "qllm-tiny",
            "dataset": "qllm_tasks",
            "dataset_dir": str(DATA_DIR),
            "template": "qwen",
            "finetuning_type": "vqc",
            "n_qubits": 2,
            "output_dir": str(tmp_path / "run"),
            "max_samples": 8,
            "per_device_train_batch_size": 4,
            "max_steps": 1,
            "logging_steps": 1,
            "save_strategy": "no",
            "circuit_log": False,
        }
    )
    assert (tmp_path / "run" / "trainer_log.jsonl").is_file() and not (tmp_path / "run" / "circuit_log.jsonl").exists()
