"""The single home of "a method": records drive the CLI, peft, loading, export and the board.

The toy method (`tests/toy_method.py`) is imported in fresh processes, as a user's own
method module would be imported before the CLI or the board starts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qllm.errors import ArgumentError
from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.methods import FIELDS, METHODS, find_method, method_for_peft_type

TESTS = Path(__file__).resolve().parent


def run_python(script: str, cwd: Path = TESTS) -> subprocess.CompletedProcess:
    """Python in a fresh process whose working folder is tests/, so `import toy_method` finds the module."""
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_every_spelling_finds_one_method():
    assert find_method("QUANTA") is find_method("quanta") is METHODS["quanTA"]
    assert method_for_peft_type("QUANTA").name == "quanTA" and method_for_peft_type("LORA").name == "lora"
    assert [m.name for m in METHODS.values() if m.mergeable] == ["lora", "quanTA", "qpa"]


def test_argument_fields_are_the_records_fields():
    names = {f.name for f in __import__("dataclasses").fields(FinetuningArguments)}
    assert set(FIELDS) <= names
    for method in METHODS.values():
        assert set(method.fields) <= set(FIELDS)


@pytest.mark.parametrize(
    ("arguments", "flag"),
    [
        ({"finetuning_type": "vqc", "n_qubits": 17}, "n_qubits"),
        ({"finetuning_type": "tq", "q_depth": 0}, "q_depth"),
        ({"finetuning_type": "lora", "lora_rank": 0}, "lora_rank"),
        ({"finetuning_type": "lora", "lora_dropout": 1.0}, "lora_dropout"),
        ({"finetuning_type": "vqc", "lora_alpha": -1.0}, "lora_alpha"),  # the config field is `alpha`
        ({"finetuning_type": "quanTA", "quanta_init": "random"}, "quanta_init"),  # the config field is `init_mode`
        ({"finetuning_type": "quanTA", "per_dim_features": "8,x"}, "per_dim_features"),
    ],
)
def test_the_configs_checks_reach_the_user_as_the_flag(arguments, flag):
    with pytest.raises(ArgumentError) as caught:
        FinetuningArguments(**arguments)
    assert caught.value.field == flag


def test_derived_defaults():
    assert FinetuningArguments(finetuning_type="lora", lora_rank=4).peft_config().lora_alpha == 8
    assert FinetuningArguments(finetuning_type="vqc", n_qubits=3).peft_config().alpha == 6


def test_a_method_added_from_outside_trains_through_the_cli_and_loads(tmp_path):
    output = tmp_path / "toy-run"
    flags = [
        "train",
        "--model_name_or_path",
        "qllm-tiny",
        "--dataset",
        "identity",
        "--max_samples",
        "8",
        "--finetuning_type",
        "toybias",
        "--bias_scale",
        "0.5",
        "--max_steps",
        "1",
        "--learning_rate",
        "0.1",
        "--per_device_train_batch_size",
        "2",
        "--logging_steps",
        "1",
        "--output_dir",
        str(output),
    ]
    done = run_python(f"import toy_method\nfrom qllm.cli import main\nraise SystemExit(main({flags!r}))")
    assert done.returncode == 0, done.stderr[-2000:]
    config = json.loads((output / "adapter_config.json").read_text())
    assert config["peft_type"] == "TOYBIAS" and config["bias_scale"] == 0.5
    check = run_python(
        "import toy_method, torch\n"
        "from peft import PeftModel\n"
        "from qllm.model.loader import load_model\n"
        f"model = PeftModel.from_pretrained(load_model('qllm-tiny'), {str(output)!r})\n"
        "biases = [p for n, p in model.named_parameters() if 'toybias_vector' in n]\n"
        "assert biases and any(b.abs().sum() > 0 for b in biases), 'one step moved the bias'\n"
        "print(len(biases))\n"
    )
    assert check.returncode == 0, check.stderr[-2000:]
    assert int(check.stdout.strip()) == 8  # q_proj and v_proj of 4 layers

    bad = [value if value != "0.5" else "-1" for value in flags]
    refused = run_python(f"import toy_method\nfrom qllm.cli import main\nraise SystemExit(main({bad!r}))")
    assert refused.returncode == 2
    assert "error: --bias_scale: must be at least 0 (got -1.0)" in refused.stderr


def test_a_method_added_from_outside_is_listed_on_the_board_with_its_field():
    done = run_python(
        "import json, toy_method\n"
        "from qllm.webui.interface import create_ui\n"
        "config = create_ui().get_config_file()\n"
        "props = {c['props'].get('elem_id'): c['props'] for c in config['components']}\n"
        "print(json.dumps({'choices': props['finetuning_type']['choices'], 'field': props['bias_scale']['label'],\n"
        "                  'info': props['finetuning_type']['info']}))\n"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert [choice[0] for choice in shown["choices"]] == ["lora", "vqc", "tq", "quanTA", "qpa", "toybias"]
    assert shown["field"] == "Bias scale"
    assert shown["info"].endswith("quanTA (tensors), qpa (generated LoRA), toybias (test)")


def test_the_package_installs_with_a_console_script_that_works_from_any_folder(tmp_path):
    script = Path(sys.executable).parent / "qllm"
    done = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "webui" in done.stdout and "lora, vqc, tq, quanTA" in done.stdout


def test_requirements_txt_pins_what_pyproject_pins():
    import tomllib

    from qllm.paths import PROJECT_ROOT

    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
    assert [line for line in lines if line and not line.startswith("#")] == pyproject
