"""The board's page.  Only gradio here: training and evaluation run as `python -m qllm` subprocesses."""

from __future__ import annotations

import gradio as gr


def create_ui() -> gr.Blocks:
    with gr.Blocks(title="QLLM Board") as demo:
        gr.Markdown("# QLLM Board\nFine-tune language models with quantum-circuit adapters.")
        gr.Markdown("Train with `python -m qllm train` (see README); the Train, Evaluate and Chat tabs come next.")
    return demo


def launch(host: str, port: int, share: bool) -> None:
    create_ui().queue().launch(server_name=host, server_port=port, share=share)
