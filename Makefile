# Two entry points (see README): `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LINTED := qa embeddings ui tests benchmarks corpus

.PHONY: demo test install lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned: this version's CPU wheel; unpinned, pip pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/qa ingest corpus/articles --index index
	$(BIN)/qa stats --index index
	$(BIN)/qa ask "Who introduced plague to Europe?" --index index

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

test: lint
	# pytest exits 5 when a selection holds no tests; that is not a failure of the code.
	$(BIN)/pytest || [ $$? -eq 5 ]

clean:
	rm -rf $(VENV) index .pytest_cache .mypy_cache .ruff_cache .hypothesis
