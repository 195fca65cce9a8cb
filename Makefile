# Everything a fresh machine with Python 3.11+, git and make needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
SEED   ?= 0

.PHONY: run test test-downstream lint typecheck bench bench-contract bench-plugin soak clean

# The test tools are installed at the versions pinned in constraints/dev.txt.
$(VENV)/.installed: pyproject.toml constraints/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' -c constraints/dev.txt
	touch $@

## run: serve the mock on $(HOST):$(PORT) with a ready tenant printed
run: $(VENV)/.installed
	$(PY) -m mockserver serve --host $(HOST) --port $(PORT) --seed $(SEED) --print-tenant

## test: lint, type-check and run the whole test suite, measuring coverage (floor in pyproject.toml)
test: $(VENV)/.installed
	$(PY) -m ruff check mockserver fixtures tests bench examples
	$(PY) -m ruff format --check mockserver fixtures tests bench examples
	$(PY) -m mypy
	$(PY) -m coverage run -m pytest -q
	$(PY) -m coverage report
	$(MAKE) test-downstream

## test-downstream: examples/downstream, a separate project, in a fresh venv with this package
## installed from the working tree (as a wheel, as users get it), running its own tests
DOWNSTREAM_VENV ?= build/downstream-venv
test-downstream:
	rm -rf $(DOWNSTREAM_VENV)
	$(PYTHON) -m venv $(DOWNSTREAM_VENV)
	$(DOWNSTREAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DOWNSTREAM_VENV)/bin/python -m pip install --quiet '.[clients]' './examples/downstream[test]'
	cd examples/downstream && $(CURDIR)/$(DOWNSTREAM_VENV)/bin/python -m pytest -q

lint: $(VENV)/.installed
	$(PY) -m ruff check mockserver fixtures tests bench examples
	$(PY) -m ruff format --check mockserver fixtures tests bench examples

typecheck: $(VENV)/.installed
	$(PY) -m mypy

## bench: the speed and memory benchmark (loopback only, bounded in time)
bench: $(VENV)/.installed
	$(PY) bench/run.py

## bench-contract: how long the contract suite takes against serve on localhost, per phase
bench-contract: $(VENV)/.installed
	$(PY) bench/contract.py

## bench-plugin: per-test overhead of the plugin's shared tenant, private fake and scenario loads
bench-plugin: $(VENV)/.installed
	$(PY) bench/plugin_overhead.py

## soak: 16 clients over 4 tenants for 60 s on each server, with hostile inputs and
## misbehaving connections, then schemathesis negative data over every operation (loopback
## only); prints requests, req/s, p50/p99, peak RSS
soak: $(VENV)/.installed
	$(PY) bench/soak.py --server granian --clients 16 --tenants 4 --duration 60 --negative-seconds 60
	$(PY) bench/soak.py --server werkzeug --clients 16 --tenants 4 --duration 60

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage htmlcov
