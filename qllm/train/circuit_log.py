"""`CircuitLog`: what the circuits of a vqc / tq run learn, written to `output_dir/circuit_log.jsonl`.

A quantum adapter is classical maps around a measured circuit (`qllm.adapters.circuit.adapter`):
the loss alone cannot tell whether the circuit is doing anything.  Every logging step, on a
fixed probe batch (the first examples of the training set), each adapted module's circuit is
read out and one JSON line is written with, per module and averaged over modules:

* ``mean_abs_z``: mean |<Z_i>| per wire over the probe's tokens.  Near 0 on every wire: the
  readout carries little; near 1: the wires are stuck in a basis state.
* ``entanglement``: the Meyer–Wallach Q of the circuit's output state (0: a product state, up to
  1), averaged over the probe's tokens.
* ``angle_drift``: ‖θ − θ₀‖ of the circuit's trained angles since the run started.
* ``grad_norm_circuit`` and ``grad_norm_classical`` (A, Q, C, B): the gradient norms of the
  step just taken; a circuit norm far below the classical ones means the maps do the learning
  (or the gradient vanished: see `qllm circuit --gradient_variance`).

Only the main process reads and writes (torchrun; the probe's forward pass runs on the main process's
replica, which needs no other process); under DeepSpeed ZeRO-3, whose parameters live partitioned
across the processes, the log is off, with a note.  The start angles are kept in
`circuit_start.safetensors`, so a resumed run measures its drift from the same start.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from qllm.adapters.circuit.adapter import CircuitAdapter
from qllm.adapters.circuit.ansatz import fast_states, meyer_wallach, reference_expvals, z_signs_twice
from qllm.adapters.layer import AdapterLinear, is_sharded
from qllm.circuit.saved import MAPS, PEFT_PREFIX
from qllm.constants import CIRCUIT_LOG, CIRCUIT_START

logger = logging.getLogger(__name__)

PROBE_EXAMPLES = 4  # the probe batch: the first examples of the training set
PROBE_TOKENS = 64  # of each


def circuit_adapters(model: torch.nn.Module) -> dict[str, CircuitAdapter]:
    """module name (as `qllm circuit --list` names it) -> its active circuit adapter."""
    found = {}
    for name, layer in model.named_modules():
        if isinstance(layer, AdapterLinear):
            for adapter_name in layer.active_adapters:
                adapter = layer.adapters[adapter_name] if adapter_name in layer.adapters else None
                if isinstance(adapter, CircuitAdapter):
                    found[name.removeprefix(PEFT_PREFIX)] = adapter
    return found


def probe_batch(dataset, collator) -> dict[str, torch.Tensor]:
    """The fixed batch the circuits are read out on: the first examples, cut to PROBE_TOKENS tokens."""
    batch = collator([dataset[i] for i in range(min(PROBE_EXAMPLES, len(dataset)))])
    return {key: value[:, :PROBE_TOKENS] for key, value in batch.items() if isinstance(value, torch.Tensor)}


def readout(adapter: CircuitAdapter, inputs: torch.Tensor, unitaries: torch.Tensor, mask: torch.Tensor) -> dict:
    """mean |<Z_i>| per wire and mean entanglement over the probe's real tokens (not padding); ``unitaries``:
    the layers' unitaries the probe's forward pass used (built once for all modules by the tuner)."""
    angles = adapter.A(inputs.to(torch.float32))[mask]
    n = angles.shape[1]
    if adapter.use_fast_path:
        states = fast_states(adapter.simulator, angles, adapter.ry_angles, adapter.crz_angles, unitaries)
        z = states.square() @ z_signs_twice(n, states.device)
        entanglement = round(meyer_wallach(states, n).mean().item(), 6)
    else:  # a wide circuit: <Z> from the library, entanglement left out (the state is not at hand)
        z = reference_expvals(adapter.simulator, angles, adapter.ry_angles, adapter.crz_angles)
        entanglement = None
    return {"mean_abs_z": [round(v, 5) for v in z.abs().mean(dim=0).tolist()], "entanglement": entanglement}


def _norm(tensors: list[torch.Tensor | None]) -> float | None:
    present = [t.detach().float() for t in tensors if t is not None]
    return round(torch.linalg.vector_norm(torch.cat([t.flatten() for t in present])).item(), 8) if present else None


def _mean(values: list[Any]) -> Any:
    """The mean over modules of numbers (or of lists of numbers, element by element); None when none is known."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    if isinstance(known[0], list):
        return [round(sum(column) / len(column), 5) for column in zip(*known)]
    if isinstance(known[0], dict):
        return {key: _mean([v.get(key) for v in known]) for key in known[0]}
    return round(sum(known) / len(known), 6)


class CircuitLog(TrainerCallback):
    """Writes one line of `circuit_log.jsonl` per logging step of a vqc / tq run (module docstring)."""

    def __init__(self, output_dir: str | Path, probe: dict[str, torch.Tensor]) -> None:
        self.output_dir = Path(output_dir)
        self.probe = probe
        self.start: dict[str, torch.Tensor] = {}
        self.gradients: dict[str, dict[str, Any]] = {}
        self.off = False  # set when the circuits cannot be read in this run (DeepSpeed ZeRO-3, FSDP)

    def on_train_begin(self, args, state, control, model=None, **kwargs) -> None:
        if not state.is_world_process_zero:
            return
        # ZeRO-3 and FSDP split every parameter across the processes: the main process alone can neither run
        # the probe nor read the angles; said once, and the run trains as asked
        self.off = any(is_sharded(adapter.ry_angles) for adapter in circuit_adapters(model).values())
        if self.off:
            logger.warning("note: circuit_log.jsonl is not written under DeepSpeed ZeRO-3 or FSDP (the circuits' "
                           "angles are split across the processes); ZeRO-2 or data parallelism writes it")  # fmt: skip
            return
        from safetensors.torch import load_file, save_file

        angles = {
            f"{name}.{kind}": getattr(adapter, kind).detach().float().cpu().clone()
            for name, adapter in circuit_adapters(model).items()
            for kind in ("ry_angles", "crz_angles")
        }
        start_file = self.output_dir / CIRCUIT_START
        if state.global_step and start_file.is_file():  # resumed: the drift is measured from the run's own start
            self.start = load_file(str(start_file))
        else:
            self.start = angles
            save_file(angles, str(start_file))
        log = self.output_dir / CIRCUIT_LOG
        kept = [line for line in _lines(log) if json.loads(line)["step"] <= state.global_step]
        log.write_text("".join(kept) if state.global_step else "", encoding="utf-8")

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs) -> None:
        """The gradients of the step about to be taken, kept when that step will be logged."""
        if self.off or not state.is_world_process_zero or (state.global_step + 1) % max(int(args.logging_steps), 1):
            return
        self.gradients = {
            name: {
                "grad_norm_circuit": _norm([adapter.ry_angles.grad, adapter.crz_angles.grad]),
                "grad_norm_classical": {m: _norm([getattr(adapter, m).weight.grad]) for m in MAPS},
            }
            for name, adapter in circuit_adapters(model).items()
        }

    def on_log(self, args, state, control, logs: dict[str, Any] | None = None, model=None, **kwargs) -> None:
        if self.off or not state.is_world_process_zero or "loss" not in (logs or {}):
            return
        adapters = circuit_adapters(model)
        modules = {
            name: {
                **read,
                "angle_drift": self._drift(name, adapters[name]),
                **self.gradients.get(name, {"grad_norm_circuit": None, "grad_norm_classical": None}),
            }
            for name, read in self._read(model, adapters).items()
        }
        fields = ("mean_abs_z", "entanglement", "angle_drift", "grad_norm_circuit", "grad_norm_classical")
        record = {
            "step": state.global_step,
            "mean": {key: _mean([m.get(key) for m in modules.values()]) for key in fields},
            "modules": modules,
        }
        with (self.output_dir / CIRCUIT_LOG).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        self.gradients = {}

    def _read(self, model, adapters: dict[str, CircuitAdapter]) -> dict[str, dict[str, Any]]:
        """Each adapter's readout on the probe batch: one forward pass without gradients, in eval mode."""
        inputs: dict[str, tuple[torch.Tensor, torch.Tensor | None]] = {}

        def keep(name: str, adapter: CircuitAdapter, x: torch.Tensor) -> None:
            unitaries = adapter.layer_unitaries() if adapter.use_fast_path else None
            inputs.setdefault(name, (x, unitaries))

        hooks = [
            adapter.register_forward_pre_hook(
                lambda _module, args, name=name, adapter=adapter: keep(name, adapter, args[0])
            )
            for name, adapter in adapters.items()
        ]
        was_training = model.training
        device = next(model.parameters()).device
        try:
            model.eval()
            with torch.no_grad():
                batch = {key: value.to(device) for key, value in self.probe.items()}
                model(input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask"))
                mask = batch.get("attention_mask", torch.ones_like(batch["input_ids"])).bool()
                return {name: readout(adapters[name], x, unitaries, mask) for name, (x, unitaries) in inputs.items()}
        finally:
            for hook in hooks:
                hook.remove()
            model.train(was_training)

    def _drift(self, name: str, adapter: CircuitAdapter) -> float | None:
        """‖θ − θ₀‖ over the module's RY and CRZ angles; None when its start is not known."""
        starts = [self.start.get(f"{name}.{kind}") for kind in ("ry_angles", "crz_angles")]
        if any(start is None for start in starts):
            return None
        now = [adapter.ry_angles.detach().float().cpu(), adapter.crz_angles.detach().float().cpu()]
        return _norm([a - b for a, b in zip(now, starts)])


def _lines(path: Path) -> list[str]:
    try:
        return [line + "\n" for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        return []
