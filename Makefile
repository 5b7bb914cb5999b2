# Neglect Scorecard. `make run` builds everything from a fresh clone; `make test` runs the tests.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: setup run test dev sample build bench chromium clean lock

setup: $(STAMP) chromium

# The environment: Python packages pinned in requirements.lock (regenerate with `make lock`).
# --compile-bytecode: uv installs modules uncompiled, and where PYTHONDONTWRITEBYTECODE is set
# (as on these machines) Python would compile Dagster, Great Expectations and plotly at every run.
$(STAMP): pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --python $(PY) --quiet --compile-bytecode -r requirements.lock -e ".[dev]"
	touch $(STAMP)

# PNG export (kaleido) drives a Chromium; Debian's package, as kaleido cannot download one here.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: setup
	$(VENV)/bin/scorecard sample --if-empty
	$(VENV)/bin/scorecard build

sample: setup
	$(VENV)/bin/scorecard sample

build: setup
	$(VENV)/bin/scorecard build

# Lint first (seconds), then the suite.
test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# Not part of `make test` (bench/README.md): national-scale record-level extracts timed side by side,
# then the sample build timed as the data team runs it (first build, unchanged, one extract changed).
bench: setup
	$(PY) -m bench.run
	$(PY) -m bench.builds

dev: setup
	$(VENV)/bin/dagster dev -m pipelines.definitions

lock:
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) data/marts/* .dagster_home/storage .dagster_home/history .dagster_home/schedules
