# The two commands: `make demo` (generate a demo province and run the whole pipeline) and
# `make test`. Both set up everything first: a tools venv holding uv, then .venv from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90

.PHONY: setup demo test lint render screenshots reliability bench serve serve-ui clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --python $(PYTHON)
	touch $@

setup: $(VENV)/.synced

demo: setup
	$(VENV)/bin/edustat demo

test: setup
	$(VENV)/bin/pytest

# Issue 13's figures: bad-input cases held, hostile files' peak memory, the PII scan, kill trials.
reliability: setup
	$(VENV)/bin/python benchmarks/reliability.py

# Every benchmark under benchmarks/ (benchmarks/run_all.py), at quick sizes (minutes); FULL=1 for the
# issues' full sizes (hours). Writes benchmarks/results/latest.json (figures, machine, load, commit)
# and prints each figure against the previous run's (now/prev).
bench: setup
	$(VENV)/bin/python benchmarks/run_all.py $(if $(FULL),--full)

lint: setup
	$(VENV)/bin/ruff check pipelines tests flows.py benchmarks notebooks/*.py docs/screenshots.py
	$(VENV)/bin/ruff format --check pipelines tests flows.py benchmarks notebooks/*.py docs/screenshots.py

# PNG previews of one workbook of each kind as LibreOffice prints it (docs/img/, shown in
# docs/statistician.md); needs LibreOffice (soffice).
render: setup
	$(VENV)/bin/python -m pipelines.outputs.samples docs/img

# Screenshots of the Prefect UI for docs/your-province.md (docs/img/prefect-*.png): a real Prefect
# server, the demo run through it, headless Chromium (apt-get install -y chromium; a docs tool only).
screenshots: setup
	PYTHONPATH=. $(VENV)/bin/python docs/screenshots.py docs/img

# A Prefect server (SQLite) and the reporting windows of the demo province, served until Ctrl-C or
# SIGTERM; UI at http://127.0.0.1:4200. The demo province is generated and run first if missing.
serve: setup
	[ -f data/demo/registry.xlsx ] || $(VENV)/bin/edustat demo
	$(VENV)/bin/edustat serve

# The Prefect UI at http://127.0.0.1:4200 (stop with Ctrl-C).
serve-ui: setup
	$(VENV)/bin/prefect server start --host 127.0.0.1 --port 4200

clean:
	rm -rf $(VENV) $(TOOLS) data/demo
