# Shorthands for the README's commands. Only Python 3.11+ is needed.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test setup messages

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(VENV)/bin/wasl run

test: setup
	$(VENV)/bin/pytest -q

# Re-extract user-facing strings and merge them into the catalogs (see README).
messages: setup
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -o locales/wasl.pot --no-location --sort-output --project=Wasl --copyright-holder="Wasl contributors" bot conversations handlers
	$(VENV)/bin/pybabel update -i locales/wasl.pot -d locales -D wasl --no-fuzzy-matching --ignore-obsolete
