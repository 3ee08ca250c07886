# spotopt — run `make help` for the targets. Needs only Python 3.11 and make: uv is bootstrapped into .tools/.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: help install run run-api run-worker test test-unit test-integration lint fix check migrate migration client bench bench-fleet demo clean

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

BENCH_ARGS ?=
bench: install ## wrk load benchmark (BENCH_DATABASE_URL=mysql+asyncmy://... for MariaDB, BENCH_ARGS=...), agent load, failover
	@$(BIN)/python bench/http_load.py $(BENCH_ARGS)
	@$(BIN)/python bench/agent_load.py
	@$(BIN)/python bench/failover.py

bench-fleet: install ## Fleet simulation against an embedded server: make bench-fleet AGENTS=2000 (see bench/fleet/)
	@$(BIN)/python bench/fleet/fleet.py embedded --agents $(or $(AGENTS),2000)

demo: install ## Embedded server + 20 simulated agents for 4 minutes with one interruption; prints what happens
	@$(BIN)/spotopt simulate --agents 20 --duration 240 --speed 5 --ramp 10 --burst-at 20 --burst-agents 1 \
		--burst-window 100 --launch-failure-rate 0 --narrate --check

clean: ## Remove the virtualenvs and local data
	rm -rf .venv .tools data .mypy_cache .ruff_cache
