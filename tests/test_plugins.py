"""A separate package adds a format and a store through entry points (tests/plugins/).

The plugin is installed as pip would leave it: a ``.dist-info`` folder with ``entry_points.txt``
on ``sys.path``, so ``importlib.metadata`` finds it by the same discovery the product uses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from embeddings import HashEmbedder
from qa import Assistant, IndexFormatError
from qa.cli.commands import cli
from qa.pipeline import formats
from qa.pipeline.corpus import discover, read_file
from qa.stores import factory
from qa.testing.store_contract import CatalogTests
from tests.conftest import ROOT

ENTRY_POINTS = """\
[article_qa.formats]
rst = qa_example_plugin:RST

[article_qa.stores]
tidy = qa_example_plugin:TIDY
"""
NOTES = "Harbour notes\n=============\n\nThe harbour master Ana Lima reopened the north pier.\n"


def _forget_plugins() -> None:
    formats.all_formats.cache_clear()
    factory.all_stores.cache_clear()


def install(monkeypatch: pytest.MonkeyPatch, site: Path) -> None:
    info = site / "qa_example_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: qa-example-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "plugins"))
    monkeypatch.syspath_prepend(str(site))
    _forget_plugins()


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    install(monkeypatch, tmp_path / "site")
    yield
    monkeypatch.undo()
    _forget_plugins()


def test_without_the_plugin_its_format_and_store_are_unknown(write, tmp_path: Path) -> None:
    _forget_plugins()
    path = write("notes.rst", NOTES)
    assert formats.format_of(path.name) is None
    assert discover([write.base]).skipped == [str(path)]
    with pytest.raises(IndexFormatError, match="Unknown store 'tidy://'"):
        factory.normalize_store("tidy://", tmp_path)


@pytest.mark.usefixtures("plugin")
def test_a_plugin_format_is_read_found_and_listed(write) -> None:
    path = write("notes.rst", NOTES)
    write("skip.xyz", "not an article")
    found = discover([write.base])
    assert found.files == [path] and found.skipped == [str(write.base / "skip.xyz")]
    (article,) = read_file(path).articles
    assert article.title == "Harbour notes" and article.text.startswith("\nThe harbour master")
    assert ".rst" in formats.suffixes()
    help_text = CliRunner().invoke(cli, ["ingest", "--help"]).output
    assert ".rst (reStructuredText)" in " ".join(help_text.split())


@pytest.mark.usefixtures("plugin")
def test_a_plugin_store_is_chosen_by_its_scheme_and_recorded(
    write, index_dir: Path, embedder: HashEmbedder
) -> None:
    write("notes.rst", NOTES)
    with Assistant.open(index_dir, embedder=embedder, store="tidy://") as assistant:
        assert assistant.ingest([write.base]).ok
        assert assistant.stats().store == "tidy://"
    assert json.loads((index_dir / "config.json").read_text())["store"] == "tidy://"
    # reader=False: the answer path without the trained reader (not what is tested here)
    with Assistant.open(index_dir, embedder=embedder, reader=False) as again:  # recorded store
        assert again.stats().store == "tidy://"
        reply = again.ask("Who reopened the north pier?")
        assert reply.found and "Ana Lima" in reply.text
    with pytest.raises(IndexFormatError, match=r"tidy:// \(the example plugin's store\)"):
        factory.normalize_store("ftp://host", index_dir)


def test_a_plugin_claiming_a_taken_scheme_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    install(monkeypatch, tmp_path / "site")
    taken = factory.StoreKind("mine", ("http",), "mine", lambda v, d: v, factory.STORES[0].open)
    monkeypatch.setattr("qa_example_plugin.TIDY", taken)
    try:
        with pytest.raises(IndexFormatError, match="claims a name or URI scheme"):
            factory.store_kind("nothing://")
    finally:
        _forget_plugins()


class TestPluginStore(CatalogTests):
    """The plugin's store, proven as any store is (here its catalog: it is the embedded store
    underneath, which tests/test_store_contract.py runs whole)."""

    @pytest.fixture(scope="class")
    @classmethod
    def store_values(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable]:
        with pytest.MonkeyPatch.context() as monkeypatch:
            install(monkeypatch, tmp_path_factory.mktemp("site"))
            yield lambda name: "tidy://"
        _forget_plugins()
