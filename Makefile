# FlexLMN: `make run` serves the demo, `make test` runs every check CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/flexlmn
# What `make test` uses for `check --deploy`: production settings, made-up values.
DEPLOY_ENV := DEBUG=0 SECRET_KEY=ci-only-deploy-check-key-7f3a9c1e5b2d4f6a8c0e2b4d6f8a1c3e5b7d9f ALLOWED_HOSTS=flexlmn.example SITE_URL=https://flexlmn.example PAYMENT_PROVIDER=stripe STRIPE_SECRET_KEY=sk_test_ci_only_made_up_0123456789 STRIPE_PUBLISHABLE_KEY=pk_test_ci_only_made_up_0123456789 STRIPE_WEBHOOK_SECRET=whsec_ci_only_made_up_0123456789

.PHONY: run test lint format typecheck migrations-check deploy-check install install-dev postgres chromium bench load clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-runtime: $(VENV)/bin/python requirements.txt
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/bin/python requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev

# The embedded default: SQLite in var/, the test payment provider, console email.
run: export DEBUG ?= 1
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000/ with a task worker. Ctrl-C stops both."
	@trap 'kill 0' INT TERM; \
	  $(PY) manage.py qcluster & \
	  $(PY) manage.py runserver 127.0.0.1:8000 & \
	  wait

postgres:
	@scripts/ensure-postgres.sh

# The browser tests (e2e/) drive Debian's Chromium; installed with apt when absent.
chromium:
	@scripts/ensure-chromium.sh

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -c pyproject.toml -r . --severity-level medium -q

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install-dev
	$(VENV)/bin/mypy .

migrations-check: install-dev
	DEBUG=1 DATABASE_URL= $(PY) manage.py makemigrations --check --dry-run

deploy-check: install-dev
	$(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING

test: install-dev postgres chromium lint typecheck migrations-check deploy-check
	DATABASE_URL=$(TEST_DATABASE_URL) $(VENV)/bin/pytest

# Every script in benchmarks/ in one table (PostgreSQL databases flexlmn_bench* are created on first use).
bench: install-dev postgres
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) benchmarks/run_all.py

# 100 shoppers and 10 clinicians against gunicorn (2 workers) for 60 s on loopback.
load: install-dev postgres
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) benchmarks/load/run.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
