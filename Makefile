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

# Silence Material's end-of-life notice (where the project stands on it, and what would make it move:
# README, "MkDocs 2 and Material's maintenance mode"); keep builds reproducible.
export NO_MKDOCS_2_WARNING := 1
export PYTHONHASHSEED := 0

# PyTorch's CPU build on Linux: PyPI's Linux torch wheel pulls several GB of CUDA libraries. Only
# the torch install consults this index (pip asks every index for every package, and an index that
# cannot be reached costs seconds per package); set TORCH_INDEX= (empty) for PyPI's default build,
# e.g. on a GPU machine. The Pages workflow installs through `make`, so it uses this setting too.
TORCH_INDEX ?= $(if $(filter Linux,$(shell uname -s)),https://download.pytorch.org/whl/cpu)

# When TORCH_INDEX is set, set-up proves it got a CPU torch: pip falls back to PyPI's CUDA build, without
# a word, when that index cannot be reached (or a configured one wins). torch.version.cuda is read from
# torch/version.py and CUDA libraries from torch's requirements and the installed nvidia-* packages,
# without importing torch, before uv would fetch them. `make check-cpu-torch` runs it alone.
define CPU_TORCH_CHECK
import importlib.metadata as metadata, re, runpy, sys
torch = metadata.distribution("torch")
cuda = runpy.run_path(str(torch.locate_file("torch/version.py"))).get("cuda")
required = [re.match("[-A-Za-z0-9_.]+", r)[0] for r in torch.requires or [] if "extra ==" not in r]
installed = [str(d.metadata["Name"]) for d in metadata.distributions()]
nvidia = sorted({name for name in required + installed if name.lower().startswith("nvidia-")})
if cuda is not None or nvidia:
    built = f"for CUDA {cuda}" if cuda is not None else "with CUDA libraries"
    libraries = f" ({', '.join(nvidia[:3])}{', ...' if len(nvidia) > 3 else ''})" if nvidia else ""
    sys.exit(f"Set-up got torch {torch.version} built {built}{libraries}, not the CPU build: the CPU index "
             f"{sys.argv[1]} could not be reached or was ignored. Make that index reachable and run `make setup` "
             "again, or run `make setup TORCH_INDEX=` to take PyPI's default (CUDA) build.")
endef
export CPU_TORCH_CHECK
CHECK_CPU_TORCH = $(PY) -c "$$CPU_TORCH_CHECK" "$(TORCH_INDEX)"

PY_STAMP := $(VENV)/.installed
JS_STAMP := node_modules/.installed
LH_STAMP := tools/lighthouse/node_modules/.installed

.PHONY: help setup check-cpu-torch browser serve build test tangle check-tangle bench bench-build lighthouse clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  CACHE=off make build (or serve): a cold build, without the execution cache in .cache/site"
	@echo "  JOBS=N make build (or serve): run pages in N worker processes (default: every core; 1: serial)"
	@echo "  SHARD=i/n make build: run only share i of n of the pages, to fill the cache (README)"

# pip installs torch alone (it alone finds the CPU build: TORCH_INDEX, or a wheel pip is configured
# to find), without its dependencies, and uv; uv installs all the rest, torch's dependencies
# included, every pin from constraints.txt, in seconds where pip takes half a minute. Bytecode is
# compiled up front, on every core: without it, the suite's first processes would each compile
# torch and sympy again. uv compiles what it installs, compileall does torch, but for the one file
# that torch writes in Python 3.12 syntax (TORCH_PY312), which Pythons before 3.12 cannot compile:
# any other file that fails to compile fails set-up. A torch that is not the CPU build fails set-up
# (CPU_TORCH_CHECK) and is uninstalled, so the next `make setup` tries again.
TORCH_PY312 := /torch/testing/_internal/py312_intrinsics\.py$$
PIP := $(PY) -m pip install --quiet --no-compile --disable-pip-version-check -c constraints.txt
$(PY_STAMP): pyproject.toml tools/pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) --no-deps --retries 1 $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) torch
	$(if $(TORCH_INDEX),$(CHECK_CPU_TORCH) || { $(PY) -m pip uninstall --quiet --yes torch; exit 1; })
	$(PIP) uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(PY) -c constraints.txt -e '.[docs,test]' -e ./tools
	$(PY) -m compileall -q -q -j 0 -x '$(TORCH_PY312)' "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/torch"
	touch $@

# npm runs on the Node.js that pip installed into .venv (tools/node.py): no system Node needed.
$(JS_STAMP): package.json package-lock.json $(PY_STAMP)
	$(PY) -m tools.node npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_STAMP) $(JS_STAMP) ## Create .venv and install the pinned Python and front-end dependencies

# Set-up runs this after installing torch; it needs only a Python with torch installed (PY=...).
check-cpu-torch: ## Fail, in one line, unless torch is the CPU build that TORCH_INDEX asks for
	@$(if $(TORCH_INDEX),$(CHECK_CPU_TORCH),echo "TORCH_INDEX is empty: any torch build will do")

# tools/browser.py chooses the browser for the tests and Lighthouse: CHROMIUM when set, else a Chromium
# or Chrome on PATH (no snap), else Playwright's own. When there is none, this gets one: Playwright's
# Chromium on Ubuntu (apt's chromium there is a snap), else Debian's chromium through apt (as root, or
# with sudo), falling back to Playwright's; if nothing works, one line says to set CHROMIUM.
browser: setup ## Get a Chromium for the browser tests when none is found (CHROMIUM, PATH, Playwright's)
	@$(PY) -m tools.browser --install

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
	$(PY) -m tools.lighthouse

clean: ## Remove build outputs and the build cache (keeps .venv and node_modules)
	rm -rf site .cache .pytest_cache .hypothesis build *.egg-info
