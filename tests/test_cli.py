"""Bad input on the command line: one line naming the field, exit code 2, nothing written."""

from __future__ import annotations

import subprocess
import sys

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


def test_subprocess_exit_code_and_single_line(tmp_path):
    flags = seed_flags(tmp_path, learning_rate="abc")
    done = subprocess.run([sys.executable, "-m", "qllm", "train", *flags], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip() and "warn" not in line.lower()]
    assert lines == ["error: --learning_rate: invalid float value: 'abc'"], done.stderr


def test_unknown_command(capsys):
    assert main(["fly"]) == 2
    assert "unknown command 'fly'" in capsys.readouterr().err
