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

.PHONY: setup setup-team demo test lint synth bench clean

# The virtualenv stands in for the training image: it also gets the pins the image's jobs install from their
# wheels (stacks/constructs/training_packages.py): the platform's (skops) and the example team's (the tests'
# configuration trains with it); the team code folder's that cdk.json names come next (setup-team).
TRAINING_WHEELS_REQUIREMENTS := training/import-requirements.txt examples/team_models/requirements.txt
VENV_REQUIREMENTS := -r requirements-dev.txt -r bench/requirements.txt $(addprefix -r ,$(TRAINING_WHEELS_REQUIREMENTS))

$(VENV)/.installed: requirements.txt lambdas/requirements.txt requirements-dev.txt bench/requirements.txt pyproject.toml \
		$(TRAINING_WHEELS_REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(VENV_REQUIREMENTS)
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# The requirements.txt of the team code folder that cdk.json names, found by the synth's rules
# (python -m stacks.team_requirements), installed with the rest so that pip refuses a conflict; the stamp is
# named by a digest of its path and content, so editing the file or naming another folder installs again, as
# does a new virtualenv (a stamp older than .installed). Checked in the recipe, when setup runs: a stamp name
# computed with $(shell) cost every make invocation (lint's own sub-make, clean) a Python start that loads
# the configuration.
setup-team: $(VENV)/.installed
	stamp=$(VENV)/.team-$$($(PY) -m stacks.team_requirements --digest) || exit; \
	[ $$stamp -nt $(VENV)/.installed ] && exit 0; \
	team=$$($(PY) -m stacks.team_requirements) || exit; \
	if [ -n "$$team" ]; then $(PY) -m pip install --quiet $(VENV_REQUIREMENTS) -r $$team || exit; fi; \
	rm -f $(VENV)/.team-*; touch $$stamp

# jsii runs on node 22 (node 20 is end-of-life for it); installed once into .cache, kept between runs.
$(NODE):
	npm install --silent --no-audit --no-fund --prefix $(NODE_DIR) node@22

$(CDK_CLI):
	npm install --silent --no-audit --no-fund --prefix $(CDK_CLI_DIR) aws-cdk@$(CDK_CLI_VERSION)
	touch $@

setup: $(VENV)/.installed setup-team $(NODE) $(CDK_CLI)

synth: setup
	$(PY) app.py

demo: setup
	$(PY) -m cli.demo

# The tests run in two invocations of pytest. First the unit, integration and infra tiers in TEST_WORKERS
# processes (pytest-xdist, default 2: they are CPU-bound and their waits short), a whole test module per worker
# (`--dist loadfile`): a module's fixtures (its moto or local cloud, its trained model) are made once, in the
# worker that runs it; session fixtures (the synthesized app, tests/conftest.py) once per worker. Then the e2e
# tier in E2E_WORKERS processes (default 2: its tests mostly wait on the local cloud's clock and Lambdas, with
# timeouts scaled by E2E_TIMEOUT_SCALE, 2 by default with two workers; E2E_WORKERS=0 runs it in one process).
# What a new test module must keep to, in every tier: nothing shared with another module but through a session
# fixture, no fixed port (a local cloud or server listens on port 0), files under tmp_path/tmp_path_factory
# only (never the repository's cdk.out: synthesize with build_app(outdir=tmp_path...) or the CDK CLI's
# --output), environment variables through monkeypatch only (a worker runs many modules), and a file two
# workers write needs a lock (as the e2e access report has). A new tier's folder goes in one of the two lists.
TEST_WORKERS ?= 2
E2E_WORKERS ?= 2
# Two e2e workers share the 2 cores: each wait gets twice its time (no assertion changes with it).
E2E_WORKERS_SCALE := $(if $(filter 0 1,$(E2E_WORKERS)),1,2)
PARALLEL_TIERS := tests/unit tests/integration tests/infra
SERIAL_TIERS := tests/e2e
test: setup
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(PARALLEL_TIERS)
	E2E_TIMEOUT_SCALE=$${E2E_TIMEOUT_SCALE:-$(E2E_WORKERS_SCALE)} \
	  $(PY) -m pytest -q -n $(E2E_WORKERS) --dist loadfile --no-loadscope-reorder $(SERIAL_TIERS)

# The checks run LINT_JOBS at a time (independent: the three mypy runs keep separate caches, one per Python
# version, under .mypy_cache), each one's output printed whole when it ends (--output-sync) with its time;
# --keep-going runs every check, and a failing one fails lint, its output last above make's error line.
LINT_JOBS ?= 2
# Longest first, so that the short ones fill in beside them.
LINT_CHECKS := lint-checkov lint-cfn-lint lint-mypy lint-mypy-lambda lint-mypy-training lint-ruff lint-vermin
lint: setup $(SCANNERS)/.installed
	$(MAKE) --no-print-directory --keep-going --output-sync=target -j$(LINT_JOBS) $(LINT_CHECKS)

.PHONY: $(LINT_CHECKS) lint-synth
# bash's `time` with TIMEFORMAT: the check's name and seconds, and the check's own exit status.
TIMED = TIMEFORMAT='$@: %Rs'; time

lint-ruff:
	$(TIMED) $(VENV)/bin/ruff check .
	$(TIMED) $(VENV)/bin/ruff format --check .

lint-mypy:
	$(TIMED) $(VENV)/bin/mypy spec domain adapters localcloud cli lambdas stacks training

lint-vermin:
	$(TIMED) $(VENV)/bin/vermin --no-tips --violations --target=$(TRAINING_PYTHON)- training spec

lint-mypy-training:
	$(TIMED) $(VENV)/bin/mypy --python-version $(TRAINING_PYTHON) training spec

lint-mypy-lambda:
	$(TIMED) $(VENV)/bin/mypy --python-version $(LAMBDA_PYTHON) lambdas domain adapters spec

lint-synth:
	rm -f $(CDK_OUTDIR)/*.template.json
	$(TIMED) $(PY) app.py

lint-cfn-lint: lint-synth
	$(TIMED) $(SCANNERS)/bin/cfn-lint $(CDK_OUTDIR)/*.template.json

lint-checkov: lint-synth
	$(TIMED) $(SCANNERS)/bin/checkov --framework cloudformation --skip-download --compact --quiet \
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
