# analyse — the two commands a user needs are `make run` and `make test`; `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
# Your own codebook for a delivery in another layout: make check CODEBOOK=region.yml (and the
# same CODEBOOK for run, build and briefs). Empty: the shipped codebook.
CODEBOOK ?=
CODEBOOK_OPTION := $(if $(CODEBOOK),--codebook $(CODEBOOK),)
# Test processes (pytest-xdist): the suite takes about 8 min with 2 on 2 cores (make test
# TEST_WORKERS=0: one process). A test file runs in one process: its module fixtures are built once.
TEST_WORKERS ?= 2
# Quiet pip, but keep errors visible.
PIP_FLAGS := --disable-pip-version-check --no-input -q

.DEFAULT_GOAL := help
.PHONY: help setup run test lint format synth build briefs check export bench lock clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The venv is (re)installed when it is missing or older than the dependency files.
$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing analyse and its pinned dependencies into $(VENV) ..."
	$(BIN)/python -m pip install $(PIP_FLAGS) -c $(CONSTRAINTS) -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the project (done automatically by run and test)

run: $(STAMP) ## The main job: default data if data/raw is empty, build the cube, render the briefs (CODEBOOK=…)
	$(BIN)/analyse run $(CODEBOOK_OPTION)

test: $(STAMP) ## Lint, check the formatting and the layer contracts, run the whole test suite
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP) ## Lint, check the formatting and the layer contracts (import-linter) only
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

synth: $(STAMP) ## Write the synthetic raw delivery to data/raw
	$(BIN)/analyse data synth --out data/raw

build: $(STAMP) ## Build (or reuse) the estimates cube in data/processed (CODEBOOK=…)
	$(BIN)/analyse build $(CODEBOOK_OPTION)

briefs: $(STAMP) ## Render all briefs (and their CSV/Excel numbers) to reports/ (CODEBOOK=…)
	$(BIN)/analyse briefs $(CODEBOOK_OPTION)

check: $(STAMP) ## Check the raw delivery in data/raw: quality, weights, coverage (CODEBOOK=…)
	$(BIN)/analyse check data/raw $(CODEBOOK_OPTION)

export: $(STAMP) ## The numbers of every brief as CSV and Excel in reports/export
	$(BIN)/analyse export

bench: $(STAMP) ## Run the benchmarks and the forecast backtest in bench/ (prints figures, asserts nothing)
	@for f in bench/bench_*.py bench/backtest_projection.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

lock: ## Refresh requirements/constraints.txt from the newest versions allowed by pyproject.toml
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install $(PIP_FLAGS) '.[test]'
	.venv-lock/bin/python -m pip freeze --exclude-editable | grep -v -i '^analyse[= @]' > $(CONSTRAINTS)
	rm -rf .venv-lock
	@echo "Wrote $(CONSTRAINTS); commit it together with any pyproject.toml change."

clean: ## Remove the venv, caches and generated outputs (never data/raw)
	rm -rf $(VENV) .pytest_cache .ruff_cache reports data/processed/*.parquet data/processed/*.json
