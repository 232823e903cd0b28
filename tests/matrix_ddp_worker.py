"""Started by torchrun in tests/test_option_matrix.py: several `qllm train` runs in turn in one process group.

    torchrun --nproc_per_node 2 tests/matrix_ddp_worker.py '{"output_dir": ..., ...}' ...

Each argument is one run's arguments as JSON; after each run, rank 0 writes the trained model's
logits (frozen, as a reloaded adapter computes them) to `<output_dir>/trained_logits.json`.
"""

import json
import os
import sys
from pathlib import Path

from test_option_matrix import frozen_logits

from qllm.train.workflow import run_train

if __name__ == "__main__":
    for flags in map(json.loads, sys.argv[1:]):
        logits = frozen_logits(run_train(flags).model)
        if os.environ.get("RANK", "0") == "0":
            (Path(flags["output_dir"]) / "trained_logits.json").write_text(json.dumps(logits))
