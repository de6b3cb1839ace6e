# Small helpers; the README's two commands work without make.
PY := .venv/bin/python

.venv:
	python3 -m venv .venv && .venv/bin/pip install -e ".[test]"

test: .venv          ## whole suite (what CI runs)
	$(PY) -m pytest

quick: .venv         ## fast subset while working
	$(PY) -m pytest -m "not slow and not browser and not postgres" -x -q

lint: .venv
	$(PY) -m ruff check bioplan dashboards tests && $(PY) -m mypy

bench: .venv
	.venv/bin/bioplan bench yields && .venv/bin/bioplan bench plan

.PHONY: test quick lint bench
