#!/bin/bash
# OriginQ's quantum-llm eval.sh on qllm-tiny: scores the adapter that examples/train*.sh saved.
# TASK=mmlu|cmmlu|ceval (the public sets: converted into evaluation/<task>/ on first use, which needs
# network) | mmlu_sample|cmmlu_sample|ceval_sample (the bundled samples) | qllm_tasks.
# The default is quantum-llm's cmmlu where evaluation/cmmlu/ exists, else the bundled cmmlu_sample.
set -e
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}
METHOD=${FINETUNING_TYPE:-lora}
DEFAULT_TASK=$( [ -f evaluation/cmmlu/mapping.json ] && echo cmmlu || echo cmmlu_sample )

$PYTHON -m qllm eval \
    --model_name_or_path qllm-tiny \
    --template qwen \
    --finetuning_type "$METHOD" \
    --task "${TASK:-$DEFAULT_TASK}" \
    --task_dir evaluation/ \
    --adapter_name_or_path "saves/qllm-tiny/$METHOD/qllm_tasks" \
    "$@"
