# Each target sets itself up on a fresh machine: it creates .venv and installs what is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup test lint demo bench clean

setup: $(VENV)/.installed

# torch is installed first and pinned: the CPU build of 2.13.0; an unpinned torch would pull a
# multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

demo: setup
	$(VENV)/bin/picsift demo

bench: setup
	$(PY) bench/store.py

clean:
	rm -rf $(VENV) build *.egg-info
