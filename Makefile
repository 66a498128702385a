# Entry points of the project. `make up` and `make test` each create the
# virtualenv and install what they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test install clean

$(STAMP): pyproject.toml
	@echo "==> Creating the virtualenv in $(VENV) and installing dependencies"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)

up: $(STAMP)
	$(BIN)/python -m local up $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache
