from __future__ import annotations

import importlib.util
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from transformers import IntervalStrategy
from transformers import TrainingArguments as HfTrainingArguments

from qllm.errors import ArgumentError

logger = logging.getLogger(__name__)


def check_sharding(fsdp: str | bool | None, deepspeed: str | dict | None, processes: int) -> None:
    """FSDP that can shard here (several processes, GPUs), and a DeepSpeed config that can be used.

    One check for `qllm train` (processes from torchrun's WORLD_SIZE) and the board's Start (from its
    Devices field, before anything is launched).
    """
    import torch

    if fsdp:
        if processes < 2:
            raise ArgumentError(
                "fsdp",
                "shards the model across processes, and this is one; launch 2 or more "
                "(torchrun --nproc_per_node 2 -m qllm train ..., or the board's Devices field)",
            )
        if not torch.cuda.is_available():
            raise ArgumentError(
                "fsdp",
                "accelerate shards with FSDP on GPUs only; on CPU processes the run would be plain data "
                "parallelism: train without sharding here (2 processes still split the batch)",
            )
    if isinstance(deepspeed, str) and deepspeed:
        path = Path(deepspeed)
        if not path.is_file():
            raise ArgumentError("deepspeed", f"no such file: {path}; e.g. examples/deepspeed/ds_z2_config.json")
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ArgumentError("deepspeed", f"{path} is not valid JSON: {str(err).splitlines()[0]}") from None
        if not torch.cuda.is_available():
            raise ArgumentError(
                "deepspeed",
                "accelerate uses DeepSpeed on GPUs only; on CPU processes the run would be plain data "
                "parallelism: train without sharding here (2 processes still split the batch)",
            )
        if importlib.util.find_spec("deepspeed") is None:
            raise ArgumentError(
                "deepspeed",
                "DeepSpeed is not installed; pip install 'qllm-board[deepspeed]' (or pip install deepspeed)",
            )


@dataclass
class TrainingArguments(HfTrainingArguments):
    """transformers' TrainingArguments plus quantum-llm's spellings.

    transformers 5 renamed `evaluation_strategy` to `eval_strategy` and dropped
    `overwrite_output_dir`; quantum-llm's train.sh uses both, so both are accepted here.
    """

    eval_strategy: IntervalStrategy | str = field(
        default="no",
        metadata={
            "help": "When to evaluate: no, steps, epoch.",
            "aliases": ["--evaluation_strategy", "--evaluation-strategy"],
        },
    )
    overwrite_output_dir: bool = field(
        default=False,
        metadata={"help": "Start afresh in an output_dir that holds an earlier run (else resume from its checkpoint)."},
    )
    resume_finished: bool = field(
        default=False,
        metadata={
            "help": "Continue a finished run in output_dir from its last checkpoint on this schedule (e.g. more "
            "steps); its final adapter is replaced. Without it a finished run is never touched."
        },
    )
    report_to: None | str | list[str] = field(default="none", metadata={"help": "Experiment trackers to log to."})
    # transformers types it `str | bool`, which its own parser reads as a boolean only: `all` was refused
    include_num_input_tokens_seen: str = field(
        default="no",
        metadata={
            "help": "Count the input tokens seen: all, non_padding, no (true = all, false = no). The board's "
            "tokens/s come from it: `no` counts non-padding tokens."
        },
    )

    pure_bf16: bool = field(
        default=False,
        metadata={"help": "Base weights in bfloat16, no autocast; adapters stay float32 (not with --fp16/--bf16)."},
    )

    def __post_init__(self) -> None:
        from qllm.hparams.precision import bf16_supported, cuda_available

        # `--gradient_checkpointing` (LLaMA-Factory's and the upstream scripts' name) is transformers 5's
        # `--activation_checkpointing`: passed on under the new name, without a deprecation notice per run
        for old, new in (
            ("gradient_checkpointing", "activation_checkpointing"),
            ("gradient_checkpointing_kwargs", "activation_checkpointing_kwargs"),
        ):
            if getattr(self, new) is None and getattr(self, old) is not None:
                setattr(self, new, getattr(self, old))

        seen = str(self.include_num_input_tokens_seen).lower()
        seen = {"true": "all", "yes": "all", "1": "all", "false": "no", "0": "no"}.get(seen, seen)
        if seen not in ("all", "non_padding", "no"):
            raise ArgumentError(
                "include_num_input_tokens_seen",
                f"is {self.include_num_input_tokens_seen!r}; choose all, non_padding or no",
            )
        self.include_num_input_tokens_seen = seen

        if not self.output_dir:  # transformers would silently write to ./trainer_output
            raise ArgumentError("output_dir", "is required; e.g. --output_dir saves/qllm-tiny/lora/run1")
        if self.pure_bf16 and (self.fp16 or self.bf16):
            raise ArgumentError("pure_bf16", "is a compute type of its own; pass it without --fp16 or --bf16")
        if self.fp16 and self.bf16:
            raise ArgumentError("bf16", "choose one compute type: --fp16 or --bf16, not both")
        if self.fp16 and not cuda_available():
            logger.warning("warning: --fp16 needs a CUDA GPU; training in float32 on the CPU instead")
            self.fp16 = False
        for flag in ("bf16", "pure_bf16"):
            if getattr(self, flag) and not bf16_supported():
                raise ArgumentError(
                    flag, "this machine has no bfloat16 support; use --fp16 on a GPU, or train in float32 (no flag)"
                )
        self._check_schedule()
        self._check_launch()
        if not cuda_available():
            # Said outright, the CPU gets what a GPU gets: bf16 autocast, and under torchrun gloo data parallelism.
            self.use_cpu = True
        super().__post_init__()

    def _check_schedule(self) -> None:
        """Step counts transformers would take as "never" or reject with its own trace: named by their flag."""

        def strategy(value) -> str:
            return str(getattr(value, "value", value))

        if strategy(self.save_strategy) == "steps" and self.save_steps <= 0:
            raise ArgumentError("save_steps", f"must be above 0 (got {self.save_steps}); e.g. --save_steps 100")
        if strategy(self.eval_strategy) == "steps" and self.eval_steps is not None and self.eval_steps <= 0:
            raise ArgumentError("eval_steps", f"must be above 0 with steps evaluation (got {self.eval_steps})")
        if strategy(self.logging_strategy) == "steps" and self.logging_steps <= 0:
            raise ArgumentError("logging_steps", f"must be above 0 (got {self.logging_steps}); e.g. --logging_steps 10")
        if self.warmup_steps < 0:
            raise ArgumentError("warmup_steps", f"cannot be negative (got {self.warmup_steps}); 0 means no warm-up")

    def _check_launch(self) -> None:
        """Processes per node that the GPUs can hold; sharding that can happen here (`check_sharding`)."""
        import torch

        per_node = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        if torch.cuda.is_available() and per_node > torch.cuda.device_count():
            raise ArgumentError(
                "nproc_per_node",
                f"{per_node} processes per node but {torch.cuda.device_count()} visible GPUs; "
                f"launch at most {torch.cuda.device_count()} (torchrun --nproc_per_node)",
            )
        check_sharding(self.fsdp, self.deepspeed, int(os.environ.get("WORLD_SIZE", "1")))

    @property
    def shards_parameters(self) -> bool:
        """FSDP or DeepSpeed ZeRO-3: every parameter, the base's included, is split across the processes."""
        from transformers.integrations import is_deepspeed_zero3_enabled

        return bool(self.fsdp) or is_deepspeed_zero3_enabled()

    @property
    def base_dtype(self) -> str:
        """The dtype the base model is loaded in: half on a GPU with --fp16/--bf16, bfloat16 with --pure_bf16."""
        from qllm.hparams.precision import cuda_available

        if self.pure_bf16:
            return "bfloat16"
        if cuda_available() and (self.fp16 or self.bf16):
            return "float16" if self.fp16 else "bfloat16"
        return "float32"

    @property
    def compute_type(self) -> str:
        """In words, for the run's log."""
        if self.pure_bf16:
            return "pure bf16 (bfloat16 weights, no autocast; adapters float32)"
        if self.fp16 or self.bf16:
            kind = "fp16" if self.fp16 else "bf16"
            return f"{kind} mixed precision (autocast; base {self.base_dtype}, adapters float32)"
        return "float32"
