# Every workflow of the project is a target here; `make help` lists them.
# The first target that needs it creates .venv and installs the pinned dependencies.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The build's execution cache (.cache/site, tools/cache.py): CACHE=off makes a cold build.
CACHE ?= on
export SITE_CACHE := $(CACHE)

# Silence Material's end-of-life notice; keep builds reproducible.
export NO_MKDOCS_2_WARNING := 1
export PYTHONHASHSEED := 0

# The browser tests drive Debian's Chromium through Playwright (Playwright's own download does not
# work everywhere); point CHROMIUM at another Chromium or Chrome to use that instead.
export CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

PY_STAMP := $(VENV)/.installed
JS_STAMP := node_modules/.installed

.PHONY: help setup browser serve build test tangle check-tangle bench bench-build clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  CACHE=off make build (or serve): a cold build, without the execution cache in .cache/site"

$(PY_STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[docs,test]'
	touch $@

$(JS_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_STAMP) $(JS_STAMP) ## Create .venv and install the pinned Python and front-end dependencies

browser: ## Install Debian's Chromium for the browser tests (skipped when CHROMIUM exists)
	@test -x "$(CHROMIUM)" || { echo "Installing Chromium (Debian package) for the browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -x "$(CHROMIUM)" || { echo "No browser at $(CHROMIUM): install chromium or set CHROMIUM" >&2; exit 1; }

serve: setup ## Serve the site with live reload at http://127.0.0.1:8000 (re-tangles literate/ as chapters change)
	$(BIN)/mkdocs serve --dev-addr $(HOST):$(PORT)

build: setup ## Tangle, then build the site strictly into site/ (any failing code block fails the build)
	$(PY) -m tools.tangle
	$(BIN)/mkdocs build --strict --site-dir site

test: setup browser ## Run the whole test suite: strict site build, browser checks and all
	$(PY) -m pytest

tangle: setup ## Regenerate the literate package from the chapters' #@save blocks
	$(PY) -m tools.tangle

check-tangle: setup ## Fail if the literate package and the chapters disagree
	$(PY) -m tools.tangle --check

bench: setup ## Run the benchmarks in bench/ (ratios against a reference measured in the same run)
	$(PY) -m bench
	$(PY) -m bench.build

bench-build: setup ## Time warm builds, rebuilds and serve's edit-to-refresh against a cold build
	$(PY) -m bench.build

clean: ## Remove build outputs and the build cache (keeps .venv and node_modules)
	rm -rf site .cache .pytest_cache .hypothesis build *.egg-info
