# Roundtable: `make run` starts the app, `make test` runs every check CI runs.

PYTHON ?= python3
PORT ?= 8501
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := run
.PHONY: run venv test-tools test lint format clean replicas model

run: $(STAMP)
	$(BIN)/roundtable serve --port $(PORT)

# Two replicas on one PostgreSQL behind nginx with session affinity (deploy/replicas.py);
# DATABASE_URL defaults to postgresql+psycopg://root@127.0.0.1:5432/roundtable.
replicas: $(STAMP)
	$(BIN)/python deploy/replicas.py --port $(PORT)

# Created when missing, refreshed when pyproject.toml is newer than the last install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(STAMP)

# EmbeddingGemma-300M for theme suggestions, once (optional): installs CPU-only torch and
# sentence-transformers, downloads and verifies the model into data/models/; resumable.
model: $(STAMP)
	$(BIN)/roundtable model install

# The browser tests drive Debian's Chromium (Playwright's own browser download can't run
# here); with TEST_DATABASE_URL set the replica test also needs nginx.
test-tools:
	scripts/ensure-test-tools

# --dist loadscope: a module's tests stay on one worker (one module server each), and the
# browser modules spread over the workers; plain `load` handed the first worker every
# browser test in one batch (collection order), which ran ~590 s while the others idled.
test: $(STAMP) test-tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q -n 4 --dist loadscope --durations=30

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Never data/: it holds the workshop database.
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts build *.egg-info
	find . -path ./data -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
