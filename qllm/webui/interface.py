"""The board: top bar + Train / Evaluate / Chat tabs, labels from `locales`.

Only gradio and file reading here: training and evaluation run as `python -m qllm`
subprocesses owned by the Runner; chat loads its model in this process on demand.
"""

from __future__ import annotations

import argparse
import os
import sys

import gradio as gr

from qllm.errors import ArgumentError
from qllm.webui.chat_session import ChatSession
from qllm.webui.components.chat import create_chat_tab
from qllm.webui.components.evaluate import create_eval_tab
from qllm.webui.components.top import create_top
from qllm.webui.components.train import create_train_tab
from qllm.webui.control import device_info
from qllm.webui.locales import LANGUAGES, LOCALES
from qllm.webui.runner import Runner

CSS = """
.qllm-progress-text { font-size: 0.9em; margin-top: 4px; }
/* plotly writes its colours into the SVG; the theme's own colours win, so charts follow light and dark */
.js-plotly-plot .main-svg text { fill: var(--body-text-color) !important; }
.js-plotly-plot .gridlayer path, .js-plotly-plot .zerolinelayer path { stroke: var(--border-color-primary) !important; }
"""


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
        top = create_top(demo)
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


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def board_auth(auth: str | None, host: str, share: bool, allow_unauthenticated: bool) -> tuple[str, str] | None:
    """(user, password) for gradio's login, or None; refuses to serve other machines without one.

    Anyone who reaches the board can start processes and read and write under saves/, so a
    board reachable beyond this machine (--host other than loopback, or --share) needs a
    password unless the person says outright that it must not have one.
    """
    if auth:
        user, colon, password = auth.partition(":")
        if not (user and colon and password):
            raise ArgumentError("auth", "expected user:password, e.g. --auth alice:s3cret (or QLLM_AUTH=alice:s3cret)")
        return user, password
    if host in LOOPBACK_HOSTS and not share:
        return None
    reach = "through a public gradio.live link" if share else f"from other machines on {host}"
    if not allow_unauthenticated:
        raise ArgumentError(
            "auth",
            f"the board would be reachable {reach} with no password; pass --auth user:password "
            "(or set QLLM_AUTH), or --allow-unauthenticated if that is really meant",
        )
    print(f"warning: serving the board {reach} with no password (--allow-unauthenticated)", file=sys.stderr)
    return None


def launch(host: str, port: int, share: bool, auth: tuple[str, str] | None = None) -> None:
    create_ui().queue().launch(server_name=host, server_port=port, share=share, auth=auth, css=CSS)


def main(argv: list[str] | None = None) -> None:
    """`qllm webui` / `python app.py`: serve the board until interrupted."""
    parser = argparse.ArgumentParser(prog="qllm webui", description="Serve the QLLM board.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    parser.add_argument("--auth", default=os.environ.get("QLLM_AUTH"), help="user:password (or QLLM_AUTH) to log in")
    parser.add_argument(
        "--allow-unauthenticated", action="store_true", help="serve beyond this machine without a password"
    )
    options = parser.parse_args(argv)
    auth = board_auth(options.auth, options.host, options.share, options.allow_unauthenticated)  # CLI reports errors
    launch(host=options.host, port=options.port, share=options.share, auth=auth)
