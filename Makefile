# The README's commands. Every target sets up what it needs from the pinned files; nothing by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NODE_DIR := .cache/node22
NODE := $(NODE_DIR)/node_modules/.bin/node
# The CDK CLI (`cdk synth`, `cdk deploy`), pinned: the tests synthesize through it as a deployment does.
CDK_CLI_VERSION := 2.1149.0
CDK_CLI_DIR := .cache/cdk-cli
CDK_CLI := $(CDK_CLI_DIR)/.installed-$(CDK_CLI_VERSION)
BENCH_MLFLOW := .cache/bench-mlflow
BENCH_EVIDENTLY := .cache/bench-evidently
SCANNERS := .cache/scanners
export JSII_NODE := $(abspath $(NODE))
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# jsii unpacks aws-cdk-lib (215 MB) once into ~/.cache/aws/jsii and reuses it: the first synth on a
# machine takes ~20 s, later ones a few seconds.
export JSII_RUNTIME_PACKAGE_CACHE := enabled
export CDK_OUTDIR := cdk.out
# The Python of the SageMaker image that runs training/ (training/container.toml); read when lint runs.
TRAINING_PYTHON = $(shell $(PY) -c "import tomllib; print(tomllib.load(open('training/container.toml', 'rb'))['image']['python'])")
# The Lambda runtime the functions get on AWS (the tests run them on this machine's Python).
LAMBDA_PYTHON := $(shell sed -n 's/^RUNTIME = lambda_.Runtime.PYTHON_\([0-9]*\)_\([0-9]*\)$$/\1.\2/p' stacks/constructs/platform_function.py)

.PHONY: setup demo test lint synth bench clean

$(VENV)/.installed: requirements.txt lambdas/requirements.txt requirements-dev.txt bench/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -r bench/requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# jsii runs on node 22 (node 20 is end-of-life for it); installed once into .cache, kept between runs.
$(NODE):
	npm install --silent --no-audit --no-fund --prefix $(NODE_DIR) node@22

$(CDK_CLI):
	npm install --silent --no-audit --no-fund --prefix $(CDK_CLI_DIR) aws-cdk@$(CDK_CLI_VERSION)
	touch $@

setup: $(VENV)/.installed $(NODE) $(CDK_CLI)

synth: setup
	$(PY) app.py

demo: setup
	$(PY) -m cli.demo

# The tests run in TEST_WORKERS processes (pytest-xdist), a whole test module per worker (`--dist loadfile`),
# handed out in collection order (`--no-loadscope-reorder`: tests/e2e first, the longest modules). A module's
# fixtures (its local cloud, its trained model) are made once, in the worker that runs it; session fixtures
# (the synthesized app) once per worker. What a new test module must keep to: nothing shared with another
# module but through a session fixture, no fixed port (a local cloud listens on port 0), files under
# tmp_path/tmp_path_factory only (a file two workers write needs a lock, as the e2e access report has).
# Default 0 (one process, as before) until the e2e tier is shown to pass in two workers: the first run with
# TEST_WORKERS=2, on a machine at load 10, failed test_drift_monitoring's fixtures (cause not yet found).
TEST_WORKERS ?= 0
test: setup
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: setup $(SCANNERS)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy spec domain adapters localcloud cli lambdas stacks training
	$(VENV)/bin/vermin --no-tips --violations --target=$(TRAINING_PYTHON)- training spec
	$(VENV)/bin/mypy --python-version $(TRAINING_PYTHON) training spec
	$(VENV)/bin/mypy --python-version $(LAMBDA_PYTHON) lambdas domain adapters spec
	rm -f $(CDK_OUTDIR)/*.template.json
	$(PY) app.py
	$(SCANNERS)/bin/cfn-lint $(CDK_OUTDIR)/*.template.json
	$(SCANNERS)/bin/checkov --framework cloudformation --skip-download --compact --quiet \
		--file $(CDK_OUTDIR)/*.template.json

# The template scanners (requirements-scanners.txt) in a virtualenv of their own: checkov pins an older boto3
# than the platform's. Checks that do not apply to a resource are skipped in CDK, with their reason, as the
# resource's Metadata (stacks/constructs/scanners.py); cfn-lint's settings are in .cfnlintrc.yaml.
$(SCANNERS)/.installed: requirements-scanners.txt
	$(PYTHON) -m venv --clear $(SCANNERS)
	$(SCANNERS)/bin/python -m pip install --quiet --upgrade pip
	$(SCANNERS)/bin/python -m pip install --quiet -r requirements-scanners.txt
	touch $@

# MLflow, the baseline of bench/serving.py, in a virtualenv of its own: never next to the platform's packages.
$(BENCH_MLFLOW)/.installed: bench/requirements-mlflow.txt
	$(PYTHON) -m venv --clear $(BENCH_MLFLOW)
	$(BENCH_MLFLOW)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_MLFLOW)/bin/python -m pip install --quiet -r bench/requirements-mlflow.txt
	touch $@

# Evidently, the baseline of bench/drift.py, likewise: its pandas 2 never meets the platform's pandas 3.
$(BENCH_EVIDENTLY)/.installed: bench/requirements-evidently.txt
	$(PYTHON) -m venv --clear $(BENCH_EVIDENTLY)
	$(BENCH_EVIDENTLY)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_EVIDENTLY)/bin/python -m pip install --quiet -r bench/requirements-evidently.txt
	touch $@

bench: setup $(BENCH_MLFLOW)/.installed $(BENCH_EVIDENTLY)/.installed
	$(PY) bench/validate.py
	$(PY) bench/pipeline.py
	$(PY) bench/serving.py --mlflow-python $(BENCH_MLFLOW)/bin/python
	$(PY) bench/iam_enforcement.py
	$(PY) bench/drift.py --evidently-python $(BENCH_EVIDENTLY)/bin/python

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
