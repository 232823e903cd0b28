"""The seed document's train.sh flags, for tests that must accept them verbatim."""

from __future__ import annotations

from pathlib import Path

from qllm.paths import DATA_DIR

# The seed's train.sh, flag for flag, with the model pointed at the bundled one.
SEED_TRAIN_FLAGS = [
    "--stage",
    "sft",
    "--model_name_or_path",
    "qllm-tiny",
    "--dataset",
    "qllm_tasks",
    "--tokenized_path",
    "TOKENIZED",
    "--dataset_dir",
    str(DATA_DIR),
    "--template",
    "qwen",
    "--finetuning_type",
    "lora",
    "--lora_target",
    "q_proj,v_proj",
    "--output_dir",
    "OUTPUT",
    "--overwrite_cache",
    "--overwrite_output_dir",
    "--cutoff_len",
    "1024",
    "--preprocessing_num_workers",
    "16",
    "--per_device_train_batch_size",
    "1",
    "--per_device_eval_batch_size",
    "1",
    "--gradient_accumulation_steps",
    "8",
    "--lr_scheduler_type",
    "cosine",
    "--logging_steps",
    "10",
    "--warmup_steps",
    "20",
    "--save_steps",
    "100",
    "--eval_steps",
    "100",
    "--evaluation_strategy",
    "steps",
    "--load_best_model_at_end",
    "--learning_rate",
    "5e-5",
    "--num_train_epochs",
    "3.0",
    "--max_samples",
    "1000",
    "--val_size",
    "0.1",
    "--plot_loss",
    "--fp16",
    "--do-train",
]


def seed_flags(tmp_path: Path, **overrides: str) -> list[str]:
    """The seed's flags with paths under tmp_path and some values replaced."""
    flags = [
        str(tmp_path / "tokenized") if f == "TOKENIZED" else str(tmp_path / "out") if f == "OUTPUT" else f
        for f in SEED_TRAIN_FLAGS
    ]
    for key, value in overrides.items():
        flag = f"--{key}"
        if flag in flags:
            flags[flags.index(flag) + 1] = value
        else:
            flags += [flag, value]
    return flags
