# One place for running, testing and serving. Each target creates .venv when it is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
# Threads per gunicorn worker: a request waiting for a grade (a long poll) holds one, never a process.
THREADS ?= 16

.PHONY: install run test lint up worker bulk-worker code-worker gpu-worker beat web bench bench-stack audit verify verify-full assets clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/.installed

## The embedded default: SQLite, tasks in-process, demo data; prints the URL and the login.
run: install
	env -u DATABASE_URL -u REDIS_URL DEBUG=1 $(BIN)/python manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo "Open http://$(HOST):$(PORT)/ and log in as demo / attention-demo (learner) or teacher / attention-teach (instructor)"
	env -u DATABASE_URL -u REDIS_URL DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

## The whole test suite, on whatever DATABASE_URL / REDIS_URL the environment names.
test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

## Full stack without Docker: gunicorn + a Celery worker + beat, on DATABASE_URL and REDIS_URL.
up: install
	@test -n "$$DATABASE_URL" || { echo "make up needs DATABASE_URL (postgres://...)"; exit 2; }
	@test -n "$$REDIS_URL" || { echo "make up needs REDIS_URL (redis://...)"; exit 2; }
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py load_bank
	mkdir -p $${VAR_DIR:-var}
	trap 'kill 0' EXIT INT TERM; \
	$(BIN)/celery -A quizsite worker -Q grading -c $(WORKERS) -n grading@%h --loglevel INFO & \
	$(BIN)/celery -A quizsite worker -Q bulk -c 1 -n bulk@%h --loglevel INFO & \
	$(BIN)/celery -A quizsite worker -Q code -c 1 -n code@%h --loglevel INFO & \
	$(BIN)/celery -A quizsite beat --loglevel INFO --schedule $${VAR_DIR:-var}/celerybeat-schedule & \
	$(BIN)/gunicorn quizsite.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) --worker-class gthread --threads $(THREADS) --access-logfile - & \
	wait

## Workers by queue: grading (answers, the sweep, deadlines) never waits behind bulk work.
worker: install
	$(BIN)/celery -A quizsite worker -Q grading -c $(WORKERS) -n grading@%h --loglevel INFO

bulk-worker: install
	$(BIN)/celery -A quizsite worker -Q bulk -c 1 -n bulk@%h --loglevel INFO

## Learner code runs only on the code queue's workers, each run in a bubblewrap sandbox (SECURITY.md).
code-worker: install
	$(BIN)/celery -A quizsite worker -Q code -c $(WORKERS) -n code@%h --loglevel INFO

## A worker for the gpu queue: one process (solo pool), CUDA initialised inside it only.
gpu-worker: install
	ATTN_DEVICE=cuda $(BIN)/celery -A quizsite worker -Q gpu -P solo -n gpu@%h --loglevel INFO

# CI sweep: 200 seeds per kind and difficulty (keys, mistakes, stated precision, issue #16's
# sweeps); verify-full is the 1,000-seed sweep run before a release.
verify: install
	$(BIN)/python -m attention_engine verify --seeds 200

verify-full: install
	$(BIN)/python -m attention_engine verify --seeds 1000

bench: install
	$(BIN)/python -m bench

## Issue #12's figures on a stack of its own (Redis, a scratch database, gunicorn, both workers,
## beat): the floor, submit -> graded at 1/8/32 learners, a class start, six faults; table printed,
## JSON in bench/results/. QUICK=1: the CI run, failing only on lost, doubled or 5xx answers.
bench-stack: install
	$(BIN)/python -m bench.stack $(if $(filter-out 0,$(QUICK)),--quick) $(STACK_ARGS)

## Issue #11's figures over HTTP (access holes, key leaks, XSS, CSRF, 5xx) on a server the audit
## starts on a scratch database; table printed, JSON in bench/results/ (SECURITY.md).
audit: install
	$(BIN)/python -m bench.security_audit $(AUDIT_ARGS)

## Rebuild the vendored Python code editor (quizsite/assets/editor.js -> quizsite/static/quizsite/vendor/
## code-editor.js and its licence file). The bundle is committed, so running the site or the tests never
## needs node; rerun this after changing editor.js or the npm pins, and commit the result.
assets:
	cd quizsite/assets && npm ci --no-audit --no-fund && npm run build

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
