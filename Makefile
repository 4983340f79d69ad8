# One-command entry points. Each target creates .venv (if needed) and installs skdeep
# with what the target needs, so they work on a fresh machine with Python >= 3.10.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Installed before skdeep so pip keeps it: this release's CPU wheel is cached on the
# project's machines. Override e.g. `make test TORCH=torch` for your platform's default.
TORCH ?= torch==2.13.0

.PHONY: demo test oldest ci slow lint docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# $(VENV)/.installed-EXTRA: skdeep installed (editable) with the optional extra EXTRA.
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	touch $@

demo: $(VENV)/.installed-test  ## the tour of skdeep's estimators on bundled real data
	$(BIN)/python -m skdeep demo

test: $(VENV)/.installed-test  ## the default test run (what CI runs)
	$(BIN)/python -m pytest

# The oldest versions pyproject.toml promises (scikit-learn 1.6.1, numpy 1.24, pandas 2.0,
# ...), in tox's own environment: the support matrix is checked on every submission.
oldest: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet "tox>=4.11"
	$(BIN)/tox -e oldest

ci: test oldest  ## what .ci/run runs: the default test run, then the oldest dependencies

slow: $(VENV)/.installed-test  ## longer accuracy checks
	$(BIN)/python -m pytest -m slow

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check skdeep tests benchmarks docs
	$(BIN)/ruff format --check skdeep tests benchmarks docs

docs: $(VENV)/.installed-docs
	$(BIN)/sphinx-build -E -W --keep-going -b html docs docs/_build/html

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_mlp.py
	$(BIN)/python benchmarks/bench_text.py
	$(BIN)/python benchmarks/bench_vae.py
	$(BIN)/python benchmarks/bench_search.py

clean:
	rm -rf $(VENV) .tox docs/_build
