# Siaran — two commands on a fresh machine: `make run` and `make test`.
# Needs only Python 3.11+ and pip; uv is installed into .tools/ when it is not on PATH, and the
# Debian packages the tests use (promtool, chromium) by .ci/install-system-deps.sh when missing.

SHELL := /bin/bash
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
PYTEST_ARGS ?=

.PHONY: help install system-deps run test lint format test-fast bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV)  ## install the workspace (all packages, dev tools) into .venv
	$(UV) sync --all-packages --quiet

system-deps:  ## the system tools the tests use (apt-get as root, else the command to run)
	@bash .ci/install-system-deps.sh

run: install  ## start the whole platform locally (bundled broker, SQLite) until Ctrl-C
	$(UV) run --no-sync siaran dev

lint: install  ## ruff check, ruff format --check, mypy strict
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync mypy shared/src services/*/src cli/src bench

format: install  ## apply ruff's fixes and formatting
	$(UV) run --no-sync ruff check --fix .
	$(UV) run --no-sync ruff format .

test: lint system-deps  ## lint, then the whole suite: unit, handler, e2e on the bundled broker, deploy checks
	$(UV) run --no-sync pytest $(PYTEST_ARGS)

test-fast: install system-deps  ## the suite without the end-to-end tests
	$(UV) run --no-sync pytest -m "not e2e" $(PYTEST_ARGS)

bench: install  ## end-to-end benchmark (whole stack, 3,312 channels) against raw aiohttp and Apprise
	$(UV) run --no-sync python -m bench.e2e $(BENCH_ARGS)

clean:  ## remove local state and caches (keeps .venv)
	rm -rf .siaran .pytest_cache .mypy_cache .ruff_cache
