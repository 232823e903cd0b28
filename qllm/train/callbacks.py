"""`LogCallback`: writes one JSON line per logging step to `output_dir/trainer_log.jsonl`."""

from __future__ import annotations

import datetime
import json
import logging
import resource
import time
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from qllm.constants import TRAINER_LOG
from qllm.train.log_file import read_log
from qllm.train.output_dir import record_run_files

logger = logging.getLogger(__name__)


def _clock(seconds: float) -> str:
    return str(datetime.timedelta(seconds=int(seconds)))


def peak_memory_mb() -> float:
    """Peak accelerator memory of this process, or its peak resident memory on the CPU."""
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class LogCallback(TrainerCallback):
    """Fields follow LLaMA-Factory's `trainer_log.jsonl`, plus tokens per second and peak memory."""

    def __init__(self, output_dir: str | Path) -> None:
        self.path = Path(output_dir) / TRAINER_LOG
        self.start_time = 0.0
        self.start_step = 0
        self.start_tokens = 0
        self.trained = False  # after training: an evaluation is of the final adapter, not of a step

    def on_train_begin(self, args, state, control, **kwargs) -> None:
        self.trained = False
        self.start_time, self.start_step = time.time(), state.global_step
        self.start_tokens = state.num_input_tokens_seen
        warmup = args.get_warmup_steps(state.max_steps)
        if state.is_world_process_zero and state.max_steps and warmup >= state.max_steps:
            logger.warning(  # said once: the schedule never reaches the learning rate asked for
                "note: the warmup (%d steps) is not shorter than the run (%d steps), so the learning rate never "
                "reaches --learning_rate %g; lower --warmup_steps (or --warmup_ratio)",
                warmup,
                state.max_steps,
                args.learning_rate,
            )
        if not state.is_world_process_zero:  # one writer under torchrun; the losses it logs are already averaged
            return
        # On resume, keep the records up to the checkpoint; on a fresh run, start empty.
        kept = [r for r in read_log(self.path.parent) if r["current_steps"] <= state.global_step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept) if state.global_step else "", encoding="utf-8")

    def on_log(self, args, state, control, logs: dict[str, Any] | None = None, **kwargs) -> None:
        logs = logs or {}
        if not state.is_world_process_zero or ("loss" not in logs and "eval_loss" not in logs):
            return  # the end-of-training summary, kept in all_results.json instead
        elapsed = time.time() - self.start_time
        done = max(state.global_step - self.start_step, 1)
        tokens = state.num_input_tokens_seen - self.start_tokens
        remaining = elapsed / done * max(state.max_steps - state.global_step, 0)
        record = {
            "current_steps": state.global_step,
            "total_steps": state.max_steps,
            "loss": logs.get("loss"),
            "eval_loss": logs.get("eval_loss"),
            "lr": logs.get("learning_rate"),
            "epoch": round(state.epoch or 0.0, 4),
            "percentage": round(100 * state.global_step / state.max_steps, 2) if state.max_steps else 0.0,
            "elapsed_time": _clock(elapsed),
            "remaining_time": _clock(remaining),
            "tokens_per_second": round(tokens / elapsed, 1) if tokens > 0 else None,
            "peak_memory_mb": round(peak_memory_mb(), 1),
        }
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        shown = {k: record[k] for k in ("loss", "eval_loss", "lr") if record[k] is not None}
        values = " ".join(f"{k} {v:.4g}" for k, v in shown.items())
        if self.trained:  # trainer.evaluate() after the run: its line must not read like a second eval at the last step
            logger.info("final adapter: %s", values)
        else:
            logger.info("step %d/%d %s", state.global_step, state.max_steps, values)

    def on_train_end(self, args, state, control, **kwargs) -> None:
        self.trained = True


class NothingLeftToTrain(Exception):
    """Raised by `StopAtTheEnd`: the resumed checkpoint already holds the last step."""

    def __init__(self, step: int) -> None:
        super().__init__(f"step {step} is the last step")
        self.step = step


class StopAtTheEnd(TrainerCallback):
    """Ends `train()` before its first step when a resumed run has no step left.

    A run killed during its final save resumes from a checkpoint at the last step; the
    Trainer (transformers 5) would still run one more optimizer step before it checks
    `max_steps`.  The checkpoint's weights and state are loaded by then, so the caller
    goes straight on to the final save.
    """

    def on_train_begin(self, args, state, control, **kwargs) -> None:
        if 0 < state.max_steps <= state.global_step:
            raise NothingLeftToTrain(state.global_step)


class RunManifest(TrainerCallback):
    """Records in the run's manifest what it has written: at the start, after each checkpoint, at the end."""

    def __init__(self, output_dir: str | Path) -> None:
        self.output_dir = Path(output_dir)

    def _record(self, state) -> None:
        if state.is_world_process_zero:
            record_run_files(self.output_dir)

    def on_train_begin(self, args, state, control, **kwargs) -> None:
        self._record(state)

    def on_save(self, args, state, control, **kwargs) -> None:
        self._record(state)

    def on_train_end(self, args, state, control, **kwargs) -> None:
        self._record(state)


class ReplicaCheck(TrainerCallback):
    """Under data parallelism every process holds a replica of the adapter; at the end they must agree.

    One float64 checksum of the trainable parameters per process, gathered and compared;
    a mismatch (a rank that diverged) is a warning in the run's log, agreement one info line.
    """

    def on_train_end(self, args, state, control, model=None, **kwargs) -> None:
        if args.world_size < 2 or model is None or not torch.distributed.is_initialized():
            return
        checksum = sum(p.detach().double().sum() for p in model.parameters() if p.requires_grad).reshape(())
        gathered = [torch.zeros((), dtype=torch.float64, device=checksum.device) for _ in range(args.world_size)]
        torch.distributed.all_gather(gathered, checksum)
        values = [value.item() for value in gathered]
        if max(values) - min(values) > 0:
            logger.warning("warning: the adapter replicas of the %d processes differ: %s", args.world_size, values)
        else:
            logger.info("adapter replicas agree across %d processes (checksum %.10g)", args.world_size, values[0])
