# Entry points of the project. `make up` and `make test` each install what
# they need on a fresh machine: the virtualenv, and for the tests Chromium,
# docker-compose (only to validate the compose file), axe-core and checkov.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKOV_VENV := .venv-checkov
BROWSER_DIR := tests/browser

.PHONY: up test install test-tools test-infra package bench localstack-up localstack-down clean help

help:
	@echo "make up       start the offline stack and the web app on 127.0.0.1 (Ctrl-C stops it)"
	@echo "make test     run every test (installs what the tests need first)"
	@echo "make package  build the Lambda zips into build/"
	@echo "make bench    run the benchmarks and print the table"
	@echo "make localstack-up / localstack-down   the same app on LocalStack (needs Docker)"

$(STAMP): pyproject.toml
	@echo "==> Creating the virtualenv in $(VENV) and installing the dependencies"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)

up: $(STAMP)
	$(BIN)/python -m local up $(ARGS)

# Tools the test suite drives: Chromium (Debian package), axe-core (npm),
# docker-compose (Debian package, only for `docker-compose config`) and
# checkov in its own virtualenv (its dependencies clash with python-hcl2).
test-tools: $(STAMP)
	@bash scripts/install-test-tools.sh

test: $(STAMP) test-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-infra: $(STAMP) test-tools
	$(BIN)/python -m pytest tests/infra $(PYTEST_ARGS)

package: $(STAMP)
	$(BIN)/python scripts/package.py

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

localstack-up:
	HOST_UID=$$(id -u) HOST_GID=$$(id -g) docker compose up --build

localstack-down:
	docker compose down --volumes

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build .pytest_cache test-artifacts $(BROWSER_DIR)/node_modules
