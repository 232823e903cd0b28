"""`qllm eval`: score a model (+ adapter) on a benchmark or a registered dataset's test split."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qllm.adapters.circuit.measurement import Measurement, apply_measurement
from qllm.constants import RESULTS_FILE
from qllm.eval.choice import evaluate_choice
from qllm.eval.exact_match import evaluate_exact_match
from qllm.eval.registry import Task, find_task
from qllm.eval.tasks import resolve_task_dir
from qllm.hparams.parser import Source, get_eval_args
from qllm.model.inference import adapter_methods, load_for_inference
from qllm.model.quantization import base_in_words

logger = logging.getLogger(__name__)


def _score_exact_match(loaded, task: Task, eval_args, data_args) -> tuple[dict[str, Any], str]:
    """A dataset's test split: generated answers against the references, and the eval loss."""
    data_args.dataset = task.name
    scored = evaluate_exact_match(
        loaded.model, loaded.tokenizer, loaded.template, data_args, eval_args.split, eval_args.batch_size
    )
    results = dict(
        n_shot=0,  # the question alone, no solved examples before it
        data=f"{task.name} {eval_args.split} split ({data_args.dataset_dir})",
        **asdict(scored),
    )
    table = (
        f"{task.name} ({eval_args.split}): exact match {100 * scored.accuracy:.2f}% of {scored.total}, "
        f"eval loss {scored.eval_loss:.4f}"
    )
    return results, table


def _score_choice(loaded, task: Task, eval_args, data_args) -> tuple[dict[str, Any], str]:
    """A multiple-choice benchmark: accuracy per subject and category, in the task's prompt language."""
    scored = evaluate_choice(
        loaded.model,
        loaded.tokenizer,
        loaded.template,
        task.name,
        eval_args.task_dir,
        eval_args.split,
        eval_args.n_shot,
        eval_args.lang or task.lang,
        eval_args.batch_size,
    )
    results = dict(
        n_shot=eval_args.n_shot,
        data=scored.data,
        categories=scored.categories,
        subjects=scored.subjects,
        fewer_shots=scored.fewer_shots,
    )
    return results, scored.table()


SCORERS = {"choice": _score_choice, "exact_match": _score_exact_match}  # Task.kind -> its scorer


def score(loaded, task: Task, eval_args, data_args, measurement: Measurement | None = None) -> tuple[dict, str]:
    """The task's scores with every circuit read by ``measurement`` (None: exactly).

    A mean ablation without recorded means first scores the task exactly while recording
    each circuit's mean <Z> over the tokens it sees (padding and generated tokens included).
    """
    if measurement is not None and measurement.ablation == "mean" and not measurement.means:
        recorder = Measurement(record_means=True)
        apply_measurement(loaded.model, recorder)
        try:
            SCORERS[task.kind](loaded, task, eval_args, data_args)
        finally:
            apply_measurement(loaded.model, None)
        measurement.means = recorder.recorded_means()
    apply_measurement(loaded.model, measurement)
    try:
        scored, table = SCORERS[task.kind](loaded, task, eval_args, data_args)
    finally:
        apply_measurement(loaded.model, None)
    if measurement is not None and not measurement.exact:
        scored["measurement"] = measurement.describe()
        table += f" · {measurement.in_words()}"
    return scored, table


def prepare_eval(source: Source):
    """Arguments, task and loaded model of `qllm eval` (and of each point of `qllm robustness`)."""
    model_args, data_args, eval_args, finetuning_args, measurement_args = get_eval_args(source)
    task = find_task(eval_args.task, eval_args.task_dir, data_args.dataset_dir)
    measurement_args.check_methods(adapter_methods(model_args))
    if task.kind == "choice":
        resolve_task_dir(task.name, eval_args.task_dir)  # files missing or not fetchable: fail before the model loads
    loaded = load_for_inference(model_args, data_args, finetuning_args)
    return model_args, data_args, eval_args, measurement_args, task, loaded


def run_eval(source: Source) -> dict[str, Any]:
    """The results (also written to save_dir/results.json when save_dir is given)."""
    model_args, data_args, eval_args, measurement_args, task, loaded = prepare_eval(source)
    results: dict[str, Any] = {
        "task": task.name,
        "split": eval_args.split,
        "model": model_args.model_name_or_path,
        "adapter": model_args.adapter_name_or_path,
        "adapter_methods": loaded.adapter_methods,
        "kind": task.kind,
    }
    scored, table = score(loaded, task, eval_args, data_args, measurement_args.measurement())
    results.update(scored)
    if model_args.quantization_bit is not None:  # a quantized base's score is not the float model's
        results["quantization_bit"] = model_args.quantization_bit
        table += f" · {base_in_words(model_args.quantization_bit)}"
    results["table"] = table
    if eval_args.save_dir:
        path = Path(eval_args.save_dir) / RESULTS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        logger.info("results written to %s", path)
    return results
