# The six verbs of the project. `make run`: the app with demo data; `make test`: the tests.
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Compiled modules are kept (__pycache__, ignored by git): where PYTHONDONTWRITEBYTECODE is set, as on this project's
# machines, every process compiles again all it imports, 4 to 5 s before Django has started.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install run test lint format bench bench-imports bench-load clean

# `make run` installs what the application needs; `make test`, `lint` and the benches add the development tools.
$(VENV)/.installed-app: pyproject.toml requirements.lock plie/_datastack.c
	@echo "Installation des dépendances de l’application dans $(VENV) (une fois)…"
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	@scripts/install-deps $(PY) -e .
	@touch $@

$(VENV)/.installed: $(VENV)/.installed-app
	@echo "Installation des outils de développement dans $(VENV) (une fois)…"
	@scripts/install-deps $(PY) -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

.env:
	@printf 'DEBUG=on\nSECRET_KEY=demo-%s\n' "$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(40))')" > .env
	@echo "Fichier .env créé (mode démonstration, clé secrète générée)."

# `make run PORT=8080` to serve on another port.
run: $(VENV)/.installed-app .env
	$(PY) manage.py demo --migrate
	@echo "\nL’application est servie sur http://127.0.0.1:$(PORT)/ (Ctrl+C pour arrêter ; autre port : make run PORT=8080)."
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# In parallel (pytest-xdist, PYTEST_WORKERS processes). With a broker, the tests that reach a real Celery worker run
# afterwards in one process: the worker reads the database pytest creates (test_ + name), which xdist would rename.
# --dist load: any test to any idle worker, in pytest-django's order (the transactional tests, which empty the database
# when they end, last). What a module builds once (the matrix's world) is built once per worker that runs its tests.
# --maxschedchunk 2: the long browser tests, which come last, are handed out two at a time; in larger chunks six went
# to one worker and four to the other, which then waited (README, « Développement »).
PYTEST_WORKERS ?= 2
test: install
	@if [ -n "$$CELERY_BROKER_URL$$REDIS_URL" ]; then \
		$(PY) -m pytest -n $(PYTEST_WORKERS) --dist load --maxschedchunk 2 -m "not celery_worker" $(PYTEST_ARGS) && \
		$(PY) -m pytest -p no:xdist -m celery_worker $(PYTEST_ARGS); \
	else \
		$(PY) -m pytest -n $(PYTEST_WORKERS) --dist load --maxschedchunk 2 $(PYTEST_ARGS); \
	fi

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	SECRET_KEY=lint DATABASE_URL=sqlite:// $(PY) manage.py makemigrations --check --dry-run

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: install
	@mkdir -p var
	DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///var/bench.sqlite3} SECRET_KEY=bench $(PY) manage.py migrate --no-input -v0
	DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///var/bench.sqlite3} SECRET_KEY=bench $(PY) manage.py bench $(BENCH_ARGS)

bench-imports: install
	DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///var/bench.sqlite3} SECRET_KEY=bench $(PY) manage.py migrate --no-input -v0
	DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///var/bench.sqlite3} SECRET_KEY=bench $(PY) manage.py bench_imports $(BENCH_ARGS)

# Loopback only; LOAD_ARGS="--rate 5 --duration 10" for a short run.
bench-load: install
	@mkdir -p var
	DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///var/bench.sqlite3} SECRET_KEY=bench $(PY) manage.py migrate --no-input -v0
	DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///var/bench.sqlite3} SECRET_KEY=bench $(PY) manage.py bench_load $(LOAD_ARGS)

clean:
	rm -rf $(VENV) var db.sqlite3 build plie/_datastack.*.so
