# The two commands that matter: `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= ./.keystead

.PHONY: run test venv bench lint

$(BIN)/keystead: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/keystead

venv: $(BIN)/keystead

run: venv
	$(BIN)/keystead init --data-dir $(DATA_DIR)
	$(BIN)/keystead serve --data-dir $(DATA_DIR) --dev

test: venv
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python -m bench.run
