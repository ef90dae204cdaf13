# The two commands a newcomer needs: `make demo` and `make test`. Both install everything first.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install demo demo-stop test lint check

install:  ## the locked environment in .venv (installs uv from PyPI when missing)
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

demo: install  ## local Prefect server + 2013 replayed week by week; leaves the server up
	$(UV) run --frozen driftflow demo

demo-stop:  ## stop the server the demo left running
	$(UV) run --frozen driftflow stop

test: install  ## the whole suite (PostgreSQL tests skip when no server answers, unless CI requires them)
	$(UV) run --frozen pytest

lint: install  ## ruff and mypy, as CI runs them
	$(UV) run --frozen ruff check .
	$(UV) run --frozen mypy

check: install  ## validate every model configuration and expectation suite
	$(UV) run --frozen driftflow check
