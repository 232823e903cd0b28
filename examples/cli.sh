#!/bin/bash
# OriginQ's quantum-llm cli.sh on qllm-tiny: chat in the terminal with the adapter examples/train*.sh saved.
set -e
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}
METHOD=${FINETUNING_TYPE:-lora}

$PYTHON -m qllm chat \
    --model_name_or_path qllm-tiny \
    --template qwen \
    --finetuning_type "$METHOD" \
    --adapter_name_or_path "saves/qllm-tiny/$METHOD/qllm_tasks" \
    --max_new_tokens 1024 \
    "$@"
