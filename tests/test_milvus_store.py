"""What only the Milvus store has (qa/stores/milvus/): its addresses, ids and filter expressions,
its two keyword analyses, and reopening a Lite file. The store contract runs on it in
tests/test_store_contract.py; the retrieval, answer and ingest suites run on it through Assistant
too (the ``store_kind`` fixture).

Skipped unless the milvus extra is installed (`make test` installs it; the core install does not).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.errors import IndexFormatError, QAError
from qa.pipeline.retrieval import fuse
from qa.stores.milvus.address import client_uri, server_database
from qa.stores.milvus.lite import lite_version
from qa.stores.milvus.schema import chunk_id, filter_expression
from qa.stores.milvus.store import MilvusStore
from qa.testing.store_contract import ARTICLES, EMBEDDER, rows
from qa.types import Filters
from tests.conftest import require_module

require_module("pymilvus", "pip install 'article-qa[milvus]'")
require_module("milvus_lite", "pip install 'article-qa[milvus]'")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MilvusStore]:
    milvus = MilvusStore(f"milvus://{tmp_path / 'index.db'}", dimension=64)
    for article in ARTICLES:
        milvus.put_article(article, rows(article))
    milvus.flush()  # later writes in the tests stay unflushed: both paths get searched
    yield milvus
    milvus.close()


def article_of(store: MilvusStore, hits: list[tuple[int, float]]) -> list[str]:
    found = store.passage_rows([chunk for chunk, _ in hits])
    return [found[chunk].article_id for chunk, _ in hits]


def test_uri_and_ids() -> None:
    assert client_uri("milvus:///data/index.db") == "/data/index.db"
    assert client_uri("http://localhost:19530") == "http://localhost:19530"
    with pytest.raises(IndexFormatError, match=r"\.db"):
        client_uri("milvus:///data/index")
    with pytest.raises(IndexFormatError, match="Unknown store"):
        client_uri("sqlite")
    assert server_database("/data/index.db") == ("/data/index.db", "")
    assert server_database("http://host:19530") == ("http://host:19530", "")
    assert server_database("https://host:443/news/") == ("https://host:443", "news")
    with pytest.raises(IndexFormatError, match="database"):
        server_database("http://host:19530/a/b")
    first = chunk_id("broncos", "hash", 0)
    assert first == chunk_id("broncos", "hash", 0) and 0 <= first < 2**63
    assert len({chunk_id("broncos", "hash", seq) for seq in range(1000)}) == 1000


def test_filter_expressions_quote_values() -> None:
    assert filter_expression(None) == filter_expression(Filters()) == ""
    expression = filter_expression(Filters(titles=('Say "Hi"\\',), source_prefix="/a/"))
    assert 'title_key in ["say \\"hi\\"\\\\"]' in expression
    assert '(source >= "/a/" and source < "/a0")' in expression


def test_keyword_search_uses_our_terms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_MILVUS_KEYWORDS", "terms")
    store = MilvusStore(f"milvus://{tmp_path / 'terms.db'}", dimension=64)
    try:
        assert store.analysis == "terms"
        for article in ARTICLES:
            store.put_article(article, rows(article))
        store.flush()
        check_keyword_search(store)
    finally:
        store.close()


def test_the_default_analysis_is_milvus_english_where_the_engine_has_it(
    store: MilvusStore,
) -> None:
    assert store.analysis == ("english" if lite_version() < (3,) else "terms")
    check_keyword_search(store)


def check_keyword_search(store: MilvusStore) -> None:
    hits = store.keyword_search_text("Who won Super Bowl 50?", 5)
    assert article_of(store, hits)[0] == "broncos"
    assert all(score > 0 for _, score in hits)
    # "claims" meets "claimed": through our stemmer ("terms"), or Milvus's Snowball ("english").
    assert article_of(store, store.keyword_search_text("claims", 5)) == ["normans"]
    assert store.keyword_search_text("the of and", 5) == []  # stop words only
    assert store.keyword_search_text("zeppelin", 5) == []


def test_hybrid_fusion_runs_on_milvus_scores(store: MilvusStore) -> None:
    """Retriever's fusion, fed from Milvus: dense + keyword candidates, exact cosines for the
    keyword-only ones, z-scores mixed client-side."""
    query = "Which player was the most valuable?"
    vector = EMBEDDER.embed([query])[0]
    dense = dict(store.dense_search(vector, 50))
    keyword = dict(store.keyword_search_text(query, 50))
    missing = sorted(keyword.keys() - dense.keys())
    dense.update(zip(missing, (store.vectors(missing) @ vector).tolist(), strict=True))
    ranked = fuse(dense, keyword)
    assert ranked and article_of(store, [(ranked[0].chunk_id, 0.0)]) == ["broncos"]


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    uri = f"milvus://{tmp_path / 'index.db'}"
    first = MilvusStore(uri, dimension=64)
    _, ids = first.put_article(ARTICLES[2], rows(ARTICLES[2]))
    first.close()
    second = MilvusStore(uri, dimension=64)
    try:
        assert second.chunk_ids("oxygen") == ids
        assert article_of(second, second.keyword_search_text("oxidizing", 5)) == ["oxygen"]
    finally:
        second.close()


def test_milvus_english_analyzer_where_the_engine_has_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA_MILVUS_KEYWORDS=english: Milvus's own stemming and stop words on the C++ engine
    (Milvus Lite 2.5, a server); Milvus Lite 3.x has no English analyzer and gets our terms. A
    collection keeps its analysis when reopened, whatever the variable says then."""
    uri = f"milvus://{tmp_path / 'english.db'}"
    monkeypatch.setenv("QA_MILVUS_KEYWORDS", "english")
    store = MilvusStore(uri, dimension=64)
    try:
        real_engine = lite_version() < (3,)
        assert store.analysis == ("english" if real_engine else "terms")
        for article in ARTICLES:
            store.put_article(article, rows(article))
        store.flush()
        assert article_of(store, store.keyword_search_text("claims", 5)) == ["normans"]
        assert article_of(store, store.keyword_search_text("Who won Super Bowl 50?", 5))[0] == (
            "broncos"
        )
        assert store.keyword_search_text("the of and", 5) == []
        assert all(score > 0 for _, score in store.keyword_search_text("oxides elements", 5))
    finally:
        store.close()
    monkeypatch.setenv("QA_MILVUS_KEYWORDS", "terms")
    again = MilvusStore(uri, dimension=64)
    try:
        assert again.analysis == ("english" if real_engine else "terms")
        assert article_of(again, again.keyword_search_text("oxidizing", 5)) == ["oxygen"]
    finally:
        again.close()
    monkeypatch.setenv("QA_MILVUS_KEYWORDS", "porter")
    with pytest.raises(QAError, match="QA_MILVUS_KEYWORDS"):
        MilvusStore(f"milvus://{tmp_path / 'other.db'}", dimension=64)
