"""`qllm train`: arguments -> data -> model + adapter -> transformers `Trainer` -> output_dir.

Everything that can be wrong with the input is checked before output_dir is touched, so
a run that fails validation leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from qllm.adapters.attach import attach_adapter
from qllm.circuit import CIRCUIT_METHODS
from qllm.constants import CONSOLE_LOG, RUN_LOG, TRAIN_ARGS, TRAINER_LOG
from qllm.data.pipeline import load_tokenized
from qllm.data.preprocess import supervised_collator
from qllm.data.template import get_template
from qllm.hparams.parser import Source, TrainArgs, get_train_args
from qllm.hparams.training_args import TrainingArguments
from qllm.model.loader import load_model, load_tokenizer
from qllm.model.saved_adapter import check_resume_settings
from qllm.train.callbacks import LogCallback, NothingLeftToTrain, ReplicaCheck, RunManifest, StopAtTheEnd
from qllm.train.circuit_log import CircuitLog, probe_batch
from qllm.train.disk_full import disk_full_error
from qllm.train.output_dir import (
    FINAL_STAGING,
    claim_run_folder,
    clear_run_files,
    move_final_adapter,
    plan_output_dir,
    record_run_files,
    set_aside_incomplete_checkpoints,
)
from qllm.train.plot import plot_loss
from qllm.train.run_lock import run_lock

if TYPE_CHECKING:
    from transformers import TrainerCallback

logger = logging.getLogger(__name__)


def resolved_arguments(args: TrainArgs) -> dict[str, Any]:
    """Every argument of ours, and the training arguments that differ from transformers' defaults.

    The result is itself a valid `qllm train` config file that reproduces the run.
    """
    model_args, data_args, training_args, finetuning_args = args
    values: dict[str, Any] = {}
    for group in (model_args, data_args, finetuning_args):
        values.update(dataclasses.asdict(group))
    defaults = TrainingArguments(output_dir=training_args.output_dir).to_dict()
    names = {f.name for f in dataclasses.fields(TrainingArguments) if f.init}
    values.update({k: v for k, v in training_args.to_dict().items() if k in names and v != defaults.get(k)})
    values["output_dir"] = training_args.output_dir
    return values


def _attach_run_log(output_dir: Path, resume: bool) -> logging.Handler:
    handler = logging.FileHandler(output_dir / RUN_LOG, mode="a" if resume else "w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("qllm", "transformers", "peft"):
        logging.getLogger(name).addHandler(handler)
    return handler


def save_final_adapter(trainer, output_dir: Path) -> None:
    """Save the adapter into a staging folder, then rename its files into place (config last).

    A kill during the save leaves either the checkpoints alone (the run is not finished and
    resumes) or the whole adapter, never a half-written one where the Chat picker looks.
    """
    staging = output_dir / FINAL_STAGING
    trainer.save_model(str(staging))  # every process takes part (ZeRO-3 gathers); the main one writes
    if trainer.args.should_save:
        move_final_adapter(staging, output_dir)


def end_progress_bar(trainer) -> None:
    """Close the Trainer's progress bar as the end of training does, so a failure's message starts a line."""
    from transformers.trainer_callback import ProgressCallback

    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, ProgressCallback) and callback.training_bar is not None:
            callback.on_train_end(trainer.args, trainer.state, trainer.control)


@dataclasses.dataclass
class TrainOutcome:
    metrics: dict[str, Any]  # train_loss, eval_loss (with a validation split), runtime, ...
    model: Any  # the trained PeftModel, as saved to output_dir


def run_train(source: Source, callbacks: Sequence[TrainerCallback] = ()) -> TrainOutcome:
    """Train and save the adapter, logs and results to output_dir; ``callbacks`` join the Trainer's own."""
    from transformers import set_seed

    args = get_train_args(source)
    model_args, data_args, training_args, finetuning_args = args
    checkpoint = plan_output_dir(
        training_args.output_dir, training_args.overwrite_output_dir, training_args.resume_finished
    )
    if checkpoint is not None:
        check_resume_settings(checkpoint, finetuning_args)
    # Under torchrun every process runs this function; the first one (world rank 0) alone writes
    # and logs, the others log warnings only.
    main_process = training_args.process_index == 0
    logging.getLogger("qllm").setLevel(logging.INFO if main_process else logging.WARNING)

    tokenizer = load_tokenizer(model_args.model_name_or_path, model_args.cache_dir)
    template = get_template(data_args.template, tokenizer)
    with training_args.main_process_first(desc="tokenizing"):  # rank 0 writes the cache, the others read it
        splits = load_tokenized(data_args, finetuning_args.stage, tokenizer, template, training_args.seed)
    model = load_model(
        model_args.model_name_or_path,
        dtype=training_args.base_dtype,
        cache_dir=model_args.cache_dir,
        quantization=model_args.quantization_config(training_args.base_dtype, training_args.shards_parameters),
    )
    set_seed(training_args.seed)  # the adapter's starting weights are drawn now: the same --seed, the same start
    model = attach_adapter(model, finetuning_args, model_args.adapter_name_or_path, is_trainable=True)

    output_dir = Path(training_args.output_dir)
    with contextlib.ExitStack() as held:
        if main_process:  # one writer per run folder, from here to the end; a second run is refused here
            held.enter_context(run_lock(output_dir))
        return _train_into(args, checkpoint, splits, tokenizer, model, callbacks)


def _train_into(args: TrainArgs, checkpoint, splits, tokenizer, model, callbacks) -> TrainOutcome:
    """The part of a run that writes its folder (the main process holds the folder's lock)."""
    from transformers import Trainer

    model_args, data_args, training_args, finetuning_args = args
    main_process = training_args.process_index == 0
    output_dir = Path(training_args.output_dir)
    with training_args.main_process_first(desc="preparing the output folder"):
        if main_process:
            if output_dir.is_dir():
                set_aside_incomplete_checkpoints(output_dir)
            if checkpoint is None:
                clear_run_files(output_dir, keep=(TRAIN_ARGS, RUN_LOG, CONSOLE_LOG))
            claim_run_folder(output_dir, [TRAIN_ARGS, RUN_LOG, TRAINER_LOG])
        output_dir.mkdir(parents=True, exist_ok=True)
    handler = _attach_run_log(output_dir, resume=checkpoint is not None) if main_process else logging.NullHandler()
    trainer = None
    try:
        if main_process:
            (output_dir / TRAIN_ARGS).write_text(
                yaml.safe_dump(resolved_arguments(args), sort_keys=False), encoding="utf-8"
            )
        logger.info("compute type: %s; processes: %d", training_args.compute_type, training_args.world_size)
        if checkpoint:
            logger.info("resuming from %s", checkpoint)
        if training_args.include_num_input_tokens_seen == "no":
            training_args.include_num_input_tokens_seen = "non_padding"
        collator = supervised_collator(tokenizer)
        own = [StopAtTheEnd(), LogCallback(output_dir), RunManifest(output_dir), ReplicaCheck()]
        if finetuning_args.circuit_log and finetuning_args.finetuning_type in CIRCUIT_METHODS:
            own.append(CircuitLog(output_dir, probe_batch(splits["train"], collator)))
        trainer = Trainer(
            model=model,
            args=training_args,
            train_dataset=splits["train"],
            eval_dataset=splits.get("validation"),
            data_collator=collator,
            processing_class=tokenizer,
            callbacks=[*own, *callbacks],
        )
        try:
            metrics = dict(trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None).metrics)
        except NothingLeftToTrain as done:  # killed during the final save: the checkpoint is the trained adapter
            logger.info("%s holds the last step (%d): saving it as the final adapter", checkpoint, done.step)
            metrics = {}
        save_final_adapter(trainer, output_dir)
        trainer.save_state()
        metrics = {**metrics, "trainable_params": model.get_nb_trainable_parameters()[0]}
        trainer.log_metrics("train", metrics)
        trainer.save_metrics("train", metrics)
        if "validation" in splits:
            eval_metrics = trainer.evaluate()
            trainer.log_metrics("eval", eval_metrics)
            trainer.save_metrics("eval", eval_metrics)
            metrics.update(eval_metrics)
        if finetuning_args.plot_loss and main_process:
            plot_loss(output_dir)
        if main_process:
            record_run_files(output_dir)
        logger.info("saved the %s adapter to %s", finetuning_args.finetuning_type, output_dir)
        return TrainOutcome(metrics=metrics, model=trainer.model)
    except Exception as error:
        if trainer is not None:
            end_progress_bar(trainer)
        full = disk_full_error(error, output_dir) if main_process else None
        if full is not None:
            # into run.log only: the command line prints the same line as its error
            handler.handle(logger.makeRecord(logger.name, logging.ERROR, __file__, 0, "%s", (full,), None))
            raise full from error
        logger.exception("training failed")
        raise
    finally:
        for name in ("qllm", "transformers", "peft"):
            logging.getLogger(name).removeHandler(handler)
        handler.close()
