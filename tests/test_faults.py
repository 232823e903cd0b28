"""Faults a careless or unlucky user meets, each ending in one `error:` line (exit 2) and nothing lost.

Broken saved adapters in chat / eval / export / resume, a resume with another adapter shape,
two runs on one folder (real concurrent processes, and a lock left by a killed one), typos in
config files.  docs/reliability.md lists these with the tests behind them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from seed import DATA_DIR

from qllm.cli import main
from qllm.constants import ADAPTER_CONFIG, ADAPTER_WEIGHTS, FINISHED_MARKER, RUN_LOCK, TRAINER_STATE, checkpoint_step
from qllm.errors import ArgumentError
from qllm.train.log_file import read_log
from qllm.train.output_dir import plan_output_dir
from qllm.train.workflow import run_train


def flags(output_dir: Path, **overrides) -> dict:
    return {
        "model_name_or_path": "qllm-tiny",
        "dataset": "qllm_tasks",
        "dataset_dir": str(DATA_DIR),
        "finetuning_type": "lora",
        "output_dir": str(output_dir),
        "max_samples": 16,
        "cutoff_len": 64,
        "per_device_train_batch_size": 2,
        "max_steps": 2,
        "save_steps": 1,
        "logging_steps": 1,
        **overrides,
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A finished 2-step lora run with checkpoint-1 and checkpoint-2."""
    folder = tmp_path_factory.mktemp("run") / "lora"
    run_train(flags(folder))
    return folder


def cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


BREAKAGES = {
    "weights cut short": (lambda f: cut_short(f / ADAPTER_WEIGHTS), "is damaged or cut short"),
    "weights empty": (lambda f: (f / ADAPTER_WEIGHTS).write_bytes(b""), "is damaged or cut short"),
    "weights missing": (lambda f: (f / ADAPTER_WEIGHTS).unlink(), f"but no {ADAPTER_WEIGHTS}"),
    "config not JSON": (lambda f: (f / ADAPTER_CONFIG).write_text('{"peft_type": "LORA",'), "is not valid JSON"),
    "config of an unknown method": (
        lambda f: (f / ADAPTER_CONFIG).write_text(json.dumps({"peft_type": "IA3"})),
        "names peft_type 'IA3', which this tool cannot load",
    ),
}
COMMANDS = {
    "chat": ["chat", "--model_name_or_path", "qllm-tiny"],
    "eval": ["eval", "--model_name_or_path", "qllm-tiny", "--task", "mmlu_sample", "--n_shot", "0"],
    "export": ["export", "--model_name_or_path", "qllm-tiny", "--export_dir", "EXPORT"],
}


@pytest.fixture
def broken_copy(trained, tmp_path):
    def make(breakage: str) -> Path:
        folder = tmp_path / "adapter"
        shutil.copytree(trained / "checkpoint-2", folder)
        BREAKAGES[breakage][0](folder)
        return folder

    return make


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_a_broken_adapter_is_one_line_in_every_command(broken_copy, tmp_path, capsys, breakage, command):
    folder = broken_copy(breakage)
    before = sorted((p.name, p.stat().st_size) for p in folder.iterdir())
    argv = [arg.replace("EXPORT", str(tmp_path / "export")) for arg in COMMANDS[command]]
    assert main([*argv, "--adapter_name_or_path", str(folder)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: --adapter_name_or_path: ") and BREAKAGES[breakage][1] in error, error
    assert "Traceback" not in error and str(folder) in error
    assert sorted((p.name, p.stat().st_size) for p in folder.iterdir()) == before  # nothing touched
    assert not (tmp_path / "export").exists()


def test_the_exit_code_and_the_one_line_from_a_real_process(broken_copy):
    folder = broken_copy("weights cut short")
    done = subprocess.run(
        [sys.executable, "-m", "qllm", "chat", "--model_name_or_path", "qllm-tiny", "--adapter_name_or_path",
         str(folder)], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: --adapter_name_or_path: {folder}")


def test_a_broken_checkpoint_is_set_aside_and_the_run_resumes_from_the_one_before(trained, tmp_path, caplog):
    folder = tmp_path / "run"
    shutil.copytree(trained, folder)
    cut_short(folder / "checkpoint-2" / ADAPTER_WEIGHTS)  # its trainer_state.json is whole: damaged after saving
    assert plan_output_dir(str(folder), False, True) == folder / "checkpoint-1"
    run_train(flags(folder, max_steps=3, resume_finished=True))
    assert "checkpoint-2 is unusable" in caplog.text and "set aside as incomplete-checkpoint-2" in caplog.text
    assert (folder / "incomplete-checkpoint-2").is_dir()
    assert "resuming from " + str(folder / "checkpoint-1") in (folder / "run.log").read_text()
    assert json.loads((folder / TRAINER_STATE).read_text())["global_step"] == 3


@pytest.mark.parametrize(
    ("method", "first", "then", "flag"),
    [
        ("lora", {"lora_rank": 8}, {"lora_rank": 16}, "lora_rank"),
        ("vqc", {"n_qubits": 4}, {"n_qubits": 6}, "n_qubits"),
        ("quanTA", {"per_dim_features": "16,8,4,2"}, {"per_dim_features": "8,8,4,4"}, "per_dim_features"),
        ("lora", {}, {"finetuning_type": "vqc"}, "finetuning_type"),
    ],
)
def test_resuming_with_another_adapter_shape_names_the_setting_and_the_ways_out(tmp_path, method, first, then, flag):
    folder = tmp_path / "run"
    run_train(flags(folder, finetuning_type=method, max_steps=1, **first))
    (folder / FINISHED_MARKER).unlink()  # as if stopped after its checkpoint: the next start resumes
    with pytest.raises(ArgumentError) as caught:
        run_train(flags(folder, **{"finetuning_type": method, **then}))
    assert caught.value.field == flag, caught.value
    assert "was trained with" in caught.value.message and "--overwrite_output_dir" in caught.value.message
    assert json.loads((folder / "checkpoint-1" / TRAINER_STATE).read_text())["global_step"] == 1


def test_one_writer_per_run_folder_and_a_killed_run_leaves_no_lock_behind(tmp_path):
    folder = tmp_path / "run"
    long_run = [sys.executable, "-m", "qllm", "train", "--model_name_or_path", "qllm-tiny", "--dataset",
                "qllm_tasks", "--dataset_dir", str(DATA_DIR), "--output_dir", str(folder), "--max_samples", "64",
                "--max_steps", "100000", "--save_steps", "5", "--logging_steps", "1",
                "--per_device_train_batch_size", "2"]  # fmt: skip
    first = subprocess.Popen(long_run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 180
        while not any(r.get("loss") is not None for r in read_log(folder)):  # training, so holding the lock
            assert first.poll() is None and time.time() < deadline, "the first run did not start training"
            time.sleep(0.5)
        second = subprocess.run(long_run, capture_output=True, text=True, timeout=300)
        assert second.returncode == 2, second.stderr[-2000:]
        last = second.stderr.strip().splitlines()[-1]
        assert last.startswith("error: --output_dir: ") and f"being trained by another run (process {first.pid}" in last
        with pytest.raises(ArgumentError, match="being trained by another run"):  # the board's check before Start
            plan_output_dir(str(folder), overwrite=True)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    assert (folder / RUN_LOCK).is_file()  # left behind by the kill, and not in the way:
    done = subprocess.run([*long_run[:-8], "--max_steps", "3", "--save_steps", "1", "--logging_steps", "1",
                           "--per_device_train_batch_size", "2", "--overwrite_output_dir"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((folder / TRAINER_STATE).read_text())["global_step"] == 3


@pytest.mark.parametrize(
    ("config", "field", "suggestion"),
    [
        ("learning_rat: 1e-4\n", "learning_rat", "--learning_rate"),  # argparse would have read it as a prefix
        ("learnig_rate: 1e-4\n", "learnig_rate", "--learning_rate"),
        ("n_qubit: 4\n", "n_qubit", "--n_qubits"),
    ],
)
def test_a_typo_in_a_config_file_is_refused_with_the_closest_name(tmp_path, config, field, suggestion):
    path = tmp_path / "run.yaml"
    path.write_text(f"model_name_or_path: qllm-tiny\ndataset: qllm_tasks\noutput_dir: {tmp_path / 'out'}\n{config}")
    with pytest.raises(ArgumentError) as caught:
        run_train([str(path)])
    assert caught.value.field == field and f"did you mean {suggestion}?" in caught.value.message
    assert not (tmp_path / "out").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB file system (tmpfs): room for a few qllm-tiny checkpoints, not for a run's all; root only."""
    folder = tmp_path / "small_disk"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("mounting a small tmpfs needs root")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_disk_that_fills_while_saving_ends_in_one_line_and_the_run_resumes(small_disk):
    run = small_disk / "run"
    command = [sys.executable, "-m", "qllm", "train"]
    for key, value in flags(run, max_steps=6).items():
        command += [f"--{key}", str(value)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    failed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert failed.returncode == 2, failed.stderr[-3000:]
    assert "Traceback" not in failed.stderr, failed.stderr[-3000:]
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, failed.stderr[-3000:]
    kept = checkpoint_step(plan_output_dir(str(run), overwrite=False))  # the last complete checkpoint resumes
    assert errors[0].startswith(
        f"error: --output_dir: no space left on {small_disk} while saving checkpoint-{kept + 1}"
    )
    assert "a checkpoint takes" in errors[0] and f"resume from checkpoint-{kept}" in errors[0], errors[0]
    assert not (run / f"checkpoint-{kept + 1}").exists()  # the half-written one is gone, its space freed
    assert "no space left on" in (run / "run.log").read_text()

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)  # the user makes room
    resumed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming from {run / f'checkpoint-{kept}'}" in resumed.stderr
    state = json.loads((run / TRAINER_STATE).read_text())
    assert state["global_step"] == 6 and (run / FINISHED_MARKER).is_file()


def test_n_shot_beyond_a_subject_s_solved_examples_is_said_once_and_recorded(tmp_path, caplog):
    # the bundled sample has 5 solved (dev) examples per subject
    flags = ["--model_name_or_path", "qllm-tiny", "--task", "mmlu_sample", "--task_dir", str(tmp_path / "none")]
    with caplog.at_level("WARNING", logger="qllm"):
        assert main(["eval", *flags, "--n_shot", "7", "--save_dir", str(tmp_path / "scores")]) == 0
    said = [record.getMessage() for record in caplog.records if "--n_shot" in record.getMessage()]
    assert len(said) == 1 and said[0].startswith("--n_shot 7: 5 of 5 subjects have fewer solved examples"), said
    results = json.loads((tmp_path / "scores" / "results.json").read_text())
    assert set(results["fewer_shots"].values()) == {5} and len(results["fewer_shots"]) == 5
    caplog.clear()
    with caplog.at_level("WARNING", logger="qllm"):
        assert main(["eval", *flags, "--n_shot", "5"]) == 0
    assert not [record for record in caplog.records if "--n_shot" in record.getMessage()]


def test_max_samples_beyond_the_data_is_said_once(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="qllm"):
        run_train(flags(tmp_path / "run", max_samples=100_000, max_steps=1))
    said = [record.getMessage() for record in caplog.records if "--max_samples" in record.getMessage()]
    assert len(said) == 1 and said[0].startswith("--max_samples 100000: 'qllm_tasks' has "), said
    assert said[0].endswith("all of them are used")


def test_a_warmup_as_long_as_the_run_is_said_once(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="qllm"):
        run_train(flags(tmp_path / "run", max_steps=3, warmup_steps=20))
    said = [record.getMessage() for record in caplog.records if "warmup" in record.getMessage()]
    assert said == [
        "note: the warmup (20 steps) is not shorter than the run (3 steps), so the learning rate never reaches "
        "--learning_rate 5e-05; lower --warmup_steps (or --warmup_ratio)"
    ], said
