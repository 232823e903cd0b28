"""`qllm compare`: the quick preset with a reduced budget, resumable, a failing method reported, bad input."""

from __future__ import annotations

import json

import pytest

from qllm.cli import main
from qllm.train.log_file import read_log

BUDGET = ["--max_steps", "3", "--eval_steps", "3", "--logging_steps", "1", "--max_samples", "48"]


@pytest.fixture
def saves(tmp_path, monkeypatch):
    monkeypatch.setenv("QLLM_SAVES_DIR", str(tmp_path))
    return tmp_path


def test_quick_preset_two_methods_two_seeds_and_a_resume(saves, capsys):
    flags = ["compare", "--preset", "quick", "--methods", "lora,vqc", "--seeds", "2", "--compare_name", "ci", *BUDGET]
    assert main(flags) == 0
    report = saves / "qllm-tiny" / "compare" / "ci"
    assert sorted(p.name for p in report.iterdir()) == ["compare.html", "compare.json", "compare.md", "compare.png"]
    data = json.loads((report / "compare.json").read_text())
    for method in ("lora", "vqc"):
        entry = data["methods"][method]
        assert entry["seeds"] == [42, 43] and entry["failed"] == []
        assert entry["final_loss"]["n"] == 2 and entry["exact_match"]["n"] == 2 and entry["trainable_params"] > 0
        for seed in (42, 43):
            assert [r["current_steps"] for r in read_log(saves / "qllm-tiny" / method / f"ci-seed{seed}")][-1] == 3
    lines = (report / "compare.md").read_text().splitlines()
    assert any(line.startswith("| lora |") and "2/2 finished" in line and " ± " in line for line in lines)
    adapter = saves / "qllm-tiny" / "vqc" / "ci-seed43" / "adapter_model.safetensors"
    written = adapter.stat().st_mtime_ns
    assert main(flags) == 0  # an interrupted or repeated comparison keeps what finished
    assert adapter.stat().st_mtime_ns == written


def test_a_failing_method_is_reported_and_the_others_finish(saves):
    """A method whose run fails once it starts (here: its folder held by another live run; settings that
    cannot work are refused before any run, below) is reported with its cause; the others finish."""
    from qllm.train.run_lock import run_lock

    flags = ["compare", "--preset", "quick", "--methods", "lora,quanTA", "--seeds", "1", "--compare_name", "fail",
             "--per_dim_features", "8,4,2,2", "--exact_match", "no", *BUDGET]  # fmt: skip
    with run_lock(saves / "qllm-tiny" / "quanTA" / "fail-seed42"):
        assert main(flags) == 0
    data = json.loads((saves / "qllm-tiny" / "compare" / "fail" / "compare.json").read_text())
    assert data["methods"]["lora"]["failed"] == [] and data["methods"]["lora"]["final_loss"]["n"] == 1
    failure = data["methods"]["quanTA"]["failed"][0]
    assert failure["seed"] == 42 and failure["cause"].startswith("error: --output_dir:"), failure
    assert "being trained by another run" in failure["cause"]
    assert (
        "0/1 finished; failed: seed 42: error: --output_dir"
        in (saves / "qllm-tiny" / "compare" / "fail" / "compare.md").read_text()
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seeds", "0"], "error: --seeds: must be a whole number of runs per method, at least 1 (got 0)"),
        (["--methods", "lora,qlora"], "error: --methods: unknown method 'qlora'"),
        (["--output_dir", "x"], "error: --output_dir: compare chooses"),
        (["--learning_rate", "fast"], "error: --learning_rate:"),
        (["--shots", "-5"], "error: --shots: must be 0 (exact) or a number of shots"),
        (["--noise", "bogus=0.1"], "error: --noise: unknown channel 'bogus'"),
        (["--methods", "lora,quanTA", "--per_dim_features", "2,2,2,2"], "error: --per_dim_features: [2, 2, 2, 2]"),
    ],
)
def test_bad_input_is_one_line_before_anything_runs(saves, capsys, flags, message):
    assert main(["compare", "--preset", "quick", *flags]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(message) and len(error.splitlines()) == 1
    assert not any(saves.iterdir())


def test_the_boards_compare_draws_one_band_per_experiment_with_several_seeds(tmp_path):
    """Runs that differ only in their seed are one band; another run of the same method is drawn alone."""
    from qllm.webui.charts import compare_figure

    runs = {}
    experiments = {
        "vqc/s1": ([3.0, 2.0, 1.0], {"learning_rate": 0.001, "seed": 1}),
        "vqc/s2": ([5.0, 4.0, 3.0], {"learning_rate": 0.001, "seed": 2}),
        "vqc/faster": ([2.0, 1.0, 0.5], {"learning_rate": 0.01, "seed": 1}),
        "lora/one": ([4.0, 3.5, 3.0], {"learning_rate": 0.001, "seed": 1}),
    }
    for name, (losses, settings) in experiments.items():
        folder = tmp_path / name
        folder.mkdir(parents=True)
        lines = [json.dumps({"current_steps": step, "loss": loss}) for step, loss in enumerate(losses, start=1)]
        (folder / "trainer_log.jsonl").write_text("\n".join(lines) + "\n")
        (folder / "train_args.yaml").write_text(json.dumps({**settings, "output_dir": str(folder)}))
        runs[name] = folder
    figure = compare_figure(runs)
    names = [trace.name for trace in figure.data]
    assert "vqc (mean of 2)" in names and "vqc/faster" in names and "lora/one" in names, names
    mean = next(trace for trace in figure.data if trace.name == "vqc (mean of 2)")
    assert list(mean.y) == [4.0, 3.0, 2.0]
    band = [trace for trace in figure.data if trace.fill == "tonexty"]
    assert len(band) == 1 and list(band[0].y) == [3.0, 2.0, 1.0]


def recorded_commands(monkeypatch) -> list[list[str]]:
    """The commands compare would run, recorded instead (each "fails", so nothing is read back)."""
    import subprocess

    commands: list[list[str]] = []
    monkeypatch.setattr(
        subprocess,
        "run",
        lambda command, **_: commands.append(command) or subprocess.CompletedProcess(command, 1, "", "x"),
    )
    return commands


def test_scoring_reads_the_circuits_of_vqc_and_tq_runs_only(saves, monkeypatch):
    """`--shots` / `--noise` reach the exact-match scoring of circuit runs, in a folder of their own."""
    from qllm.compare.workflow import RunOutcome, plan_compare, score_one

    commands = recorded_commands(monkeypatch)
    plan, _ = plan_compare(["--preset", "quick", "--methods", "vqc,lora", "--shots", "1000", "--noise", "0.001"])
    score_one(plan, RunOutcome("vqc", 42, str(saves / "vqc"), True))
    score_one(plan, RunOutcome("lora", 42, str(saves / "lora"), True))
    vqc, lora = commands
    assert vqc[vqc.index("--shots") + 1] == "1000" and vqc[vqc.index("--noise") + 1] == "depolarizing=0.001"
    assert vqc[vqc.index("--save_dir") + 1].endswith("compare-exact-match-shots-1000-noise-depolarizing=0.001")
    assert "--shots" not in lora and lora[lora.index("--save_dir") + 1].endswith("compare-exact-match")


def test_a_comparison_on_a_quantized_base_trains_and_scores_on_it(saves, monkeypatch):
    from qllm.compare.workflow import RunOutcome, plan_compare, score_one

    commands = recorded_commands(monkeypatch)
    plan, _ = plan_compare(["--preset", "quick", "--methods", "vqc,lora", "--quantization_bit", "4"])
    train_flags = plan.run_argv("vqc", plan.seeds[0])
    assert train_flags[train_flags.index("--quantization_bit") + 1] == "4"
    score_one(plan, RunOutcome("lora", 42, str(saves / "lora"), True))
    (score,) = commands
    assert score[score.index("--quantization_bit") + 1] == "4"
    assert score[score.index("--quantization_type") + 1] == "nf4"
