"""The board in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

One board process serves all tests, with its saves/ in a temporary folder; the tests run
in file order (a trained adapter is chatted with later).  Screenshots of each tab land in
tests/screenshots/ for a reviewer.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qllm.constants import checkpoints
from qllm.paths import DATA_DIR

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make browser)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    saves = tmp_path_factory.mktemp("saves")
    port = free_port()
    env = {**os.environ, "QLLM_SAVES_DIR": str(saves), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    log = (saves / "board.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "qllm", "webui", "--port", str(port)],
        cwd=saves,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        raise RuntimeError((saves / "board.log").read_text())
    yield url, saves
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(board, browser):
    url, _ = board
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    tab = context.new_page()
    tab.goto(url)
    tab.wait_for_selector("#start button, button#start", timeout=60_000)
    tab.wait_for_function("() => document.querySelector('#device input, #device textarea')?.value", timeout=60_000)
    yield tab
    if "Running" in status(tab):  # a failed test must not leave its run blocking the next one
        tab.click("#stop")
        wait_for(lambda: "Running" not in status(tab), 20, "the leftover run to stop")
    context.close()


def field_value(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} input, #{elem_id} textarea").first.input_value()


def fill(page, elem_id: str, value) -> None:
    """Type ``value`` into a field, checking that it stayed (a just-opened group may still be mounting its fields)."""
    box = page.locator(f"#{elem_id} input, #{elem_id} textarea").first
    for _ in range(5):
        box.fill(str(value))
        page.wait_for_timeout(200)
        if box.input_value() == str(value):
            return
    raise AssertionError(f"could not fill #{elem_id} with {value!r}")


def choose(page, elem_id: str, value: str) -> None:
    """Pick ``value`` in a dropdown (for a multiselect: add it), checking that the pick took."""
    box = page.locator(f"#{elem_id} input").first

    def picked() -> bool:
        return box.input_value() == value or value in page.locator(f"#{elem_id} .token").all_inner_texts()

    for _ in range(3):
        box.click()
        box.fill("")
        page.keyboard.type(value)
        page.wait_for_timeout(300)
        page.keyboard.press("Enter")
        page.wait_for_timeout(300)
        page.keyboard.press("Escape")
        if picked():
            return
    raise AssertionError(f"could not choose {value} in #{elem_id}")


def open_group(page, elem_id: str) -> None:
    header = page.locator(f"#{elem_id} button.label-wrap").first
    if "open" not in (header.get_attribute("class") or ""):
        header.click()
    page.wait_for_selector(f"#{elem_id} button.label-wrap.open")
    page.locator(f"#{elem_id} input").first.wait_for(state="visible")  # its fields are mounted


def status(page, elem_id: str = "train_status") -> str:
    return page.locator(f"#{elem_id}").inner_text()


def marked_fields(page) -> list[str]:
    """The ids of the fields the board marked as refused."""
    return page.evaluate("() => Array.from(document.querySelectorAll('.qllm-invalid')).map(e => e.id)")


def chart_points(page) -> int:
    return page.evaluate(
        "() => { const p = document.querySelector('#loss_plot .js-plotly-plot');"
        " return p && p.data && p.data.length ? p.data[0].x.length : 0; }"
    )


def wait_for(predicate, timeout: float, what: str, page=None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    shown = ""
    if page:
        command = page.locator("#command textarea").input_value() if page.locator("#command textarea").count() else ""
        shown = f"; the page shows: {status(page)} {status(page, 'train_message')} {command}"
    raise AssertionError(f"timed out waiting for {what}{shown}")


def configure_tiny_run(page, method: str, name: str, samples: int, epochs: float = 1, save_steps: int = 100) -> None:
    choose(page, "finetuning_type", method)
    open_group(page, "group_data")
    fill(page, "dataset_dir", str(DATA_DIR))  # a page restores the last run's form, which a test may have broken
    fill(page, "max_samples", samples)
    fill(page, "num_train_epochs", epochs)
    fill(page, "gradient_accumulation_steps", 1)
    open_group(page, "group_eval")
    choose(page, "evaluation_strategy", "steps")
    fill(page, "eval_steps", 4)
    open_group(page, "group_output")
    fill(page, "output_name", name)
    fill(page, "logging_steps", 1)
    fill(page, "save_steps", save_steps)
    page.click("#preview_command")  # the board echoes what it received: proof the form is set before Start
    expected = (f"--finetuning_type {method} ", f"--max_samples {samples} ", f"/{name} ")
    wait_for(
        lambda: all(part in page.locator("#command textarea").input_value() + " " for part in expected),
        60,
        "the form values to reach the board",
        page,
    )


def test_language_switch_changes_the_labels(page):
    wait_for(lambda: page.locator("#start").inner_text().strip() == "Start", 20, "English labels")
    choose(page, "lang", "中文")
    wait_for(lambda: page.locator("#start").inner_text().strip() == "开始", 20, "Chinese labels")
    wait_for(lambda: "训练" in page.locator("[role=tab]").first.inner_text(), 20, "the Chinese tab name")
    wait_for(lambda: page.locator("#learning_rate").inner_text().startswith("学习率"), 20, "the Chinese field label")
    choose(page, "lang", "English")
    wait_for(lambda: page.locator("#start").inner_text().strip() == "Start", 20, "English labels again")


def test_compute_type_dropdown_sets_the_training_flag(page):
    wait_for(lambda: "Compute type" in page.locator("#compute_type").inner_text(), 20, "the Compute type label")
    choose(page, "compute_type", "bf16")
    page.click("#preview_command")
    wait_for(lambda: " --bf16" in page.locator("#command textarea").input_value(), 30, "--bf16 in the command", page)
    choose(page, "compute_type", "pure_bf16")
    page.click("#preview_command")
    wait_for(lambda: " --pure_bf16" in page.locator("#command textarea").input_value(), 30, "--pure_bf16", page)
    assert " --bf16" not in page.locator("#command textarea").input_value()
    choose(page, "compute_type", "float32")


def test_gradient_checkpointing_checkbox_reaches_the_command(page):
    field = page.locator("#gradient_checkpointing")
    wait_for(lambda: "Gradient checkpointing" in field.inner_text(), 20, "the Gradient checkpointing label")
    command = page.locator("#command textarea")
    field.locator("input[type=checkbox]").check()
    page.click("#preview_command")
    wait_for(lambda: " --gradient_checkpointing" in command.input_value(), 30, "--gradient_checkpointing", page)
    field.locator("input[type=checkbox]").uncheck()
    page.click("#preview_command")
    wait_for(lambda: "gradient_checkpointing" not in command.input_value(), 30, "the flag gone once unticked", page)


def test_each_method_s_notes_and_first_values_are_one_click_away(page):
    choose(page, "finetuning_type", "vqc")
    page.locator("#method_help button.label-wrap").first.click()
    notes = lambda: page.locator("#method_notes").inner_text()  # noqa: E731
    wait_for(lambda: "data re-uploading" in notes() and "pyvqnet" in notes(), 20, "the vqc section", page)
    assert "good first choice" in page.locator("#n_qubits").inner_text()  # the field's own hint says where to start
    choose(page, "finetuning_type", "quanTA")
    wait_for(lambda: "per_dim_features" in notes() and "pyvqnet" not in notes(), 20, "the quanTA section", page)


def test_the_circuit_is_drawn_while_configuring_and_follows_its_settings(page):
    """vqc: the ansatz appears under Method settings, drawn from the simulators' gate list; a second layer and a
    narrower circuit redraw it; lora has no circuit to show."""
    choose(page, "finetuning_type", "vqc")
    open_group(page, "group_method")
    labels = "() => Array.from(document.querySelectorAll('#ansatz_diagram svg text')).map(t => t.textContent.trim())"
    wait_for(lambda: "h[0][7]" in page.evaluate(labels), 30, "the 8-qubit ansatz drawn", page)
    assert "h[1][0]" not in page.evaluate(labels) and "8 qubits, depth 1" in status(page, "ansatz_diagram")
    fill(page, "q_depth", 2)
    wait_for(lambda: "h[1][0]" in page.evaluate(labels), 30, "a second layer drawn", page)
    fill(page, "n_qubits", 3)
    wait_for(lambda: "h[1][2]" in page.evaluate(labels) and "h[0][3]" not in page.evaluate(labels), 30, "3 wires")
    assert "3 qubits, depth 2" in status(page, "ansatz_diagram")
    fill(page, "n_qubits", 8)
    fill(page, "q_depth", 1)
    choose(page, "finetuning_type", "lora")
    wait_for(lambda: not page.locator("#ansatz_diagram").is_visible(), 20, "no circuit for lora")


def test_preprocessing_workers_default_to_this_machine_s_cores(page):
    open_group(page, "group_data")
    box = page.locator("#preprocessing_num_workers input").first
    wait_for(lambda: box.input_value() == str(min(16, os.cpu_count() or 1)), 20, "the workers default", page)


def test_devices_field_launches_several_processes_through_torchrun(page):
    fill(page, "devices", "cpu:2")
    page.click("#preview_command")
    wait_for(lambda: page.locator("#command textarea").input_value().startswith("torchrun --nproc_per_node 2 -m qllm"),
             30, "the torchrun command", page)  # fmt: skip
    fill(page, "devices", "7")
    page.click("#preview_command")
    wait_for(lambda: "Devices: " in status(page, "train_message") and "no CUDA GPU" in status(page, "train_message"),
             30, "the devices error, named by its label", page)  # fmt: skip
    wait_for(lambda: marked_fields(page) == ["devices"], 20, "the Devices field marked")
    assert "no CUDA GPU" in page.locator("#devices").inner_text(), "the message is at the field"
    fill(page, "devices", "")
    page.click("#preview_command")
    wait_for(lambda: marked_fields(page) == [], 20, "the mark cleared once the form is good", page)


def test_quantization_and_sharding_reach_the_command(page):
    """The top bar's Quantization and the form's Sharding, with Devices, build the command; a sharding this
    CPU machine cannot run still shows its command (for a GPU machine), with the reason at the field."""
    command = lambda: page.locator("#command textarea").input_value()  # noqa: E731
    choose(page, "quantization_bit", "4")
    page.click("#preview_command")
    wait_for(lambda: " --quantization_bit 4" in command(), 30, "--quantization_bit 4 in the command", page)
    fill(page, "devices", "cpu:2")
    choose(page, "sharding", "ZeRO-3")
    page.click("#preview_command")
    wait_for(lambda: "ds_z3_config.json" in command(), 30, "the ZeRO-3 config in the command", page)
    assert command().startswith("torchrun --nproc_per_node 2 -m qllm train") and " --quantization_bit 4" in command()
    wait_for(lambda: "Sharding: " in status(page, "train_message"), 30, "why ZeRO-3 cannot run here", page)
    wait_for(lambda: marked_fields(page) == ["sharding"], 20, "the Sharding field marked", page)
    choose(page, "sharding", "FSDP")
    page.click("#preview_command")
    wait_for(lambda: "--fsdp 'full_shard auto_wrap'" in command(), 30, "--fsdp in the command", page)
    wait_for(lambda: "GPUs only" in page.locator("#sharding").inner_text(), 20, "the reason at the field", page)
    choose(page, "sharding", "none")  # what a person does next: train here, unsharded, on the 4-bit base
    choose(page, "quantization_bit", "none")
    fill(page, "devices", "")
    page.click("#preview_command")
    wait_for(lambda: marked_fields(page) == [] and "--fsdp" not in command() and "quantization_bit" not in command()
             and status(page, "train_message") == "", 30, "a plain command, nothing marked", page)  # fmt: skip


def test_bad_input_is_marked_at_its_field_by_its_label(page, board):
    """A refused Start marks the field (red frame, the message under its label, its group opened and scrolled
    into view) and names it by the label on screen, in the page's language; fixing it moves the mark."""
    _, saves = board
    # Run name is in view on a fresh page: its group starts open
    page.wait_for_selector("#group_output button.label-wrap.open")
    page.locator("#output_name input, #output_name textarea").first.wait_for(state="visible")
    fill(page, "output_name", "")
    page.click("#start")
    wait_for(lambda: "Run name: is empty; give it a name" in status(page, "train_message"), 30, "the empty name", page)
    fill(page, "output_name", "../escape")
    page.locator("#group_output button.label-wrap").first.click()  # closed again: the mark must open it
    page.wait_for_selector("#group_output button.label-wrap:not(.open)")
    page.click("#start")
    wait_for(lambda: marked_fields(page) == ["output_name"], 30, "the run name marked", page)
    assert "⚠ Cannot start · Run name: " in status(page, "train_message"), status(page, "train_message")
    assert "--output_name" not in status(page, "train_message")
    field = page.locator("#output_name")
    wait_for(lambda: field.is_visible() and "must be a plain name" in field.inner_text(), 20, "the field's message")

    def in_view() -> bool:  # the board scrolls it into view once the group has opened: wait for that
        box = field.bounding_box()
        return bool(box) and 0 <= box["y"] and box["y"] + box["height"] <= page.viewport_size["height"]

    wait_for(in_view, 20, f"the field scrolled into view (now at {field.bounding_box()})", page)
    # easy to see: the message under the label red and bold, the red frame drawn inside the field (not clipped)
    looks = page.evaluate("""() => {
        const field = document.querySelector('#output_name');
        const info = field.querySelector('[data-testid=block-info]');
        return {color: getComputedStyle(info).color, weight: getComputedStyle(info).fontWeight,
                outline: getComputedStyle(field).outlineStyle, offset: getComputedStyle(field).outlineOffset};
    }""")
    assert looks == {"color": "rgb(220, 38, 38)", "weight": "600", "outline": "solid", "offset": "-2px"}, looks
    fill(page, "output_name", "ok-name")
    fill(page, "learning_rate", "fast")
    page.click("#start")
    wait_for(lambda: marked_fields(page) == ["learning_rate"], 30, "the mark moved to the learning rate", page)
    assert "Learning rate: 'fast' is not a number" in status(page, "train_message")
    fill(page, "learning_rate", "-5e-5")  # the board names the field by its label, not by its CLI flag
    page.click("#start")
    wait_for(lambda: "Learning rate: must be positive" in status(page, "train_message"), 30, "the sign", page)
    assert "--learning_rate" not in status(page, "train_message") + page.locator("#learning_rate").inner_text()
    assert "must be a plain name" not in page.locator("#output_name").inner_text(), "the old message is gone"
    choose(page, "lang", "中文")
    wait_for(lambda: page.locator("#start").inner_text().strip() == "开始", 20, "Chinese labels")
    page.click("#start")
    wait_for(lambda: "无法开始 · 学习率: " in status(page, "train_message"), 30, "the label in Chinese", page)
    choose(page, "lang", "English")
    fill(page, "learning_rate", "2e-3")
    assert not any(saves.glob("*/*/ok-name")), "nothing is written for a rejected run"


def test_a_hub_model_that_cannot_be_fetched_is_refused_before_anything_is_written(page, board):
    """Offline, a hub id that is not in the cache is refused at Start, at the Model field; no run, no folder."""
    _, saves = board
    before = sorted(str(p.relative_to(saves)) for p in saves.rglob("*"))
    choose(page, "model_name_or_path", "qllm-test/not-downloaded")
    open_group(page, "group_output")
    fill(page, "output_name", "hub-run")
    page.click("#start")
    wait_for(lambda: marked_fields(page) == ["model_name_or_path"], 60, "the Model field marked", page)
    shown = status(page, "train_message")
    assert "⚠ Cannot start · Model: " in shown and "offline" in shown, shown
    assert "Running" not in status(page)
    assert sorted(str(p.relative_to(saves)) for p in saves.rglob("*")) == before, "nothing was written"
    choose(page, "model_name_or_path", "qllm-tiny")


def test_vqc_run_with_live_chart_from_the_run_log(page, board):
    _, saves = board
    configure_tiny_run(page, "vqc", "browser-vqc", samples=80)
    page.click("#start")
    wait_for(lambda: chart_points(page) >= 2, 120, "two points on the live chart")
    wait_for(lambda: "Finished" in status(page), 180, "the run to finish", page)
    page.wait_for_timeout(2500)  # one more monitor tick draws the final records
    run = saves / "qllm-tiny" / "vqc" / "browser-vqc"
    assert (run / "trainer_log.jsonl").is_file(), (status(page), sorted(str(p) for p in saves.glob("*/*/*")))
    logged = [json.loads(line) for line in (run / "trainer_log.jsonl").read_text().splitlines()]
    chart = page.evaluate(
        "() => { const d = document.querySelector('#loss_plot .js-plotly-plot').data[0];"
        " return {x: Array.from(d.x), y: Array.from(d.y)}; }"
    )
    assert chart["x"] == [r["current_steps"] for r in logged if r["loss"] is not None]
    assert chart["y"] == pytest.approx([r["loss"] for r in logged if r["loss"] is not None])
    # the two losses a finished run has, each named for what it is
    mean = json.loads((run / "train_results.json").read_text())["train_loss"]
    last = [r["loss"] for r in logged if r["loss"] is not None][-1]
    shown = status(page)
    assert f"last step's loss {last:.4f}" in shown and f"mean training loss {mean:.4f}" in shown, shown
    assert (run / "adapter_model.safetensors").is_file()
    # the finished run is in the top bar's Adapter picker, picked, with no Refresh
    wait_for(lambda: page.locator("#adapter input").input_value() == "browser-vqc", 20, "the new adapter picked", page)
    # the log box shows step lines, not the Trainer's dicts, library warnings or a pile of progress bars
    shown_log = page.locator("#log textarea").input_value()
    assert re.search(r"step \d+/\d+ loss", shown_log) and "{'loss'" not in shown_log, shown_log
    assert shown_log.count("%|") <= 1 and "warnings.warn" not in shown_log, shown_log
    # libraries' deprecation notices (peft reading `is_gradient_checkpointing`, the board passing
    # `gradient_checkpointing`) are not the run's warnings: a plain run shows none
    assert "warning" not in shown_log, shown_log
    # an ended run's log reads to its end: "done:" last, no leftover progress bar, scrolled down to it
    assert shown_log.splitlines()[-1].startswith("done:") and "%|" not in shown_log, shown_log
    at_end = "() => { const box = document.querySelector('#log textarea'); " \
             "return box.scrollTop + box.clientHeight >= box.scrollHeight - 2; }"  # fmt: skip
    wait_for(lambda: page.evaluate(at_end), 10, "the log scrolled to its end", page)
    page.locator("#full_log_box button.label-wrap").first.click()  # the full console.log is one click away
    wait_for(lambda: "{'loss'" in page.locator("#full_log textarea").input_value(), 20, "the full console.log")
    steps_shown = page.locator("#loss_plot .xtick text").all_text_contents()
    losses_shown = page.locator("#loss_plot .ytick text").all_text_contents()
    assert steps_shown and all(tick.replace(",", "").isdigit() for tick in steps_shown), steps_shown  # no half steps
    assert losses_shown and all(len(tick.partition(".")[2]) <= 3 for tick in losses_shown), losses_shown
    # "Inside the adapter": the run's circuit_log.jsonl drawn under the loss chart, a point per logged step
    circuit_steps = [json.loads(line)["step"] for line in (run / "circuit_log.jsonl").read_text().splitlines()]
    drawn = "() => { const p = document.querySelector('#circuit_plot .js-plotly-plot');" \
            " return p && p.data ? p.data.map(d => Array.from(d.x)) : []; }"  # fmt: skip
    wait_for(lambda: page.evaluate(drawn) and page.evaluate(drawn)[0] == circuit_steps, 20, "the circuit chart", page)
    assert len(circuit_steps) >= 2 and len(page.evaluate(drawn)) == 8  # readout, entanglement, drift, 5 norms
    assert "Inside the adapter" in page.locator("#circuit_plot").inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "train_tab.png"), full_page=True)


def test_a_finished_run_is_never_replaced_by_reusing_its_name(page, board):
    _, saves = board
    run = saves / "qllm-tiny" / "vqc" / "browser-vqc"
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name != "console.log"}
    choose(page, "finetuning_type", "vqc")
    fill(page, "max_samples", 40)  # another schedule
    open_group(page, "group_output")
    fill(page, "output_name", "browser-vqc")  # the same name
    page.click("#start")
    wait_for(lambda: "finished run" in status(page, "train_message"), 60, "the finished-run message", page)
    shown = status(page, "train_message")
    assert "Run name: " in shown and "Overwrite run" in shown and "new name" in shown, shown
    assert marked_fields(page) == ["output_name"]
    assert "Running" not in status(page)
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name != "console.log"}
    assert after == before, "nothing of the finished run changed"


def test_reload_reattaches_and_stop_ends_the_run(page, board):
    _, saves = board
    configure_tiny_run(page, "lora", "browser-long", samples=2000, epochs=3, save_steps=10)
    page.click("#start")
    run = saves / "qllm-tiny" / "lora" / "browser-long"
    wait_for(lambda: "Running" in status(page) and chart_points(page) >= 2, 120, "the run to log", page)
    choose(page, "lang", "中文")
    wait_for(lambda: page.locator("#start").inner_text().strip() == "开始", 20, "Chinese labels")
    page.reload()
    wait_for(
        lambda: "运行中" in status(page) and "browser-long" in status(page), 60, "the reloaded page to re-attach", page
    )
    # the form is the live run's (its train_args.yaml), the language the one chosen before the reload
    wait_for(lambda: page.locator("#start").inner_text().strip() == "开始", 20, "the labels in Chinese", page)
    open_group(page, "group_output")
    shown = {key: field_value(page, key) for key in ("finetuning_type", "output_name", "max_samples", "save_steps")}
    assert shown == {"finetuning_type": "lora", "output_name": "browser-long", "max_samples": "2000",
                     "save_steps": "10"}  # fmt: skip
    choose(page, "lang", "English")
    wait_for(lambda: "Running" in status(page), 20, "English again")
    seen = chart_points(page)
    wait_for(lambda: chart_points(page) > seen, 60, "the chart to keep growing after the reload")
    # a zoom made with the mouse stays while new points arrive (each update draws a new plot element)
    area = page.locator("#loss_plot .nsewdrag").first.bounding_box()
    middle = area["y"] + area["height"] / 2
    page.mouse.move(area["x"] + area["width"] * 0.1, middle)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.5, middle, steps=8)
    page.mouse.up()
    x_range = "() => Array.from(document.querySelector('#loss_plot .js-plotly-plot').layout.xaxis.range)"
    zoomed = page.evaluate(x_range)
    seen = chart_points(page)
    wait_for(lambda: chart_points(page) > seen, 60, "a new point after the zoom")
    assert page.evaluate(x_range) == pytest.approx(zoomed), "the zoom was kept"
    wait_for(lambda: (run / "checkpoint-10" / "adapter_model.safetensors").is_file(), 120, "a checkpoint")
    page.click("#start")  # a second Start while the run goes on: refused with a message
    wait_for(lambda: "already in progress" in status(page, "train_message"), 30, "the busy message")
    pid = json.loads((saves / ".board" / "run.json").read_text())["pid"]
    started = time.time()
    page.click("#stop")
    wait_for(lambda: "Stopped" in status(page), 15, "the stopped status")
    assert time.time() - started < 12
    # nothing stale stays once the run has ended: no busy warning, no time-remaining estimate
    wait_for(lambda: "already in progress" not in status(page, "train_message"), 15, "the busy message to go")
    wait_for(lambda: "remaining" not in status(page, "train_progress"), 15, "the remaining time to go", page)
    assert "step" in status(page, "train_progress")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert (run / "checkpoint-10" / "adapter_model.safetensors").is_file(), "the last checkpoint is intact"
    # a stopped run's evaluation is its last, not a final one; its checkpoints are in the picker at once
    assert "final eval loss" not in status(page) and "Start with the same run name resumes" in status(page)
    choose(page, "adapter", f"browser-long/{checkpoints(run)[-1].name}")


def test_pickers_are_filled_on_load_and_preselect_the_newest_finished_run(page, board):
    """A fresh page, no clicks: the Adapter picker and Evaluate's list hold the runs; the pick is the newest
    finished run, not a newer stopped one whose name sorts first."""
    _, saves = board
    stopped = saves / "qllm-tiny" / "vqc" / "aaa-stopped"
    shutil.copytree(saves / "qllm-tiny" / "vqc" / "browser-vqc", stopped)
    (stopped / "all_results.json").unlink()  # a run stopped before its end: newer, first by name, not finished
    try:
        page.reload()
        page.wait_for_selector("#start button, button#start", timeout=60_000)
        newest = f"browser-long/{checkpoints(saves / 'qllm-tiny' / 'lora' / 'browser-long')[-1].name}"
        wait_for(lambda: page.locator("#adapter input").input_value() == newest, 30,
                 "the lora runs in the Adapter picker on load", page)  # fmt: skip
        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#eval_adapters input").first.click()
        listed = lambda: page.locator("ul[role=listbox]").first.inner_text()  # noqa: E731
        wait_for(lambda: f"lora/{newest}" in listed() and "vqc/browser-vqc" in listed(), 30,
                 "the runs of every method in Evaluate's list on load")  # fmt: skip
        page.keyboard.press("Escape")
        choose(page, "finetuning_type", "vqc")
        wait_for(lambda: page.locator("#adapter input").input_value() == "browser-vqc", 30,
                 "the newest finished vqc run picked", page)  # fmt: skip
        # "none" is a choice of its own: the chat then loads the base model alone
        choose(page, "adapter", "none (base model)")
        page.get_by_role("tab", name="Chat").click()
        page.click("#load_model")
        wait_for(lambda: "Loaded" in status(page, "chat_status"), 60, "the base model to load", page)
        assert "browser" not in status(page, "chat_status"), status(page, "chat_status")
    finally:
        shutil.rmtree(stopped)


def test_the_first_screen_shows_the_point_and_the_monitor_stays_in_view(board, browser):
    """At 1400x900, with no scrolling: method, model, Start and the chart; scrolled to the form's end: still
    Start and the chart.  The screenshot is the README's."""
    url, _ = board
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    first = context.new_page()
    try:
        first.goto(url)
        first.wait_for_function("() => document.querySelector('#device input, #device textarea')?.value")
        first.wait_for_selector("#loss_plot .js-plotly-plot", timeout=60_000)

        def in_view(selector: str) -> bool:
            box = first.locator(selector).first.bounding_box()
            return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 200) <= 900

        for selector in ("#finetuning_type", "#model_name_or_path", "#start", "#loss_plot"):
            assert in_view(selector), f"{selector} is not on the first screen"
        SCREENSHOTS.mkdir(exist_ok=True)
        first.screenshot(path=str(SCREENSHOTS / "first_screen.png"))
        refresh = first.locator("#refresh_adapters").bounding_box()
        assert refresh["height"] <= 48, f"Refresh is a tall block: {refresh}"
        # the full console.log opened: inside the window, in the monitor, which scrolls inside itself to show
        # it while Start and Stop stay in view
        first.locator("#full_log_box button.label-wrap").first.click()
        first.locator("#full_log textarea").wait_for(state="visible")
        first.evaluate("() => { const m = document.querySelector('#train_monitor'); m.scrollTop = m.scrollHeight; }")
        box = first.locator("#full_log textarea").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1400 and box["y"] + box["height"] <= 900, box
        assert in_view("#start") and in_view("#stop"), "Start and Stop stay in view with the full log open"
        first.locator("#full_log_box button.label-wrap").first.click()
        first.evaluate("() => { document.querySelector('#train_monitor').scrollTop = 0; }")
        first.evaluate(
            "() => document.querySelector('#group_output').scrollIntoView({block: 'start'})"
        )  # the form's end
        wait_for(lambda: first.evaluate("() => window.scrollY") > 300, 20, "the page to scroll")
        assert not in_view("#group_data"), "the form scrolled"
        assert in_view("#start") and in_view("#loss_plot"), "the monitor stays in view"
    finally:
        context.close()


def test_charts_follow_the_dark_theme(board, browser):
    url, _ = board
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    dark = context.new_page()
    try:
        dark.goto(f"{url}/?__theme=dark")
        dark.wait_for_selector("#loss_plot .js-plotly-plot .main-svg text", timeout=60_000)
        colours = dark.evaluate("""() => {
            const plot = document.querySelector('#loss_plot .js-plotly-plot');
            const text = plot.querySelector('.main-svg text');
            return {paper: plot.layout.paper_bgcolor, text: getComputedStyle(text).fill,
                    page: getComputedStyle(document.body).backgroundColor};
        }""")
        assert colours["paper"].replace(" ", "") == "rgba(0,0,0,0)", colours  # no white panel: the page shows
        red, green, blue = (int(v) for v in colours["text"].removeprefix("rgb(").rstrip(")").split(",")[:3])
        assert min(red, green, blue) > 150, f"chart text is not light on the dark page: {colours}"
    finally:
        context.close()


def test_compare_overlays_runs_of_two_methods(page):
    page.locator("#tab_compare button").first.click()
    choose(page, "compare_runs", "vqc/browser-vqc")
    choose(page, "compare_runs", "lora/browser-long")
    page.click("#compare")
    wait_for(
        lambda: page.evaluate("() => document.querySelector('#compare_plot .js-plotly-plot')?.data?.length || 0") >= 2,
        30,
        "two runs on the comparison chart",
    )
    table = page.locator("#compare_table").inner_text()
    assert "vqc/browser-vqc" in table and "lora/browser-long" in table and "finished" in table
    # every column within the table's box: none hidden past the right edge
    frame = page.locator("#compare_table").bounding_box()
    last = page.locator("#compare_table th").last.bounding_box()
    assert last["x"] + last["width"] <= frame["x"] + frame["width"] + 1, (last, frame)
    # hovering the chart: the step once, each run named once with its value
    box = page.locator("#compare_plot .nsewdrag").first.bounding_box()
    # over a step every run logged (the stopped run's length varies): the middle of the shortest run's steps
    inside = (
        "() => { const gd = document.querySelector('#compare_plot .js-plotly-plot');"
        " const shortest = gd.data.map(d => Array.from(d.x)).sort((a, b) => a.length - b.length)[0];"
        " return gd._fullLayout.xaxis.l2p(shortest[Math.floor(shortest.length / 2)]); }"
    )
    page.mouse.move(box["x"] + page.evaluate(inside), box["y"] + box["height"] * 0.5)
    hover = lambda: " ".join(page.locator("#compare_plot .hoverlayer text").all_text_contents())  # noqa: E731
    wait_for(lambda: "browser" in hover(), 10, "the hover box")
    shown = hover()
    for name in ("vqc/browser-vqc", "lora/browser-long"):  # e.g. "vqc/browser-vqc : 5.3363", not the name twice
        assert re.search(rf"{name} : \d+\.\d{{4}}", shown) and shown.count(f"{name} :") == 1, shown
    assert "step" not in shown.partition("browser")[2], shown  # no "step 20 loss 4.8653" after the name
    choose(page, "lang", "中文")  # tables and charts follow the language, not only the labels
    page.click("#compare")
    wait_for(lambda: "最终验证损失" in page.locator("#compare_table").inner_text(), 30, "the Chinese table headers")
    assert "已完成" in page.locator("#compare_table").inner_text()
    wait_for(lambda: "各实验的损失" in page.locator("#compare_plot").text_content(), 30, "the Chinese chart title")
    axes = page.locator("#compare_plot .g-xtitle, #compare_plot .g-ytitle").all_text_contents()
    assert axes == ["步数", "损失"], axes
    wait_for(lambda: "损失" in page.locator("#loss_plot .g-ytitle").text_content(), 30, "the live chart in Chinese")
    assert page.title() == "QLLM 看板"
    choose(page, "lang", "English")


def test_a_run_that_crashes_shows_its_cause(page, board):
    """A run that fails once started shows the cause in its status (settings that cannot work are refused at
    Start, so the fault here is in the data: a data folder whose qllm_tasks file is not JSON)."""
    _, saves = board
    broken = saves / "broken-data"
    broken.mkdir(exist_ok=True)
    (broken / "dataset_info.json").write_text(json.dumps({"qllm_tasks": {"file_name": "qllm_tasks.json"}}))
    (broken / "qllm_tasks.json").write_text("{not json")
    configure_tiny_run(page, "quanTA", "browser-bad", samples=40)
    fill(page, "dataset_dir", str(broken))
    page.click("#start")
    wait_for(lambda: "Failed" in status(page), 120, "the failed status", page)
    assert "qllm_tasks" in status(page), status(page)
    # a run that logged no step: the chart says so instead of showing bare axes
    notes = lambda: page.locator("#loss_plot .annotation-text").all_text_contents()  # noqa: E731
    wait_for(lambda: "no step logged yet" in notes(), 20, "the empty chart's note", page)


def chat_turns(page, role: str) -> list[str]:
    """The texts of the chat's ``role`` ("user" or "bot") bubbles, in order."""
    return page.locator(f"#chatbot [data-testid={role}]").all_inner_texts()


def send_chat(page, message: str) -> None:
    """Type and send ``message``, then wait until the board has its bubble and has finished the reply."""
    before = len(chat_turns(page, "user"))
    fill(page, "message", message)
    page.click("#send")
    wait_for(lambda: len(chat_turns(page, "user")) == before + 1, 60, f"the bubble of {message!r}", page)
    busy = "#chatbot.pending, #chatbot.generating, #chatbot .pending, #chatbot .generating"  # gradio's marks
    wait_for(lambda: field_value(page, "message") == "" and page.locator(busy).count() == 0, 120, "the reply's end")


def settled_reply(page) -> str:
    """The last reply's text once the page shows it unchanged over three looks (its last piece has landed)."""
    seen: list[str] = []

    def settled() -> bool:
        seen.append(chat_turns(page, "bot")[-1])
        return len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]

    wait_for(settled, 30, "the reply to settle", page)
    return seen[-1]


def test_chat_is_a_conversation_that_survives_a_reload(page):
    """Three turns, one in Chinese, with a reload between: every reply arrives, the history stays, no error."""
    choose(page, "finetuning_type", "vqc")
    page.click("#refresh_adapters")
    wait_for(lambda: page.locator("#adapter input").input_value() == "browser-vqc", 20, "the adapter picker")
    page.get_by_role("tab", name="Chat").click()
    page.locator("#temperature input[type=number]").fill("0")
    page.click("#load_model")
    loaded = lambda: "Loaded" in status(page, "chat_status") and "browser-vqc" in status(page, "chat_status")  # noqa: E731
    wait_for(loaded, 120, "the adapter to load")
    page.evaluate("""() => {
        window.replySnapshots = [];
        const box = document.querySelector('#chatbot');
        new MutationObserver(() => {
            const bots = box.querySelectorAll('.bot, [data-testid=bot]');
            if (bots.length) window.replySnapshots.push(bots[bots.length - 1].innerText);
        }).observe(box, {subtree: true, childList: true, characterData: true});
    }""")

    def warned_after_an_empty_send() -> bool:  # an empty message: a warning, and the conversation stays as it was
        page.click("#send")  # (a click while the load's last updates land may be overwritten by them: sent again)
        try:
            warning = "() => document.querySelector('#chat_status')?.innerText.includes('⚠')"
            page.wait_for_function(warning, timeout=10_000)
        except playwright_api.TimeoutError:
            return False
        return True

    wait_for(warned_after_an_empty_send, 60, "the empty-message warning")
    send_chat(page, "What color is the sky?")
    # gradio briefly shows a "Loading content" placeholder in the bot bubble: not part of the reply
    snapshots = page.evaluate("() => window.replySnapshots.filter(s => s.trim() && !s.includes('Loading content'))")
    assert len(set(snapshots)) >= 2, "the reply arrived in pieces"
    wait_for(lambda: "⚠" not in status(page, "chat_status"), 30, "the stale warning to go after a good reply")
    first_reply = settled_reply(page)  # its last piece may still be on its way to the page when the send ends
    send_chat(page, "And the grass?")  # the second message: it broke the chat before
    assert chat_turns(page, "user") == ["What color is the sky?", "And the grass?"]
    assert chat_turns(page, "bot")[0] == first_reply, "the first exchange is still shown"
    assert page.get_by_text("Error", exact=True).count() == 0 and "⚠" not in status(page, "chat_status")

    page.reload()
    page.wait_for_selector("#start button, button#start", timeout=60_000)
    page.get_by_role("tab", name="Chat").click()
    wait_for(lambda: len(chat_turns(page, "user")) == 2, 30, "the conversation shown again after the reload", page)
    wait_for(lambda: "browser-vqc" in status(page, "chat_status"), 30, "the loaded model named after the reload")
    page.locator("#temperature input[type=number]").fill("0")
    send_chat(page, "天空是什么颜色？")
    assert chat_turns(page, "user") == ["What color is the sky?", "And the grass?", "天空是什么颜色？"]
    assert page.get_by_text("Error", exact=True).count() == 0 and "⚠" not in status(page, "chat_status")
    if not chat_turns(page, "bot")[-1].strip():  # a reply of no text is said to be one, with what to change
        assert "ended its reply at once" in status(page, "chat_status")
    page.screenshot(path=str(SCREENSHOTS / "chat_tab.png"), full_page=True)
    choose(page, "lang", "中文")  # the status line follows the language
    wait_for(lambda: "已加载" in status(page, "chat_status") and "browser-vqc" in status(page, "chat_status"), 20,
             "the status in Chinese", page)  # fmt: skip


def test_chat_reads_the_circuits_with_shots_and_a_refused_load_keeps_the_model(page):
    choose(page, "finetuning_type", "vqc")
    page.click("#refresh_adapters")
    wait_for(lambda: page.locator("#adapter input").input_value() == "browser-vqc", 20, "the adapter picker")
    page.get_by_role("tab", name="Chat").click()
    fill(page, "chat_shots", 100)
    page.click("#load_model")
    wait_for(lambda: "100 shots (seed 0)" in status(page, "chat_status"), 120, "the load to say how it reads", page)
    send_chat(page, "Hello")
    settled_reply(page)  # the reply's last updates (each sets the status line) have landed
    fill(page, "chat_noise", "depolarizing=2")  # a person's slip: the load is refused, the loaded model stays
    page.click("#load_model")
    wait_for(lambda: "⚠ --noise: depolarizing is a probability" in status(page, "chat_status"), 60, "the refusal")
    assert "Loaded" in status(page, "chat_status") and "100 shots" in status(page, "chat_status")
    send_chat(page, "Hello again")  # what they do next: the chat goes on with the model still loaded
    assert "No model loaded" not in status(page, "chat_status"), status(page, "chat_status")
    assert len(chat_turns(page, "bot")) >= 2
    fill(page, "chat_noise", "0")
    fill(page, "chat_shots", 0)


def test_an_evaluation_read_with_shots_and_noise_says_so_in_its_scores(page):
    page.get_by_role("tab", name="Evaluate").click()
    choose(page, "eval_adapters", "vqc/browser-vqc")
    fill(page, "n_shot", 0)
    fill(page, "eval_shots", 100)
    fill(page, "eval_noise", "readout=0.02")
    page.click("#start_eval")
    wait_for(lambda: "Finished" in status(page, "eval_status"), 180, "the evaluation to finish", page)
    reading = "100 shots (seed 0), noise readout=0.02"
    wait_for(lambda: reading in status(page, "eval_note"), 30, "the note to say how the circuits were read", page)
    wait_for(lambda: reading in page.locator("#eval_history").inner_text(), 30, "the history row to say it", page)
    fill(page, "eval_shots", 0)
    fill(page, "eval_noise", "0")


def test_an_evaluation_has_its_own_stop(page):
    page.get_by_role("tab", name="Evaluate").click()
    choose(page, "eval_adapters", "vqc/browser-vqc")
    fill(page, "n_shot", 5)
    page.click("#start_eval")
    wait_for(lambda: "Running" in status(page, "eval_status"), 60, "the evaluation to start")
    # the Train tab still shows the last training run, not "No run yet"
    page.get_by_role("tab", name="Train").click()
    wait_for(lambda: "browser-bad" in status(page) and "Failed" in status(page), 20, "the last training run", page)
    page.get_by_role("tab", name="Evaluate").click()
    page.click("#stop_eval")
    wait_for(lambda: "Stopped" in status(page, "eval_status"), 30, "the stopped evaluation", page)


def test_evaluate_tab_scores_adapters_of_two_methods_together(page, board):
    _, saves = board
    lora = f"lora/browser-long/{checkpoints(saves / 'qllm-tiny' / 'lora' / 'browser-long')[-1].name}"
    choose(page, "finetuning_type", "quanTA")  # the top bar's method does not narrow what Evaluate scores
    page.get_by_role("tab", name="Evaluate").click()
    choose(page, "eval_adapters", "vqc/browser-vqc")
    choose(page, "eval_adapters", lora)
    fill(page, "n_shot", 1)
    page.evaluate("""() => {
        window.evalStatuses = [];
        const box = document.querySelector('#eval_status');
        new MutationObserver(() => window.evalStatuses.push(box.innerText))
            .observe(box, {subtree: true, childList: true, characterData: true});
    }""")
    page.click("#start_eval")
    wait_for(lambda: "Finished" in status(page, "eval_status"), 180, "the evaluation to finish")
    running = [s for s in page.evaluate("() => window.evalStatuses") if "Running" in s]
    assert running and "100%" not in running[0], running  # the model-loading bars are not the evaluation's progress
    page.wait_for_timeout(2500)
    wait_for(lambda: "Average accuracy (%)" in page.locator("#eval_results").inner_text(), 20, "the category table")
    # readable numbers: a header for each column, two decimals throughout, how many questions, how to read Average
    scores = page.locator("#eval_results").inner_text()
    assert all(word in scores for word in ("score", "value", "questions")), scores
    assert re.search(r"Average accuracy \(%\)\s+\d+\.\d\d\s+\d+/60", scores), scores  # 5 subjects x 12
    assert "chance level 25 %" in status(page, "eval_note"), status(page, "eval_note")
    assert f"Scores of qllm-tiny/{lora}" in status(page, "eval_note"), status(page, "eval_note")  # whose they are
    wait_for(lambda: "browser-vqc" in page.locator("#eval_history").inner_text(), 20, "the history row")
    wait_for(lambda: lora in page.locator("#eval_history").inner_text(), 20, "the lora row")
    history = page.locator("#eval_history").inner_text()
    assert re.search(r"vqc/browser-vqc\s+\S+\s+\S+\s+1\s", history), history  # adapter, task, split, n_shot = 1
    wait_for(
        lambda: "bundled sample" in page.locator("#eval_history").inner_text(), 20, "where the questions came from"
    )
    page.screenshot(path=str(SCREENSHOTS / "evaluate_tab.png"), full_page=True)
    frame = page.locator("#eval_history").bounding_box()  # the data column within the table, not cut off
    last = page.locator("#eval_history th").last.bounding_box()
    assert last["x"] + last["width"] <= frame["x"] + frame["width"] + 1, (last, frame)
    choose(page, "lang", "中文")
    wait_for(lambda: "内置样例" in page.locator("#eval_history").inner_text(), 20, "the history in Chinese", page)
    assert "bundled sample" not in page.locator("#eval_history").inner_text()


def sweep_chart(page) -> dict[str, list[str]]:
    """What the robustness chart shows: each line's x values in the first panels (eval loss)."""
    return page.evaluate(
        "() => { const p = document.querySelector('#sweep_plot .js-plotly-plot'); const traces = {};"
        " if (p && p.data) p.data.forEach(t => { if (t.name && !(t.name in traces))"
        " traces[t.name] = Array.from(t.x).map(String); });"
        " return traces; }"
    )


def test_a_robustness_sweep_is_started_watched_stopped_resumed_and_read(page, board):
    _, saves = board
    page.get_by_role("tab", name="Evaluate").click()
    task = page.locator("#task input").first
    task.click()
    task.fill("")
    page.keyboard.type("qllm_tasks")
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    wait_for(lambda: "qllm_tasks" in task.input_value(), 10, "the dataset task picked", page)
    choose(page, "eval_adapters", "vqc/browser-vqc")
    fill(page, "batch_size", 32)
    open_group(page, "group_robustness")
    fill(page, "sweep_shots", "0,20")
    fill(page, "sweep_noise", "0,0.05")
    fill(page, "sweep_repeats", 2)
    page.click("#start_sweep")
    wait_for(lambda: "Running" in status(page, "sweep_status"), 60, "the sweep to start", page)
    # the first point (the exact reading) drawn as the ideal device's point, then stop mid-sweep
    wait_for(lambda: sweep_chart(page).get("noise") == ["ideal"], 120, "the exact reading drawn", page)
    assert "point" in status(page, "sweep_status") and "of 5" in status(page, "sweep_status"), status(
        page, "sweep_status"
    )
    page.click("#stop_sweep")
    wait_for(lambda: "Stopped" in status(page, "sweep_status"), 30, "the stopped sweep", page)
    assert "goes on from them" in status(page, "sweep_status")
    folder = saves / "qllm-tiny" / "vqc" / "browser-vqc" / "eval" / "robustness-qllm_tasks-test"
    kept = len(json.loads((folder / "robustness.json").read_text())["points"])
    assert 1 <= kept < 5
    page.click("#start_sweep")  # the same settings: it goes on from the kept points
    wait_for(lambda: "Finished" in status(page, "sweep_status"), 300, "the sweep to finish", page)
    page.wait_for_timeout(2500)
    resumed = (folder / "console.log").read_text()  # the second run's: only the missing points were scored
    assert f"point {kept + 1}/5" in resumed and "point 1/5" not in resumed, resumed
    chart = sweep_chart(page)
    assert chart["shots (mean ± std over seeds)"] == ["20"] and chart["noise"] == ["ideal", "dep 0.05"], chart
    assert chart["exact"] and chart["ablation: mean"], chart  # the level lines
    table = page.locator("#sweep_table").inner_text()
    assert "20 shots" in table and "ablation: mean" in table and "noise depolarizing=0.05" in table, table
    page.locator("#group_robustness").screenshot(path=str(SCREENSHOTS / "robustness_sweep.png"))


def test_export_merges_a_lora_adapter_and_explains_why_vqc_cannot(page, board):
    _, saves = board
    choose(page, "finetuning_type", "lora")
    page.get_by_role("tab", name="Export").click()
    wait_for(lambda: page.locator("#adapter input").input_value().startswith("browser-long"), 20, "a lora adapter")
    wait_for(lambda: status(page, "export_explanation").strip() == "", 20, "no explanation for lora")
    fill(page, "export_name", "browser-export")
    page.click("#start_export")
    wait_for(lambda: "Finished" in status(page, "export_status"), 180, "the export to finish", page)
    model = saves / "qllm-tiny" / "exports" / "browser-export" / "model"
    assert str(model) in status(page, "export_status"), "the result path is shown"
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(model).config.model_type == "qwen2", "a standalone model"
    page.screenshot(path=str(SCREENSHOTS / "export_tab.png"), full_page=True)
    # then a vqc adapter: one clear state, the reason alone, Export disabled, no name suggested
    choose(page, "finetuning_type", "vqc")
    wait_for(lambda: "cannot be exported" in status(page, "export_explanation"), 20, "the vqc explanation", page)
    assert page.locator("#start_export").is_disabled() and field_value(page, "export_name") == ""
    assert not page.locator("#export_status").is_visible() and not page.locator("#export_log").is_visible()
    assert page.get_by_text("cannot be exported").count() == 1
    # what a vqc adapter can take elsewhere: its trained circuits, drawn, and as OpenQASM 3
    wait_for(lambda: page.locator("#adapter input").input_value() == "browser-vqc", 20, "the vqc adapter", page)
    drawn = "() => document.querySelector('#circuit_diagram .qllm-caption')?.innerText || ''"
    wait_for(lambda: "layers.0.self_attn.q_proj" in page.evaluate(drawn), 30, "the trained circuit drawn", page)
    assert field_value(page, "circuit_module") == "model.layers.0.self_attn.q_proj"
    assert "trained angles rounded" in page.evaluate(drawn) and page.locator("#circuit_diagram svg").count() == 1
    choose(page, "circuit_module", "model.layers.3.self_attn.v_proj")
    wait_for(lambda: "layers.3.self_attn.v_proj" in page.evaluate(drawn), 30, "another module drawn", page)
    with page.expect_download() as download:
        page.click("#download_qasm")
    from qiskit import qasm3

    program = qasm3.loads(Path(download.value.path()).read_text())
    assert program.num_qubits == 8 and sorted(p.name for p in program.parameters)[0] == "h_0_0"
    assert download.value.suggested_filename.endswith("model.layers.3.self_attn.v_proj.qasm")
    # a second vqc run picked in the top bar: the circuit shown and downloaded is that run's, same module names or not
    second = saves / "qllm-tiny" / "vqc" / "browser-vqc-2"
    shutil.copytree(saves / "qllm-tiny" / "vqc" / "browser-vqc", second)  # stands in for a second training run
    from safetensors.torch import load_file, save_file

    weights = load_file(str(second / "adapter_model.safetensors"))
    key = next(k for k in weights if k.endswith("layers.0.self_attn.q_proj.vqc_circuit.crz_angles"))
    weights[key][0, 0, 0] = 1.2345  # the first CRZ angle of the first module, told apart from the first run's
    save_file(weights, str(second / "adapter_model.safetensors"))
    page.click("#refresh_adapters")
    choose(page, "adapter", "browser-vqc-2")
    wait_for(lambda: "browser-vqc-2" in page.evaluate(drawn), 30, "the second run's circuit", page)
    assert "layers.0.self_attn.q_proj" in page.evaluate(drawn)
    with page.expect_download() as download:
        page.click("#download_qasm")
    assert "crz(1.2345" in Path(download.value.path()).read_text()
    choose(page, "lang", "中文")
    wait_for(lambda: "无法导出" in status(page, "export_explanation"), 20, "the reason in Chinese", page)
    assert "线性更新" in status(page, "export_explanation") and "measured" not in status(page, "export_explanation")
    choose(page, "lang", "English")
    exports = sorted(path.name for path in (saves / "qllm-tiny" / "exports").iterdir())
    page.locator("#start_export").click(force=True)  # a click on the disabled button starts nothing
    page.wait_for_timeout(1000)
    assert sorted(path.name for path in (saves / "qllm-tiny" / "exports").iterdir()) == exports
    choose(page, "finetuning_type", "lora")  # back to lora: the last export shows again
    wait_for(lambda: page.locator("#export_status").is_visible() and not page.locator("#start_export").is_disabled(),
             20, "the lora export state")  # fmt: skip


def test_a_qpa_run_trains_on_the_board_and_exports_as_a_plain_model(page, board):
    """qpa, where a circuit generates LoRA's weights: its own fields, a run whose loss falls, then Export."""
    _, saves = board
    choose(page, "finetuning_type", "qpa")
    open_group(page, "group_method")
    shown = lambda: page.locator("#qpa_chunk_size").is_visible() and page.locator("#qpa_hidden").is_visible()  # noqa: E731
    wait_for(shown, 20, "the QPA fields", page)
    assert "QPA chunk size" in page.locator("#qpa_chunk_size").inner_text()
    assert "QPA mapping widths" in page.locator("#qpa_hidden").inner_text()
    assert not page.locator("#n_qubits").is_visible() and page.locator("#lora_rank").is_visible()
    fill(page, "qpa_chunk_size", 64)
    fill(page, "learning_rate", "0.01")
    configure_tiny_run(page, "qpa", "browser-qpa", samples=160)
    assert "--qpa_chunk_size 64 " in page.locator("#command textarea").input_value() + " "
    # a chunk larger than a layer's weights is refused at Start, at its field, before anything is written
    fill(page, "qpa_chunk_size", 100000)
    page.click("#start")
    wait_for(lambda: "at most 1536" in status(page, "train_message"), 60, "the chunk size refused", page)
    assert "QPA chunk size" in status(page, "train_message") and "qpa_chunk_size" in marked_fields(page)
    assert not (saves / "qllm-tiny" / "qpa" / "browser-qpa").exists()
    fill(page, "qpa_chunk_size", 64)
    page.click("#start")
    wait_for(lambda: "Finished" in status(page), 240, "the qpa run to finish", page)
    run = saves / "qllm-tiny" / "qpa" / "browser-qpa"
    logged = [json.loads(line) for line in (run / "trainer_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in logged if r["loss"] is not None]
    assert len(losses) >= 6 and sum(losses[-3:]) < sum(losses[:3]), losses  # the loss falls
    assert json.loads((run / "adapter_config.json").read_text())["chunk_size"] == 64
    # a generated LoRA update is linear in the input: Export folds it into the weights
    page.get_by_role("tab", name="Export").click()
    wait_for(lambda: page.locator("#adapter input").input_value() == "browser-qpa", 20, "the qpa adapter", page)
    wait_for(lambda: status(page, "export_explanation").strip() == "", 20, "no refusal for qpa", page)
    assert not page.locator("#start_export").is_disabled()
    fill(page, "export_name", "browser-qpa-export")
    page.click("#start_export")
    wait_for(lambda: "Finished" in status(page, "export_status"), 180, "the qpa export to finish", page)
    from transformers import AutoModelForCausalLM

    model = saves / "qllm-tiny" / "exports" / "browser-qpa-export" / "model"
    assert AutoModelForCausalLM.from_pretrained(model).config.model_type == "qwen2", "a standalone model"


@pytest.fixture
def small_disk(board):
    """A 1 MB file system (tmpfs) mounted where the board saves the run "browser-full"; root only."""
    _, saves = board
    folder = saves / "qllm-tiny" / "lora" / "browser-full"
    folder.mkdir(parents=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("mounting a small tmpfs needs root")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_full_disk_is_named_and_the_run_resumes_once_there_is_space(page, small_disk):
    configure_tiny_run(page, "lora", "browser-full", samples=80, save_steps=1)
    page.click("#start")
    wait_for(lambda: "Failed · output" in status(page) and "browser-full" in status(page), 180, "the failure", page)
    shown = status(page)
    assert "no space left on" in shown and "while saving checkpoint-" in shown, shown
    assert "Traceback" not in shown and "Start with the same run name resumes" in shown, shown
    kept = [path.name for path in checkpoints(small_disk)]
    assert kept and kept[-1] in shown, (kept, shown)
    # what the person does next: make room, press Start again with the same name
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    page.click("#start")
    wait_for(lambda: "Finished · output" in status(page) and "browser-full" in status(page), 180, "the end", page)
    assert f"resuming from {small_disk / kept[-1]}" in (small_disk / "console.log").read_text()
