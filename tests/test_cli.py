"""Bad input on the command line: one line naming the field, exit code 2, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from seed import seed_flags

from qllm.cli import main


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"model_name_or_path": "/download path/Qwen2.5-0.5B/"}, "--model_name_or_path"),
        ({"dataset": "no_such_set"}, "--dataset"),
        ({"template": "llama9"}, "--template"),
        ({"learning_rate": "-5e-5"}, "--learning_rate"),
        ({"per_device_train_batch_size": "-1"}, "--per_device_train_batch_size"),
        ({"cutoff_len": "0"}, "--cutoff_len"),
        ({"lora_target": "q_proj,w_gate"}, "--lora_target"),
    ],
)
def test_bad_train_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, override, field):
    flags = seed_flags(tmp_path, **override)
    assert main(["train", *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {field}:"), err
    assert not (tmp_path / "out").exists(), "a run that failed validation leaves no output_dir"


def test_output_dir_with_foreign_content_is_refused_and_kept(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    flags = [f for f in seed_flags(tmp_path) if f != "--overwrite_output_dir"]
    assert main(["train", *flags]) == 2
    assert "error: --output_dir:" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "contents",
    [
        {"README.md": "my notes", "notes.txt": "do not lose", "runs/exp1/events": "tensorboard"},  # a project folder
        {"README.md": "model card", "tokenizer_config.json": "{}", "config.json": "{}"},  # a copy of a model folder
        {"README.md": "only a readme"},  # nothing but run-file names, and yet no run wrote them
        {"adapter_config.json": "{}", "trainer_log.jsonl": "", "qllm_run.json": "not json"},  # a forged manifest
    ],
)
def test_overwrite_output_dir_never_touches_what_no_run_wrote(tmp_path, capsys, contents):
    out = tmp_path / "out"
    for name, text in contents.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    before = snapshot(out)
    assert main(["train", *seed_flags(tmp_path)]) == 2  # the seed's flags include --overwrite_output_dir
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: --output_dir:") and "replaces only what a run wrote" in error, error
    assert snapshot(out) == before


def test_overwrite_replaces_a_run_s_files_and_keeps_a_file_the_user_added(tmp_path, capsys):
    out = tmp_path / "out"
    flags = seed_flags(tmp_path, max_samples="16", num_train_epochs="1", save_steps="2", eval_steps="2")
    assert main(["train", *flags]) == 0
    manifest = json.loads((out / "qllm_run.json").read_text())["entries"]
    assert {"adapter_model.safetensors", "adapter_config.json", "trainer_log.jsonl", "checkpoint-2"} <= set(manifest)
    (out / "my-notes.md").write_text("mine")
    assert main(["train", *flags]) == 2  # the user's file is not the run's: refused, nothing removed
    assert "my-notes.md" in capsys.readouterr().err and (out / "my-notes.md").read_text() == "mine"
    (out / "my-notes.md").unlink()
    assert main(["train", *flags]) == 0  # a folder of run files only: replaced


def test_subprocess_exit_code_and_single_line(tmp_path):
    flags = seed_flags(tmp_path, learning_rate="abc")
    done = subprocess.run([sys.executable, "-m", "qllm", "train", *flags], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip() and "warn" not in line.lower()]
    assert lines == ["error: --learning_rate: invalid float value: 'abc'"], done.stderr


def test_unknown_command(capsys):
    assert main(["fly"]) == 2
    assert "unknown command 'fly'" in capsys.readouterr().err
