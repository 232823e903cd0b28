"""Property-based: whatever arrives — argument dicts, JSON records, file bytes — the answer is a result
or the project's own one-line error, never a library exception or a traceback.

Bounded for CI: a fixed number of examples per property, no deadline (a shared 2-core machine).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from qllm.constants import ADAPTER_CONFIG, ADAPTER_WEIGHTS, FINISHED_MARKER, TRAIN_ARGS, TRAINER_STATE
from qllm.data.loader import to_standard
from qllm.data.records import read_records
from qllm.data.registry import get_dataset_attrs
from qllm.errors import ArgumentError
from qllm.hparams.parser import get_train_args
from qllm.paths import DATA_DIR

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars.filter(lambda v: not (isinstance(v, float) and not math.isfinite(v))),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
# real flags (the ones people get wrong most) and made-up ones
FLAGS = [
    "learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps",
    "cutoff_len", "max_samples", "val_size", "save_steps", "eval_steps", "logging_steps", "warmup_steps",
    "evaluation_strategy", "eval_strategy", "lr_scheduler_type", "finetuning_type", "lora_rank", "lora_alpha",
    "lora_target", "n_qubits", "q_depth", "per_dim_features", "quanta_init", "template", "fp16", "bf16",
    "pure_bf16", "seed", "plot_loss", "load_best_model_at_end", "stage", "no_such_flag", "deepspeed",
]  # fmt: skip


@BOUNDED
@given(st.dictionaries(st.sampled_from(FLAGS), st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=5))
def test_any_argument_dict_parses_or_is_one_argument_error(tmp_path_factory, overrides):
    base = {"model_name_or_path": "qllm-tiny", "dataset": "qllm_tasks", "dataset_dir": str(DATA_DIR),
            "output_dir": str(tmp_path_factory.mktemp("out") / "run")}  # fmt: skip
    try:
        get_train_args({**base, **overrides})
    except ArgumentError as err:
        assert "\n" not in str(err) and str(err).startswith("--")


RECORD_KEYS = ["instruction", "input", "output", "system", "history", "conversations", "from", "value", "other"]
records = st.lists(st.dictionaries(st.sampled_from(RECORD_KEYS), json_values, max_size=5), min_size=1, max_size=4)


@pytest.mark.parametrize("dataset", ["qllm_tasks", "qllm_chat"])
@pytest.mark.parametrize("stage", ["sft", "pt"])
@BOUNDED
@given(rows=records, skip=st.booleans())
def test_any_json_records_convert_or_are_one_argument_error(dataset, stage, rows, skip):
    attr = get_dataset_attrs([dataset], DATA_DIR)[0]
    try:
        standard = to_standard([("data.json", rows)], attr, {}, stage, skip)
    except ArgumentError as err:
        assert "\n" not in str(err) and str(err).startswith("--dataset: ")
    else:
        assert 1 <= len(standard) <= len(rows)


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
@BOUNDED
@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_any_file_bytes_read_or_are_one_argument_error(tmp_path_factory, suffix, content):
    path = Path(tmp_path_factory.mktemp("data")) / f"file{suffix}"
    path.write_bytes(content)
    try:
        rows = read_records(path)
    except ArgumentError as err:
        assert "\n" not in str(err) and str(path) in str(err)
    else:
        assert rows and all(isinstance(row, dict) for row in rows)


# -- saved folders: any damage to any file of an adapter or a checkpoint -----------------------------------------

SAVED = settings(
    max_examples=30,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> Path:
    """A finished 2-step vqc run of qllm-tiny with checkpoint-1 and checkpoint-2."""
    from qllm.train.workflow import run_train

    folder = tmp_path_factory.mktemp("saved") / "run"
    run_train(
        {"model_name_or_path": "qllm-tiny", "dataset": "qllm_tasks", "dataset_dir": str(DATA_DIR),
         "finetuning_type": "vqc", "n_qubits": 4, "output_dir": str(folder), "max_samples": 8, "cutoff_len": 32,
         "per_device_train_batch_size": 2, "max_steps": 2, "save_steps": 1, "logging_steps": 1}
    )  # fmt: skip
    return folder


def damage(path: Path, how: str, at: float, data: bytes) -> None:
    """Truncate, overwrite a stretch, replace or empty a file, at a relative position ``at``."""
    content = path.read_bytes()
    offset = int(at * len(content))
    if how == "truncate":
        path.write_bytes(content[:offset])
    elif how == "overwrite":
        path.write_bytes(content[:offset] + data + content[offset + len(data) :])
    elif how == "replace":
        path.write_bytes(data)
    else:
        path.write_bytes(b"")


damages = st.tuples(
    st.sampled_from(["truncate", "overwrite", "replace", "empty"]),
    st.floats(min_value=0, max_value=1),
    st.binary(min_size=1, max_size=16),
)
config_edits = st.tuples(st.sampled_from(["n_qubits", "q_depth", "target_modules", "peft_type", "r"]), json_values)


def one_line(err: ArgumentError, field: str) -> None:
    assert "\n" not in str(err) and str(err).startswith(f"--{field}: "), str(err)


@SAVED
@given(
    name=st.sampled_from(["adapter_config.json", "adapter_model.safetensors", "settings"]),
    how=damages,
    edit=config_edits,
)
def test_any_damage_to_a_saved_adapter_loads_or_is_one_line(saved_run, tmp_path_factory, name, how, edit):
    import json
    import shutil

    import torch

    from qllm.adapters.attach import load_adapters
    from qllm.model.loader import load_model

    folder = Path(tmp_path_factory.mktemp("adapter")) / "adapter"
    shutil.copytree(saved_run / "checkpoint-2", folder)
    if name == "settings":  # a config that still parses, one of its settings changed to any JSON value
        config = json.loads((folder / ADAPTER_CONFIG).read_text())
        config[edit[0]] = edit[1]
        (folder / ADAPTER_CONFIG).write_text(json.dumps(config))
    else:
        damage(folder / name, *how)
    try:
        model = load_adapters(load_model("qllm-tiny"), str(folder), is_trainable=False)
    except ArgumentError as err:
        one_line(err, "adapter_name_or_path")
    else:
        with torch.no_grad():
            assert model(torch.tensor([[1, 2, 3]])).logits.shape[-1] > 0


@SAVED
@given(
    name=st.sampled_from(["optimizer.pt", "scheduler.pt", "rng_state.pth", "trainer_state.json", ADAPTER_WEIGHTS]),
    how=damages,
)
def test_any_damage_to_the_last_checkpoint_resumes_or_is_one_line(saved_run, tmp_path_factory, name, how):
    """Resuming the run, after damage to its last checkpoint: from a checkpoint, or one line; never a traceback."""
    import json
    import shutil

    from qllm.train.workflow import run_train

    folder = Path(tmp_path_factory.mktemp("resume")) / "run"
    shutil.copytree(saved_run, folder)
    (folder / FINISHED_MARKER).unlink()  # a stopped run: it resumes from its last usable checkpoint
    damage(folder / "checkpoint-2" / name, *how)
    settings_now = yaml.safe_load((folder / TRAIN_ARGS).read_text())
    try:
        run_train({**settings_now, "output_dir": str(folder), "max_steps": 3})
    except ArgumentError as err:
        one_line(err, "output_dir")
    else:
        assert json.loads((folder / TRAINER_STATE).read_text())["global_step"] == 3
