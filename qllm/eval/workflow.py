"""`qllm eval`: score a model (+ adapter) on a benchmark or a registered dataset's test split."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qllm.constants import RESULTS_FILE
from qllm.data.registry import load_registry
from qllm.errors import ArgumentError
from qllm.eval.choice import evaluate_choice
from qllm.eval.exact_match import evaluate_exact_match
from qllm.eval.tasks import resolve_task_dir
from qllm.hparams.parser import Source, get_eval_args
from qllm.model.inference import load_for_inference

logger = logging.getLogger(__name__)


def _is_dataset(task: str, dataset_dir: str) -> bool:
    try:
        return task in load_registry(dataset_dir)
    except ArgumentError:  # no registry there: the task must be a benchmark folder
        return False


def run_eval(source: Source) -> dict[str, Any]:
    """The results (also written to save_dir/results.json when save_dir is given)."""
    model_args, data_args, eval_args, finetuning_args = get_eval_args(source)
    as_dataset = _is_dataset(eval_args.task, data_args.dataset_dir)
    if not as_dataset:
        resolve_task_dir(eval_args.task, eval_args.task_dir)  # a missing task fails before the model loads
    loaded = load_for_inference(model_args, data_args, finetuning_args)
    results: dict[str, Any] = {
        "task": eval_args.task,
        "split": eval_args.split,
        "model": model_args.model_name_or_path,
        "adapter": model_args.adapter_name_or_path,
        "adapter_methods": loaded.adapter_methods,
    }
    if as_dataset:
        data_args.dataset = eval_args.task
        scored = evaluate_exact_match(
            loaded.model, loaded.tokenizer, loaded.template, data_args, eval_args.split, eval_args.batch_size
        )
        results.update(
            kind="exact_match",
            n_shot=0,  # the question alone, no solved examples before it
            data=f"{eval_args.task} {eval_args.split} split ({data_args.dataset_dir})",
            **asdict(scored),
        )
        table = (
            f"{eval_args.task} ({eval_args.split}): exact match {100 * scored.accuracy:.2f}% of {scored.total}, "
            f"eval loss {scored.eval_loss:.4f}"
        )
    else:
        scored = evaluate_choice(
            loaded.model,
            loaded.tokenizer,
            loaded.template,
            eval_args.task,
            eval_args.task_dir,
            eval_args.split,
            eval_args.n_shot,
            eval_args.lang,
            eval_args.batch_size,
        )
        results.update(
            kind="choice",
            n_shot=eval_args.n_shot,
            data=scored.data,
            categories=scored.categories,
            subjects=scored.subjects,
            fewer_shots=scored.fewer_shots,
        )
        table = scored.table()
    results["table"] = table
    if eval_args.save_dir:
        path = Path(eval_args.save_dir) / RESULTS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        logger.info("results written to %s", path)
    return results
