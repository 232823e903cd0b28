from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExportArguments:
    """`qllm export`: where the merged standalone model goes."""

    export_dir: str = field(metadata={"help": "Folder for the merged model and tokenizer."})
