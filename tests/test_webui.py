"""The board's pieces without a browser: the form's checks, the runner's refusal and queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psutil
import pytest

from qllm.errors import ArgumentError
from qllm.train.log_file import read_log
from qllm.webui.log_view import readable_log
from qllm.webui.runner import Job, Runner
from qllm.webui.train_form import FIELDS, command_line, form_to_args, parse_devices


def form(**overrides):
    values = {field.key: field.default for field in FIELDS}
    values["output_name"] = "unit-run"
    return {**values, **overrides}


@pytest.mark.parametrize(
    ("overrides", "model", "field"),
    [
        ({"output_name": "a/b"}, "qllm-tiny", "output_name"),
        ({"output_name": ".."}, "qllm-tiny", "output_name"),
        ({"learning_rate": "1e-3x"}, "qllm-tiny", "learning_rate"),
        ({"dataset": []}, "qllm-tiny", "dataset"),
        ({"extra_args": "{seed: 1}"}, "qllm-tiny", "extra_args"),
        ({}, "/no/such/model", "model_name_or_path"),
        ({"n_qubits": 40}, "qllm-tiny", "n_qubits"),
        ({"cutoff_len": 0}, "qllm-tiny", "cutoff_len"),
        # escapes: the form's own paths cannot be moved by Extra arguments, nor a cache put outside saves/
        ({"extra_args": '{"output_dir": "/tmp/model-copy", "overwrite_output_dir": true}'}, "qllm-tiny", "extra_args"),
        ({"extra_args": '{"tokenized_path": "/etc/qllm"}'}, "qllm-tiny", "extra_args"),
        ({"extra_args": '{"model_name_or_path": "/etc"}'}, "qllm-tiny", "extra_args"),
        ({"extra_args": '{"logging_dir": "/tmp/elsewhere"}'}, "qllm-tiny", "extra_args"),
        ({"tokenized_path": "/tmp/elsewhere/cache"}, "qllm-tiny", "tokenized_path"),
        ({"tokenized_path": "../../outside"}, "qllm-tiny", "tokenized_path"),
        ({}, "/etc", "model_name_or_path"),
        ({"dataset_dir": "/etc"}, "qllm-tiny", "dataset_dir"),
    ],
)
def test_form_errors_name_the_field(overrides, model, field):
    with pytest.raises(ArgumentError) as caught:
        form_to_args(form(**overrides), model, "vqc", "qwen")
    assert caught.value.field == field


def test_form_gives_the_cli_arguments_of_the_method():
    args = form_to_args(form(extra_args='{"seed": 3}'), "qllm-tiny", "quanTA", "qwen")
    assert args["finetuning_type"] == "quanTA" and args["per_dim_features"] == "16,8,4,2" and args["seed"] == 3
    assert "n_qubits" not in args and "lora_rank" not in args
    assert args["output_dir"].endswith("qllm-tiny/quanTA/unit-run")
    assert command_line(args).startswith("python -m qllm train --model_name_or_path qllm-tiny --finetuning_type quanTA")


def test_runner_refuses_a_second_run_and_queues_jobs(tmp_path):
    runner = Runner(tmp_path / "run.json")
    runner.start([Job("train", "--help", str(tmp_path / "a")), Job("eval", "--help", str(tmp_path / "b"))])
    with pytest.raises(RuntimeError, match="already in progress"):
        runner.start([Job("train", "--help", str(tmp_path / "c"))])
    deadline = time.time() + 60
    while runner.busy() and time.time() < deadline:
        time.sleep(0.5)
    state = runner.state()
    assert state.status == "finished" and state.done == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert "usage" in (tmp_path / "b" / "console.log").read_text()


def test_after_a_training_run_an_evaluation_leaves_it_on_the_train_tab(tmp_path):
    """The runner keeps the last training run (and the form it started with) beside the evaluations after it."""
    runner = Runner(tmp_path / "run.json")

    def finish() -> None:
        deadline = time.time() + 60
        while runner.busy() and time.time() < deadline:
            time.sleep(0.3)

    runner.start([Job("train", "--help", str(tmp_path / "run"))], form={"output_name": "run"})
    finish()
    runner.start([Job("eval", "--help", str(tmp_path / "eval-1"))])
    assert runner.state().kind == "eval"
    for _ in range(2):  # and after a second evaluation still
        finish()
        trained = runner.train_state()
        assert trained.kind == "train" and trained.folder == str(tmp_path / "run") and trained.status == "finished"
        assert trained.form == {"output_name": "run"}
        first_line = runner.log_tail(10_000, trained).splitlines()[0]  # its own console.log, not the evaluation's
        assert first_line.startswith("$ ") and first_line.endswith(" -m qllm train --help"), first_line
        runner.start([Job("eval", "--help", str(tmp_path / "eval-2"))])


def test_the_log_view_keeps_steps_and_messages_and_reduces_the_noise():
    console = (
        "Tokenizing:  50%|█████     | 20/40 [00:00<00:00]\rTokenizing: 100%|██████████| 40/40 [00:00<00:00]\n"
        "loaded qllm-tiny: 1.12M parameters\n"
        "/x/modeling_utils.py:3303: FutureWarning: `is_gradient_checkpointing` is deprecated\n"
        "  warnings.warn(\n"
        "  4%|▍         | 1/24 [00:00<00:07,  3.17it/s]step 1/24 loss 6.968 lr 5e-05\n"
        "{'loss': '6.968', 'grad_norm': '9.047', 'learning_rate': '5e-05', 'epoch': '0.125'}\n"
        "\x1b[A  8%|▊         | 2/24 [00:00<00:05,  4.37it/s]step 2/24 loss 5.827 lr 4.792e-05\n"
        "{'train_runtime': '3.183', 'train_loss': '6.725'}\n"
        "UserWarning: something else\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "ValueError: boom\n"
        " 12%|█▎        | 3/24 [00:00<00:03,  5.43it/s]"
    )
    shown = readable_log(console).splitlines()
    assert shown == [
        "loaded qllm-tiny: 1.12M parameters",
        "step 1/24 loss 6.968 lr 5e-05",
        "step 2/24 loss 5.827 lr 4.792e-05",
        "train_runtime 3.183 · train_loss 6.725",
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "ValueError: boom",
        "⚠ 2 warnings (full text in console.log)",
        "12%|█▎        | 3/24 [00:00<00:03,  5.43it/s]",
    ]


def test_an_ended_run_s_log_reads_to_its_end_without_a_leftover_bar_or_metrics_block():
    from qllm.webui.log_view import readable_log

    console = (
        "step 8/8 eval_loss 6.931\n"
        "{'train_runtime': '0.2253', 'train_loss': '6.775'}\n"
        "***** train metrics *****\n  epoch                    =        1.0\n  train_loss               =     6.7752\n"
        "final adapter: eval_loss 6.931\n"
        "***** eval metrics *****\n  eval_loss               =     6.9311\n"
        "saved the lora adapter to /tmp/x2\ndone: train_loss 6.7752, eval_loss 6.9311\n"
        "100%|██████████| 1/1 [00:00<00:00, 1769.75it/s]"
    )
    assert readable_log(console, running=False).splitlines() == [
        "step 8/8 eval_loss 6.931",
        "train_runtime 0.2253 · train_loss 6.775",
        "final adapter: eval_loss 6.931",
        "saved the lora adapter to /tmp/x2",
        "done: train_loss 6.7752, eval_loss 6.9311",
    ]
    assert readable_log(console).splitlines()[-1].startswith("100%|")  # while running, the bar is the progress


def test_a_zoom_is_kept_on_the_redrawn_chart_and_a_bad_one_is_ignored():
    import plotly.graph_objects as go

    from qllm.webui.charts import keep_zoom

    figure = keep_zoom(go.Figure(), '{"x": [2, 8]}')
    assert list(figure.layout.xaxis.range) == [2, 8] and figure.layout.xaxis.autorange is False
    assert figure.layout.yaxis.range is None
    for zoom in ("", "not json", '{"x": 3}', "[1, 2]"):
        assert keep_zoom(go.Figure(), zoom).layout.xaxis.range is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", (1, None)), ("auto", (1, None)), ("cpu", (1, "")), ("cpu:2", (2, ""))],
)
def test_devices_field_on_a_cpu_machine(text, expected):
    assert parse_devices(text) == expected


@pytest.mark.parametrize("text", ["0,1", "cpu:0", "cpu:999", "gpu", "1,1"])
def test_devices_field_refuses_what_this_machine_cannot_run(text):
    with pytest.raises(ArgumentError) as caught:
        parse_devices(text)
    assert caught.value.field == "devices"


def test_several_processes_launch_through_torchrun():
    job = Job("train", "run.yaml", "out", processes=2, visible_devices="")
    command = job.command()
    assert command[1:5] == ["-m", "torch.distributed.run", "--nproc_per_node", "2"]
    assert command[-4:] == ["-m", "qllm", "train", "run.yaml"]
    assert job.environment("token")["CUDA_VISIBLE_DEVICES"] == ""
    assert command_line({"dataset": "x"}, processes=2).startswith("torchrun --nproc_per_node 2 -m qllm train")


def test_stop_ends_every_rank_of_a_two_process_run(tmp_path):
    """Stop on a torchrun run of 2 CPU processes: torchrun and both ranks end (the ranks have sessions of their own)."""
    from qllm.paths import DATA_DIR
    from qllm.webui.runner import process_tree, write_args

    out = tmp_path / "run"
    args = {"model_name_or_path": "qllm-tiny", "dataset": "qllm_tasks", "dataset_dir": str(DATA_DIR),
            "finetuning_type": "lora", "max_steps": 100000, "logging_steps": 1, "save_steps": 100000,
            "per_device_train_batch_size": 1, "output_dir": str(out)}  # fmt: skip
    runner = Runner(tmp_path / "state.json")
    runner.start([Job("train", str(write_args(tmp_path / "args.yaml", args)), str(out), 2, "")])
    deadline = time.time() + 240
    while len(read_log(out)) < 2 and runner.busy() and time.time() < deadline:
        time.sleep(0.5)
    assert len(read_log(out)) >= 2, (out / "console.log").read_text()[-3000:]
    steps = [record["current_steps"] for record in read_log(out)]
    assert steps == sorted(set(steps)), "one writer: no step logged twice"
    tree = process_tree(runner.state().pid)
    workers = [p for p in tree if "qllm" in " ".join(p.cmdline()) and "torch.distributed.run" not in p.cmdline()]
    assert len(workers) >= 2, [p.cmdline() for p in tree]
    runner.stop()
    assert runner.state().status == "stopped"
    assert not [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.parametrize("identity", ["old start time", "no token", "wrong token"])
def test_a_state_naming_a_reused_pid_is_ended_and_stop_signals_nothing(tmp_path, identity):
    """A state file left 'running' whose PID now belongs to another process (here a sleeper of ours)."""
    stranger = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], env={"QLLM_RUN_TOKEN": "theirs"}
    )
    try:
        process = psutil.Process(stranger.pid)
        deadline = time.time() + 30  # until the child has exec'd: before that it shows the forking parent's environment
        while process.environ().get("QLLM_RUN_TOKEN") != "theirs" and time.time() < deadline:
            time.sleep(0.05)
        created = process.create_time()
        state = {"kind": "train", "folder": str(tmp_path / "run"), "pid": stranger.pid, "status": "running",
                 "pid_created": created - 3600 if identity == "old start time" else created,
                 "token": None if identity == "no token" else "ours"}  # fmt: skip
        (tmp_path / "state.json").write_text(json.dumps(state))
        runner = Runner(tmp_path / "state.json")
        assert runner.state().status == "failed" and not runner.busy()  # shown as ended: Start is allowed again
        state["status"] = "running"
        (tmp_path / "state.json").write_text(json.dumps(state))
        runner.stop()
        assert stranger.poll() is None, "Stop signalled a process that is not the board's run"
    finally:
        stranger.kill()
        stranger.wait()


def test_the_board_s_own_run_is_recognised_and_stopped_after_a_board_restart(tmp_path):
    runner = Runner(tmp_path / "state.json")
    sleeper = tmp_path / "sleep.py"
    runner.start([Job("train", "--help", str(tmp_path / "run"))])
    state = runner.state()
    assert state.token and state.pid_created
    # a new board (a restart) knows the run only from the state file
    job = Job("train", str(sleeper), str(tmp_path / "run2"))
    sleeper.write_text("import time\ntime.sleep(120)\n")
    while runner.busy():
        time.sleep(0.2)
    job.command = lambda: [sys.executable, str(sleeper)]
    runner.start([job])
    restarted = Runner(tmp_path / "state.json")
    assert restarted.busy()
    process = psutil.Process(restarted.state().pid)
    assert restarted.stop().status == "stopped"
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE


@pytest.mark.parametrize("name", ["../../../../elsewhere", "/etc", "run/../../../../x"])
def test_a_typed_adapter_name_cannot_leave_the_saves_folder(name):
    from qllm.webui.saves import run_folder

    with pytest.raises(ArgumentError) as caught:
        run_folder("qllm-tiny", "lora", name)
    assert caught.value.field == "adapter" and "outside the board's saves folder" in caught.value.message


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        ([], True),
        (["--host", "0.0.0.0"], False),
        (["--share"], False),
        (["--host", "0.0.0.0", "--allow-unauthenticated"], True),
        (["--host", "0.0.0.0", "--auth", "alice:s3cret"], True),
        (["--auth", "alice"], False),
    ],
)
def test_a_board_reachable_beyond_this_machine_needs_a_password(argv, allowed):
    import argparse

    from qllm.webui.interface import board_auth

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--share", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--allow-unauthenticated", action="store_true")
    options = parser.parse_args(argv)
    if allowed:
        board_auth(options.auth, options.host, options.share, options.allow_unauthenticated)
    else:
        with pytest.raises(ArgumentError) as caught:
            board_auth(options.auth, options.host, options.share, options.allow_unauthenticated)
        assert caught.value.field == "auth"


def test_qllm_webui_on_all_interfaces_without_auth_exits_2_with_one_line():
    done = subprocess.run(
        [sys.executable, "-m", "qllm", "webui", "--host", "0.0.0.0"], capture_output=True, text=True, timeout=120
    )
    lines = [line for line in done.stderr.splitlines() if line.strip() and "warn" not in line.lower()]
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: --auth:"), done.stderr


def test_with_auth_a_request_without_login_gets_401(tmp_path):
    """A live board on loopback with --auth: the API answers 401 until the login form is posted."""
    import socket
    import urllib.error
    import urllib.parse
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "QLLM_SAVES_DIR": str(tmp_path / "saves"), "GRADIO_ANALYTICS_ENABLED": "False"}
    board = subprocess.Popen(
        [sys.executable, "-m", "qllm", "webui", "--port", str(port), "--auth", "alice:s3cret"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:  # wait for the server to answer, not for a time
            try:
                urllib.request.urlopen(f"{base}/gradio_api/login_check", timeout=5)
                status = 200
            except urllib.error.HTTPError as err:
                status = err.code
            except OSError:
                assert board.poll() is None and time.time() < deadline, "the board did not start"
                time.sleep(0.5)
                continue
            break
        assert status == 401
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/config", timeout=10)
        assert refused.value.code == 401
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        login = urllib.parse.urlencode({"username": "alice", "password": "s3cret"}).encode()
        opener.open(f"{base}/login", data=login, timeout=10)
        assert opener.open(f"{base}/config", timeout=10).status == 200
    finally:
        board.terminate()
        board.wait(timeout=30)


def test_the_chat_history_reaches_the_model_as_plain_text():
    """gradio 6's Chatbot hands each message back as a list of parts: the second message broke on it."""
    from qllm.webui.chat_session import conversation, message_text

    history = [
        {"role": "user", "content": [{"type": "text", "text": "What color is the sky?"}], "metadata": None},
        {"role": "assistant", "content": [{"type": "text", "text": "Blue"}, {"type": "text", "text": "."}]},
        {"role": "user", "content": "a string, as the board wrote it"},
        {"role": "assistant", "content": [{"type": "file", "file": {"path": "x.png"}}]},
    ]
    assert conversation(history, "天空呢？") == [
        {"role": "user", "content": "What color is the sky?"},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "a string, as the board wrote it"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "天空呢？"},
    ]
    assert message_text({"type": "text", "text": "one part"}) == "one part"


def test_a_run_stopped_before_its_first_checkpoint_says_nothing_was_kept(tmp_path):
    """Stopped at step 2 of 100 with save steps 10: the status says no checkpoint exists, not how to resume."""
    from qllm.webui.handlers.train import status_markdown

    folder = tmp_path / "run"
    folder.mkdir()
    records = [{"current_steps": step, "total_steps": 100, "loss": 5.0 - step, "eval_loss": None} for step in (1, 2)]
    (folder / "trainer_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    state = {"kind": "train", "folder": str(folder), "status": "stopped", "pid": None}
    (tmp_path / "state.json").write_text(json.dumps(state))
    shown = status_markdown(Runner(tmp_path / "state.json"), "en")
    assert "last step's loss 3.0000" in shown and "no checkpoint was saved yet" in shown, shown
    assert "resumes" not in shown and "final" not in shown, shown
