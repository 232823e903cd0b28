"""A run killed at any moment resumes: between steps, inside a checkpoint's save, inside the final save."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from qllm.constants import ADAPTER_CONFIG, FINISHED_MARKER, TRAINER_STATE
from qllm.paths import DATA_DIR

KILL_WORKER = Path(__file__).with_name("kill_worker.py")
# where the kill lands -> the checkpoint a rerun resumes from, and the one it sets aside
KILL_POINTS = {
    "between_steps": ("checkpoint-2", None),
    "checkpoint_files": ("checkpoint-2", "checkpoint-4"),
    "trainer_state": ("checkpoint-2", "checkpoint-4"),
    "final_staging": ("checkpoint-6", None),
    "final_move": ("checkpoint-6", None),
}


def train_flags(output_dir: Path) -> list[str]:
    return ["--model_name_or_path", "qllm-tiny", "--dataset", "qllm_tasks", "--dataset_dir", str(DATA_DIR),
            "--finetuning_type", "lora", "--output_dir", str(output_dir), "--max_samples", "48", "--val_size", "0",
            "--per_device_train_batch_size", "4", "--max_steps", "6", "--save_steps", "2", "--logging_steps", "1",
            "--plot_loss", "false", "--seed", "0"]  # fmt: skip


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_run_killed_at_any_moment_of_a_save_resumes_and_finishes(tmp_path, point):
    out = tmp_path / "run"
    killed = subprocess.run(
        [sys.executable, str(KILL_WORKER), point, *train_flags(out)], capture_output=True, text=True, timeout=600
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not (out / FINISHED_MARKER).exists()

    rerun = subprocess.run(
        [sys.executable, "-m", "qllm", "train", *train_flags(out)], capture_output=True, text=True, timeout=600
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    resumed_from, set_aside = KILL_POINTS[point]
    run_log = (out / "run.log").read_text()
    assert f"resuming from {out / resumed_from}" in run_log
    if set_aside:
        assert f"{set_aside} is incomplete" in rerun.stderr, rerun.stderr[-3000:]
        assert (out / f"incomplete-{set_aside}").is_dir()
    assert json.loads((out / TRAINER_STATE).read_text())["global_step"] == 6
    assert (out / FINISHED_MARKER).is_file() and not (out / ".final-adapter.tmp").exists()

    from peft import PeftModel

    from qllm.model.loader import load_model

    assert (out / ADAPTER_CONFIG).is_file()
    PeftModel.from_pretrained(load_model("qllm-tiny"), str(out))  # the final adapter is whole
