# OSDM: `make run` starts the platform, `make test` runs the whole suite.
# Both create .venv, install the pinned dependencies from pyproject.toml, and start an embedded
# PostgreSQL and Redis under .osdm/ unless DATABASE_URL / REDIS_URL are set.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall whenever pyproject.toml or the SDK's sdk/pyproject.toml changes.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml sdk/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench lint install messages stop clean

$(STAMP): pyproject.toml sdk/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet -e ./sdk
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP) messages

messages: $(STAMP)
	@$(BIN)/python scripts/compilemessages.py

run: install
	$(BIN)/python scripts/devenv.py run

test: install
	$(BIN)/python scripts/devenv.py test $(PYTEST_ARGS)

bench: install
	$(BIN)/python scripts/devenv.py bench

lint: install
	$(BIN)/ruff check .

stop:
	$(BIN)/python scripts/devenv.py stop

clean: stop
	rm -rf .osdm
