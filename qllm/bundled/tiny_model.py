"""Build the embedded default model `qllm-tiny` from the project's own text.

    python -m qllm.bundled.tiny_model                 # rebuild assets/qllm-tiny
    python -m qllm.bundled.tiny_model --steps 5 --output /tmp/x   # a quick smoke build

Steps: train a byte-level BPE tokenizer (Qwen2's pre-tokenizer, ChatML special tokens)
on `pretraining_corpus()`, create a small Qwen2 model, pre-train it briefly with the
transformers `Trainer`, save model + tokenizer in the standard layout.  Seeds are fixed
and training runs on the CPU with a fixed thread count, so a rebuild with the pinned
library versions reproduces the shipped files.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import Qwen2Config, Qwen2ForCausalLM, Trainer, TrainingArguments, set_seed
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX, Qwen2Tokenizer

from qllm.bundled.synthetic import pretraining_corpus
from qllm.data.template import QWEN_CHAT_TEMPLATE
from qllm.paths import TINY_MODEL_DIR

logger = logging.getLogger(__name__)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
VOCAB_SIZE = 2048
BLOCK_SIZE = 256


def train_tokenizer(texts: list[str]) -> Qwen2Tokenizer:
    """A byte-level BPE with Qwen2's pre-tokenizer (digits split one by one)."""
    backend = Tokenizer(models.BPE())
    backend.normalizer = normalizers.NFC()
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    serialised = json.loads(backend.to_str())["model"]  # the trained vocab and merges
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in serialised["merges"]]
    tokenizer = Qwen2Tokenizer(
        vocab=serialised["vocab"],
        merges=merges,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[1:],
    )
    tokenizer.chat_template = QWEN_CHAT_TEMPLATE
    tokenizer.model_max_length = 1024
    return tokenizer


class PackedText(torch.utils.data.Dataset):
    """The corpus tokenized, joined with end-of-text tokens and cut into equal blocks."""

    def __init__(self, tokenizer: Qwen2Tokenizer, texts: list[str]) -> None:
        ids: list[int] = []
        for text in texts:
            ids += tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.pad_token_id]
        usable = len(ids) // BLOCK_SIZE * BLOCK_SIZE
        self.blocks = torch.tensor(ids[:usable]).view(-1, BLOCK_SIZE)

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        block = self.blocks[index]
        return {"input_ids": block, "labels": block.clone()}


def build(output: Path, steps: int, seed: int = 0) -> None:
    set_seed(seed)
    random.seed(seed)
    torch.set_num_threads(2)
    texts = list(pretraining_corpus())
    tokenizer = train_tokenizer(texts)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=512,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        rope_theta=10000.0,
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
        dtype="float32",
    )
    model = Qwen2ForCausalLM(config)
    dataset = PackedText(tokenizer, texts)
    logger.info("qllm-tiny: %d parameters, %d blocks of %d tokens", model.num_parameters(), len(dataset), BLOCK_SIZE)
    args = TrainingArguments(
        output_dir=str(output / "_pretrain"),
        max_steps=steps,
        per_device_train_batch_size=16,
        learning_rate=3e-3,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, steps // 20),
        weight_decay=0.01,
        logging_steps=max(1, steps // 20),
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        seed=seed,
        data_seed=seed,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    Trainer(model=model, args=args, train_dataset=dataset).train()
    output.mkdir(parents=True, exist_ok=True)
    model.config.use_cache = True
    model.generation_config.max_new_tokens = 128
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    for leftover in sorted((output / "_pretrain").glob("**/*"), reverse=True):
        leftover.unlink() if leftover.is_file() else leftover.rmdir()
    (output / "_pretrain").rmdir()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=TINY_MODEL_DIR)
    parser.add_argument("--steps", type=int, default=1200)
    options = parser.parse_args()
    build(options.output, options.steps)


if __name__ == "__main__":
    main()
