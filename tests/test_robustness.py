"""`qllm eval --shots/--noise/--circuit_ablation`, `qllm chat` with them, and the `qllm robustness` sweep."""

from __future__ import annotations

import json

import pytest
from seed import DATA_DIR

from qllm.cli import main
from qllm.train.workflow import run_train

EVAL = ["--model_name_or_path", "qllm-tiny", "--task", "qllm_tasks", "--template", "qwen", "--max_samples", "12",
        "--batch_size", "12", "--dataset_dir", str(DATA_DIR)]  # fmt: skip


@pytest.fixture(scope="module")
def vqc_adapter(tmp_path_factory):
    """A 4-qubit vqc adapter a few steps from its start (B no longer zero, so its circuit counts)."""
    output = tmp_path_factory.mktemp("vqc") / "run"
    run_train(
        {
            "model_name_or_path": "qllm-tiny",
            "dataset": "qllm_tasks",
            "dataset_dir": str(DATA_DIR),
            "template": "qwen",
            "finetuning_type": "vqc",
            "n_qubits": 4,
            "output_dir": str(output),
            "max_samples": 16,
            "per_device_train_batch_size": 4,
            "learning_rate": 5e-2,
            "max_steps": 4,
            "logging_steps": 1,
            "save_strategy": "no",
            "seed": 0,
        }
    )
    return output


@pytest.fixture(scope="module")
def lora_adapter(tmp_path_factory):
    from peft import get_peft_model

    from qllm.hparams.finetuning_args import FinetuningArguments
    from qllm.model.loader import load_model

    folder = tmp_path_factory.mktemp("lora") / "lora"
    get_peft_model(load_model("qllm-tiny"), FinetuningArguments(finetuning_type="lora").peft_config()).save_pretrained(
        folder
    )
    return folder


def _results(folder) -> dict:
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


def test_exact_readings_reproduce_plain_evaluation_and_noise_changes_it(vqc_adapter, tmp_path):
    adapter = ["--adapter_name_or_path", str(vqc_adapter)]
    assert main(["eval", *EVAL, *adapter, "--save_dir", str(tmp_path / "plain")]) == 0
    explicit = ["--shots", "0", "--noise", "0", "--circuit_ablation", "none"]
    assert main(["eval", *EVAL, *adapter, *explicit, "--save_dir", str(tmp_path / "zero")]) == 0
    plain, zero = _results(tmp_path / "plain"), _results(tmp_path / "zero")
    assert (plain["eval_loss"], plain["accuracy"]) == (zero["eval_loss"], zero["accuracy"])
    assert "measurement" not in zero
    noisy = ["--noise", "depolarizing=0.5,readout=0.1", "--shots", "64", "--seed", "3"]
    assert main(["eval", *EVAL, *adapter, *noisy, "--save_dir", str(tmp_path / "noisy")]) == 0
    result = _results(tmp_path / "noisy")
    assert result["eval_loss"] != plain["eval_loss"]
    assert result["measurement"] == {
        "shots": 64,
        "noise": "depolarizing=0.5,readout=0.1",
        "ablation": "none",
        "seed": 3,
    }
    assert main(["eval", *EVAL, *adapter, *noisy, "--save_dir", str(tmp_path / "again")]) == 0
    assert _results(tmp_path / "again")["eval_loss"] == result["eval_loss"]  # seeded: the same draws


@pytest.mark.parametrize(
    "flags, names",
    [
        (["--shots", "-5"], "--shots: must be 0 (exact) or a number of shots"),
        (["--noise", "depolarizing=2"], "--noise: depolarizing is a probability in [0, 1]"),
        (["--noise", "bogus=0.1"], "--noise: unknown channel 'bogus'"),
        (["--noise", "depolarizing=="], "--noise: cannot read"),
        (["--circuit_ablation", "half"], "--circuit_ablation"),
    ],
)
def test_bad_readings_are_one_line_and_write_nothing(vqc_adapter, tmp_path, capsys, flags, names):
    save_dir = tmp_path / "out"
    assert main(["eval", *EVAL, "--adapter_name_or_path", str(vqc_adapter), *flags, "--save_dir", str(save_dir)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and names in error[0]
    assert not save_dir.exists()


def test_a_reading_of_an_adapter_without_circuit_is_refused(lora_adapter, tmp_path, capsys):
    for flags, flag in ((["--noise", "0.01"], "--noise"), (["--shots", "100"], "--shots")):
        save_dir = tmp_path / "out"
        assert (
            main(["eval", *EVAL, "--adapter_name_or_path", str(lora_adapter), *flags, "--save_dir", str(save_dir)]) == 2
        )
        error = capsys.readouterr().err.strip()
        assert error.startswith(f"error: {flag}: applies to the circuit of a vqc or tq adapter") and "lora" in error
        assert not save_dir.exists()


def test_chat_reads_the_circuit_with_shots(vqc_adapter):
    from qllm.chat.chat_model import ChatModel
    from qllm.errors import ArgumentError

    base = {"model_name_or_path": "qllm-tiny", "adapter_name_or_path": str(vqc_adapter), "temperature": 0}
    chat = ChatModel({**base, "shots": 100, "noise": "0.01", "max_new_tokens": 6})
    adapters = [m for m in chat.loaded.model.modules() if getattr(m, "measurement", None) is not None]
    assert adapters and adapters[0].measurement[0].shots == 100
    assert isinstance(chat.chat([{"role": "user", "content": "hi"}]), str)
    with pytest.raises(ArgumentError, match="circuit_ablation"):
        ChatModel({**base, "circuit_ablation": "mean"})


def _sweep(adapter, save_dir, *flags: str) -> list[str]:
    return ["robustness", *EVAL, "--adapter_name_or_path", str(adapter), "--save_dir", str(save_dir), *flags]


def test_the_sweep_scores_every_reading_and_resumes_only_what_is_missing(vqc_adapter, tmp_path, monkeypatch):
    import qllm.eval.workflow as eval_workflow

    save_dir = tmp_path / "sweep"
    grid = ["--shots", "0,50", "--noise", "0,0.05", "--ablation", "none,mean,zero", "--repeats", "2"]
    assert main(_sweep(vqc_adapter, save_dir, *grid)) == 0
    state = json.loads((save_dir / "robustness.json").read_text())
    settings = [(p["shots"], p["noise"], p["ablation"], p["repeat"]) for p in state["points"]]
    assert settings == [(0, "0", "none", 0), (50, "0", "none", 0), (50, "0", "none", 1),
                        (0, "depolarizing=0.05", "none", 0), (0, "0", "mean", 0), (0, "0", "zero", 0)]  # fmt: skip
    assert {p["seed"] for p in state["points"] if p["shots"]} == {0, 1}
    assert state["means"] and all(len(mean) == 4 for mean in state["means"].values())  # one <Z_i> per wire
    losses = {(p["shots"], p["noise"], p["ablation"], p["repeat"]): p["metrics"]["eval_loss"] for p in state["points"]}
    assert losses[(50, "0", "none", 0)] != losses[(50, "0", "none", 1)]  # two seeds, two draws
    assert losses[(0, "0", "zero", 0)] != losses[(0, "0", "none", 0)]
    table = (save_dir / "robustness.md").read_text()
    assert "| 50 shots | 50 | 0 | 2 |" in table and "| ablation: mean |" in table
    assert (save_dir / "robustness.png").stat().st_size > 0 and (save_dir / "robustness.html").is_file()

    scored = []
    real_score = eval_workflow.score
    monkeypatch.setattr(eval_workflow, "score", lambda *a, **k: scored.append(a[-1]) or real_score(*a, **k))
    assert main(_sweep(vqc_adapter, save_dir, *grid)) == 0  # finished: nothing scored again
    assert scored == []
    state["points"] = [p for p in state["points"] if p["shots"] != 50 or p["repeat"] != 1]  # as a kill would leave it
    (save_dir / "robustness.json").write_text(json.dumps(state))
    assert main(_sweep(vqc_adapter, save_dir, *grid[:-1], "3")) == 0  # and one more repeat asked
    assert [(m.shots, m.seed) for m in scored] == [(50, 1), (50, 2)]
    assert len(json.loads((save_dir / "robustness.json").read_text())["points"]) == 7


@pytest.mark.parametrize(
    "flags, says",
    [
        (["--shots", "-5"], "--shots: a comma list of whole numbers"),
        (["--noise", "bogus=0.1"], "--noise: unknown channel 'bogus'"),
        (["--noise", "0;depolarizing=2"], "--noise: depolarizing is a probability"),
        (["--noise", "0,depolarizing=0.05"], "separate them with ';' (e.g. 0;depolarizing=0.05)"),
        (["--ablation", "half"], "--ablation: choose among none, mean, zero"),
        (["--repeats", "0"], "--repeats: at least 1"),
        (["--circuit_ablation", "mean"], "--circuit_ablation: the sweep sets each point's reading"),
    ],
)
def test_bad_sweeps_are_one_line_and_write_nothing(vqc_adapter, tmp_path, capsys, flags, says):
    save_dir = tmp_path / "sweep"
    assert main(_sweep(vqc_adapter, save_dir, *flags)) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and says in error[0]
    assert not save_dir.exists()


def test_a_sweep_never_takes_over_another_sweep_or_a_file(vqc_adapter, lora_adapter, tmp_path, capsys):
    save_dir = tmp_path / "sweep"
    save_dir.mkdir()
    (save_dir / "robustness.json").write_text(json.dumps({"eval_flags": ["--task", "mmlu"], "points": []}))
    assert main(_sweep(vqc_adapter, save_dir, "--shots", "0")) == 2
    assert "holds a sweep with other eval flags" in capsys.readouterr().err
    (save_dir / "robustness.json").write_text("my notes")
    assert main(_sweep(vqc_adapter, save_dir, "--shots", "0")) == 2
    assert "is not a sweep's file" in capsys.readouterr().err
    assert (save_dir / "robustness.json").read_text() == "my notes"
    assert main(_sweep(lora_adapter, tmp_path / "other")) == 2
    assert "applies to the circuit of a vqc or tq adapter" in capsys.readouterr().err
