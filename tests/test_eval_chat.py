"""Evaluation (letter scoring, sample benchmark, exact match), chat streaming, and export."""

from __future__ import annotations

import json
import shutil
import threading
from types import SimpleNamespace

import pytest
import torch
from seed import DATA_DIR

from qllm.cli import main
from qllm.errors import ArgumentError
from qllm.eval.choice import letter_token_ids, predict_letters
from qllm.eval.tasks import read_questions
from qllm.model.loader import load_tokenizer
from qllm.train.workflow import run_train


class LetterModel(torch.nn.Module):
    """A 'model' whose next-token logits favour the letter named at the end of each prompt."""

    def __init__(self, tokenizer) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.letters = letter_token_ids(tokenizer)
        self.device = torch.device("cpu")

    def forward(self, input_ids, attention_mask=None):
        logits = torch.zeros(*input_ids.shape, len(self.tokenizer))
        for row, ids in enumerate(input_ids):
            wanted = self.tokenizer.decode(ids).strip()[-1]
            logits[row, -1, self.letters] = torch.tensor([0.1, 0.2, 0.3, 0.4])  # D by default
            if wanted in "ABCD":
                logits[row, -1, self.letters["ABCD".index(wanted)]] = 5.0
        return SimpleNamespace(logits=logits)


def test_letter_scoring_picks_the_highest_letter_logit():
    tokenizer = load_tokenizer("qllm-tiny")
    prompts = ["pick A", "pick C", "a longer prompt that wants B", "no letter here"]
    assert predict_letters(LetterModel(tokenizer), tokenizer, prompts, batch_size=3) == ["A", "C", "B", "D"]


def test_malformed_csv_names_file_and_row(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "algebra.csv").write_text("question,A,B,C,D,answer\nq1,a,b,c,d,A\nq2,a,b,c,d,E\n")
    with pytest.raises(ArgumentError, match=r"algebra\.csv row 3"):
        read_questions(tmp_path, "test", "algebra")


def test_real_benchmark_layouts_are_read(tmp_path):
    """MMLU files have no header; C-Eval / CMMLU files have a leading id column and a header."""
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "anatomy_test.csv").write_text("What is 1+1?,1,2,3,4,B\n")
    (tmp_path / "test" / "law.csv").write_text("id,Question,A,B,C,D,Answer\n0,问,甲,乙,丙,丁,C\n")
    assert read_questions(tmp_path, "test", "anatomy")[0].answer == "B"
    assert read_questions(tmp_path, "test", "law")[0].options == ("甲", "乙", "丙", "丁")


@pytest.mark.parametrize("task", ["mmlu_sample", "cmmlu_sample", "ceval_sample"])
def test_sample_benchmark_end_to_end(tmp_path, task, capsys):
    flags = [
        "--model_name_or_path",
        "qllm-tiny",
        "--template",
        "qwen",
        "--task",
        task,
        "--task_dir",
        str(tmp_path / "no_real_files"),
        "--n_shot",
        "2",
        "--save_dir",
        str(tmp_path),
    ]
    assert main(["eval", *flags]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["kind"] == "choice" and 0 <= results["categories"]["Average"] <= 100
    assert sum(s["total"] for s in results["subjects"].values()) >= 36
    assert "Average" in capsys.readouterr().out


def test_missing_task_lists_what_is_there(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "mapping.json").write_text("{}")
    assert main(["eval", "--model_name_or_path", "qllm-tiny", "--task", "gaokao", "--task_dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "no task 'gaokao'" in error and "mmlu_sample" in error and "mine" in error  # the records and the folder


def test_a_misspelt_task_is_refused_with_the_closest_name(tmp_path, capsys):
    assert (
        main(["eval", "--model_name_or_path", "qllm-tiny", "--task", "mmlu_smaple", "--task_dir", str(tmp_path)]) == 2
    )
    assert "did you mean mmlu_sample?" in capsys.readouterr().err


@pytest.fixture(scope="module")
def lora_adapter(tmp_path_factory):
    output = tmp_path_factory.mktemp("lora") / "run"
    run_train(
        {
            "model_name_or_path": "qllm-tiny",
            "dataset": "qllm_tasks",
            "dataset_dir": str(DATA_DIR),
            "template": "qwen",
            "finetuning_type": "lora",
            "lora_target": "all",
            "output_dir": str(output),
            "max_samples": 1200,
            "per_device_train_batch_size": 8,
            "learning_rate": 5e-3,
            "num_train_epochs": 2,
            "logging_steps": 50,
            "save_strategy": "no",
            "seed": 0,
        }
    )
    return output


def test_exact_match_improves_after_a_short_fine_tune(lora_adapter, tmp_path):
    from qllm.eval.workflow import run_eval

    common = {
        "model_name_or_path": "qllm-tiny",
        "template": "qwen",
        "task": "qllm_tasks",
        "dataset_dir": str(DATA_DIR),
        "batch_size": 32,
    }
    before = run_eval(common)
    after = run_eval({**common, "adapter_name_or_path": str(lora_adapter), "save_dir": str(tmp_path)})
    assert before["kind"] == "exact_match" and before["total"] == 200
    assert after["accuracy"] >= before["accuracy"] + 0.1, (before["accuracy"], after["accuracy"])
    assert after["eval_loss"] < before["eval_loss"]
    assert json.loads((tmp_path / "results.json").read_text())["accuracy"] == after["accuracy"]


def test_chat_streams_pieces_that_join_to_the_reply_and_stop_at_the_stop_word():
    from qllm.chat.chat_model import ChatModel

    chat = ChatModel({"model_name_or_path": "qllm-tiny", "template": "qwen", "temperature": 0, "max_new_tokens": 40})
    messages = [{"role": "user", "content": "What color is the sky?"}]
    pieces = list(chat.stream(messages))
    assert len(pieces) > 1 and "".join(pieces) == chat.chat(messages) == "The sky is blue."
    # Without the stop word the greedy continuation would run on: the template's <|im_end|> ended it.
    assert "<|im_end|>" not in "".join(pieces)
    with pytest.raises(ArgumentError, match="empty"):
        list(chat.stream([{"role": "user", "content": "   "}]))
    stop = threading.Event()
    stop.set()
    assert len("".join(chat.stream(messages, stop=stop))) < len("The sky is blue.")
    chat.unload()
    assert chat.loaded is None


def test_chat_loads_each_adapter_kind(lora_adapter, tmp_path):
    from peft import get_peft_model

    from qllm.chat.chat_model import ChatModel
    from qllm.hparams.finetuning_args import FinetuningArguments
    from qllm.model.loader import load_model

    get_peft_model(load_model("qllm-tiny"), FinetuningArguments(finetuning_type="vqc").peft_config()).save_pretrained(
        tmp_path / "vqc"
    )
    for adapter, method in ((lora_adapter, "lora"), (tmp_path / "vqc", "vqc")):
        chat = ChatModel(
            {
                "model_name_or_path": "qllm-tiny",
                "adapter_name_or_path": str(adapter),
                "temperature": 0,
                "max_new_tokens": 8,
            }
        )
        assert chat.loaded.adapter_methods == [method]
        assert isinstance(chat.chat([{"role": "user", "content": "hi"}]), str)


def test_bad_generation_settings(capsys):
    from qllm.hparams.parser import get_infer_args

    with pytest.raises(ArgumentError) as caught:
        get_infer_args(["--model_name_or_path", "qllm-tiny", "--max_new_tokens", "0"])
    assert caught.value.field == "max_new_tokens"
    assert (
        get_infer_args(["--model_name_or_path", "qllm-tiny", "--max_new_tokens", "10000000"])[3].max_new_tokens == 8192
    )


def test_export_merges_lora_into_a_standalone_model(lora_adapter, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from qllm.model.loader import load_model

    assert (
        main(
            [
                "export",
                "--model_name_or_path",
                "qllm-tiny",
                "--adapter_name_or_path",
                str(lora_adapter),
                "--export_dir",
                str(tmp_path / "merged"),
            ]
        )
        == 0
    )
    ids = torch.tensor([[1, 318, 201, 37, 334, 2, 1, 317, 201]])
    with torch.no_grad():
        merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")(ids).logits
        with_adapter = PeftModel.from_pretrained(load_model("qllm-tiny"), lora_adapter)(ids).logits
    assert (merged - with_adapter).abs().max().item() <= 1e-4


def test_export_refuses_circuit_adapters(tmp_path, capsys):
    from peft import get_peft_model

    from qllm.hparams.finetuning_args import FinetuningArguments
    from qllm.model.loader import load_model

    get_peft_model(load_model("qllm-tiny"), FinetuningArguments(finetuning_type="tq").peft_config()).save_pretrained(
        tmp_path / "tq"
    )
    assert (
        main(
            [
                "export",
                "--model_name_or_path",
                "qllm-tiny",
                "--adapter_name_or_path",
                str(tmp_path / "tq"),
                "--export_dir",
                str(tmp_path / "out"),
            ]
        )
        == 2
    )
    assert "not a linear update" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    shutil.rmtree(tmp_path / "tq")
