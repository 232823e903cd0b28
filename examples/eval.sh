#!/bin/bash
# The seed's eval.sh on qllm-tiny: scores the adapter that examples/train*.sh saved.
# TASK=mmlu|cmmlu|ceval|qllm_tasks (default cmmlu, as in the seed); FINETUNING_TYPE as for train.sh.
# Without the real benchmark files under evaluation/, the bundled sample stands in (see README).
set -e
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}
METHOD=${FINETUNING_TYPE:-lora}

$PYTHON -m qllm eval \
    --model_name_or_path qllm-tiny \
    --template qwen \
    --finetuning_type "$METHOD" \
    --task "${TASK:-cmmlu}" \
    --task_dir evaluation/ \
    --adapter_name_or_path "saves/qllm-tiny/$METHOD/qllm_tasks" \
    "$@"
