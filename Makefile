# Two commands on a fresh machine with Python 3.11:
#   make run    create .venv, install the project, run the default example spec
#   make test   install the test extras and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
SPEC ?= specs/deep_linear/zas_vs_identity.yaml
PIP = $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: run test docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e '.[test,dask]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/engine run --plot $(SPEC)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 --dist loadfile

docs: $(VENV)/.installed
	$(BIN)/engine reference > docs/spec-reference.md
	for kind in $$($(BIN)/engine list | cut -d' ' -f1); do \
		$(BIN)/engine schema $$kind > docs/schema/$$kind.schema.json; done
	$(BIN)/python docs/gallery.py

$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(PIP) -e '.[test,dask,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) outputs/*/
