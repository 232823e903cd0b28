"""The board: top bar + Train / Evaluate / Chat / Export tabs, labels from `locales`.

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
from qllm.webui.components.export import create_export_tab
from qllm.webui.components.top import create_top
from qllm.webui.components.train import create_train_tab
from qllm.webui.heavy_imports import import_on_main_thread, warm_up_in_background
from qllm.webui.locales import LANGUAGES, LOCALES
from qllm.webui.runner import Runner

CSS = """
.qllm-progress-text { font-size: 0.9em; margin-top: 4px; }
#title h2 { margin: 0; }
/* a checkbox keeps room for its label and help line next to wider fields */
#train_form .block:has(input[type=checkbox]) { min-width: 170px !important; }
/* the Train tab's monitor (Start, status, chart, log) stays in view while the form scrolls */
#train_monitor { position: sticky; top: 8px; align-self: flex-start; max-height: calc(100vh - 16px); overflow-y: auto; }
/* gradio's columns wrap: with a max-height, a taller monitor would wrap into a second column off to the right
   (the opened full console.log at x=1350 of 1400); it scrolls inside itself instead */
#train_monitor { flex-wrap: nowrap !important; overflow-x: hidden; }
#train_monitor > * { flex-shrink: 0; }
#train_controls { position: sticky; top: 0; z-index: 5; background: var(--body-background-fill); }
/* gradio's container hides overflow, which makes it the sticky element's scroller; clip keeps the page its scroller */
.gradio-container { overflow: clip !important; }
/* a field the last check refused: a red frame drawn inside the field (a group's edge clips anything outside),
   its message in place of the help line, red and bold */
.qllm-invalid { outline: 2px solid #dc2626 !important; outline-offset: -2px; border-radius: 6px; }
.qllm-invalid [data-testid="block-info"] { color: #dc2626 !important; font-weight: 600; opacity: 1 !important; }
/* the top bar's Refresh: a small button beside the Adapter picker, not a tall block */
#refresh_adapters { align-self: center; max-height: 42px; }
/* tables wrap their cells instead of hiding columns past the right edge */
#compare_table table, #eval_history table { table-layout: auto; }
/* plotly writes its colours into the SVG; the theme's own colours win, so charts follow light and dark */
.js-plotly-plot .main-svg text { fill: var(--body-text-color) !important; }
.js-plotly-plot .gridlayer path, .js-plotly-plot .zerolinelayer path { stroke: var(--border-color-primary) !important; }
.qllm-hidden { display: none !important; }
/* circuits drawn by qiskit: the whole width of their column, on a white card in light and dark themes alike */
/* at a size whose gate labels can be read (squeezed to the column they were 4 px tall); wide circuits scroll */
#ansatz_diagram, #circuit_diagram { overflow-x: auto; }
#ansatz_diagram svg, #circuit_diagram svg {
  width: auto; height: auto; max-width: none; max-height: 360px; background: white; border-radius: 6px;
}
.qllm-caption { font-size: 0.9em; margin: 4px 0; }
"""

# The live chart is redrawn as a new plot element on every update, which would reset a zoom: the page
# writes each zoom (or its reset, by double-click) into the hidden #loss_zoom box, and the server
# draws every update with it (charts.keep_zoom).
ZOOM_JS = """
() => {
  const report = (event) => {
    const zoom = {};
    for (const axis of ["x", "y"]) {
      if (event[axis + "axis.range[0]"] !== undefined) {
        zoom[axis] = [event[axis + "axis.range[0]"], event[axis + "axis.range[1]"]];
      }
    }
    const reset = event["xaxis.autorange"] || event["yaxis.autorange"];
    if (!reset && !Object.keys(zoom).length) return;
    const box = document.querySelector("#loss_zoom textarea, #loss_zoom input");
    box.value = reset ? "" : JSON.stringify(zoom);
    box.dispatchEvent(new Event("input", {bubbles: true}));
  };
  const watch = () => {
    const plot = document.querySelector("#loss_plot .js-plotly-plot");
    if (plot && plot.on && !plot.qllmZoomWatched) {
      plot.qllmZoomWatched = true;
      plot.on("plotly_relayout", report);
    }
  };
  new MutationObserver(watch).observe(document.body, {childList: true, subtree: true});
}
"""

# Log boxes read like a terminal: when new text arrives the box shows its end (gradio's autoscroll
# missed the last update of a run, leaving "done:" below the fold); with no new text a person may
# scroll up and stay there.
FOLLOW_LOGS_JS = """
() => {
  const boxes = ["log", "full_log", "eval_log", "export_log"];
  setInterval(() => {
    for (const id of boxes) {
      const box = document.querySelector("#" + id + " textarea");
      if (box && box.dataset.followed !== String(box.value.length)) {
        box.dataset.followed = String(box.value.length);
        box.scrollTop = box.scrollHeight;
      }
    }
  }, 500);
}
"""
PAGE_JS = f"() => {{ ({ZOOM_JS.strip()})(); ({FOLLOW_LOGS_JS.strip()})(); }}"


def localized_update(key: str, component: gr.components.Component, lang: str):
    """The update that shows ``component`` in ``lang`` (buttons change their text, others label/info)."""
    entry = LOCALES[key][lang]
    if isinstance(component, (gr.Button, gr.Markdown)):
        return gr.update(value=entry["value"])
    return gr.update(**{k: v for k, v in entry.items() if k in ("label", "info")})


def create_ui(runner: Runner | None = None, session: ChatSession | None = None) -> gr.Blocks:
    runner, session = runner or Runner(), session or ChatSession()
    with gr.Blocks(title="QLLM Board") as demo:
        top = create_top(demo)
        elements = dict(top)
        # browser-kept values live outside the tabs: a tab's components mount only once it is shown,
        # and a value kept inside one would not be read back when the page loads
        kept_chat = gr.BrowserState([], storage_key="qllm_chat", secret="qllm-chat")
        with gr.Tab(elem_id="tab_train") as train_tab:
            elements.update(create_train_tab(demo, top, runner))
        with gr.Tab(elem_id="tab_eval") as eval_tab:
            elements.update(create_eval_tab(demo, top, runner))
        with gr.Tab(elem_id="tab_chat") as chat_tab:
            elements.update(create_chat_tab(demo, top, session, kept_chat))
        with gr.Tab(elem_id="tab_export") as export_tab:
            elements.update(create_export_tab(demo, top, runner))
        elements.update(tab_train=train_tab, tab_eval=eval_tab, tab_chat=chat_tab, tab_export=export_tab)

        localized = {key: component for key, component in elements.items() if key in LOCALES}
        for key, component in localized.items():  # the page opens in English, with no unlabelled flash
            for attribute, value in LOCALES[key]["en"].items():
                setattr(component, attribute, value)

        # the language is the browser's choice: kept in its storage (not a secret), brought back on the next visit
        chosen_lang = gr.BrowserState("English", storage_key="qllm_language", secret="qllm-language")

        def change_language(lang_name: str):
            """language -> every label, help line and button text in that language; the choice, to keep."""
            lang = LANGUAGES[lang_name]
            return [localized_update(key, component, lang) for key, component in localized.items()] + [lang_name]

        set_title = "(name) => { document.title = name === '中文' ? 'QLLM 看板' : 'QLLM Board'; }"
        top["lang"].change(change_language, [top["lang"]], [*localized.values(), chosen_lang], queue=False).then(
            None, [top["lang"]], None, js=set_title
        )
        demo.load(lambda name: name if name in LANGUAGES else "English", [chosen_lang], [top["lang"]], queue=False)
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
    import_on_main_thread()  # qiskit, for the circuit drawings (heavy_imports says why)
    warm_up_in_background()  # the first Start's check imports transformers (seconds): do it now
    create_ui().queue().launch(server_name=host, server_port=port, share=share, auth=auth, css=CSS, js=PAGE_JS)


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
