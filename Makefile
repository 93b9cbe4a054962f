# Warden developer commands. `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: install demo lint typecheck layers test test-sqlite test-postgres test-wheel bench bench-startup clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# warden, and beside it the ticket-router example (its own distribution, examples/pyproject.toml:
# `warden demo` finds it through its `warden.demos` entry point), both editable.
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]" -e ./examples
	@# the dashboard's browser tests drive Debian's chromium (Playwright's own download does not work here)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	@# the PostgreSQL half of the suite starts a throwaway cluster with the server's initdb and
	@# pg_ctl; Debian puts them in /usr/lib/postgresql/<version>/bin, off PATH (tests/_pgcluster.py)
	command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	  || (apt-get update && apt-get install -y postgresql)
	@# promtool (Debian's prometheus package) checks /metrics and deploy/prometheus/alerts.yml
	command -v promtool >/dev/null || (apt-get update && apt-get install -y --no-install-recommends prometheus)

# The ticket router on real BANKING77 traffic (../shared/data/banking77), about 40 s.
demo: install
	$(BIN)/warden demo

lint: install
	$(BIN)/ruff check src examples tests bench
	$(BIN)/ruff format --check src examples tests bench

typecheck: install
	$(BIN)/pyright

layers: install
	$(BIN)/lint-imports

test-sqlite: install
	WARDEN_TEST_POSTGRES= WARDEN_TEST_DATABASE_URL= $(BIN)/python -m pytest -q -n 2

# On a throwaway PostgreSQL cluster the suite starts and removes itself, one database per
# xdist worker (tests/conftest.py); `WARDEN_TEST_DATABASE_URL=postgresql+psycopg://... make
# test-postgres` runs it on that server instead (each worker creates and drops its own database).
test-postgres: install
	WARDEN_TEST_POSTGRES=1 $(BIN)/python -m pytest -q -n 2

# The wheel alone: built, installed without extras into a fresh venv, used outside the
# checkout (tests/test_wheel.py; pip fetches the dependencies; about a minute).
test-wheel: install
	WARDEN_TEST_WHEEL=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_wheel.py

# The whole check: lint, types, layers, the suite on SQLite and on PostgreSQL, the wheel.
test: lint typecheck layers test-sqlite test-postgres test-wheel

bench: install
	$(BIN)/python bench/runtime_overhead.py

# import warden, warden --help, warden kill: wall time against `python -c pass` (bench/README.md)
bench-startup: install
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .warden
