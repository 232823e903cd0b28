"""`ChatModel`: a model (+ adapters) that streams replies; used by `qllm chat` and the board."""

from __future__ import annotations

import dataclasses
import gc
import threading
from collections.abc import Iterator
from typing import Any

import torch
from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

from qllm.adapters.circuit.measurement import apply_measurement
from qllm.errors import ArgumentError
from qllm.hparams.parser import Source, get_infer_args
from qllm.model.inference import adapter_methods, load_for_inference
from qllm.model.quantization import base_in_words

Message = dict[str, str]


class _StopOnEvent(StoppingCriteria):
    """Ends generation when the event is set (Ctrl-C in the terminal, Stop in the board)."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids, scores, **kwargs) -> bool:
        return self.event.is_set()


class ChatModel:
    def __init__(self, source: Source) -> None:
        model_args, data_args, finetuning_args, self.generating_args, measurement_args = self.check(source)
        self.loaded = load_for_inference(model_args, data_args, finetuning_args)
        measurement = measurement_args.measurement()
        apply_measurement(self.loaded.model, measurement)
        self.description = model_args.model_name_or_path + (
            f" + {model_args.adapter_name_or_path}" if model_args.adapter_name_or_path else ""
        )
        if model_args.quantization_bit is not None:  # the base's own numbers are not the float model's
            self.description += f" · {base_in_words(model_args.quantization_bit)}"
        if not measurement.exact:  # say how the circuits are read: a noisy chat is not the adapter's own
            self.description += f" · {measurement.in_words()}"

    @staticmethod
    def check(source: Source):
        """The parsed arguments, or the ArgumentError a load would end with, before any model is loaded
        (the board checks a new load so that a refused one leaves the loaded model in place)."""
        parsed = get_infer_args(source)
        measurement_args = parsed[-1]
        measurement_args.check_methods(adapter_methods(parsed[0]))
        if measurement_args.circuit_ablation == "mean":
            raise ArgumentError(
                "circuit_ablation", "mean averages over an evaluation's tokens; in chat use zero (or qllm eval)"
            )
        return parsed

    def _generation_settings(self, overrides: dict[str, Any]) -> dict[str, Any]:
        settings = dataclasses.replace(self.generating_args, **overrides)  # validated like the flags
        tokenizer, template = self.loaded.tokenizer, self.loaded.template
        return {
            **settings.generate_kwargs(),
            "eos_token_id": template.stop_token_ids(tokenizer),
            "pad_token_id": tokenizer.pad_token_id,
        }

    def stream(
        self, messages: list[Message], system: str | None = None, stop: threading.Event | None = None, **overrides: Any
    ) -> Iterator[str]:
        """Text pieces of the reply to ``messages`` (alternating user/assistant, ending with the user)."""
        if self.loaded is None:
            raise RuntimeError("the model was unloaded")
        if not messages or not messages[-1]["content"].strip():
            raise ArgumentError("message", "is empty; type something to send")
        model, tokenizer, template = self.loaded.model, self.loaded.tokenizer, self.loaded.template
        system = system if system is not None else self.generating_args.system
        prompt = template.render_prompt(messages, system or None, tokenizer)
        inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop = stop or threading.Event()
        kwargs = {
            **inputs,
            **self._generation_settings(overrides),
            "streamer": streamer,
            "stopping_criteria": StoppingCriteriaList([_StopOnEvent(stop)]),
        }
        thread = threading.Thread(target=model.generate, kwargs=kwargs, daemon=True)
        thread.start()
        try:
            yield from streamer
        finally:  # also when the caller stops early: end generation before returning
            stop.set()
            thread.join()

    def chat(self, messages: list[Message], system: str | None = None, **overrides: Any) -> str:
        return "".join(self.stream(messages, system, **overrides))

    def unload(self) -> None:
        """Drops the model and returns its memory (CPU and GPU)."""
        self.loaded = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
