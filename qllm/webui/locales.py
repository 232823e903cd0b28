"""Every label, help line and message of the board, in English and Chinese (one place, like LLaMA-Factory)."""

from __future__ import annotations

from qllm.methods import FIELDS as METHOD_FIELDS
from qllm.methods import METHODS

LANGUAGES = {"English": "en", "中文": "zh"}

# component key -> language -> {"label": ..., "info": ...} (buttons and headings use "value")
LOCALES: dict[str, dict[str, dict[str, str]]] = {
    "title": {
        "en": {"value": "## QLLM Board · quantum-circuit adapters for language models"},
        "zh": {"value": "## QLLM 看板 · 用量子线路适配器微调语言模型"},
    },
    "lang": {"en": {"label": "Language"}, "zh": {"label": "语言"}},
    "model_name_or_path": {
        "en": {"label": "Model", "info": "qllm-tiny (bundled), a hub id, or a local model folder"},
        "zh": {"label": "模型", "info": "qllm-tiny（内置）、Hub 模型名或本地模型目录"},
    },
    "finetuning_type": {
        lang: {"label": label, "info": separator.join(f"{m.name} ({m.summary[lang]})" for m in METHODS.values())}
        for lang, label, separator in (("en", "Method", ", "), ("zh", "微调方法", "、"))
    },
    "template": {
        "en": {"label": "Template", "info": "chat template; auto = the tokenizer's own"},
        "zh": {"label": "模板", "info": "对话模板；auto 为分词器自带模板"},
    },
    "quantization_bit": {
        "en": {"label": "Quantization", "info": "base in 8 or 4 bits"},
        "zh": {"label": "量化", "info": "基座 8 或 4 比特"},
    },
    "adapter": {
        "en": {"label": "Adapter", "info": "saved runs of this model and method (checkpoints too)"},
        "zh": {"label": "适配器", "info": "该模型与方法已保存的训练结果（含中间检查点）"},
    },
    "device": {"en": {"label": "Device"}, "zh": {"label": "设备"}},
    "refresh_adapters": {"en": {"value": "Refresh"}, "zh": {"value": "刷新"}},
    "tab_train": {"en": {"label": "Train"}, "zh": {"label": "训练"}},
    "tab_eval": {"en": {"label": "Evaluate"}, "zh": {"label": "评估"}},
    "tab_chat": {"en": {"label": "Chat"}, "zh": {"label": "对话"}},
    "tab_export": {"en": {"label": "Export"}, "zh": {"label": "导出"}},
    "export_name": {
        "en": {"label": "Export name", "info": "the merged model goes to saves/<model>/exports/<name>/model"},
        "zh": {"label": "导出名称", "info": "合并后的模型保存在 saves/<模型>/exports/<名称>/model"},
    },
    "start_export": {"en": {"value": "Merge and export"}, "zh": {"value": "合并并导出"}},
    "export_log": {"en": {"label": "Log"}, "zh": {"label": "日志"}},
    "circuit_module": {
        "en": {"label": "Adapted module", "info": "each adapted layer has a circuit of its own"},
        "zh": {"label": "被适配模块", "info": "每个被适配的层都有自己的量子线路"},
    },
    "download_qasm": {"en": {"label": "Download QASM (OpenQASM 3)"}, "zh": {"label": "下载 QASM（OpenQASM 3）"}},
    "download_note": {
        "en": {"label": "Download its JSON note (the maps A, Q, C, B)"},
        "zh": {"label": "下载 JSON 说明（A、Q、C、B 映射）"},
    },
    "tab_compare": {"en": {"label": "Compare runs"}, "zh": {"label": "对比实验"}},
    # data
    "group_data": {"en": {"label": "Data"}, "zh": {"label": "数据"}},
    "stage": {
        "en": {"label": "Stage", "info": "sft: instruction tuning; pt: plain-text pre-training"},
        "zh": {"label": "训练阶段", "info": "sft：指令微调；pt：纯文本预训练"},
    },
    "dataset": {
        "en": {"label": "Datasets", "info": "from dataset_info.json"},
        "zh": {"label": "数据集", "info": "来自 dataset_info.json"},
    },
    "dataset_dir": {
        "en": {"label": "Dataset folder", "info": "holds dataset_info.json"},
        "zh": {"label": "数据目录", "info": "包含 dataset_info.json 的目录"},
    },
    "preview_data": {"en": {"value": "Preview data"}, "zh": {"value": "预览数据"}},
    "tokenized_path": {
        "en": {"label": "Tokenized cache", "info": "folder to cache the tokenized data (optional)"},
        "zh": {"label": "分词缓存", "info": "缓存分词结果的目录（可选）"},
    },
    "overwrite_cache": {
        "en": {"label": "Overwrite cache", "info": "tokenize again"},
        "zh": {"label": "覆盖缓存", "info": "重新分词"},
    },
    "cutoff_len": {
        "en": {"label": "Cutoff length", "info": "maximum tokens per example"},
        "zh": {"label": "截断长度", "info": "每条样本的最大 token 数"},
    },
    "max_samples": {
        "en": {"label": "Max samples", "info": "per dataset"},
        "zh": {"label": "最大样本数", "info": "每个数据集"},
    },
    "val_size": {
        "en": {"label": "Validation size", "info": "fraction in [0, 1) or a count"},
        "zh": {"label": "验证集比例", "info": "[0, 1) 的比例或样本数"},
    },
    "preprocessing_num_workers": {
        "en": {"label": "Preprocessing workers", "info": "capped at the CPU count"},
        "zh": {"label": "预处理进程数", "info": "不超过 CPU 核数"},
    },
    # optimisation
    "group_optim": {"en": {"label": "Optimisation"}, "zh": {"label": "优化"}},
    "learning_rate": {
        "en": {"label": "Learning rate", "info": "e.g. 5e-5 for Qwen2.5-0.5B, 2e-3 for qllm-tiny"},
        "zh": {"label": "学习率", "info": "例如 Qwen2.5-0.5B 用 5e-5，qllm-tiny 用 2e-3"},
    },
    "num_train_epochs": {"en": {"label": "Epochs"}, "zh": {"label": "训练轮数"}},
    "per_device_train_batch_size": {
        "en": {"label": "Batch size", "info": "per device"},
        "zh": {"label": "批大小", "info": "每个设备"},
    },
    "gradient_accumulation_steps": {"en": {"label": "Gradient accumulation"}, "zh": {"label": "梯度累积"}},
    "lr_scheduler_type": {"en": {"label": "LR scheduler"}, "zh": {"label": "学习率调度"}},
    "warmup_steps": {"en": {"label": "Warmup steps"}, "zh": {"label": "预热步数"}},
    "devices": {
        "en": {"label": "Devices", "info": "GPUs (0,1), cpu or cpu:N processes; empty: all GPUs, or 1 CPU process"},
        "zh": {"label": "设备", "info": "GPU 编号（0,1）、cpu 或 cpu:N 个进程；留空：全部 GPU 或 1 个 CPU 进程"},
    },
    "sharding": {
        "en": {
            "label": "Sharding",
            "info": "split the model across the Devices' processes: FSDP or DeepSpeed ZeRO-2/3 (GPUs, 2+ processes)",
        },
        "zh": {"label": "分片", "info": "把模型切分到多个进程：FSDP 或 DeepSpeed ZeRO-2/3（需 GPU、2 个以上进程）"},
    },
    "compute_type": {
        "en": {
            "label": "Compute type",
            "info": "fp16: GPU mixed precision; bf16: autocast (CPU too); pure_bf16: bf16 weights",
        },
        "zh": {"label": "计算类型", "info": "fp16：GPU 混合精度；bf16：自动混合精度（CPU 亦可）；pure_bf16：bf16 权重"},
    },
    "gradient_checkpointing": {
        "en": {
            "label": "Gradient checkpointing",
            "info": "less activation memory for a longer step: recomputes each layer in the backward pass",
        },
        "zh": {"label": "梯度检查点", "info": "以更长的训练步换取更少的激活内存：反向传播时重新计算每一层"},
    },
    "lora_target": {
        "en": {"label": "Target modules", "info": "linear layers to adapt, comma-separated, or all"},
        "zh": {"label": "目标模块", "info": "要适配的线性层，逗号分隔，或 all"},
    },
    # methods
    "group_method": {"en": {"label": "Method settings"}, "zh": {"label": "方法参数"}},
    # evaluation during training
    "group_eval": {"en": {"label": "Evaluation while training"}, "zh": {"label": "训练中评估"}},
    "evaluation_strategy": {"en": {"label": "Evaluation strategy"}, "zh": {"label": "评估策略"}},
    "eval_steps": {"en": {"label": "Eval steps"}, "zh": {"label": "评估间隔"}},
    "per_device_eval_batch_size": {"en": {"label": "Eval batch size"}, "zh": {"label": "评估批大小"}},
    "load_best_model_at_end": {"en": {"label": "Load best model at end"}, "zh": {"label": "结束时加载最优模型"}},
    # output
    "group_output": {"en": {"label": "Output"}, "zh": {"label": "输出"}},
    "output_name": {
        "en": {"label": "Run name", "info": "saved under saves/<model>/<method>/<run name>"},
        "zh": {"label": "实验名", "info": "保存在 saves/<模型>/<方法>/<实验名>"},
    },
    "logging_steps": {"en": {"label": "Logging steps"}, "zh": {"label": "日志间隔"}},
    "save_steps": {"en": {"label": "Save steps"}, "zh": {"label": "保存间隔"}},
    "plot_loss": {"en": {"label": "Plot loss"}, "zh": {"label": "绘制损失曲线"}},
    "overwrite_output_dir": {
        "en": {"label": "Overwrite run", "info": "else an existing run resumes from its checkpoint"},
        "zh": {"label": "覆盖实验", "info": "否则从已有检查点继续"},
    },
    "extra_args": {
        "en": {"label": "Extra arguments (JSON)", "info": 'any other qllm train flag, e.g. {"seed": 1}'},
        "zh": {"label": "其他参数（JSON）", "info": '其他 qllm train 参数，例如 {"seed": 1}'},
    },
    # actions and outputs
    "preview_command": {"en": {"value": "Preview command"}, "zh": {"value": "预览命令"}},
    "config_name": {"en": {"label": "Configuration name"}, "zh": {"label": "配置名"}},
    "save_config": {"en": {"value": "Save configuration"}, "zh": {"value": "保存配置"}},
    "load_config": {"en": {"value": "Load configuration"}, "zh": {"value": "载入配置"}},
    "start": {"en": {"value": "Start"}, "zh": {"value": "开始"}},
    "stop": {"en": {"value": "Stop"}, "zh": {"value": "停止"}},
    "command": {"en": {"label": "Command"}, "zh": {"label": "命令"}},
    "log": {"en": {"label": "Log: steps, metrics and messages"}, "zh": {"label": "日志：步数、指标与消息"}},
    "full_log_box": {"en": {"label": "Full console.log"}, "zh": {"label": "完整 console.log"}},
    "loss_plot": {"en": {"label": "Loss"}, "zh": {"label": "损失"}},
    "circuit_plot": {"en": {"label": "Inside the adapter"}, "zh": {"label": "适配器内部"}},
    "adapter_circuit_plot": {"en": {"label": "Inside the adapter"}, "zh": {"label": "适配器内部"}},
    # compare
    "compare_runs": {
        "en": {"label": "Runs to compare", "info": "finished or running runs of this model, any method"},
        "zh": {"label": "对比的实验", "info": "该模型的任意方法的实验"},
    },
    "compare": {"en": {"value": "Compare"}, "zh": {"value": "对比"}},
    "compare_table": {"en": {"label": "Runs"}, "zh": {"label": "实验"}},
    "compare_plot": {"en": {"label": "Loss by run"}, "zh": {"label": "各实验损失"}},
    # evaluate
    "task": {
        "en": {"label": "Task", "info": "benchmark, or a dataset with a test split"},
        "zh": {"label": "任务", "info": "评测基准，或带测试集的数据集"},
    },
    "task_dir": {"en": {"label": "Benchmark folder"}, "zh": {"label": "评测目录"}},
    "n_shot": {"en": {"label": "Few-shot examples"}, "zh": {"label": "示例数"}},
    "eval_lang": {"en": {"label": "Prompt language"}, "zh": {"label": "提示语言"}},
    "split": {"en": {"label": "Split"}, "zh": {"label": "数据划分"}},
    "batch_size": {"en": {"label": "Batch size"}, "zh": {"label": "批大小"}},
    "eval_adapters": {
        "en": {"label": "Adapters to score", "info": "none = the base model"},
        "zh": {"label": "待评估的适配器", "info": "不选则评估基座模型"},
    },
    "eval_shots": {
        "en": {"label": "Shots (vqc / tq)", "info": "bitstrings per circuit evaluation; 0 = exact <Z>"},
        "zh": {"label": "测量次数（vqc / tq）", "info": "每次线路求值采样的比特串数；0 为精确期望值"},
    },
    "eval_noise": {
        "en": {"label": "Device noise (vqc / tq)", "info": "e.g. depolarizing=0.001,readout=0.02; 0 = ideal"},
        "zh": {"label": "设备噪声（vqc / tq）", "info": "例如 depolarizing=0.001,readout=0.02；0 为理想设备"},
    },
    "eval_ablation": {
        "en": {"label": "Circuit ablation", "info": "replace each <Z> by its mean over the tokens, or by 0"},
        "zh": {"label": "线路消融", "info": "将每个 <Z> 替换为其在各 token 上的平均值，或替换为 0"},
    },
    "group_robustness": {
        "en": {"label": "Robustness: would it survive a real quantum device?"},
        "zh": {"label": "鲁棒性：在真实量子设备上还能工作吗？"},
    },
    "robustness_help": {
        "en": {
            "value": "Scores one vqc / tq adapter (chosen under *Adapters to score*) on the task above at every "
            "reading of its circuits: exact, from finite shots (several seeds each), on a noisy device (exact density "
            "matrices), and with the circuit's output ablated. A stopped sweep goes on from its last point when "
            "started again with the same settings. Same as `qllm robustness`."
        },
        "zh": {
            "value": "在上方任务上，以各种方式读取一个 vqc / tq 适配器（在“待评估的适配器”中选择）的量子线路并评分："
            "精确期望值、有限次测量（每种多个随机种子）、含噪设备（精确密度矩阵）以及线路输出消融。"
            "停止后以相同设置再次开始，会从上次完成的点继续。等同于 `qllm robustness`。"
        },
    },
    "sweep_shots": {
        "en": {"label": "Shots", "info": "comma list; 0 = exact"},
        "zh": {"label": "测量次数", "info": "逗号分隔；0 为精确"},
    },
    "sweep_noise": {
        "en": {"label": "Noise models", "info": "depolarizing strengths (0,0.001,0.01) or specs separated by ;"},
        "zh": {"label": "噪声模型", "info": "去极化强度（0,0.001,0.01），或以 ; 分隔的噪声描述"},
    },
    "sweep_ablation": {"en": {"label": "Ablations"}, "zh": {"label": "消融"}},
    "sweep_repeats": {
        "en": {"label": "Seeds per shot count"},
        "zh": {"label": "每种测量次数的随机种子数"},
    },
    "start_sweep": {"en": {"value": "Start sweep"}, "zh": {"value": "开始扫描"}},
    "stop_sweep": {"en": {"value": "Stop sweep"}, "zh": {"value": "停止扫描"}},
    "sweep_log": {"en": {"label": "Sweep log"}, "zh": {"label": "扫描日志"}},
    "sweep_plot": {"en": {"label": "Scores by reading"}, "zh": {"label": "各读取方式的得分"}},
    "start_eval": {"en": {"value": "Evaluate"}, "zh": {"value": "开始评估"}},
    "eval_log": {"en": {"label": "Log"}, "zh": {"label": "日志"}},
    "stop_eval": {"en": {"value": "Stop"}, "zh": {"value": "停止"}},
    "eval_results": {"en": {"label": "Scores of the latest evaluation"}, "zh": {"label": "最近一次评估的得分"}},
    "eval_history": {"en": {"label": "History"}, "zh": {"label": "历史结果"}},
    # chat
    "load_model": {"en": {"value": "Load model"}, "zh": {"value": "加载模型"}},
    "chat_shots": {
        "en": {"label": "Shots (vqc / tq)", "info": "read each circuit from this many shots; 0 = exact. Load to apply"},
        "zh": {"label": "测量次数（vqc / tq）", "info": "每个线路用多少次测量读取；0 为精确。点击加载后生效"},
    },
    "chat_noise": {
        "en": {"label": "Device noise (vqc / tq)", "info": "e.g. depolarizing=0.001; 0 = ideal. Load to apply"},
        "zh": {"label": "设备噪声（vqc / tq）", "info": "例如 depolarizing=0.001；0 为理想设备。点击加载后生效"},
    },
    "unload_model": {"en": {"value": "Unload"}, "zh": {"value": "卸载模型"}},
    "chatbot": {"en": {"label": "Chat"}, "zh": {"label": "对话"}},
    "message": {"en": {"label": "Message", "info": "Enter sends"}, "zh": {"label": "消息", "info": "回车发送"}},
    "send": {"en": {"value": "Send"}, "zh": {"value": "发送"}},
    "clear": {"en": {"value": "Clear history"}, "zh": {"value": "清空历史"}},
    "system": {"en": {"label": "System prompt"}, "zh": {"label": "系统提示词"}},
    "max_new_tokens": {"en": {"label": "Max new tokens"}, "zh": {"label": "最大生成长度"}},
    "temperature": {
        "en": {"label": "Temperature", "info": "0 = greedy"},
        "zh": {"label": "温度", "info": "0 为贪心解码"},
    },
    "top_p": {"en": {"label": "Top-p"}, "zh": {"label": "Top-p 采样"}},
    "method_help": {
        "en": {"label": "About this method (docs/adapters.md)"},
        "zh": {"label": "关于该方法（docs/adapters.md，英文）"},
    },
}

# each method's fields: labels and help lines from its record
LOCALES.update(
    {
        spec.name: {
            lang: {"label": spec.label[lang], **({"info": spec.info[lang]} if lang in spec.info else {})}
            for lang in LANGUAGES.values()
        }
        for spec in METHOD_FIELDS.values()
    }
)

MESSAGES: dict[str, dict[str, str]] = {
    "idle": {"en": "No run yet. Choose settings and press Start.", "zh": "尚无任务。设置参数后点击“开始”。"},
    "running": {"en": "Running", "zh": "运行中"},
    "finished": {"en": "Finished", "zh": "已完成"},
    "failed": {"en": "Failed", "zh": "失败"},
    "stopped": {"en": "Stopped", "zh": "已停止"},
    "busy": {
        "en": "A run is already in progress: stop it or wait until it ends.",
        "zh": "已有任务在运行：请先停止或等待其结束。",
    },
    "invalid": {"en": "Cannot start", "zh": "无法开始"},
    "saved_config": {"en": "Configuration saved to", "zh": "配置已保存到"},
    "loaded_config": {"en": "Configuration loaded", "zh": "配置已载入"},
    "no_model": {"en": "No model loaded.", "zh": "尚未加载模型。"},
    "loading": {"en": "Loading", "zh": "加载中"},
    "loaded": {"en": "Loaded", "zh": "已加载"},
    "unloaded": {"en": "Model unloaded.", "zh": "模型已卸载。"},
    "empty_reply": {
        "en": "the model ended its reply at once, with no text: raise Max new tokens or Temperature, or ask again",
        "zh": "模型立即结束了回复，没有生成文字：可调高最大生成长度或温度，或重新提问",
    },
    "output_dir": {"en": "output", "zh": "输出目录"},
    "cause": {"en": "Cause (last lines of the log)", "zh": "原因（日志末尾）"},
    "error": {"en": "Error", "zh": "错误"},
    "no_adapter": {"en": "none (base model)", "zh": "无（基座模型）"},
    "bundled_sample": {"en": "bundled sample", "zh": "内置样例"},
    "resumable": {
        "en": "Start with the same run name resumes from its last complete checkpoint",
        "zh": "以相同的实验名称点击“开始”即可从最后一个完整检查点继续",
    },
    "last_step_loss": {"en": "last step's loss", "zh": "最后一步损失"},
    "last_eval": {"en": "last eval loss", "zh": "最近一次验证损失"},
    "nothing_saved": {
        "en": "no checkpoint was saved yet (see Save steps): nothing of this run can be resumed or loaded",
        "zh": "尚未保存任何检查点（见保存步数）：本次训练无法继续，也无法加载",
    },
    "scores_of": {"en": "Scores of", "zh": "得分来自"},
    "mean_train_loss": {"en": "mean training loss", "zh": "平均训练损失"},
    "final_eval": {"en": "final eval loss", "zh": "最终验证损失"},
    "step": {"en": "step", "zh": "步"},
    "elapsed": {"en": "elapsed", "zh": "已用"},
    "remaining": {"en": "remaining", "zh": "剩余"},
    "chart_step": {"en": "step", "zh": "步数"},
    "chart_loss": {"en": "loss", "zh": "损失"},
    "chart_smoothed": {"en": "smoothed", "zh": "平滑"},
    "chart_eval_loss": {"en": "eval loss", "zh": "验证损失"},
    "chart_by_run": {"en": "loss by run", "zh": "各实验的损失"},
    "chart_no_steps": {"en": "no step logged yet", "zh": "尚无已记录的训练步"},
    "chart_inside": {"en": "Inside the adapter", "zh": "适配器内部"},
    "circuit_export_hint": {
        "en": "Its trained circuits can be taken elsewhere: pick a module below to see its circuit and download it "
        "as OpenQASM 3, with a JSON note of the classical maps around it.",
        "zh": "其训练好的量子线路可以导出：在下方选择模块，查看线路并下载 OpenQASM 3 文件及其经典映射的 JSON 说明。",
    },
    "circuit_caption": {
        "en": "{method} adapter {adapter}, circuit of {module}: {n} qubits, depth {depth}, trained angles rounded "
        "to 2 decimals; h[l][i] is the data angle of wire i (the i-th entry of A x), an input of the QASM file.",
        "zh": "{method} 适配器 {adapter}，{module} 的线路：{n} 个量子比特，深度 {depth}，训练后的角度保留两位小数；"
        "h[l][i] 为第 i 条线的数据角度（A x 的第 i 项），是 QASM 文件的输入。",
    },
    "ansatz_caption": {
        "en": "The circuit of each adapted layer, {n} qubits, depth {depth}, as training starts it. h[l][i]: the "
        "data angle of wire i in layer l (the i-th entry of A x); a, b, c, d: the angles training learns.",
        "zh": "每个被适配层的量子线路：{n} 个量子比特，深度 {depth}，训练开始时的样子。h[l][i]：第 l 层第 i 条线的"
        "数据角度（A x 的第 i 项）；a、b、c、d：训练学习的角度。",
    },
    "ansatz_first_layers": {"en": "(its first {layers} layers drawn)", "zh": "（仅画出前 {layers} 层）"},
    "ansatz_unset": {
        "en": "No drawing for Qubits {n} and Circuit depth {depth}: Qubits must be 1-16 and the depth at least 1.",
        "zh": "量子比特数 {n}、线路深度 {depth} 无法绘制：量子比特数须为 1-16，深度至少为 1。",
    },
    "chart_readout": {"en": "readout |⟨Z⟩| and entanglement (0-1)", "zh": "读出 |⟨Z⟩| 与纠缠度（0-1）"},
    "chart_drift": {"en": "how far the angles moved, ‖θ − θ₀‖", "zh": "角度偏移 ‖θ − θ₀‖"},
    "chart_gradients": {"en": "gradient norms: circuit vs A, Q, C, B", "zh": "梯度范数：线路与 A、Q、C、B"},
    "chart_mean_abs_z": {"en": "mean |⟨Z⟩|", "zh": "平均 |⟨Z⟩|"},
    "chart_entanglement": {"en": "entanglement", "zh": "纠缠度"},
    "chart_angle_drift": {"en": "angle drift", "zh": "角度偏移"},
    "chart_grad_circuit": {"en": "circuit angles", "zh": "线路角度"},
    "chart_map_A": {"en": "A (input map)", "zh": "A（输入映射）"},
    "chart_map_Q": {"en": "Q (readout map)", "zh": "Q（读出映射）"},
    "chart_map_C": {"en": "C (bypass)", "zh": "C（旁路）"},
    "chart_map_B": {"en": "B (output map)", "zh": "B（输出映射）"},
}

# the tables' column headers, and the words inside their cells
TABLE_HEADERS: dict[str, dict[str, list[str]]] = {
    "compare": {
        "en": [
            "run",
            "method",
            "trainable params",
            "final loss",
            "final eval loss",
            "tokens/s",
            "wall time (s)",
            "state",
        ],  # fmt: skip
        "zh": ["实验", "方法", "可训练参数", "最终损失", "最终验证损失", "tokens/秒", "耗时（秒）", "状态"],
    },
    "history": {
        "en": ["date", "adapter", "task", "split", "n_shot", "scores", "data"],
        "zh": ["日期", "适配器", "任务", "数据划分", "示例数 (n_shot)", "得分", "数据来源"],
    },
    "results": {"en": ["score", "value", "questions"], "zh": ["指标", "数值", "题数"]},
}
MESSAGES.update(
    {
        "not_mergeable": {"en": "{method} adapters cannot be exported", "zh": "{method} 适配器无法导出"},
        "choose_adapter": {"en": "choose an adapter in the top bar first", "zh": "请先在顶部选择适配器"},
        "export_exists": {"en": "an export of that name exists; choose a new name", "zh": "同名导出已存在，请换名称"},
        "export_result": {"en": "the merged model is in", "zh": "合并后的模型位于"},
        "state_finished": {"en": "finished", "zh": "已完成"},
        "sweep_one_adapter": {
            "en": "choose one vqc or tq adapter for a sweep (it reads that adapter's circuits)",
            "zh": "扫描需要且只能选择一个 vqc 或 tq 适配器（它读取该适配器的量子线路）",
        },
        "sweep_no_circuit": {
            "en": "a {method} adapter has no circuit to read; choose a vqc or tq adapter",
            "zh": "{method} 适配器没有可读取的量子线路；请选择 vqc 或 tq 适配器",
        },
        "reading_no_circuit": {
            "en": "applies to the circuits of vqc / tq adapters, and no chosen adapter has one; "
            "set it back to {default}, or choose a vqc / tq adapter",
            "zh": "仅适用于 vqc / tq 适配器的量子线路，而所选适配器均没有量子线路；"
            "请改回 {default}，或选择 vqc / tq 适配器",
        },
        "sweep_points": {"en": "point {done} of {total}", "zh": "第 {done}/{total} 个点"},
        "reading_shots": {"en": "{shots} shots (seed {seed})", "zh": "{shots} 次测量（种子 {seed}）"},
        "reading_noise": {"en": "noise {noise}", "zh": "噪声 {noise}"},
        "reading_quantized": {"en": "base in {bits} bits", "zh": "基座 {bits} 比特"},
        "reading_ablated": {"en": "circuit output ablated ({ablation})", "zh": "线路输出消融（{ablation}）"},
        "sweep_resumable": {
            "en": "The points scored so far are kept: Start sweep with the same settings goes on from them.",
            "zh": "已完成的点均已保存：以相同设置点击“开始扫描”即可继续。",
        },
        "state_unfinished": {"en": "unfinished", "zh": "未完成"},
        "exact_match": {"en": "exact match", "zh": "精确匹配"},
        "eval_loss": {"en": "eval loss", "zh": "验证损失"},
        "accuracy": {"en": "accuracy", "zh": "准确率"},
        # the benchmarks' categories (qllm.eval.tasks.CATEGORIES) and their average
        "STEM": {"en": "STEM", "zh": "理工"},
        "Social Sciences": {"en": "Social Sciences", "zh": "社会科学"},
        "Humanities": {"en": "Humanities", "zh": "人文"},
        "Other": {"en": "Other", "zh": "其他"},
        "Average": {"en": "Average", "zh": "平均"},
        "scores_note": {
            "en": "Average: the share of all questions answered right (not the mean of the categories); "
            "chance level {chance:.0f} % ({choices} choices per question)",
            "zh": "平均：全部题目中答对的比例（不是各类别准确率的平均）；"
            "随机猜测水平 {chance:.0f} %（每题 {choices} 个选项）",
        },
    }
)


def text(key: str, lang: str) -> str:
    return MESSAGES[key][lang]


def headers(table: str, lang: str) -> list[str]:
    return TABLE_HEADERS[table][lang]
