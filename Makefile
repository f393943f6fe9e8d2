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

# PyTorch's CPU build on Linux: PyPI's Linux torch wheel pulls several GB of CUDA libraries. Only
# the torch install consults this index (pip asks every index for every package, and an index that
# cannot be reached costs seconds per package); set TORCH_INDEX= (empty) for PyPI's default build,
# e.g. on a GPU machine. The Pages workflow installs through `make`, so it uses this setting too.
TORCH_INDEX ?= $(if $(filter Linux,$(shell uname -s)),https://download.pytorch.org/whl/cpu)

# The browser tests drive Chromium through Playwright: CHROMIUM when set, else Debian's chromium
# (installed with apt where apt exists), else Playwright's own Chromium (`make browser` decides).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

PY_STAMP := $(VENV)/.installed
JS_STAMP := node_modules/.installed
LH_STAMP := tools/lighthouse/node_modules/.installed

.PHONY: help setup browser serve build test tangle check-tangle bench bench-build lighthouse clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  CACHE=off make build (or serve): a cold build, without the execution cache in .cache/site"

# pip installs torch alone (it alone finds the CPU build: TORCH_INDEX, or a wheel pip is configured
# to find), without its dependencies, and uv; uv installs all the rest, torch's dependencies
# included, every pin from constraints.txt, in seconds where pip takes half a minute. Bytecode is
# compiled up front, on every core: without it, the suite's first processes would each compile
# torch and sympy again. uv compiles what it installs, compileall does torch; like pip, it passes
# over what this Python cannot compile (torch ships a file in Python 3.12 syntax).
PIP := $(PY) -m pip install --quiet --no-compile --disable-pip-version-check -c constraints.txt
$(PY_STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) --no-deps --retries 1 $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) torch
	$(PIP) uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(PY) -c constraints.txt -e '.[docs,test]'
	$(PY) -m compileall -q -q -j 0 "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/torch" || true
	touch $@

# npm runs on the Node.js that pip installed into .venv (tools/node.py): no system Node needed.
$(JS_STAMP): package.json package-lock.json $(PY_STAMP)
	$(PY) -m tools.node npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_STAMP) $(JS_STAMP) ## Create .venv and install the pinned Python and front-end dependencies

browser: setup ## Get a Chromium for the browser tests: $CHROMIUM, else Debian's (apt), else Playwright's
	@if [ -n "$$CHROMIUM" ]; then \
	  test -x "$$CHROMIUM" || { echo "CHROMIUM=$$CHROMIUM is not an executable browser" >&2; exit 1; }; \
	elif [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null; then \
	  echo "Installing Chromium (Debian package) for the browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	    || { echo "apt-get could not install chromium: set CHROMIUM to a Chromium or Chrome" >&2; exit 1; }; \
	else \
	  echo "Installing Playwright's Chromium for the browser tests"; \
	  $(PY) -m playwright install chromium \
	    || { echo "No Chromium to be had (no apt, and Playwright's download failed): set CHROMIUM to a Chromium or Chrome" >&2; exit 1; }; \
	fi

serve: setup ## Serve the site with live reload at http://127.0.0.1:8000 (re-tangles literate/ as chapters change)
	$(BIN)/mkdocs serve --dev-addr $(HOST):$(PORT)

build: setup ## Tangle, then build the site strictly into site/ (any failing code block fails the build)
	$(PY) -m tools.tangle
	$(BIN)/mkdocs build --strict --site-dir site

# On every core (pytest-xdist), one test handed out at a time in the order of collection: the
# heavy tests first (tests/conftest.py), the short ones to whichever worker is free.
test: setup browser ## Run the whole test suite: strict site build, browser checks and all
	$(PY) -m pytest -n auto --dist load --maxschedchunk 1

tangle: setup ## Regenerate the literate package from the chapters' #@save blocks
	$(PY) -m tools.tangle

check-tangle: setup ## Fail if the literate package and the chapters disagree
	$(PY) -m tools.tangle --check

bench: setup ## Run the benchmarks in bench/ (ratios against a reference measured in the same run)
	$(PY) -m bench
	$(PY) -m bench.build

bench-build: setup ## Time warm builds, rebuilds and serve's edit-to-refresh against a cold build
	$(PY) -m bench.build

# Lighthouse is pinned on its own (tools/lighthouse/package-lock.json): set-up and the tests never install it.
$(LH_STAMP): tools/lighthouse/package.json tools/lighthouse/package-lock.json $(PY_STAMP)
	$(PY) -m tools.node npm ci --prefix tools/lighthouse --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

lighthouse: build browser $(LH_STAMP) ## Lighthouse scores of every page (mobile preset, median of 3 runs, served with gzip)
	$(PY) -m tools.lighthouse --site site --runs 3

clean: ## Remove build outputs and the build cache (keeps .venv and node_modules)
	rm -rf site .cache .pytest_cache .hypothesis build *.egg-info
