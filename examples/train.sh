#!/bin/bash
# OriginQ's quantum-llm train.sh on the bundled `qllm-tiny` model and `qllm_tasks` data.
# Every flag of quantum-llm's script is kept; the values are sized to finish in about a minute on
# 2 CPU cores (the tiny model learns at a higher learning rate than Qwen2.5-0.5B).
# Other methods: FINETUNING_TYPE=vqc|tq|quanTA bash examples/train.sh (or train_<method>.sh);
# extra flags after the script name are passed on and override these.
set -e
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}
METHOD=${FINETUNING_TYPE:-lora}

$PYTHON -m qllm train \
    --stage sft \
    --model_name_or_path qllm-tiny \
    --dataset qllm_tasks \
    --tokenized_path data/tokenized/qllm_tasks/ \
    --dataset_dir data \
    --template qwen \
    --finetuning_type "$METHOD" \
    --lora_target q_proj,v_proj \
    --output_dir "saves/qllm-tiny/$METHOD/qllm_tasks" \
    --overwrite_cache \
    --overwrite_output_dir \
    --cutoff_len 1024 \
    --preprocessing_num_workers 16 \
    --per_device_train_batch_size 4 \
    --per_device_eval_batch_size 16 \
    --gradient_accumulation_steps 2 \
    --lr_scheduler_type cosine \
    --logging_steps 10 \
    --warmup_steps 20 \
    --save_steps 100 \
    --eval_steps 100 \
    --evaluation_strategy steps \
    --load_best_model_at_end \
    --learning_rate 2e-3 \
    --num_train_epochs 3.0 \
    --max_samples 2000 \
    --val_size 0.1 \
    --plot_loss \
    --fp16 \
    --do-train \
    "$@"
