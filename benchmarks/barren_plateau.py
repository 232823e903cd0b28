"""The barren-plateau check committed in benchmarks/results/barren_plateau/ (quoted in docs/adapters.md).

    python benchmarks/barren_plateau.py

runs `qllm circuit --gradient_variance` for 2..10 qubits at depths 1 and 2, 200 random starts
each, with torchquantum (vqc runs the same circuit with pyvqnet), and keeps the table, the JSON
and the png (the html, 3.5 MB with plotly inside, stays out of the repository).
"""

from __future__ import annotations

import sys
from pathlib import Path

from qllm.cli import main

RESULTS = Path(__file__).parent / "results" / "barren_plateau"

if __name__ == "__main__":
    argv = ["circuit", "--gradient_variance", "--finetuning_type", "tq", "--n_qubits", "2,3,4,5,6,7,8,9,10"]
    argv += ["--q_depth", "1,2", "--samples", "200", "--seed", "0", "--output", str(RESULTS), "--overwrite"]
    sys.exit(main(argv))
