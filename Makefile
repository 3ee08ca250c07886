# spotopt — run `make help` for the targets. Needs only Python 3.11 and make: uv is bootstrapped into .tools/.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: help install run run-api run-worker test test-unit test-integration lint fix check migrate migration client bench clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(UV):
	@$(PYTHON) -m venv .tools
	@.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(BIN)/spotopt: $(UV) pyproject.toml uv.lock
	@$(UV) sync --frozen --python 3.11 --quiet
	@touch $(BIN)/spotopt

install: $(BIN)/spotopt ## Install the project and dev tools into .venv (uv, locked)

run: install ## Start the server on 127.0.0.1:5000 (embedded SQLite + Valkey unless configured)
	@$(BIN)/spotopt serve

run-api: run ## Alias of run

run-worker: install ## Run a job worker against REDIS_URL
	@$(BIN)/spotopt worker

test: install ## Run the whole test suite (embedded SQLite/Valkey unless SPOTOPT_TEST_* URLs are set)
	@$(BIN)/pytest -q $(PYTEST_ARGS)

test-unit: install ## Unit tests only
	@$(BIN)/pytest -q -m "not integration" $(PYTEST_ARGS)

test-integration: install ## Integration tests only
	@$(BIN)/pytest -q -m integration $(PYTEST_ARGS)

lint: install ## ruff, ruff format --check, mypy --strict, import-linter
	@$(BIN)/ruff check src tests bench
	@$(BIN)/ruff format --check src tests bench
	@$(BIN)/mypy
	@$(BIN)/lint-imports

fix: install ## Apply ruff fixes and formatting
	@$(BIN)/ruff check --fix src tests bench
	@$(BIN)/ruff format src tests bench

check: lint test ## Lint and test

migrate: install ## Apply database migrations
	@$(BIN)/spotopt db upgrade

migration: install ## New migration: make migration msg="add x"
	@$(BIN)/spotopt db revision -m "$(msg)"

client: install ## Create a client and print its token: make client NAME=acme
	@$(BIN)/spotopt admin create-client --name "$(NAME)"

bench: install ## Run the benchmarks (see docs/benchmarks.md)
	@$(BIN)/python bench/agent_load.py
	@$(BIN)/python bench/failover.py

clean: ## Remove the virtualenvs and local data
	rm -rf .venv .tools data .mypy_cache .ruff_cache
