"""Reload saved adapters in a fresh process, onto a quantized and onto a float qllm-tiny base.

argv: a JSON file listing {"adapter": folder, "bits": 4|8}, and the output file; writes
{folder: {"quantized": logits, "float": logits}} with torch.save.  The logits are of
`tests/test_quantization.py`'s fixed prompt, computed as `qllm eval` and `qllm chat` load models.
"""

from __future__ import annotations

import json
import sys

import torch

from qllm.hparams.parser import get_infer_args
from qllm.model.inference import load_for_inference

IDS = torch.tensor([[1, 318, 201, 37, 334, 326, 86, 223, 25, 693, 2, 1, 317, 201]])


def logits(adapter: str, bits: int | None) -> torch.Tensor:
    flags = ["--model_name_or_path", "qllm-tiny", "--adapter_name_or_path", adapter, "--template", "qwen"]
    if bits is not None:
        flags += ["--quantization_bit", str(bits)]
    model_args, data_args, finetuning_args, _, _ = get_infer_args(flags)
    loaded = load_for_inference(model_args, data_args, finetuning_args)
    with torch.no_grad():
        return loaded.model(IDS.to(loaded.model.device)).logits.float().cpu()


def main() -> None:
    runs, output = json.loads(open(sys.argv[1]).read()), sys.argv[2]
    torch.save(
        {run["adapter"]: {"quantized": logits(run["adapter"], run["bits"]), "float": logits(run["adapter"], None)}
         for run in runs},
        output,
    )  # fmt: skip


if __name__ == "__main__":
    main()
