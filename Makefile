# The quick-start commands: `make install`, `make demo` (main job on bundled data), `make test`.
# Each creates .venv with the pinned dependencies on first use, saying what it does meanwhile.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint bench clean

install: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("market-tagger needs Python 3.11 or newer; set PYTHON=python3.11") if sys.version_info < (3, 11) else None'
	@echo "==> [1/3] creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> [2/3] upgrading pip"
	$(BIN)/pip install --quiet --upgrade pip
	@echo "==> [3/3] installing tagger and its pinned dependencies (about a minute)"
	$(BIN)/pip install --progress-bar on -c constraints.txt -e '.[test]'
	@touch $@
	@echo "==> tagger is installed in $(BIN); put it on PATH with: source $(BIN)/activate"

demo: $(BIN)/.installed
	$(BIN)/tagger run data/articles/demo.jsonl --out reports --db demo.duckdb --offline

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/bench_startup.py
	$(BIN)/python bench/bench_tagging.py
	$(BIN)/python bench/eval_tagging.py
	$(BIN)/python bench/bench_study.py

clean:
	rm -rf $(VENV) reports demo.duckdb
