"""The board: top bar + Train / Evaluate / Chat tabs, labels from `locales`.

Only gradio and file reading here: training and evaluation run as `python -m qllm`
subprocesses owned by the Runner; chat loads its model in this process on demand.
"""

from __future__ import annotations

import argparse

import gradio as gr

from qllm.webui.chat_session import ChatSession
from qllm.webui.components.chat import create_chat_tab
from qllm.webui.components.evaluate import create_eval_tab
from qllm.webui.components.top import create_top
from qllm.webui.components.train import create_train_tab
from qllm.webui.control import device_info
from qllm.webui.locales import LANGUAGES, LOCALES
from qllm.webui.runner import Runner

CSS = ".qllm-progress-text { font-size: 0.9em; margin-top: 4px; }"


def localized_update(key: str, component: gr.components.Component, lang: str):
    """The update that shows ``component`` in ``lang`` (buttons change their text, others label/info)."""
    entry = LOCALES[key][lang]
    if isinstance(component, gr.Button):
        return gr.update(value=entry["value"])
    return gr.update(**{k: v for k, v in entry.items() if k in ("label", "info")})


def create_ui(runner: Runner | None = None, session: ChatSession | None = None) -> gr.Blocks:
    runner, session = runner or Runner(), session or ChatSession()
    with gr.Blocks(title="QLLM Board") as demo:
        gr.Markdown("# QLLM Board · quantum-circuit adapters for language models")
        top = create_top()
        elements = dict(top)
        with gr.Tab(elem_id="tab_train") as train_tab:
            elements.update(create_train_tab(demo, top, runner))
        with gr.Tab(elem_id="tab_eval") as eval_tab:
            elements.update(create_eval_tab(demo, top, runner))
        with gr.Tab(elem_id="tab_chat") as chat_tab:
            elements.update(create_chat_tab(top, session))
        elements.update(tab_train=train_tab, tab_eval=eval_tab, tab_chat=chat_tab)

        localized = {key: component for key, component in elements.items() if key in LOCALES}
        for key, component in localized.items():  # the page opens in English, with no unlabelled flash
            for attribute, value in LOCALES[key]["en"].items():
                setattr(component, attribute, value)

        def change_language(lang_name: str):
            """language -> every label, help line and button text in that language."""
            lang = LANGUAGES[lang_name]
            return [localized_update(key, component, lang) for key, component in localized.items()]

        top["lang"].change(change_language, [top["lang"]], list(localized.values()), queue=False)
        demo.load(device_info, None, [top["device"]])
    return demo


def launch(host: str, port: int, share: bool) -> None:
    create_ui().queue().launch(server_name=host, server_port=port, share=share, css=CSS)


def main(argv: list[str] | None = None) -> None:
    """`qllm webui` / `python app.py`: serve the board until interrupted."""
    parser = argparse.ArgumentParser(prog="qllm webui", description="Serve the QLLM board.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    options = parser.parse_args(argv)
    launch(host=options.host, port=options.port, share=options.share)
