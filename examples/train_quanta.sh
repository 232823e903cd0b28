#!/bin/bash
# OriginQ's quantum-llm train.sh with finetuning_type quanTA.  qllm-tiny's layers are 128 wide, so the
# axes are 8x4x2x2 = 128 (the default 16,8,4,2 = 1024 fits Qwen2.5-0.5B's 896).
FINETUNING_TYPE=quanTA exec bash "$(dirname "$0")/train.sh" --q_d 4 --per_dim_features 8,4,2,2 "$@"
