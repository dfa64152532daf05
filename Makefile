# Clinic Intake: `make run` starts the app, `make test` checks everything.
# Python 3.12+ where the machine has it: PySide6 6.12 mishandles reference counts of None/True/
# False, which only 3.12's immortal objects make harmless (desktop/ui/__init__.py guards 3.11).
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3 python3.13 \
	$$HOME/.pyenv/versions/3.13*/bin/python3 python3; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV ?= .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
ARGS ?=

.PHONY: run demo test test-fast lint bench reliability clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(PY) main.py $(ARGS)

demo: $(RUN_STAMP)
	$(PY) main.py --demo

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check desktop tests main.py
	$(VENV)/bin/ruff format --check desktop tests main.py
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The PostgreSQL tests run against a throwaway cluster started for the run (tests/pg_cluster.py:
# initdb and pg_ctl, as the postgres user when run as root), or the server CLINIC_TEST_PG_URL
# names. Without the server binaries it stops and says how to install them.
WITH_PG := $(PY) -m tests.pg_cluster run

test: lint
	QT_QPA_PLATFORM=offscreen $(WITH_PG) $(PY) -m pytest -q

# While working: pytest alone, without the tests marked slow. `make test` (CI) runs everything.
test-fast: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(WITH_PG) $(PY) -m pytest -q -m "not slow"

# Crash safety in full: SIGKILL between every two steps of every use case, 200 kills at random
# moments, 3 programs x 100 writes, a full disk, read-only files (a short version is in `test`).
reliability: $(TEST_STAMP)
	CLINIC_RELIABILITY=full QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -s tests/reliability

bench: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(WITH_PG) $(PY) -m pytest -q -s tests/bench -p no:cacheprovider

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
