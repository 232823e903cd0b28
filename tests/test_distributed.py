"""Data parallelism on torch.distributed: 2 CPU processes (gloo) under torchrun, against 1 process.

The same global batch (2 processes x 2 = 1 process x 4) and seed give the same loss curve
(to 1e-4 relative; measured ~4e-7) and the same adapter (1e-4; measured ~3e-6); the two
replicas are bit-identical; only rank 0 writes the run's files; a rerun resumes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from qllm.errors import ArgumentError
from qllm.hparams.parser import get_train_args
from qllm.train.log_file import read_circuit_log, read_log

WORKER = Path(__file__).resolve().parent / "ddp_worker.py"
TOLERANCE = 1e-4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def train(out: Path, processes: int, method: str, batch: int, *extra: str) -> subprocess.CompletedProcess:
    flags = ["--model_name_or_path", "qllm-tiny", "--dataset", "qllm_tasks", "--max_samples", "64",
             "--max_steps", "6", "--logging_steps", "1", "--learning_rate", "1e-2", "--finetuning_type", method,
             "--per_device_train_batch_size", str(batch), "--output_dir", str(out / "run"), *extra]  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    launcher = [sys.executable]
    if processes > 1:
        launcher += ["-m", "torch.distributed.run", "--nproc_per_node", str(processes),
                     "--master_addr", "127.0.0.1", "--master_port", str(free_port())]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([*launcher, str(WORKER), str(out), *flags], capture_output=True, text=True, env=env,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def losses(run: Path) -> list[float]:
    return [record["loss"] for record in read_log(run) if record.get("loss") is not None]


@pytest.mark.parametrize("method", ["lora", "vqc"])
def test_two_processes_match_one_process_with_the_same_global_batch(tmp_path, method):
    train(tmp_path / "ddp", 2, method, 2)
    train(tmp_path / "single", 1, method, 4)
    replicas = [torch.load(tmp_path / "ddp" / f"replica-{rank}.pt") for rank in (0, 1)]
    assert replicas[0].keys() == replicas[1].keys() and replicas[0]
    assert all(torch.equal(replicas[0][name], replicas[1][name]) for name in replicas[0])

    records = read_log(tmp_path / "ddp" / "run")
    assert [r["current_steps"] for r in records] == [1, 2, 3, 4, 5, 6], "one writer, one line per step"
    ddp, single = losses(tmp_path / "ddp" / "run"), losses(tmp_path / "single" / "run")
    assert max(abs(a - b) / abs(b) for a, b in zip(ddp, single, strict=True)) <= TOLERANCE
    alone = torch.load(tmp_path / "single" / "replica-0.pt")
    assert max((replicas[0][name] - alone[name]).abs().max().item() for name in alone) <= TOLERANCE

    if method == "vqc":  # circuit_log.jsonl: one writer, reading what the single process reads
        ddp_circuits, single_circuits = (read_circuit_log(tmp_path / run / "run") for run in ("ddp", "single"))
        assert [r["step"] for r in ddp_circuits] == [1, 2, 3, 4, 5, 6]
        for ours, theirs in zip(ddp_circuits, single_circuits, strict=True):
            for key in ("entanglement", "angle_drift", "grad_norm_circuit"):
                assert abs(ours["mean"][key] - theirs["mean"][key]) <= 1e-3 * abs(theirs["mean"][key]) + 1e-6, key

    run_log = (tmp_path / "ddp" / "run" / "run.log").read_text()
    assert "processes: 2" in run_log and "adapter replicas agree across 2 processes" in run_log
    assert run_log.count("compute type") == 1, "rank 1 neither logs to run.log nor writes it"


def test_a_two_process_run_resumes_from_its_checkpoint(tmp_path):
    train(tmp_path, 2, "lora", 2, "--max_steps", "2", "--save_steps", "2")
    assert (tmp_path / "run" / "checkpoint-2").is_dir()
    train(tmp_path, 2, "lora", 2, "--max_steps", "4", "--save_steps", "2", "--resume_finished")
    assert [r["current_steps"] for r in read_log(tmp_path / "run")] == [1, 2, 3, 4]
    assert "resuming from" in (tmp_path / "run" / "run.log").read_text()
    assert json.loads((tmp_path / "run" / "trainer_state.json").read_text())["global_step"] == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ('{"zero_optimization": {"stage": 2}}', "pip install" if torch.cuda.is_available() else "GPUs only"),
    ],
)
def test_deepspeed_config_problems_are_one_line(tmp_path, content, message):
    config = tmp_path / "ds.json"
    if content is not None:
        config.write_text(content)
    flags = ["--model_name_or_path", "qllm-tiny", "--dataset", "identity", "--output_dir", str(tmp_path / "out"),
             "--deepspeed", str(config)]  # fmt: skip
    if message == "pip install" and __import__("importlib").util.find_spec("deepspeed") is not None:
        pytest.skip("DeepSpeed is installed here")
    with pytest.raises(ArgumentError, match=message) as caught:
        get_train_args(flags)
    assert caught.value.field == "deepspeed" and not (tmp_path / "out").exists()


def test_the_bundled_deepspeed_configs_are_valid_json():
    from qllm.paths import PROJECT_ROOT

    for stage in (2, 3):
        config = json.loads((PROJECT_ROOT / "examples" / "deepspeed" / f"ds_z{stage}_config.json").read_text())
        assert config["zero_optimization"]["stage"] == stage


def test_more_processes_per_node_than_gpus_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    flags = ["--model_name_or_path", "qllm-tiny", "--dataset", "identity", "--output_dir", str(tmp_path / "out")]
    with pytest.raises(ArgumentError, match="4 processes per node but 2 visible GPUs") as caught:
        get_train_args(flags)
    assert caught.value.field == "nproc_per_node"
