#!/bin/bash
# OriginQ's quantum-llm train.sh as written (finetuning_type vqc: the circuit simulated with pyvqnet) on qllm-tiny.
FINETUNING_TYPE=vqc exec bash "$(dirname "$0")/train.sh" --n_qubits 8 --q_depth 1 "$@"
