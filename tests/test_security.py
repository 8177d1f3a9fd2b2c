"""Security properties that need no browser (those that do are in test_browser.py: hostile
articles shown as text, --auth refusing a wrong password).

- the server listens on loopback unless told otherwise, and warns when opened without a login;
- uploads are limited in size (by Gradio, at the server) and in type and name (ui.uploads);
- no code path loads pickles or evaluates code from data files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qa.cli.commands import cli
from tests.conftest import ROOT
from ui.uploads import MAX_UPLOAD_MB

SOURCES = sorted(p for folder in ("qa", "embeddings", "ui") for p in (ROOT / folder).rglob("*.py"))
# Ways to run code hidden in data: unpickling, eval/exec, unsafe YAML, remote model code.
UNSAFE = {  # pattern: (what it is, a line it must catch)
    r"\bpickle\b|\bcPickle\b|\bdill\b|\bjoblib\b|\bshelve\b|\bmarshal\.": (
        "pickle",
        "data = pickle.loads(blob)",
    ),
    r"allow_pickle\s*=\s*True": ("numpy pickles", "np.load(path, allow_pickle=True)"),
    r"(?<![\w.])(?:eval|exec|compile|__import__)\(": ("eval/exec", "value = eval(text)"),
    r"yaml\.load\(|yaml\.unsafe_load": ("unsafe YAML", "meta = yaml.load(handle)"),
    r"torch\.load\((?![^)]*weights_only\s*=\s*True)": (
        "torch.load without weights_only=True",
        "torch.load(path)",
    ),
    r"trust_remote_code\s*=\s*True": ("remote model code", "Model(p, trust_remote_code=True)"),
    r"shell\s*=\s*True": ("a shell", "subprocess.run(command, shell=True)"),
}


def test_sources_are_found() -> None:
    assert len(SOURCES) > 20 and any(p.name == "assistant.py" for p in SOURCES)


@pytest.mark.parametrize("pattern", sorted(UNSAFE))
def test_no_code_path_loads_pickles_or_runs_code_from_data(pattern: str) -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(pattern, line) and not line.lstrip().startswith("#")
    ]
    what, example = UNSAFE[pattern]
    assert re.search(pattern, example), "the pattern must catch its example"
    assert hits == [], f"{what} in: {hits}"


def test_the_bundled_model_is_safetensors_not_a_pickle() -> None:
    from embeddings import default_model_path

    folder = Path(default_model_path())
    assert (folder / "model.safetensors").exists()
    assert not list(folder.rglob("*.bin")) and not list(folder.rglob("*.pkl"))


def test_serve_listens_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.app

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(ui.app, "serve", lambda index_dir, **kw: calls.append(kw))
    result = CliRunner().invoke(cli, ["serve", "--index", "somewhere"])
    assert result.exit_code == 0, result.output
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["auth"] is None
    assert "Warning" not in result.output
    help_text = CliRunner().invoke(cli, ["serve", "--help"]).output
    assert "[default: 127.0.0.1]" in help_text


def test_serve_warns_when_opened_to_the_network_without_a_login(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ui.app

    monkeypatch.setattr(ui.app, "serve", lambda index_dir, **kw: None)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--index", "somewhere"])
    assert "Warning: listening on 0.0.0.0 without --auth" in result.output
    result = CliRunner().invoke(
        cli, ["serve", "--host", "0.0.0.0", "--auth", "ana:s3cret", "--index", "somewhere"]
    )
    assert "Warning" not in result.output


def test_gradio_is_launched_on_loopback_with_an_upload_limit_and_no_share(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import gradio as gr

    import ui.app

    launched: list[dict[str, Any]] = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: launched.append(kw))
    ui.app.serve(tmp_path / "index", model="hash", block=False)
    (kw,) = launched
    assert kw["server_name"] == "127.0.0.1" and kw["share"] is False
    assert kw["max_file_size"] == f"{MAX_UPLOAD_MB}mb" and kw["auth"] is None
