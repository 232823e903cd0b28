"""Run by tests/test_eval_truth.py in a fresh process: the validation loss of each saved adapter of finished runs.

    python tests/checkpoint_loss_worker.py RUN_DIR [RUN_DIR ...]   -> {run: {"checkpoint-N" | "final": loss}}

Each adapter (every checkpoint-N and the final one) is loaded as chat and eval load it (frozen, its
builds kept), and scored by transformers' `Trainer.evaluate` on the run's validation split, built
from the run's own train_args.yaml with the run's batching: what the run logged as eval_loss.
"""

import json
import sys
from pathlib import Path

from transformers import Trainer

from qllm.adapters.attach import load_adapters
from qllm.constants import TRAIN_ARGS, checkpoints
from qllm.data.pipeline import load_tokenized
from qllm.data.preprocess import supervised_collator
from qllm.data.template import get_template
from qllm.hparams.parser import get_train_args
from qllm.model.loader import load_model, load_tokenizer


def run_losses(run: Path) -> dict[str, float]:
    model_args, data_args, training_args, finetuning_args = get_train_args([str(run / TRAIN_ARGS)])
    tokenizer = load_tokenizer(model_args.model_name_or_path)
    template = get_template(data_args.template, tokenizer)
    validation = load_tokenized(data_args, finetuning_args.stage, tokenizer, template, training_args.seed)["validation"]
    adapters = {path.name: path for path in checkpoints(run)} | {"final": run}
    losses = {}
    for name, path in adapters.items():
        model = load_adapters(load_model(model_args.model_name_or_path), str(path), is_trainable=False)
        trainer = Trainer(
            model=model, args=training_args, eval_dataset=validation, data_collator=supervised_collator(tokenizer)
        )
        losses[name] = trainer.evaluate()["eval_loss"]
    return losses


if __name__ == "__main__":
    print(json.dumps({run: run_losses(Path(run)) for run in sys.argv[1:]}))
