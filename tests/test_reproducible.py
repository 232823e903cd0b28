"""The committed quick comparison is what the code on main produces: a table can no longer drift silently.

Re-runs the smallest setting of `benchmarks/results/compare_quick/` (`qllm compare --preset quick`,
its first seed, lora / vqc / quanTA; tq is vqc's circuit from the same start, cross-checked
elsewhere) and compares each run's numbers with the ones committed for that seed.  Tolerance:
losses within 2e-3 and exact match within one question of 200 — what float32 summation on
another CPU may move; the stale-cache bug moved eval losses by 0.1 to 0.7.  When the code
changes what a run computes, regenerate the committed comparison (its README says how).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMITTED = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "compare_quick" / "compare.json"
METHODS = ("lora", "vqc", "quanTA")
LOSSES = ("final_loss", "best_loss", "final_eval_loss", "best_eval_loss")


@pytest.fixture(scope="module")
def rerun(tmp_path_factory) -> dict:
    saves = tmp_path_factory.mktemp("saves")
    command = [sys.executable, "-m", "qllm", "compare", "--preset", "quick", "--seeds", "1",
               "--methods", ",".join(METHODS), "--compare_name", "quick"]  # fmt: skip
    env = {**os.environ, "QLLM_SAVES_DIR": str(saves)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=saves)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((saves / "qllm-tiny" / "compare" / "quick" / "compare.json").read_text())


@pytest.mark.parametrize("method", METHODS)
def test_the_committed_quick_comparison_reproduces(rerun, method):
    committed = json.loads(COMMITTED.read_text())
    seed = str(committed["methods"][method]["seeds"][0])
    expected, now = committed["methods"][method]["runs"][seed], rerun["methods"][method]["runs"][seed]
    assert rerun["train_flags"] == committed["train_flags"]
    for key in LOSSES:
        assert now[key] == pytest.approx(expected[key], abs=2e-3), key
    assert now["exact_match"] == pytest.approx(expected["exact_match"], abs=0.5 / 100)
    assert now["trainable_params"] == expected["trainable_params"]
