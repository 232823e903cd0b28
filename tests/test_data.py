"""Data pipeline: registry, converters, templates, exact prompt masking, caching, errors."""

from __future__ import annotations

import json

import pytest
from seed import DATA_DIR

from qllm.data.pipeline import load_tokenized
from qllm.data.preprocess import IGNORE_INDEX
from qllm.data.template import TEMPLATES, get_template
from qllm.errors import ArgumentError
from qllm.hparams.data_args import DataArguments


def tokenized(tokenizer, stage="sft", template="qwen", **kwargs):
    args = DataArguments(dataset_dir=str(DATA_DIR), template=template, **kwargs)
    return load_tokenized(args, stage, tokenizer, get_template(template), seed=42)


def test_qwen_template_matches_the_tokenizer_chat_template(tiny_tokenizer):
    messages = [
        {"role": "user", "content": "Convert 7 km to meters."},
        {"role": "assistant", "content": "7000"},
        {"role": "user", "content": "Add 2 and 3."},
    ]
    expected = tiny_tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert TEMPLATES["qwen"].render_prompt(messages, None, tiny_tokenizer) == expected


def test_prompt_tokens_are_masked_and_labels_are_exactly_the_response(tiny_tokenizer):
    train = tokenized(tiny_tokenizer, dataset="qllm_tasks", max_samples=20)["train"]
    raw = json.loads((DATA_DIR / "qllm_tasks" / "train.json").read_text())[:20]
    assert len(train) == 20
    for example, row in zip(train, raw):
        ids, labels = example["input_ids"], example["labels"]
        assert len(ids) == len(labels) == len(example["attention_mask"])
        first = next(i for i, label in enumerate(labels) if label != IGNORE_INDEX)
        assert all(label == IGNORE_INDEX for label in labels[:first])
        assert labels[first:] == ids[first:], "response labels are the response tokens themselves"
        assert tiny_tokenizer.decode(ids[:first]).endswith(f"{row['instruction']}<|im_end|>\n<|im_start|>assistant\n")
        assert tiny_tokenizer.decode(labels[first:]) == f"{row['output']}<|im_end|>\n"


def test_sharegpt_multi_turn_masks_every_user_turn(tiny_tokenizer):
    train = tokenized(tiny_tokenizer, dataset="qllm_chat", max_samples=30)["train"]
    conversations = json.loads((DATA_DIR / "qllm_chat.json").read_text())[:30]
    for example, row in zip(train, conversations):
        trained = tiny_tokenizer.decode([t for t in example["labels"] if t != IGNORE_INDEX])
        answers = "".join(turn["value"] + "<|im_end|>\n" for turn in row["conversations"] if turn["from"] == "gpt")
        assert trained == answers


def test_identity_placeholders_are_filled(tiny_tokenizer):
    train = tokenized(tiny_tokenizer, dataset="identity", identity_name="Qubit", identity_author="Lab 7")["train"]
    text = tiny_tokenizer.decode(train[1]["input_ids"])
    assert "Qubit" in text and "Lab 7" in text and "{{" not in text


def test_max_samples_and_validation_split(tiny_tokenizer):
    splits = tokenized(tiny_tokenizer, dataset="qllm_tasks,identity", max_samples=50, val_size=0.2)
    assert len(splits["train"]) + len(splits["validation"]) == 65  # 50 tasks + all 15 identity rows
    assert len(splits["validation"]) == 13


def test_cutoff_len_truncates(tiny_tokenizer):
    full = tokenized(tiny_tokenizer, dataset="identity")["train"]["input_ids"]
    cut = tokenized(tiny_tokenizer, dataset="identity", cutoff_len=40)["train"]["input_ids"]
    assert max(len(ids) for ids in full) > 40 >= max(len(ids) for ids in cut)
    assert all(short == long[: len(short)] for short, long in zip(cut, full))


def test_pretraining_stage_packs_text_without_masking(tiny_tokenizer):
    train = tokenized(tiny_tokenizer, stage="pt", dataset="qllm_corpus", cutoff_len=64)["train"]
    assert all(len(ids) <= 64 for ids in train["input_ids"])
    assert sum(len(ids) == 64 for ids in train["input_ids"]) >= len(train) - 1
    assert all(ids == labels for ids, labels in zip(train["input_ids"], train["labels"]))


def test_tokenized_cache_is_reused_and_overwrite_cache_rebuilds(tiny_tokenizer, tmp_path):
    cache = tmp_path / "tokenized"
    first = tokenized(tiny_tokenizer, dataset="identity", tokenized_path=str(cache))
    marker = cache / "train" / "dataset_info.json"
    stamp = marker.stat().st_mtime_ns
    again = tokenized(tiny_tokenizer, dataset="identity", tokenized_path=str(cache))
    assert marker.stat().st_mtime_ns == stamp and again["train"]["input_ids"] == first["train"]["input_ids"]
    tokenized(tiny_tokenizer, dataset="identity", tokenized_path=str(cache), overwrite_cache=True)
    assert marker.stat().st_mtime_ns != stamp
    changed = tokenized(tiny_tokenizer, dataset="identity", tokenized_path=str(cache), cutoff_len=40)
    assert max(len(ids) for ids in changed["train"]["input_ids"]) <= 40, "other arguments rebuild the cache"


def test_unknown_dataset_lists_the_available_ones(tiny_tokenizer):
    with pytest.raises(ArgumentError, match="available: .*qllm_tasks") as caught:
        tokenized(tiny_tokenizer, dataset="nope")
    assert caught.value.field == "dataset"


def test_invalid_json_dataset_names_file_and_position(tiny_tokenizer, tmp_path):
    (tmp_path / "dataset_info.json").write_text(json.dumps({"broken": {"file_name": "broken.json"}}))
    (tmp_path / "broken.json").write_text('[\n {"instruction": "a", "output": "b"},\n {"instruction": }\n]')
    args = DataArguments(dataset_dir=str(tmp_path), dataset="broken", template="qwen")
    with pytest.raises(ArgumentError, match=r"broken\.json: not valid JSON at line 3 column 18"):
        load_tokenized(args, "sft", tiny_tokenizer, TEMPLATES["qwen"], seed=0)


def test_invalid_registry_json_is_reported(tiny_tokenizer, tmp_path):
    (tmp_path / "dataset_info.json").write_text("{ not json")
    args = DataArguments(dataset_dir=str(tmp_path), dataset="x", template="qwen")
    with pytest.raises(ArgumentError, match=r"dataset_info\.json is not valid JSON: line 1"):
        load_tokenized(args, "sft", tiny_tokenizer, TEMPLATES["qwen"], seed=0)


def test_hub_dataset_offline_fails_with_one_clear_line(tiny_tokenizer):
    with pytest.raises(ArgumentError) as caught:
        tokenized(tiny_tokenizer, dataset="alpaca_gpt4_en")
    message = str(caught.value)
    assert "alpaca_gpt4_en" in message and "offline" in message and "file_name" in message
    assert "\n" not in message


def test_unknown_template_is_rejected():
    with pytest.raises(ArgumentError, match="choose one of auto, qwen, chatml, llama3"):
        get_template("llama9")


def test_auto_template_is_the_tokenizers_own(tiny_tokenizer):
    assert get_template(None, tiny_tokenizer).name.startswith("auto-")
    assert get_template("auto", tiny_tokenizer).chat_template == tiny_tokenizer.chat_template


GOOD = {"instruction": "Add 2 and 3.", "input": "", "output": "5"}
# file name -> (dataset_info entry extras, file bytes, what the one-line error must say)
BAD_FILES = {
    "empty-list.json": ({}, b"[]", "holds no records"),
    "empty-file.jsonl": ({}, b"", "holds no records"),
    "latin1.json": ({}, '[{"instruction": "caf\u00e9", "output": "x"}]'.encode("latin-1"), "not UTF-8 text (byte 21)"),
    "broken-line.jsonl": ({}, json.dumps(GOOD).encode() + b"\n{oops\n", "line 2 is not valid JSON"),
    "an-object.json": ({}, b'{"instruction": "x"}', "expected a list of records"),
    "a-string-record.json": ({}, b'["hello"]', "record 1 is a JSON str"),
    "missing-output.json": ({}, json.dumps([GOOD, {"instruction": "x"}]).encode(), "record 2 has no 'output'"),
    "null-instruction.json": (
        {},
        json.dumps([GOOD, GOOD, {**GOOD, "instruction": None}]).encode(),
        "record 3 'instruction' is null",
    ),  # fmt: skip
    "list-output.json": ({}, json.dumps([{**GOOD, "output": ["5"]}]).encode(), "record 1 'output' is a JSON array"),
    "sharegpt-string.json": (
        {"formatting": "sharegpt"},
        json.dumps([{"conversations": "hello"}]).encode(),
        "record 1 'conversations' is a JSON string, expected a list of turns",
    ),  # fmt: skip
    "sharegpt-roles.json": (
        {"formatting": "sharegpt"},
        json.dumps([{"conversations": [{"from": "human", "value": "hi"}, {"from": "bot", "value": "hello"}]}]).encode(),
        "record 1 turn 2 has the role 'bot', not one of human, gpt, system",
    ),  # fmt: skip
    "sharegpt-order.json": (
        {"formatting": "sharegpt"},
        json.dumps([{"conversations": [{"from": "gpt", "value": "hi"}, {"from": "human", "value": "hello"}]}]).encode(),
        "record 1 turns must alternate user, assistant",
    ),  # fmt: skip
}


def bad_dataset_dir(tmp_path, name: str):
    extras, content, _ = BAD_FILES[name]
    (tmp_path / name).write_bytes(content)
    (tmp_path / "dataset_info.json").write_text(json.dumps({"bad": {"file_name": name, **extras}}))
    return tmp_path


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_data_file_is_one_line_naming_file_and_record_and_nothing_is_written(tmp_path, capsys, name):
    from seed import seed_flags

    from qllm.cli import main

    (tmp_path / "data").mkdir()
    data = bad_dataset_dir(tmp_path / "data", name)
    flags = seed_flags(tmp_path, dataset="bad", dataset_dir=str(data), max_samples="1000")
    assert main(["train", *flags]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines[-1].startswith(f"error: --dataset: {data / name}: "), lines
    assert BAD_FILES[name][2] in lines[-1], lines[-1]
    assert not (tmp_path / "out").exists() and not (tmp_path / "tokenized").exists()


def test_skip_bad_records_leaves_them_out_with_a_count(tiny_tokenizer, tmp_path, caplog):
    rows = [
        GOOD,
        {"instruction": "x"},
        {**GOOD, "output": None},
        {**GOOD, "instruction": "Add 1 and 1.", "output": "2"},
    ]
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    (tmp_path / "dataset_info.json").write_text(json.dumps({"rows": {"file_name": "rows.json"}}))
    args = {"dataset_dir": str(tmp_path), "template": "qwen", "dataset": "rows"}
    with pytest.raises(ArgumentError, match="record 2 has no 'output'"):
        load_tokenized(DataArguments(**args), "sft", tiny_tokenizer, get_template("qwen"), seed=0)
    with caplog.at_level("WARNING"):
        train = load_tokenized(
            DataArguments(**args, skip_bad_records=True), "sft", tiny_tokenizer, get_template("qwen"), seed=0
        )["train"]
    assert len(train) == 2
    assert "skipped 2 bad records (the first: record 2 has no 'output')" in caplog.text


@pytest.mark.parametrize(
    ("flag", "value"),
    [("save_steps", "0"), ("eval_steps", "0"), ("warmup_steps", "-1"), ("logging_steps", "0")],
)
def test_step_counts_that_mean_never_are_named_by_their_flag(tmp_path, capsys, flag, value):
    from seed import seed_flags

    from qllm.cli import main

    assert main(["train", *seed_flags(tmp_path, **{flag: value})]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(f"error: --{flag}:")
