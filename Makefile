# Two commands: `make demo` and `make test`. Each sets up .venv from scratch when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# the project with its test tools; re-run when pyproject.toml changes
$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.dev-installed
	@echo "== aitest validate: the example specs =="
	$(BIN)/aitest validate
	@echo
	@echo "== aitest run: the example specs as pytest items =="
	$(BIN)/aitest run specs -v -p no:cacheprovider

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check aitest tests bench examples
	$(BIN)/ruff format --check aitest tests bench examples
	$(BIN)/mypy aitest

test: lint
	$(BIN)/pytest -n 2 -p no:cacheprovider

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_engine.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
