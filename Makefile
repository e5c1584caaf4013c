# The two quick-start commands: `make demo` (main job on bundled data) and `make test`.
# Each creates .venv with the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("market-tagger needs Python 3.11 or newer; set PYTHON=python3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

demo: $(BIN)/.installed
	$(BIN)/tagger run data/articles/demo.jsonl --out reports --db demo.duckdb --offline

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/bench_tagging.py
	$(BIN)/python bench/eval_tagging.py
	$(BIN)/python bench/bench_study.py

clean:
	rm -rf $(VENV) reports demo.duckdb
