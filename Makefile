# recscope: two commands on a fresh machine
#   make run    create .venv, install, build the demo store on first use, start the viewer
#               (`recscope serve`)
#   make test   install the test and ray extras and run the whole suite (browser tests included)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DB     ?= $(or $(RECSCOPE_DB),data/recscope.duckdb)
PORT   ?= 8501

.PHONY: run test demo install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,ray]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(DB): | $(VENV)/.installed
	$(BIN)/recscope demo --db $(DB)

demo: $(VENV)/.installed
	$(BIN)/recscope demo --db $(DB)

# `recscope serve` builds the demo when the store is empty, then starts the app on 127.0.0.1
run: $(VENV)/.installed
	$(BIN)/recscope serve --db $(DB) --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -ra

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_topk.py

clean:
	rm -rf $(VENV) *.egg-info
