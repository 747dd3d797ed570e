# The two commands of README. Both work on a fresh machine: they make their own venv.
# `make run` installs the runtime only (what a user needs); test, lint and bench add the
# `dev` extra (pytest, Playwright, ruff, mypy ...) to the same venv.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench venv runtime

$(BIN)/hotline: pyproject.toml  ## the runtime: the package and its dependencies
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.dev: $(BIN)/hotline pyproject.toml  ## the runtime plus the development tools
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

runtime: $(BIN)/hotline

venv: $(VENV)/.dev  ## for developers: everything test, lint and bench use

run: runtime  ## the embedded default: SQLite, in-process jobs, PBX simulator making demo calls
	$(BIN)/hotline serve --demo

test: venv lint  ## lint + the whole suite: unit, integration (real PostgreSQL + Redis), e2e (headless Chromium)
	$(BIN)/pytest -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy hotline channels dispatch
	$(BIN)/mypy bench  # apart: bench/channels.py would shadow the channels package

bench: venv  ## every benchmark; each ends with a JSON line {"bench": ..., "ratio": ...}
	for b in intake channels ami escalation delivery knowledge fanout report; do $(BIN)/python bench/$$b.py || exit 1; done
