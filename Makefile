# The README's two quick-start commands: `make e2e` (the main job on the embedded engine) and
# `make test` (the whole gate). Both bootstrap their own virtual environment in .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: e2e test policy unit integration lint type localstack localstack-serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Deploy the six stacks to the embedded engine, verify every resource, smoke-test, destroy.
e2e: $(STAMP)
	$(BIN)/concert-platform e2e --engine embedded --environment e2e-local

## The whole gate: every tox environment except localstack (`make localstack` runs that one).
test: $(STAMP)
	$(BIN)/tox run-parallel --parallel auto --parallel-no-spinner

policy unit integration lint type: $(STAMP)
	$(BIN)/tox -e $@

## Real LocalStack without Docker (concert-platform localstack start; docs/localstack.md): a start/stop
## check, then the integration layer (tox -e localstack) and the e2e run on it; stopped in every case
localstack: $(STAMP)
	tools/localstack-run

## The same integration layer against `concert-platform engine serve` (no Docker): the external-endpoint path
localstack-serve: $(STAMP)
	tools/localstack-serve

clean:
	-$(BIN)/concert-platform localstack stop 2>/dev/null
	rm -rf $(VENV) .tox build reports
