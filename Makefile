# The two commands of the README, and the pieces they are made of.
#   make demo   sets up the project and runs the main job (the demo on SQLite)
#   make test   sets up the project and runs every check and test (CI runs this)
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup browser demo test lint pytest lock clean

setup: $(STAMP)

# Pinned install: constraints.txt is the lock file (regenerate with `make lock` after changing
# pyproject.toml's dependencies).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'pip>=24'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
		else \
			echo "browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
		fi; \
	fi

demo: setup
	$(BIN)/rueda demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

# Two workers (pytest-xdist): tests that share one stack run on one worker (tests/conftest.py).
PYTEST_WORKERS ?= 2
pytest: setup browser
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=30

test: lint pytest

lock: setup
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .rueda .mypy_cache .ruff_cache .pytest_cache .import_linter_cache

# The production topology of docs/deployment.md as processes on this machine: PostgreSQL and Redis
# on 127.0.0.1, a Prefect API (--no-services) and `prefect server services start` on them, two
# process workers, the mail sink and the reminder clock; then the 2,400-participant lifecycle.
# Prints the time of each step and the flow runs (docs/benchmarks.md, "Multi-process"). CI runs
# the same at 300 participants (tests/multiprocess/test_lifecycle.py).
.PHONY: multiprocess faults
multiprocess: setup
	nice $(BIN)/python -m tests.multiprocess.harness --participants 2400

# Fault tests on that topology, each compared with a no-fault run: a worker killed with SIGKILL
# during publish-agendas, the Prefect server restarted, PostgreSQL connections cut, the SMTP server
# refusing for a minute. Too slow for CI (a dead worker's emails wait for the 10-minute outbox lease).
faults: setup
	RUEDA_MP_FAULTS=1 nice $(BIN)/pytest tests/multiprocess -m faults -p no:cacheprovider

# Portal load from a second process over loopback, after a 2,400-participant lifecycle on the
# multi-process topology with two portal processes: 200, then 2,000 concurrent signed-in users
# thinking 0.5-2 s between pages (a stress test), then 2,000 thinking 15-45 s, 120 s each;
# p50/p95/p99 per page and errors (docs/benchmarks.md, "Load").
.PHONY: load
load: setup
	nice $(BIN)/python -m tests.multiprocess.harness --participants 2400 --portals 2 --load-users 200,2000,2000@15-45 --load-duration 120
