"""Property-based: whatever arrives — argument dicts, JSON records, file bytes — the answer is a result
or the project's own one-line error, never a library exception or a traceback.

Bounded for CI: a fixed number of examples per property, no deadline (a shared 2-core machine).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
