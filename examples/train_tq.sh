#!/bin/bash
# OriginQ's quantum-llm train.sh with finetuning_type tq: the vqc circuit simulated with torchquantum.
FINETUNING_TYPE=tq exec bash "$(dirname "$0")/train.sh" --n_qubits 8 --q_depth 1 "$@"
