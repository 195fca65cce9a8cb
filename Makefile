# Everything a fresh machine with Python 3.11+, git and make needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
SEED   ?= 0

.PHONY: run test lint typecheck bench bench-contract clean

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
	$(PY) -m ruff check mockserver fixtures tests bench
	$(PY) -m ruff format --check mockserver fixtures tests bench
	$(PY) -m mypy
	$(PY) -m coverage run -m pytest -q
	$(PY) -m coverage report

lint: $(VENV)/.installed
	$(PY) -m ruff check mockserver fixtures tests bench
	$(PY) -m ruff format --check mockserver fixtures tests bench

typecheck: $(VENV)/.installed
	$(PY) -m mypy

## bench: the speed and memory benchmark (loopback only, bounded in time)
bench: $(VENV)/.installed
	$(PY) bench/run.py

## bench-contract: how long the contract suite takes against serve on localhost, per phase
bench-contract: $(VENV)/.installed
	$(PY) bench/contract.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage htmlcov
