"""One parser for flags, YAML and dicts: the seed's train.sh is accepted verbatim."""

from __future__ import annotations

import dataclasses
import logging

import pytest
import yaml
from seed import seed_flags

from qllm.errors import ArgumentError
from qllm.hparams.parser import get_train_args


def test_seed_train_flags_are_accepted_verbatim(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        model, data, training, finetuning = get_train_args(seed_flags(tmp_path))
    assert model.model_name_or_path == "qllm-tiny"
    assert data.dataset_names == ["qllm_tasks"] and data.template == "qwen"
    assert data.tokenized_path == str(tmp_path / "tokenized") and data.overwrite_cache
    assert (data.cutoff_len, data.max_samples, data.val_size, data.preprocessing_num_workers) == (1024, 1000, 0.1, 16)
    assert finetuning.stage == "sft" and finetuning.finetuning_type == "lora"
    assert finetuning.target_modules == ["q_proj", "v_proj"] and finetuning.plot_loss
    assert training.do_train and training.load_best_model_at_end and training.overwrite_output_dir
    assert training.eval_strategy == "steps" and training.eval_steps == 100 and training.save_steps == 100
    assert training.learning_rate == 5e-5 and training.num_train_epochs == 3.0
    assert training.gradient_accumulation_steps == 8 and training.lr_scheduler_type == "cosine"
    assert (training.logging_steps, training.warmup_steps) == (10, 20)
    assert training.fp16 is False, "no CUDA here: --fp16 falls back to float32"
    assert "--fp16 needs a CUDA GPU" in caplog.text


def as_dict(arguments) -> dict:
    return arguments.to_dict() if hasattr(arguments, "to_dict") else dataclasses.asdict(arguments)


def test_yaml_file_and_dict_give_the_same_arguments(tmp_path):
    flags = seed_flags(tmp_path)
    from_flags = get_train_args(flags)
    values: dict = {}
    index = 0
    while index < len(flags):  # the same arguments as a mapping, with YAML's own types
        key = flags[index].lstrip("-").replace("-", "_")
        if index + 1 < len(flags) and not flags[index + 1].startswith("--"):
            values[key] = yaml.safe_load(flags[index + 1])
            index += 2
        else:
            values[key] = True
            index += 1
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(values))
    for parsed in (get_train_args([str(config)]), get_train_args(values)):
        for ours, theirs in zip(parsed, from_flags):
            assert as_dict(ours) == as_dict(theirs)


def test_cli_flags_override_a_config_file(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model_name_or_path": "qllm-tiny",
                "dataset": "identity",
                "output_dir": "x",
                "learning_rate": "1e-4",
                "finetuning_type": "quanTA",
                "per_dim_features": [8, 8, 4, 4],
            }
        )
    )
    _, data, training, finetuning = get_train_args([str(config), "--learning_rate", "3e-4"])
    assert training.learning_rate == 3e-4 and data.dataset == "identity"
    assert finetuning.peft_config().per_dim_features == [8, 8, 4, 4]


@pytest.mark.parametrize("spelling", ["--evaluation_strategy", "--evaluation-strategy", "--eval_strategy"])
def test_evaluation_strategy_spellings(tmp_path, spelling):
    flags = seed_flags(tmp_path)
    flags[flags.index("--evaluation_strategy")] = spelling
    assert get_train_args(flags)[2].eval_strategy == "steps"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"learning_rate": "-1"}, "learning_rate"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"per_device_train_batch_size": "0"}, "per_device_train_batch_size"),
        ({"cutoff_len": "0"}, "cutoff_len"),
        ({"finetuning_type": "qlora"}, "finetuning_type"),
        ({"stage": "rm"}, "stage"),
        ({"val_size": "0"}, "val_size"),  # evaluation_strategy steps needs a validation split
        ({"lora_rank": "0"}, "lora_rank"),
        ({"no_such_flag": "1"}, "no_such_flag"),
    ],
)
def test_bad_values_name_their_field(tmp_path, override, field):
    with pytest.raises(ArgumentError) as caught:
        get_train_args(seed_flags(tmp_path, **override))
    assert caught.value.field == field
    assert "\n" not in str(caught.value)


def test_missing_required_arguments_are_named(tmp_path):
    with pytest.raises(ArgumentError) as caught:
        get_train_args(["--dataset", "identity", "--output_dir", str(tmp_path)])
    assert caught.value.field == "model_name_or_path"
    with pytest.raises(ArgumentError) as caught:
        get_train_args(["--model_name_or_path", "qllm-tiny", "--output_dir", str(tmp_path)])
    assert caught.value.field == "dataset"
    with pytest.raises(ArgumentError) as caught:
        get_train_args(["--model_name_or_path", "qllm-tiny", "--dataset", "identity"])
    assert caught.value.field == "output_dir"


def test_method_names_are_case_insensitive(tmp_path):
    assert get_train_args(seed_flags(tmp_path, finetuning_type="QUANTA"))[3].finetuning_type == "quanTA"


@pytest.mark.parametrize("value", ["-5e-5", "-5E-05", "-.001", "-3"])
def test_a_negative_learning_rate_is_named_as_such(tmp_path, value):
    with pytest.raises(ArgumentError, match=r"must be positive \(got -") as caught:
        get_train_args(seed_flags(tmp_path, learning_rate=value))
    assert caught.value.field == "learning_rate"


def test_the_board_form_reports_a_negative_learning_rate_at_its_field():
    from qllm.webui.train_form import FIELDS, form_to_args

    values = {field.key: field.default for field in FIELDS} | {"output_name": "neg", "learning_rate": "-5e-5"}
    with pytest.raises(ArgumentError, match="must be positive") as caught:
        form_to_args(values, "qllm-tiny", "lora", "qwen")
    assert caught.value.field == "learning_rate"


@pytest.mark.parametrize(
    ("given", "taken"), [("all", "all"), ("non_padding", "non_padding"), ("true", "all"), ("false", "no")]
)
def test_include_num_input_tokens_seen_takes_transformers_own_values(tmp_path, given, taken):
    args = get_train_args(
        {"model_name_or_path": "qllm-tiny", "dataset": "qllm_tasks", "output_dir": str(tmp_path / "run"),
         "include_num_input_tokens_seen": given}
    )  # fmt: skip
    assert args[2].include_num_input_tokens_seen == taken


def test_the_qwen05b_alpaca_preset_is_also_reached_by_its_earlier_name():
    from qllm.compare.workflow import PRESETS, _parser

    assert _parser().parse_args(["--preset", "seed"]).preset == "qwen05b-alpaca"
    assert "seed" not in PRESETS and "seed" not in _parser().format_help().split("--preset")[1].split("\n")[0]
