"""The board's handlers without a browser: values in, ``{element name: update}`` out.

The browser suite proves what a person sees; these say what each click computes, and that the
tabs' wiring and the one RunMonitor behave (no redraw when nothing changed, a redraw when a run moves).
"""

from __future__ import annotations

import json
import os

import gradio as gr
import pytest

from qllm.webui.handlers import evaluate, export, robustness, train
from qllm.webui.monitor import RunMonitor
from qllm.webui.runner import Runner
from qllm.webui.train_form import FIELD_KEYS, FIELDS
from qllm.webui.wiring import connect


def form_values(**overrides) -> tuple:
    values = {field.key: field.default for field in FIELDS}
    values.update(output_name="handler-run", **overrides)
    return tuple(values[key] for key in FIELD_KEYS)


def test_connect_fills_the_outputs_by_name_and_refuses_an_unwired_name():
    with gr.Blocks():
        elements = {"a": gr.Textbox(), "b": gr.Textbox(), "go": gr.Button()}
        good = connect(elements["go"].click, lambda a: {"b": a + "!"}, elements, ["a"], ["a", "b"])
        bad = connect(elements["go"].click, lambda a: {"a": a}, elements, ["a"], ["b"])
    assert good.fn("x")[1] == "x!" and isinstance(good.fn("x")[0], type(gr.skip()))  # "a" is left as it is
    with pytest.raises(KeyError, match="not among its outputs"):
        bad.fn("x")


def test_a_refused_form_marks_its_field_opens_its_section_and_the_next_check_clears_it():
    top_bar = ("qllm-tiny", "vqc", "qwen", "none")
    refused = train.preview_command("English", None, *top_bar, *form_values(learning_rate="1e-3x"))
    assert refused["train_message"].startswith("⚠ ") and "Learning rate" in refused["train_message"]
    assert refused["learning_rate"]["elem_classes"] == ["qllm-invalid"]
    assert refused["group_optim"]["open"] is True and refused["train_marked"] == "learning_rate"
    assert refused["command"]["visible"] is False
    fixed = train.preview_command("English", "learning_rate", "qllm-tiny", "vqc", "qwen", "none", *form_values())
    assert fixed["learning_rate"]["elem_classes"] == [] and fixed["train_marked"] is None
    assert fixed["command"]["value"].startswith("python -m qllm train --model_name_or_path qllm-tiny")
    assert fixed["train_message"] == "" and "group_optim" not in fixed  # nothing else is touched


def test_a_method_shows_its_own_fields_and_notes():
    shown = train.show_method("quanTA")
    assert shown["per_dim_features"]["visible"] is True and shown["n_qubits"]["visible"] is False
    assert "quanTA" in shown["method_notes"]


def test_the_task_list_is_the_registry_in_the_page_s_language(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "mapping.json").write_text("{}")
    choices = evaluate.task_choices("中文", str(tmp_path), "mine")["task"]
    names = [name for _, name in choices["choices"]]
    assert names[:6] == ["mmlu", "mmlu_sample", "cmmlu", "cmmlu_sample", "ceval", "ceval_sample"]
    assert "mine" in names and "qllm_tasks" in names and choices["value"] == "mine"
    assert any("科目" in label for label, _ in choices["choices"])


def test_evaluate_refuses_a_misspelt_task_with_the_closest_name(tmp_path):
    runner = Runner(tmp_path / "state.json")
    said = evaluate.start(runner, "English", "qllm-tiny", "lora", "qwen", "mmlu_smaple", str(tmp_path), 0, "auto",
                          "test", 4, [])  # fmt: skip
    assert "did you mean mmlu_sample?" in said["eval_message"] and runner.state() is None


def test_a_reading_of_no_circuit_is_refused_at_its_field(tmp_path):
    runner = Runner(tmp_path / "state.json")
    said = evaluate.start(runner, "English", "qllm-tiny", "lora", "qwen", "mmlu_sample", str(tmp_path), 0, "auto",
                          "test", 4, [], 100, "0", "none")  # fmt: skip
    assert said["eval_message"].startswith("⚠ --shots: applies to the circuits of vqc / tq adapters")
    said = evaluate.start(runner, "English", "qllm-tiny", "lora", "qwen", "mmlu_sample", str(tmp_path), 0, "auto",
                          "test", 4, [], 0, "depolarizing=3", "none")  # fmt: skip
    assert said["eval_message"].startswith("⚠ --noise: depolarizing is a probability") and runner.state() is None


@pytest.mark.parametrize(
    "chosen, shots, noise, says",
    [
        ([], "0,100", "0", "choose one vqc or tq adapter"),
        (["lora/run-1"], "0,100", "0", "a lora adapter has no circuit to read"),
        (["vqc/run-1", "tq/run-2"], "0,100", "0", "choose one vqc or tq adapter"),
        (["vqc/run-1"], "0,-100", "0", "--shots: a comma list of whole numbers"),
        (["vqc/run-1"], "0,100", "0;bogus=1", "--noise: unknown channel 'bogus'"),
    ],
)
def test_a_sweep_is_refused_with_one_line_before_anything_starts(tmp_path, chosen, shots, noise, says):
    runner = Runner(tmp_path / "state.json")
    said = robustness.start(runner, "English", "qllm-tiny", "qwen", "qllm_tasks", str(tmp_path), 0, "auto", "test",
                            4, chosen, shots, noise, ["none"], 3)  # fmt: skip
    assert said["sweep_message"].startswith("⚠") and says in said["sweep_message"] and runner.state() is None


def test_a_sweep_goes_on_in_the_folder_of_an_earlier_sweep_with_the_same_settings(tmp_path, monkeypatch):
    from qllm.robustness.workflow import eval_flags

    values = {"shots": "0,100", "model_name_or_path": "qllm-tiny", "adapter_name_or_path": "run", "task": "qllm_tasks"}
    evaluations = tmp_path / "eval"
    assert robustness.sweep_folder(tmp_path, "qllm_tasks", "test", values) == evaluations / "robustness-qllm_tasks-test"
    for name, flags in (("robustness-qllm_tasks-test", ["--task", "other"]),
                        ("robustness-qllm_tasks-test-20261202-010101", eval_flags(values))):  # fmt: skip
        (evaluations / name).mkdir(parents=True)
        (evaluations / name / "robustness.json").write_text(json.dumps({"eval_flags": flags, "points": []}))
    found = robustness.sweep_folder(tmp_path, "qllm_tasks", "test", {**values, "shots": "0,10"})  # another grid
    assert found.name == "robustness-qllm_tasks-test-20261202-010101"
    other = robustness.sweep_folder(tmp_path, "qllm_tasks", "test", {**values, "batch_size": 32})
    assert other.name.startswith("robustness-qllm_tasks-test-") and not other.exists()


def test_the_sweep_monitor_draws_the_points_kept_so_far(tmp_path):
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "console.log").write_text("point 1/3: ...\npoint 2/3: ...\n")
    points = [
        {"shots": 0, "noise": "0", "ablation": "none", "repeat": 0, "seed": 0, "metrics": {"eval_loss": 3.4}},
        {"shots": 100, "noise": "0", "ablation": "none", "repeat": 0, "seed": 0, "metrics": {"eval_loss": 3.5}},
    ]
    (folder / "robustness.json").write_text(json.dumps({"eval_flags": [], "points": points, "task": "qllm_tasks"}))
    state = {"kind": "robustness", "folder": str(folder), "status": "stopped", "pid": None}
    (tmp_path / "state.json").write_text(json.dumps(state))
    shown = robustness.monitor(robustness.watcher(Runner(tmp_path / "state.json")), "English", None)
    assert "Stopped" in shown["sweep_status"] and "goes on from them" in shown["sweep_status"]
    assert "| 100 shots | 100 | 0 | 1 | 3.5000 |" in shown["sweep_table"]
    traces = [(trace.name, list(trace.x)) for trace in shown["sweep_plot"].data if trace.name]
    assert traces == [("exact", [100 / 1.5, 150]), ("exact", ["ideal"]),  # the level line across both panels
                      ("shots (mean ± std over seeds)", [100]), ("noise", ["ideal"])]  # fmt: skip


def test_export_of_a_vqc_adapter_is_one_disabled_state():
    state = export.choice("English", "qllm-tiny", "vqc", None)
    assert state["start_export"]["interactive"] is False and state["export_name"]["value"] == ""
    assert "vqc" in state["export_explanation"] and state["circuit_box"]["visible"] is False
    missing = export.choice("English", "qllm-tiny", "vqc", "no-such-run")  # a picked run that is not there
    assert "⚠" in missing["export_explanation"] and missing["circuit_box"]["visible"] is False
    lora = export.choice("English", "qllm-tiny", "lora", "run-1")
    assert lora["export_name"]["value"] == "lora-run-1-merged" and lora["start_export"]["interactive"] is True


def test_one_monitor_redraws_only_when_the_job_moves(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "console.log").write_text("step 1\n")
    state = {"kind": "export", "folder": str(folder), "status": "running", "pid": None}
    (tmp_path / "state.json").write_text(json.dumps(state))
    runner = Runner(tmp_path / "state.json")
    watcher = RunMonitor(runner, "export")
    first = watcher.look("English", None)
    assert first is not None and first.console.endswith("step 1") and not first.same_job
    assert watcher.look("English", first.drawn) is None  # an idle tick: nothing read, nothing sent
    assert RunMonitor(runner, "eval").look("English", None).state is None  # another tab's kind of job
    (folder / "console.log").write_text("step 1\nerror: --x: broken; fix it\n")
    os.utime(folder / "console.log", (1, 1))  # a different modification time, whatever the clock's resolution
    moved = watcher.look("English", first.drawn)
    assert moved is not None and moved.same_job and "step 1" in moved.log()
    assert watcher.look("中文", moved.drawn) is not None  # a language change redraws
    update = export.monitor(watcher, "English", first.drawn)
    assert update["export_seen"] == moved.drawn


def test_the_ansatz_drawing_follows_method_qubits_and_depth():
    drawn = train.ansatz("English", "tq", 3, 2)["ansatz_diagram"]
    assert drawn["visible"] is True and "<svg" in drawn["value"] and "h[1][2]" in drawn["value"]
    assert "3 qubits, depth 2" in drawn["value"] and "h[0][3]" not in drawn["value"]
    assert train.ansatz("English", "lora", 3, 2)["ansatz_diagram"]["visible"] is False
    refused = train.ansatz("English", "vqc", 40, 1)["ansatz_diagram"]["value"]
    assert "Qubits 40" in refused and "must be 1-16" in refused and "<svg" not in refused
    deep = train.ansatz("中文", "vqc", 2, 6)["ansatz_diagram"]["value"]
    assert "仅画出前 4 层" in deep and "h[3][1]" in deep and "h[4][1]" not in deep


def test_circuit_drawings_from_request_threads_after_the_board_s_imports():
    """qiskit first imported by a thread that then ended made the next QuantumCircuit() crash the board
    (segfault); the board imports it on its main thread first, and request threads draw as they please."""
    import subprocess
    import sys

    script = """
import threading
from concurrent.futures import ThreadPoolExecutor
from qllm.webui.heavy_imports import import_on_main_thread, load
import_on_main_thread()
ended = threading.Thread(target=lambda: (load("qllm.circuit.qiskit_circuit"), load("qllm.circuit.drawing")))
ended.start(); ended.join()
from qllm.webui.handlers.train import ansatz
for _ in range(3):
    with ThreadPoolExecutor(4) as pool:
        drawn = list(pool.map(lambda n: ansatz("English", "vqc", n, 2)["ansatz_diagram"]["value"], (2, 3, 4, 5)))
print(all("<svg" in svg for svg in drawn))
"""
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-2000:]


def test_quantization_and_sharding_reach_the_command_and_a_sharding_this_machine_cannot_run_is_said():
    quantized = train.preview_command("English", None, "qllm-tiny", "lora", "qwen", "4", *form_values())
    assert "--quantization_bit 4" in quantized["command"]["value"] and quantized["train_message"] == ""
    one = train.preview_command("English", None, "qllm-tiny", "lora", "qwen", "none", *form_values(sharding="FSDP"))
    assert "--fsdp 'full_shard auto_wrap'" in one["command"]["value"]  # shown, to run where it can
    assert one["sharding"]["elem_classes"] == ["qllm-invalid"] and "Sharding" in one["train_message"]
    assert "nproc_per_node 2" in one["train_message"]
    zero = train.preview_command(
        "English", None, "qllm-tiny", "lora", "qwen", "none", *form_values(sharding="ZeRO-3", devices="cpu:2")
    )
    assert zero["command"]["value"].startswith("torchrun --nproc_per_node 2 -m qllm train")
    assert "examples/deepspeed/ds_z3_config.json" in zero["command"]["value"]
