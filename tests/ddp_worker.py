"""Started by torchrun (or plainly) in tests/test_distributed.py: `qllm train` with the given flags in this
process, then this process's trained adapter saved as `<out>/replica-<rank>.pt`, so the test can compare replicas.

    python tests/ddp_worker.py OUT --flag value ...
"""

import os
import sys
from pathlib import Path

import torch

from qllm.train.workflow import run_train

if __name__ == "__main__":
    out = Path(sys.argv[1])
    outcome = run_train(sys.argv[2:])
    adapter = {name: p.detach().cpu() for name, p in outcome.model.named_parameters() if p.requires_grad}
    torch.save(adapter, out / f"replica-{os.environ.get('RANK', '0')}.pt")
