# redtrail: `make demo` (set up, run the pipeline on a local AWS) and `make test` (set up, lint, type-check, test).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AWS_EC2_METADATA_DISABLED := true
export CDK_DISABLE_VERSION_CHECK := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: setup demo test lint typecheck imports unit integration infra-test synth clean bench browser

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt pyproject.toml devtools/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	# compat mode: a path in a .pth file, not an import hook run at every interpreter start (14 ms each)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --config-settings editable_mode=compat -e devtools
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: setup
	$(BIN)/python -m redtrail_devtools.demo

bench: setup
	$(BIN)/python -m bench.run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

imports: setup
	$(BIN)/lint-imports

synth: setup
	npx cdk synth --quiet
	$(BIN)/cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json

# The report's browser test needs headless Chromium: Debian's package, installed when missing.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y -q chromium >/dev/null || { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }; }

test: lint typecheck imports synth browser
	$(BIN)/python -m pytest -n 2 --dist loadfile tests

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache
