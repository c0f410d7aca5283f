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

pytest: setup browser
	$(BIN)/pytest

test: lint pytest

lock: setup
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .rueda .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
