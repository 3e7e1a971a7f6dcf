# make run  - set up .venv and serve on http://localhost:8000/
# make test - set up .venv (and Chromium and nginx on Debian) and run every test

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 0.0.0.0
PORT   ?= 8000

.PHONY: run test test-fast lint format docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml setup.py connectfour/solver/_core.c | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml setup.py connectfour/solver/_core.c | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(BIN)/connectfour serve --host $(HOST) --port $(PORT)

test: $(VENV)/.test-deps lint
	scripts/ensure-test-packages.sh
	@if command -v node >/dev/null; then node --test tests/js/; else echo "No node: the page's unit tests (tests/js) are skipped"; fi
	$(BIN)/python -m pytest

# Everything but the browser tests.
test-fast: $(VENV)/.test-deps lint
	$(BIN)/python -m pytest --ignore=tests/e2e

# ruff's checks and formatting (pyproject.toml says which); `make format` rewrites.
lint: $(VENV)/.test-deps
	$(BIN)/ruff check connectfour tests
	$(BIN)/ruff format --check connectfour tests

format: $(VENV)/.test-deps
	$(BIN)/ruff check --fix connectfour tests
	$(BIN)/ruff format connectfour tests

# Refresh the generated tables of docs/protocol.md.
docs: $(VENV)/.run-deps
	$(BIN)/python -m connectfour.protocol.reference --write

clean:
	rm -rf $(VENV) tests/artifacts
