"""Lazy start: each command imports only what it needs (torch alone costs seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT

HEAVY = ("torch", "transformers", "sentence_transformers", "faiss", "gradio", "onnxruntime", "ray")

# Runs the real CLI in a fresh interpreter, then reports which heavy modules got imported.
PROBE = """
import json, sys
from qa.cli.commands import main
try:
    main()
except SystemExit:
    pass
heavy = %r
print("MODULES=" + json.dumps([name for name in heavy if name in sys.modules]), file=sys.stderr)
"""


def imported_by(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES="))
    return list(json.loads(line.removeprefix("MODULES=")))


@pytest.fixture(scope="module")
def hash_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("startup") / "index"
    command = ["ingest", str(CORPUS / "rhine.md"), "--index", str(index), "--model", "hash-64"]
    done = subprocess.run(
        [sys.executable, "-m", "qa", *command, "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return index


def test_help_and_list_import_nothing_heavy(hash_index: Path) -> None:
    assert imported_by("--help") == []
    assert imported_by("list", "--index", str(hash_index)) == []
    assert imported_by("stats", "--index", str(hash_index)) == []


def test_ask_loads_only_the_query_path(hash_index: Path) -> None:
    # The test model needs no runtime; the vector index does, and the trained reader runs on
    # onnxruntime (never torch). Without the reader, the vector index alone.
    question = ("ask", "Where does the Rhine rise?", "--index", str(hash_index))
    assert imported_by(*question) == ["faiss", "onnxruntime"]
    assert imported_by(*question, "--no-reader") == ["faiss"]


@pytest.mark.integration
def test_ask_with_the_default_model_needs_no_torch(tmp_path: Path, real_model: object) -> None:
    index = tmp_path / "index"  # (real_model: the run's one conversion is done before this)
    ingest = subprocess.run(
        [sys.executable, "-m", "qa", "ingest", str(CORPUS / "rhine.md"), "--index", str(index)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ingest.returncode == 0, ingest.stderr
    assert imported_by("ask", "Where does the Rhine rise?", "--index", str(index)) == [
        "faiss",
        "onnxruntime",
    ]


def _modules_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_import_qa_errors_loads_no_numpy() -> None:
    # qa/__init__ exposes its names lazily: the errors module alone stays light.
    loaded = _modules_after("import qa.errors")
    assert "numpy" not in loaded
    assert "qa.assistant" not in loaded


def test_help_loads_no_numpy() -> None:
    loaded = _modules_after(
        "import sys\nsys.argv = ['qa', '--help']\nfrom qa.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert "numpy" not in loaded
    assert "qa.assistant" not in loaded


def test_public_names_still_load_on_use() -> None:
    import qa

    assert set(qa.__all__) <= set(dir(qa))
    assert qa.Assistant.__name__ == "Assistant"
    assert issubclass(qa.SearchOptionError, qa.QAError)
