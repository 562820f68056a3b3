# MASH Hub: `make run` to try it, `make test` to test it. Both start from a fresh clone.
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := build/govuk/.built
DEMO_PASSWORD_FILE := var/demo-password

.PHONY: run test install assets chromium serve bench clean help

help:
	@echo "make run    install, migrate, load demo data and serve on http://$(HOST):$(PORT)/"
	@echo "make test   install and run the whole suite (SQLite, then PostgreSQL when reachable)"
	@echo "make bench  benchmarks in bench/ (BENCH_ARGS=--smoke: each in seconds, as make test runs them)"

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

install: $(INSTALLED)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(ASSETS): node_modules/.package-lock.json scripts/build_assets.py $(INSTALLED)
	$(BIN)/python scripts/build_assets.py
	touch $@

assets: $(ASSETS)

$(DEMO_PASSWORD_FILE):
	mkdir -p var
	$(PYTHON) -c "import secrets; print('demo-' + secrets.token_urlsafe(12))" > $@
	chmod 600 $@

run: install assets $(DEMO_PASSWORD_FILE)
	$(BIN)/mash keys init
	$(BIN)/mash migrate --noinput -v 0
	MASH_DEMO_PASSWORD="$$(cat $(DEMO_PASSWORD_FILE))" $(BIN)/mash demo
	@echo
	@echo "MASH Hub is at http://$(HOST):$(PORT)/ (API: http://$(HOST):$(PORT)/api/v1/docs)"
	@echo "Demo password for every demo login above: $$(cat $(DEMO_PASSWORD_FILE))"
	@echo "Demo mode: two-factor sign-in is optional (set it up from 'Your account'); outside demo mode it is required."
	@echo
	MASH_DEMO_MODE=1 $(BIN)/gunicorn mash.wsgi --bind $(HOST):$(PORT) --workers 2 --access-logfile - --log-level warning

# Debian's Chromium for the browser journeys (src/mash/site/tests/journeys); Playwright's own download does not work here.
chromium:
	@bash scripts/install-chromium

test: install assets chromium
	bash scripts/test-all

BENCH_INSTALLED := $(VENV)/.installed-bench
# Passed to every bench/*.py, e.g. --smoke (tiny sizes, seconds: what make test runs).
BENCH_ARGS ?=

$(BENCH_INSTALLED): pyproject.toml $(INSTALLED)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,bench]"
	touch $@

bench: $(BENCH_INSTALLED)
	@if ls bench/*.py >/dev/null 2>&1; then for b in bench/*.py; do $(BIN)/python $$b $(BENCH_ARGS) || exit 1; done; \
	else echo "No benchmarks yet."; fi

clean:
	rm -rf $(VENV) node_modules build var .pytest_cache .hypothesis
