# The two commands of the README: `make run` and `make test`. Both set up everything
# they need on a fresh clone: the virtual environment, Python packages, Chromium.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pytest-xdist workers for the suite (each gets its own test database and Redis database).
PYTEST_WORKERS ?= 2
STAMP := $(VENV)/.installed-stamp
TYPED := $(wildcard */services.py */services */selectors.py */selectors)

.PHONY: install browser run test lint pytest bench

$(STAMP): requirements.lock requirements-dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock -r requirements-dev.lock
	@touch $@

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright's own download cannot work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: install
	$(BIN)/python -m prm.embedded run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint
	$(BIN)/mypy $(TYPED)
	$(BIN)/lint-imports

# The whole suite against the PostgreSQL and Redis that DATABASE_URL / REDIS_URL name,
# else embedded ones started (and stopped) for the run.
pytest: install browser
	$(BIN)/python -m prm.embedded exec -- bash -c \
	  '$(BIN)/python manage.py makemigrations --check --dry-run && $(BIN)/python -m pytest -p tests.parallel -n $(PYTEST_WORKERS) $(PYTEST_ARGS)'

test: lint pytest

bench: install
	$(BIN)/python -m prm.embedded exec -- $(BIN)/python -m bench $(BENCH_ARGS)
