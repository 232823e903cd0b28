# The README's two commands: `make run` (set up if needed, start the board) and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.txt | md5sum | cut -c1-12)
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: setup run test lint format bench browser

setup: $(STAMP)

# Installs the package itself (editable, with the dev tools) and its exact pins; re-runs
# only when pyproject.toml or requirements.txt change (the stamp's name holds their checksum).
$(STAMP): pyproject.toml requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip
	$(PY) -m pip install -qq -e ".[dev]"
	@# pyvqnet pulls nvidia-nccl-cu12, whose libnccl.so.2 overwrites the one torch needs
	@# (`undefined symbol: ncclCommResume`): put back the nccl build torch declares.
	$(PY) -m pip install -qq --force-reinstall --no-deps \
	  "$$($(PY) -c "from importlib.metadata import requires; print(next(r.split(';')[0] for r in requires('torch') if r.startswith('nvidia-nccl')))")"
	$(PY) -W ignore -c "import qllm, torch, torchquantum, pyvqnet, peft, gradio; print('setup ok: torch', torch.__version__)"
	rm -f $(VENV)/.installed-* && touch $@

run: setup
	$(VENV)/bin/qllm webui

test: setup browser lint
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q tests

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup
	$(PY) benchmarks/adapters.py

# Debian's Chromium for the browser tests (Playwright drives it; never `playwright install`).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null)
