# routes: the two commands a new user needs are `make demo` and `make test`.
# Both set everything up on a fresh machine with Python 3.11 and make.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: install browser test demo lint data bench mutate mutate-js clean help

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)  ## create .venv and install routes with its dev tools

# Map tests drive Debian's chromium with Playwright (Playwright's own browser download does
# not work offline). Installed with apt when missing; needs root or sudo.
browser:  ## install Debian's chromium for the browser tests (apt) if missing
	@if [ ! -x $(CHROMIUM) ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing chromium with apt-get"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@test -x $(CHROMIUM) || { echo "chromium is missing at $(CHROMIUM)"; exit 1; }

# On every core (pytest-xdist; TEST_WORKERS=0 runs in one process); tests that share the
# shipped report run on one worker (--dist loadgroup, the xdist_group marks). Prints the ten
# slowest tests.
TEST_WORKERS ?= auto
test: install browser  ## run the test suite (unit, property, CLI, browser)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=10

# The demo runs on the default cost model (data/geo/cost_model.toml), the one every command,
# the report and the what-if page use unless --cost-model names another (e.g. the calibrated
# data/geo/cost_model_calibrated.toml). scripts/readme_figures.py turns its tables into the
# README's headline figures.
demo: install  ## run the main job on the shipped data; writes into reports/
	$(BIN)/routes report --out reports
	$(BIN)/python scripts/readme_figures.py reports

lint: install  ## ruff and mypy
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy src/routes

data: install  ## rebuild the derived files in data/geo from their sources
	$(BIN)/python scripts/make_countries.py data/geo/countries.geojson
	$(BIN)/python scripts/make_capitals.py
	$(BIN)/python scripts/make_supply_demand.py data/geo
	$(BIN)/python scripts/make_seizures.py data/observed/unodc_opioid_seizures_2018_2022.csv \
	  data/geo/countries.geojson data/geo/seizures.csv

bench: install  ## benchmarks: ratios against networkx measured in the same run
	$(BIN)/python -m benchmarks

# Mutation testing, one module at a time at the lowest priority (the machine may be shared);
# MODULES= picks some (costs network scenario engine routing/flows ...), MUTATE_TIMEOUT bounds
# each module in seconds, MUTATE_ARGS passes more options (--sample N, --recheck, --children N).
# Results are kept in .mutate/ and re-used.
MODULES ?=
MUTATE_TIMEOUT ?= 3600
MUTATE_ARGS ?=
mutate: install  ## mutation testing of the core modules: score and surviving mutants (slow)
	nice -n 19 $(BIN)/python scripts/mutate.py $(MODULES) --timeout $(MUTATE_TIMEOUT) $(MUTATE_ARGS)

# StrykerJS over the what-if page's engine (src/routes/static/whatif.js, the computing part),
# each mutant judged by the random-network property test (tests/test_whatif_random.py, run in
# Node) and held to the unmutated engine's work. StrykerJS is pinned in
# scripts/stryker/package-lock.json and installed there by npm. It mutates a copy of the
# repository (.mutate/stryker/tmp), never whatif.js itself. Report: .mutate/stryker/mutation.json;
# `$(BIN)/python scripts/stryker/replay.py` re-judges its timed-out mutants alone (loops or not).
JSFIX := $(CURDIR)/.mutate/stryker/fixtures

mutate-js: install  ## mutation testing of the what-if page's engine (StrykerJS, 10-30 min)
	cd scripts/stryker && npm ci --no-audit --no-fund --silent
	rm -rf $(JSFIX) && mkdir -p $(JSFIX)
	$(BIN)/python -c "import sys; from routes.maps._assets import common_js; \
	  open(sys.argv[1], 'w', encoding='utf-8').write(common_js())" $(JSFIX)/common.js
	WHATIF_FIXTURES=$(JSFIX)/cases.jsonl WHATIF_MUTATION=1 nice -n 19 $(BIN)/pytest -x -q \
	  -p no:cacheprovider tests/test_whatif_random.py
	WHATIF_JUDGE_DIR=$(JSFIX) nice -n 19 scripts/stryker/node_modules/.bin/stryker run \
	  scripts/stryker/stryker.config.json

clean:  ## remove the virtual environment and generated reports
	rm -rf $(VENV) .mutate reports/*
