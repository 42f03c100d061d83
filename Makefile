# Each target sets itself up on a fresh machine: it creates .venv and installs what is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup chromium tesseract test lint demo bench clean

setup: $(VENV)/.installed chromium tesseract

# The browser tests (tests/ui) drive Debian's Chromium: Playwright's own browser download does
# not work offline. Installed with apt when missing (CI runs as root; elsewhere through sudo).
chromium:
	@test -x /usr/bin/chromium || { \
		SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

# OCR (picsift/models/ocr.py) reads with tesserocr's own Tesseract and Debian's language data
# (German, English) and fonts (the OCR tests draw their text with DejaVu). Installed the same way.
TESSDATA := /usr/share/tesseract-ocr/5/tessdata
tesseract:
	@test -f $(TESSDATA)/deu.traineddata -a -f $(TESSDATA)/eng.traineddata \
		-a -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf || { \
		SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq tesseract-ocr \
			tesseract-ocr-deu tesseract-ocr-eng fonts-dejavu-core; }

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
	$(VENV)/bin/lint-imports
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
