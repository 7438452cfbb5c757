# The two commands of the README: `make run` (set up and serve) and `make test` (set up and test).
SHELL := /bin/bash
.DEFAULT_GOAL := run
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The newest Python 3.12+ on the machine (pyenv's shims honour .python-version).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.14 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { echo $$p; break; }; done)
PYTEST_WORKERS ?= 2

.PHONY: run test lint install install-dev browser nginx gettext messages audit serve bench scale-test clean

$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (see README.md)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Dependencies are reinstalled only when pyproject.toml or constraints.txt change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) install --quiet -c constraints.txt .
	rm -rf build *.egg-info
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) install --quiet -c constraints.txt '.[dev]'
	rm -rf build *.egg-info
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian's Chromium for the browser tests (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }; }

# Debian's nginx, which the tests run against the committed deploy/nginx.conf and scale-test
# puts in front of two instances.
nginx:
	@command -v nginx >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -qq nginx-light >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nginx-light; }; }

# Debian's gettext for msgfmt, which compiles the translations (locale/).
gettext:
	@command -v msgfmt >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -qq gettext >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq gettext; }; }

# The Spanish catalogue, compiled to the django.mo Django reads (never committed).
messages: install gettext
	$(PY) manage.py compilemessages -l es --ignore=.venv --ignore=node_modules

run: install messages
	$(PY) manage.py check
	$(PY) manage.py migrate --noinput
	$(PY) manage.py import_accounts data/demo_accounts.csv
	@# The worker that sends emails and text messages runs beside the server and stops with it.
	$(PY) manage.py deliver_messages & trap 'kill $$! 2>/dev/null' EXIT; $(PY) -m portal.serve

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy portal accounts security signin recovery enrollment online_profile support
	$(VENV)/bin/bandit -q -c pyproject.toml -r portal accounts security signin recovery enrollment online_profile support --severity-level medium
	$(PY) manage.py makemigrations --check --dry-run
	PORTAL_ENV=production SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
		PORTAL_IDENTITY_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))') \
		ALLOWED_HOSTS=portal.example REDIS_URL=redis://127.0.0.1:6379/0 EMAIL_HOST=smtp.example \
		SMS_BACKEND=sms_gateway.ProviderBackend \
		$(PY) manage.py check --deploy --fail-level WARNING

test: install-dev browser nginx messages lint
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
	$(MAKE) --no-print-directory audit

# Lighthouse exactly as package-lock.json pins it, reinstalled only when the lock changes. It
# drives Debian's Chromium (CHROME_PATH, set by the test); no browser is ever downloaded.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make audit needs Node.js 18.16+ and npm"; exit 1; }
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Lighthouse and axe on every public and signed-in page, and screenshots at 375 and 1280 px:
# report in var/audit/report.md, screenshots in var/screenshots/ (tests/browser/test_audit.py).
audit: install-dev browser node_modules/.installed
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest -n 0 -m audit tests/browser/test_audit.py

# Performance: the portal in production mode over HTTPS against the Argon2 floor (README).
bench: install-dev messages
	$(PY) bench/run.py $(BENCH_ARGS)

# The production topology (nginx + two instances + PostgreSQL + Redis) and its failure drills,
# built from the files under deploy/ and .env.example; pg_dump/pg_restore come with psql.
scale-test: install-dev nginx messages
	$(PY) bench/scale_test.py $(SCALE_ARGS)

clean:
	rm -rf $(VENV) var build *.egg-info node_modules
