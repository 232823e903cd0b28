"""The board's pieces without a browser: the form's checks, the runner's refusal and queue."""

from __future__ import annotations

import time

import pytest

from qllm.errors import ArgumentError
from qllm.webui.runner import Job, Runner
from qllm.webui.train_form import FIELDS, command_line, form_to_args


def form(**overrides):
    values = {field.key: field.default for field in FIELDS}
    values["output_name"] = "unit-run"
    return {**values, **overrides}


@pytest.mark.parametrize(
    ("overrides", "model", "field"),
    [
        ({"output_name": "a/b"}, "qllm-tiny", "output_name"),
        ({"output_name": ".."}, "qllm-tiny", "output_name"),
        ({"learning_rate": "1e-3x"}, "qllm-tiny", "learning_rate"),
        ({"dataset": []}, "qllm-tiny", "dataset"),
        ({"extra_args": "{seed: 1}"}, "qllm-tiny", "extra_args"),
        ({}, "/no/such/model", "model_name_or_path"),
        ({"n_qubits": 40}, "qllm-tiny", "n_qubits"),
        ({"cutoff_len": 0}, "qllm-tiny", "cutoff_len"),
    ],
)
def test_form_errors_name_the_field(overrides, model, field):
    with pytest.raises(ArgumentError) as caught:
        form_to_args(form(**overrides), model, "vqc", "qwen")
    assert caught.value.field == field


def test_form_gives_the_cli_arguments_of_the_method():
    args = form_to_args(form(extra_args='{"seed": 3}'), "qllm-tiny", "quanTA", "qwen")
    assert args["finetuning_type"] == "quanTA" and args["per_dim_features"] == "16,8,4,2" and args["seed"] == 3
    assert "n_qubits" not in args and "lora_rank" not in args
    assert args["output_dir"].endswith("qllm-tiny/quanTA/unit-run")
    assert command_line(args).startswith("python -m qllm train --model_name_or_path qllm-tiny --finetuning_type quanTA")


def test_runner_refuses_a_second_run_and_queues_jobs(tmp_path):
    runner = Runner(tmp_path / "run.json")
    runner.start([Job("train", "--help", str(tmp_path / "a")), Job("eval", "--help", str(tmp_path / "b"))])
    with pytest.raises(RuntimeError, match="already in progress"):
        runner.start([Job("train", "--help", str(tmp_path / "c"))])
    deadline = time.time() + 60
    while runner.busy() and time.time() < deadline:
        time.sleep(0.5)
    state = runner.state()
    assert state.status == "finished" and state.done == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert "usage" in (tmp_path / "b" / "console.log").read_text()
