# make run  - set up .venv and serve on http://localhost:8000/
# make test - set up .venv (and Chromium and nginx on Debian) and run every test

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 0.0.0.0
PORT   ?= 8000

.PHONY: run test test-fast docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml connectfour/solver/_core.c | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml connectfour/solver/_core.c | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(BIN)/connectfour serve --host $(HOST) --port $(PORT)

test: $(VENV)/.test-deps
	scripts/ensure-test-packages.sh
	@if command -v node >/dev/null; then node --test tests/js/; else echo "No node: the page's unit tests (tests/js) are skipped"; fi
	$(BIN)/python -m pytest

# Everything but the browser tests.
test-fast: $(VENV)/.test-deps
	$(BIN)/python -m pytest --ignore=tests/e2e

# Refresh the generated tables of docs/protocol.md.
docs: $(VENV)/.run-deps
	$(BIN)/python -m connectfour.protocol.reference --write

clean:
	rm -rf $(VENV) tests/artifacts
