# Nexus Réussite — see README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: system-deps run test lint bench e2e worker migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt requirements-chroma.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed ## serve on http://127.0.0.1:$(PORT) with everything it needs
	PORT=$(PORT) $(BIN)/python -m nexus.devserver

system-deps: ## Debian's chromium and redis-server (installed when root, else one line says what to do)
	@bash scripts/system-deps.sh

test: system-deps $(VENV)/.installed-dev ## the whole suite (starts PostgreSQL+pgvector, Redis, SMTP, LLM stub)
	$(BIN)/python scripts/run_tests.py $(ARGS)

e2e: system-deps $(VENV)/.installed-dev ## only the browser tests
	$(BIN)/python scripts/run_tests.py tests/e2e $(ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

bench: $(VENV)/.installed-dev ## page weight, slow-3G load, throughput, positioning-test precision…, printed as tables (one: ARGS=positioning)
	$(BIN)/python -m bench $(ARGS)

worker: $(VENV)/.installed ## an RQ worker (needs REDIS_URL)
	$(BIN)/python worker.py

migrate: $(VENV)/.installed
	$(BIN)/flask --app app db upgrade

seed: $(VENV)/.installed
	$(BIN)/flask --app app seed-demo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
