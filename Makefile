# The two commands: `make run` serves on http://127.0.0.1:$(PORT); `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app backend
PORT ?= 8000
export PORT
# Unpacked from an offline bundle (make bundle), install every package from its wheels, never from the network.
WHEELHOUSE ?= $(wildcard vendor/wheels)
PIP_INSTALL = $(BIN)/pip install --quiet $(if $(WHEELHOUSE),--no-index --find-links $(WHEELHOUSE))

.PHONY: run test fuzz lint format services services-stop migrate clean screenshots bundle

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip

# Reinstall only when a requirements file changes.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PIP_INSTALL) -r requirements-test.txt
	touch $@

migrate: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) search init
	$(FLASK) disclosures recompute-deadlines

run: migrate
	$(FLASK) demo load --if-enabled
	@echo ""
	@echo "  Serving on http://127.0.0.1:$(PORT)   (API docs: http://127.0.0.1:$(PORT)/api/docs)"
	@echo "  A client credential for an agency's case system (README.md: Publish your first item):"
	@echo "    eval \"\$$($(FLASK) agency-client create --agency 11350500MB0100002E --format shell)\""
	@echo "  then POST /api/v1/auth/token with {\"client_id\": \"\$$CLIENT_ID\", \"client_secret\": \"\$$CLIENT_SECRET\"}"
	@echo ""
	exec $(BIN)/gunicorn -c deploy/gunicorn.conf.py

test: $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

# Schemathesis over the whole OpenAPI document against a live server, without and with an agency token:
# zero 5xx, zero answers outside the document (tests/fuzz_openapi.py). .ci/run runs it after the suite.
fuzz: $(VENV)/.installed-test
	$(BIN)/python -m tests.fuzz_openapi

# docs/screenshots/{page}-{phone|desktop}.png of every page in tests/support/site_tour.py, demo data and all.
screenshots: $(VENV)/.installed-test
	$(BIN)/python -m tools.screenshots

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Local PostgreSQL, Redis and Elasticsearch on loopback; prints their URLs as shell exports.
services:
	@bash deploy/services.sh start

services-stop:
	@bash deploy/services.sh stop

# dist/sanxiang-bundle-<version>.tar.gz: source, wheels, Elasticsearch and the test tools for a machine with no
# network (deploy/bundle.sh; README.md "Offline installation").
bundle: | $(BIN)/python
	@PYTHON_FOR_PIP=$(BIN)/python bash deploy/bundle.sh

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
