# The README's commands. Each target builds the virtualenv it needs from the pinned requirements.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test engine e2e mutation format clean

# The runtime lock (what `pulumi up` needs) and the dev lock (tests, emulator, lint), both with
# hashes: pip refuses a package whose hash does not match.
$(STAMP): requirements.txt requirements-dev.txt policy/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

venv: $(STAMP)

## demo: plan and preview an emulated organization offline (moto on 127.0.0.1)
demo: $(STAMP)
	$(VENV)/bin/org-logging demo

## test: lint, the import contracts, then the whole test suite
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n auto -q

## engine: build the Pulumi CLI and Python language host from Go modules (cached outside the repo)
engine:
	sh engine/build.sh

## e2e: every test marked `engine` (tests/e2e and the rest): the real engine end to end
## (builds the engine first; minutes)
e2e: $(STAMP) engine
	ORG_LOGGING_E2E=1 $(PY) -m pytest -m engine -q -x

## mutation: mutmut over the modules of [tool.mutmut] in pyproject.toml, then the score
## (docs/testing.md#mutation-testing; minutes). mutants/ is its scratch copy of the project.
mutation: $(STAMP)
	$(VENV)/bin/mutmut run --max-children $(or $(MUTATION_JOBS),$(shell nproc 2>/dev/null || echo 2)) || true
	$(PY) scripts/mutation_score.py

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis mutants
