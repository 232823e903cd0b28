"""The Runner: owns the one training or evaluation process the board runs at a time.

A run is `sys.executable -m qllm <train|eval> <args.yaml>` in its own process group,
its output going to a file (never an unread pipe, so it cannot stall).  What the board
knows about the run lives in a small state file, so a refreshed page — or a restarted
board — finds the live run again, and the run goes on with no browser open.  Progress
is read from the files the run writes (`trainer_log.jsonl`, `console.log`), never from
the process.  Several evaluations queue up and run one after another.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
import yaml

from qllm.constants import BOARD_STATE, CONSOLE_LOG, EXPORTED_MODEL, FINISHED_MARKER, RESULTS_FILE
from qllm.train.output_dir import claim_run_folder
from qllm.webui.log_view import ANSI_ESCAPE
from qllm.webui.saves import SAVES

STATE_FILE = SAVES / BOARD_STATE
STOP_GRACE_SECONDS = 8


@dataclass
class Job:
    kind: str  # "train", "eval", "export" or "robustness" (the `qllm` command it runs)
    args_file: str
    folder: str  # output_dir of a training run, save_dir of an evaluation
    processes: int = 1  # more than one: launched through torchrun (data parallel)
    visible_devices: str | None = None  # CUDA_VISIBLE_DEVICES for the job; None leaves it as it is

    def command(self) -> list[str]:
        """The job's command line: `python -m qllm KIND FILE`, under torchrun for several processes."""
        qllm = ["-m", "qllm", self.kind, self.args_file]
        if self.processes == 1:
            return [sys.executable, *qllm]
        rendezvous = ["--master_addr", "127.0.0.1", "--master_port", str(free_port())]
        return [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            str(self.processes),
            *rendezvous,
            *qllm,
        ]

    def environment(self, token: str) -> dict[str, str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", TOKEN_VARIABLE: token}
        if self.visible_devices is not None:
            env["CUDA_VISIBLE_DEVICES"] = self.visible_devices
        if self.processes > 1:  # processes sharing the CPU's cores: one torch thread pool each, not one per core each
            env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // self.processes)))
        return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (torchrun's workers run in sessions of their own)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@dataclass
class RunState:
    kind: str
    folder: str  # where the current job writes
    pid: int | None = None
    # The process's identity beyond its PID, which the system reuses (after a reboot, say):
    # its start time, and a token the board put in its environment.
    pid_created: float | None = None
    token: str | None = None
    status: str = "running"  # running, finished, failed, stopped
    started: float = field(default_factory=time.time)
    ended: float | None = None
    return_code: int | None = None
    queue: list[dict] = field(default_factory=list)  # jobs still to start (evaluations)
    done: list[str] = field(default_factory=list)  # folders of finished jobs of this batch
    # for an evaluation or export: the training run before it, as it ended; the Train tab keeps showing it
    last_train: dict | None = None
    form: dict | None = None  # the board's top bar and form at Start: a reloaded page shows them again

    @property
    def log_path(self) -> Path:
        return Path(self.folder) / CONSOLE_LOG


TOKEN_VARIABLE = "QLLM_RUN_TOKEN"


def run_process(state: RunState) -> psutil.Process | None:
    """The live process the state describes, or None: gone, a zombie, or another process with the same PID.

    The PID must carry the start time recorded at launch and, where its environment can be
    read, the board's token; a state that fails either is not our run, and nothing signals it.
    """
    if state.pid is None or state.pid_created is None:
        return None
    try:
        process = psutil.Process(state.pid)
        if abs(process.create_time() - state.pid_created) > 0.05 or process.status() == psutil.STATUS_ZOMBIE:
            return None
        with contextlib.suppress(psutil.AccessDenied):
            if process.environ().get(TOKEN_VARIABLE) != state.token:
                return None
        return process
    except psutil.NoSuchProcess:
        return None


def write_args(path: Path, args: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(args, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


class Runner:
    def __init__(self, state_file: Path = STATE_FILE) -> None:
        self.state_file = state_file
        self._processes: dict[int, subprocess.Popen] = {}

    # -- state --------------------------------------------------------------------------
    def state(self) -> RunState | None:
        """The current (or last) run, its status brought up to date; starts queued jobs."""
        if not self.state_file.is_file():
            return None
        recorded = json.loads(self.state_file.read_text())
        state = RunState(**{key: value for key, value in recorded.items() if key in RunState.__dataclass_fields__})
        if state.status == "running" and not self._is_running(state):
            code = self._return_code(state)
            if code == 0 and state.queue:
                state.done.append(state.folder)
                self._start(state, Job(**state.queue.pop(0)))
            else:
                state.status = "finished" if code == 0 else "failed"
                state.return_code, state.ended = code, time.time()
                if code == 0:
                    state.done.append(state.folder)
            self._save(state)
        return state

    def _save(self, state: RunState) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(state)))
        temporary.replace(self.state_file)

    def _is_running(self, state: RunState) -> bool:
        process = self._processes.get(state.pid or -1)
        if process is not None:
            return process.poll() is None
        return run_process(state) is not None

    def _return_code(self, state: RunState) -> int:
        """The exit status of our child; for a run an earlier board started, whether it wrote its results."""
        process = self._processes.pop(state.pid or -1, None)
        if process is not None:
            return process.wait()
        folder = Path(state.folder)
        # of a training, an evaluation, an export, a robustness sweep
        results = (FINISHED_MARKER, RESULTS_FILE, f"{EXPORTED_MODEL}/config.json", "robustness.md")
        return 0 if any((folder / name).is_file() for name in results) else 1

    def train_state(self) -> RunState | None:
        """The current training run, or the last one while an evaluation runs (or ran) after it."""
        state = self.state()
        if state is None or state.kind == "train":
            return state
        return RunState(**state.last_train) if state.last_train else None

    def busy(self) -> bool:
        state = self.state()
        return state is not None and state.status == "running"

    # -- control ------------------------------------------------------------------------
    def start(self, jobs: list[Job], form: dict | None = None) -> RunState:
        """Start the first job (queue the rest); refused while another run is going on."""
        if self.busy():
            raise RuntimeError("a run is already in progress; stop it or wait until it ends")
        last_train = self.train_state() if jobs[0].kind != "train" else None
        state = RunState(kind=jobs[0].kind, folder=jobs[0].folder, queue=[asdict(job) for job in jobs[1:]], form=form)
        state.last_train = asdict(last_train) if last_train is not None else None  # a training state holds none
        self._start(state, jobs[0])
        self._save(state)
        return state

    def _start(self, state: RunState, job: Job) -> None:
        folder = Path(job.folder)
        if job.kind == "train":  # a run's folder: the console capture is recorded as the run's own file
            claim_run_folder(folder, [CONSOLE_LOG])
        folder.mkdir(parents=True, exist_ok=True)
        log = (folder / CONSOLE_LOG).open("w", encoding="utf-8")
        command = job.command()
        log.write(f"$ {shlex.join(command)}\n")  # the log says what started while the child is still importing
        log.flush()
        token = secrets.token_hex(16)
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=job.environment(token),
        )
        log.close()  # the child holds its own copy of the file
        self._processes[process.pid] = process
        state.kind, state.folder, state.pid, state.token = job.kind, str(folder), process.pid, token
        with contextlib.suppress(psutil.NoSuchProcess):  # a child that died at once is found ended later
            state.pid_created = psutil.Process(process.pid).create_time()
        state.status, state.started = "running", time.time()

    def stop(self) -> RunState | None:
        """End the whole process tree, every rank included (SIGTERM, then SIGKILL after a grace period).

        The tree is listed before signalling: torchrun's workers are in sessions of their own and
        would outlive a killed torchrun.  Queued jobs are dropped.
        """
        state = self.state()
        if state is None or state.status != "running":
            return state
        root = self._processes.get(state.pid or -1)
        tree = process_tree(state.pid) if root is not None or run_process(state) is not None else []
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.terminate()
        _, alive = psutil.wait_procs(tree, timeout=STOP_GRACE_SECONDS)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(alive, timeout=5)
        process = self._processes.pop(state.pid, None)
        if process is not None:
            process.wait(timeout=5)
        state.status, state.ended, state.queue = "stopped", time.time(), []
        self._save(state)
        return state

    def stop_kind(self, kind: str) -> RunState | None:
        """Stop the current job when it is of ``kind``: each tab's Stop ends only its own kind of job."""
        state = self.state()
        return self.stop() if state is not None and state.kind == kind else state

    def log_tail(self, lines: int = 30, state: RunState | None = None) -> str:
        """The last lines of the console capture of ``state`` (default: the current job), as a terminal shows them."""
        state = state or self.state()
        if state is None or not state.log_path.is_file():
            return ""
        text = ANSI_ESCAPE.sub("", state.log_path.read_text(encoding="utf-8", errors="replace"))
        # tqdm redraws with carriage returns: keep the last drawing of each line
        cleaned = [line.split("\r")[-1] for line in text.splitlines()]
        return "\n".join(cleaned[-lines:])
