"""The embedded default model: small, standard, ChatML, and rebuilt deterministically."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from qllm.data.template import QWEN_CHAT_TEMPLATE
from qllm.errors import ArgumentError
from qllm.model.loader import load_model, resolve_model_path
from qllm.paths import DATA_DIR, TINY_MODEL_DIR


def test_qllm_tiny_is_a_small_standard_qwen2_model():
    size = sum(f.stat().st_size for f in TINY_MODEL_DIR.iterdir())
    assert size < 10 * 2**20
    model = AutoModelForCausalLM.from_pretrained(TINY_MODEL_DIR)
    tokenizer = AutoTokenizer.from_pretrained(TINY_MODEL_DIR)
    assert model.config.model_type == "qwen2" and model.num_parameters() < 5_000_000
    assert tokenizer.chat_template == QWEN_CHAT_TEMPLATE
    assert tokenizer.convert_ids_to_tokens(tokenizer("<|im_start|>user<|im_end|>")["input_ids"])[0] == "<|im_start|>"


def test_name_resolves_and_the_model_writes_in_the_data_style():
    assert resolve_model_path("qllm-tiny") == str(TINY_MODEL_DIR)
    model = load_model("qllm-tiny").eval()
    tokenizer = AutoTokenizer.from_pretrained(TINY_MODEL_DIR)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What color is the sky?"}], tokenize=False, add_generation_prompt=True
    )
    ids = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    assert tokenizer.decode(out[0, ids["input_ids"].shape[1] :]) == "The sky is blue.<|im_end|>"


@pytest.mark.parametrize("name", ["/download path/Qwen2.5-0.5B/", "./missing", str(DATA_DIR)])
def test_missing_or_wrong_model_folders_are_named(name):
    with pytest.raises(ArgumentError) as caught:
        resolve_model_path(name)
    assert caught.value.field == "model_name_or_path"


def test_hub_ids_pass_through_and_fail_offline_with_one_line():
    from qllm.model.loader import load_tokenizer

    assert resolve_model_path("Qwen/Qwen2.5-0.5B") == "Qwen/Qwen2.5-0.5B"
    with pytest.raises(ArgumentError, match="offline"):
        load_tokenizer("qllm-test/not-a-cached-model")


def test_a_hub_id_that_cannot_be_fetched_is_refused_before_a_run(tmp_path, monkeypatch):
    """The board's pre-start check: a hub id neither cached nor reachable is one line naming the model field;
    one in the cache passes offline; local folders and qllm-tiny are not looked up."""
    from qllm.model.loader import check_hub_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ArgumentError, match="not in the local Hugging Face cache and this machine is offline") as err:
        check_hub_model("qllm-test/not-a-cached-model", cache_dir=str(tmp_path))
    assert err.value.field == "model_name_or_path" and "\n" not in str(err.value)
    snapshot = tmp_path / "models--qllm-test--cached" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (tmp_path / "models--qllm-test--cached" / "refs").mkdir()
    (tmp_path / "models--qllm-test--cached" / "refs" / "main").write_text("0" * 40)
    check_hub_model("qllm-test/cached", cache_dir=str(tmp_path))
    check_hub_model("qllm-tiny")
    check_hub_model(str(TINY_MODEL_DIR))


def test_build_script_is_deterministic(tmp_path):
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        subprocess.run(
            [sys.executable, "-m", "qllm.bundled.tiny_model", "--steps", "2", "--output", str(out)],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )
        outputs.append(out)
    for file in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (outputs[0] / file).read_bytes() == (outputs[1] / file).read_bytes(), file
    # The shipped tokenizer is the one the script trains.
    assert (outputs[0] / "tokenizer.json").read_bytes() == (TINY_MODEL_DIR / "tokenizer.json").read_bytes()
    AutoModelForCausalLM.from_pretrained(outputs[0])
