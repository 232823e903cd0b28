"""Started by torchrun (2 processes, gloo) or plainly (1 process) in tests/test_fsdp.py: an adapter trained on
qllm-tiny with torch's FSDP2 (`fully_shard`, each decoder layer and then the whole model, as accelerate's
transformer auto-wrap does) on CPU processes, against the same steps unsharded in one process.

    python tests/fsdp_worker.py OUT METHOD

Six steps on a fixed global batch of 4 (each process takes its share), AdamW; after step 3 the model and
optimizer are saved with torch.distributed.checkpoint, loaded into a freshly built model and optimizer, and
steps 4-6 run again from there (the resume).  Writes OUT/losses.json (the losses of every step, averaged
over the processes, and of the resumed steps; whether the adapter's parameters were sharded) and the
adapter, gathered whole, as OUT/adapter (peft's `save_pretrained` with the full state dict, by rank 0).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_state_dict,
    set_state_dict,
)

from qllm.adapters.attach import attach_adapter
from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.model.loader import load_model

STEPS, RESUME_AFTER, GLOBAL_BATCH, LENGTH = 6, 3, 4, 24


def build(method: str, world: int):
    """The adapted model (the same starting weights in every process) and its optimizer, sharded when world > 1."""
    torch.manual_seed(0)
    model = attach_adapter(load_model("qllm-tiny"), FinetuningArguments(finetuning_type=method), None, True)
    if world > 1:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        mesh = init_device_mesh("cpu", (world,))
        for layer in model.base_model.model.model.layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    return model, torch.optim.AdamW(trainable, lr=1e-2)


def step(model, optimizer, batch: torch.Tensor, world: int) -> float:
    loss = model(input_ids=batch, labels=batch).loss
    loss.backward()  # FSDP averages the gradients over the processes while it reduces them to shards
    optimizer.step()
    optimizer.zero_grad()
    mean = loss.detach().clone()
    if world > 1:
        dist.all_reduce(mean)
        mean /= world
    return mean.item()


def main() -> None:
    out, method = Path(sys.argv[1]), sys.argv[2]
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group("gloo")
    torch.set_num_threads(1)
    batches = torch.randint(3, 700, (STEPS, GLOBAL_BATCH, LENGTH), generator=torch.Generator().manual_seed(1))
    share = GLOBAL_BATCH // world
    local = batches[:, rank * share : (rank + 1) * share]

    model, optimizer = build(method, world)
    from torch.distributed.tensor import DTensor

    sharded = all(isinstance(p, DTensor) for p in model.parameters() if p.requires_grad)
    losses = []
    for index in range(STEPS):
        losses.append(step(model, optimizer, local[index], world))
        if index + 1 == RESUME_AFTER:
            model_state, optimizer_state = get_state_dict(model, optimizer)
            dcp.save({"model": model_state, "optimizer": optimizer_state}, checkpoint_id=str(out / "checkpoint"))
    adapter = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    folded = any(
        module._folded_base._value is not None for module in model.modules() if hasattr(module, "_folded_base")
    )

    model, optimizer = build(method, world)  # a fresh process would build the same, then load the checkpoint
    model_state, optimizer_state = get_state_dict(model, optimizer)
    state = {"model": model_state, "optimizer": optimizer_state}
    dcp.load(state, checkpoint_id=str(out / "checkpoint"))
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"])
    resumed = [step(model, optimizer, local[index], world) for index in range(RESUME_AFTER, STEPS)]

    if rank == 0:
        trained = {name: tensor for name, tensor in adapter.items() if "base_layer" not in name}
        model.save_pretrained(str(out / "adapter"), state_dict=trained)
        (out / "losses.json").write_text(
            json.dumps({"losses": losses, "resumed": resumed, "sharded": sharded, "folded": folded})
        )
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
