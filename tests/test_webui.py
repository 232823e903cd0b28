"""The board's pieces without a browser: the form's checks, the runner's refusal and queue."""

from __future__ import annotations

import time

import psutil
import pytest

from qllm.errors import ArgumentError
from qllm.train.log_file import read_log
from qllm.webui.runner import Job, Runner
from qllm.webui.train_form import FIELDS, command_line, form_to_args, parse_devices


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", (1, None)), ("auto", (1, None)), ("cpu", (1, "")), ("cpu:2", (2, ""))],
)
def test_devices_field_on_a_cpu_machine(text, expected):
    assert parse_devices(text) == expected


@pytest.mark.parametrize("text", ["0,1", "cpu:0", "cpu:999", "gpu", "1,1"])
def test_devices_field_refuses_what_this_machine_cannot_run(text):
    with pytest.raises(ArgumentError) as caught:
        parse_devices(text)
    assert caught.value.field == "devices"


def test_several_processes_launch_through_torchrun():
    job = Job("train", "run.yaml", "out", processes=2, visible_devices="")
    command = job.command()
    assert command[1:5] == ["-m", "torch.distributed.run", "--nproc_per_node", "2"]
    assert command[-4:] == ["-m", "qllm", "train", "run.yaml"]
    assert job.environment()["CUDA_VISIBLE_DEVICES"] == ""
    assert command_line({"dataset": "x"}, processes=2).startswith("torchrun --nproc_per_node 2 -m qllm train")


def test_stop_ends_every_rank_of_a_two_process_run(tmp_path):
    """Stop on a torchrun run of 2 CPU processes: torchrun and both ranks end (the ranks have sessions of their own)."""
    from qllm.paths import DATA_DIR
    from qllm.webui.runner import process_tree, write_args

    out = tmp_path / "run"
    args = {"model_name_or_path": "qllm-tiny", "dataset": "qllm_tasks", "dataset_dir": str(DATA_DIR),
            "finetuning_type": "lora", "max_steps": 100000, "logging_steps": 1, "save_steps": 100000,
            "per_device_train_batch_size": 1, "output_dir": str(out)}  # fmt: skip
    runner = Runner(tmp_path / "state.json")
    runner.start([Job("train", str(write_args(tmp_path / "args.yaml", args)), str(out), 2, "")])
    deadline = time.time() + 240
    while len(read_log(out)) < 2 and runner.busy() and time.time() < deadline:
        time.sleep(0.5)
    assert len(read_log(out)) >= 2, (out / "console.log").read_text()[-3000:]
    steps = [record["current_steps"] for record in read_log(out)]
    assert steps == sorted(set(steps)), "one writer: no step logged twice"
    tree = process_tree(runner.state().pid)
    workers = [p for p in tree if "qllm" in " ".join(p.cmdline()) and "torch.distributed.run" not in p.cmdline()]
    assert len(workers) >= 2, [p.cmdline() for p in tree]
    runner.stop()
    assert runner.state().status == "stopped"
    assert not [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
