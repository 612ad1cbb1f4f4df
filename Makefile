# `make run` and `make test` work on a fresh machine: they create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-clocks lint format install clean reset-demo

# Some machines set PYTHONDONTWRITEBYTECODE: then every pytest worker, every server a test
# starts and every run compiles the project and rewrites every test module and pytest plugin
# again. Bytecode caches are ignored by git (.gitignore).
unexport PYTHONDONTWRITEBYTECODE

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/jointops db upgrade
	$(BIN)/jointops seed-demo
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -n auto --dist worksteal

# The database-free and SQLite tests under frozen clocks: a weekday morning in New York,
# the spring-forward night at 02:30 local, New Year's Eve at 23:30.
CLOCKS := "2026-12-02T09:00 America/New_York" "2027-03-14T02:30 America/New_York" \
	"2026-12-31T23:30 America/New_York"

test-clocks: $(STAMP)
	@for clock in $(CLOCKS); do \
		echo "== clock $$clock"; \
		JOINTOPS_TEST_CLOCK="$$clock" JOINTOPS_TEST_BACKENDS=sqlite \
			$(BIN)/pytest -n auto --dist worksteal -q -p no:cacheprovider -m "not browser and not clockless" || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

reset-demo: $(STAMP)
	$(BIN)/jointops db upgrade
	$(BIN)/jointops seed-demo --reset

clean:
	rm -rf $(VENV) instance .pytest_cache
