"""Sharded training (FSDP) of the adapters on CPU processes, and the flags that ask for it.

accelerate 1.15, which transformers' Trainer runs on, shards with FSDP on GPUs only: on CPU
processes `--fsdp` would silently train with plain data parallelism (checked: DDP's
reducer runs), so `qllm train` refuses it there, and with a single process.  What the CPU
can run is torch's own FSDP2 (`fully_shard`) on a gloo group, the layer FSDP in accelerate
calls on GPUs: `fsdp_worker.py` shards qllm-tiny with an adapter over 2 processes and
trains, resumes from a distributed checkpoint and saves the whole adapter; here it is held
against the same steps in one process.  The Trainer path on GPUs is in benchmarks/gpu_check.py.
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
from qllm.paths import PROJECT_ROOT

WORKER = Path(__file__).resolve().parent / "fsdp_worker.py"
TOLERANCE = 1e-4  # relative, on losses and logits (measured: ~1e-7)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_worker(out: Path, method: str, processes: int) -> dict:
    out.mkdir(parents=True)
    launcher = [sys.executable]
    if processes > 1:
        launcher += ["-m", "torch.distributed.run", "--nproc_per_node", str(processes),
                     "--master_addr", "127.0.0.1", "--master_port", str(free_port())]  # fmt: skip
    done = subprocess.run([*launcher, str(WORKER), str(out), method], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "losses.json").read_text())


def logits_of(adapter: Path) -> torch.Tensor:
    from peft import PeftModel

    from qllm.model.loader import load_model

    model = PeftModel.from_pretrained(load_model("qllm-tiny"), str(adapter)).eval()
    with torch.no_grad():
        return model(torch.arange(3, 40).unsqueeze(0)).logits


@pytest.mark.parametrize("method", ["lora", "vqc", "quanTA"])
def test_two_sharded_processes_match_one_process(tmp_path, method):
    sharded, single = run_worker(tmp_path / "fsdp", method, 2), run_worker(tmp_path / "single", method, 1)
    assert sharded["sharded"] and not single["sharded"], "the adapter's parameters are split across the processes"
    # quanTA folds its frozen copy into a kept copy of the base weight in one process, not over sharded weights
    assert (sharded["folded"], single["folded"]) == (False, method == "quanTA")
    losses = sharded["losses"]
    assert losses[-1] < losses[0]
    assert max(abs(a - b) / abs(b) for a, b in zip(losses, single["losses"], strict=True)) <= TOLERANCE
    assert max(abs(a - b) / abs(b) for a, b in zip(sharded["resumed"], losses[3:], strict=True)) <= TOLERANCE, (
        "resumed from the distributed checkpoint, steps 4-6 repeat"
    )
    ours, theirs = logits_of(tmp_path / "fsdp" / "adapter"), logits_of(tmp_path / "single" / "adapter")
    assert (ours - theirs).abs().max().item() <= TOLERANCE * theirs.abs().max().item(), "reloaded in one process"


DS_Z2 = str(PROJECT_ROOT / "examples" / "deepspeed" / "ds_z2_config.json")


@pytest.mark.parametrize(
    ("processes", "flags", "field", "reason"),
    [
        (1, ["--fsdp", "full_shard auto_wrap"], "fsdp", "nproc_per_node 2"),
        # accelerate 1.15 sets FSDP and DeepSpeed up only off the CPU: on 2 CPU processes both trained as plain DDP
        (2, ["--fsdp", "full_shard auto_wrap"], "fsdp", "GPUs only"),
        (2, ["--deepspeed", DS_Z2], "deepspeed", "GPUs only"),
    ],
)
def test_sharding_that_cannot_happen_is_refused_with_the_reason(monkeypatch, tmp_path, processes, flags, field, reason):
    if torch.cuda.device_count() >= processes and reason == "GPUs only":
        pytest.skip("on GPUs accelerate shards")
    monkeypatch.setenv("WORLD_SIZE", str(processes))
    with pytest.raises(ArgumentError) as caught:
        get_train_args(["--model_name_or_path", "qllm-tiny", "--dataset", "qllm_tasks",
                        "--output_dir", str(tmp_path / "run"), *flags])  # fmt: skip
    assert caught.value.field == field and reason in caught.value.message
    assert not (tmp_path / "run").exists()
