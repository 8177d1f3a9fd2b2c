"""The store contract as tests: every store runs them by subclassing ``StoreContract``.

One class per concern of ``qa.stores.base`` (``CatalogTests``, ``ListingTests``,
``VectorSearchTests``, ``KeywordSearchTests``, ``SentenceTests``, ``MaintenanceTests``,
``CheckingTests``); ``StoreContract`` is all of them. A store is proven by one subclass that says
which ``--store`` value opens a new, empty one (the rest goes through ``qa.stores.factory``, as an
index does)::

    from qa.testing.store_contract import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture(scope="class")
        def store_values(self):
            return lambda name: f"mystore://localhost/{name}"

``store_values(name)`` is called once per store a test opens, with a name no other store of the
run has (for stores that share one server). Needs pytest (the dev extra).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from embeddings import HashEmbedder
from qa.config import IndexConfig, write_config
from qa.stores.base import IndexStore, NewChunk, NewSentence, StoreStats, best_sentence_scores
from qa.stores.factory import normalize_store, open_store
from qa.types import Article, Chunk, Filters

DIMENSION = 64
EMBEDDER = HashEmbedder(dimension=DIMENSION)
PAGE_BREAK = "\f"  # as qa.pipeline.readers.pdf marks pages

ARTICLES = (
    Article(
        "broncos",
        "Super Bowl 50",
        "The Denver Broncos defeated the Carolina Panthers to win Super Bowl 50. "
        "The game was played at Levi's Stadium in Santa Clara, California.\n\n"
        "Von Miller was named the most valuable player of the game after two forced fumbles.",
        "/corpus/sports/super-bowl.md",
        date="2016-02-07",
    ),
    Article(
        "normans",
        "The Normans",
        "The Normans were the people who gave their name to Normandy, a region in France.\n\n"
        "They claimed lands in England after the conquest of 1066 and ruled for centuries.",
        "/corpus/history/50%_off/normans.md",
        url="https://example.org/normans",
        date="2010-05-01",
    ),
    Article(
        "oxygen",
        'The "Oxygen" Article',
        "Oxygen is a chemical element with symbol O. It is a highly reactive nonmetal and an "
        "oxidizing agent that readily forms oxides with most elements.",
        "/corpus/science/oxygen.md",
    ),
    # A PDF's text: each page break falls between two chunks (no chunk holds a form feed).
    Article(
        "report",
        "Harbour report",
        "The harbour master reopened the north pier in March.\n\f\n\n"
        "Storm damage to the breakwater was repaired by a crew of twelve.\n\f\n\n"
        "The ferry to the islands runs twice a day again.",
        "/corpus/reports/harbour.pdf",
        author="Port authority",
    ),
)
_NAMES = itertools.count()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rows(article: Article) -> list[NewChunk]:
    """``article`` as a writer gives it to a store: one chunk per paragraph (the gaps between
    them belong to no chunk), each with its sentences; vectors from the hash embedder."""
    spans = [
        (match.start(), match.end())
        for match in re.finditer(r"[^\n\f]+(?:\n[^\n\f]+)*", article.text)
    ]
    chunks = [
        Chunk(article.id, seq, start, end, article.text[start:end], len(article.text[start:end]))
        for seq, (start, end) in enumerate(spans)
    ]
    vectors = EMBEDDER.embed([chunk.text for chunk in chunks])
    made = []
    for chunk, vector in zip(chunks, vectors, strict=True):
        sentences = [
            (chunk.start + match.start(), chunk.start + match.end())
            for match in re.finditer(r"[^.]+\.?", chunk.text)
            if match.group().strip()
        ]
        sentence_vectors = EMBEDDER.embed([article.text[a:b] for a, b in sentences])
        made.append(
            NewChunk(
                chunk,
                _digest(chunk.text),
                vector,
                [
                    NewSentence(a, b, _digest(article.text[a:b]), v)
                    for (a, b), v in zip(sentences, sentence_vectors, strict=True)
                ],
            )
        )
    return made


def write(store: IndexStore, articles: Sequence[Article]) -> dict[str, list[int]]:
    """Write ``articles`` as an ingest does; return each one's new chunk ids."""
    live = store.live_vectors()  # the in-memory index a writer updates, where a store has one
    written: dict[str, list[int]] = {}
    removed: list[int] = []
    added: list[tuple[int, np.ndarray]] = []
    with store.transaction():
        for article in articles:
            new = rows(article)
            gone, ids = store.put_article(article, new)
            removed.extend(gone)
            added.extend(zip(ids, (row.vector for row in new), strict=True))
            written[article.id] = ids
    if live is not None:
        live.remove(np.asarray(removed, dtype=np.int64))
        if added:
            live.add(
                np.asarray([i for i, _ in added], dtype=np.int64),
                np.vstack([vector for _, vector in added]),
            )
    store.after_write(True)
    return written


def remove(store: IndexStore, article_id: str) -> list[int]:
    """Delete an article as ``qa remove`` does; return its chunk ids."""
    with store.transaction():
        removed = store.delete_article(article_id)
    store.after_write(True, removed)
    return removed


def open_new(folder: Path, value: str) -> IndexStore:
    """A new, empty store for an index in ``folder``, opened as ``Assistant.open`` opens one."""
    folder.mkdir(parents=True, exist_ok=True)
    uri = normalize_store(value, folder)
    config = IndexConfig(
        EMBEDDER.name, None, DIMENSION, 128, [], "cl100k_base", 200, 40, backend="hash", store=uri
    )
    write_config(folder, config)
    store = open_store(uri, folder, lambda: DIMENSION)
    store.claim()
    return store


def vector_of(text: str) -> np.ndarray:
    return EMBEDDER.embed([text])[0]


def articles_of(store: IndexStore, hits: Sequence[tuple[int, float]]) -> list[str]:
    found = store.passage_rows([chunk for chunk, _ in hits])
    return [found[chunk].article_id for chunk, _ in hits]


class _Stores:
    """The fixtures: ``store_values`` (given by each store's subclass), a store holding
    ``ARTICLES`` shared by a class's read-only tests (``filled``), and an empty one per test."""

    @pytest.fixture(scope="class")
    @classmethod
    def store_values(cls) -> Callable[[str], str]:
        raise NotImplementedError("a store's subclass gives store_values: name -> --store value")

    @pytest.fixture(scope="class")
    @classmethod
    def filled(
        cls, store_values: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[IndexStore]:
        folder = tmp_path_factory.mktemp("filled")
        store = open_new(folder / "index", store_values(f"filled{next(_NAMES)}"))
        write(store, ARTICLES)
        yield store
        store.close()

    @pytest.fixture
    def store(self, store_values: Callable[[str], str], tmp_path: Path) -> Iterator[IndexStore]:
        opened = open_new(tmp_path / "index", store_values(f"empty{next(_NAMES)}"))
        yield opened
        opened.close()


class CatalogTests(_Stores):
    def test_written_articles_read_back(self, filled: IndexStore) -> None:
        assert filled.content_hashes() == {a.id: a.content_hash for a in ARTICLES}
        for article in ARTICLES:
            assert filled.has_article(article.id)
            chunks = filled.chunk_rows(article.id)
            assert [c.seq for c in chunks] == list(range(len(rows(article))))
            assert all(article.text[c.start : c.end] == c.text for c in chunks)
            assert len(filled.chunk_ids(article.id)) == len(chunks)
        assert not filled.has_article("missing")
        assert filled.chunk_ids("missing") == [] and filled.chunk_rows("missing") == []

    def test_article_text_is_exact_where_page_breaks_fall_between_chunks(
        self, filled: IndexStore
    ) -> None:
        report = ARTICLES[3]
        assert all(PAGE_BREAK not in chunk.text for chunk in filled.chunk_rows(report.id))
        text = filled.article_text(report.id)
        assert text == report.text
        last = filled.chunk_rows(report.id)[-1]
        assert text.count(PAGE_BREAK, 0, last.start) == 2  # the ferry sentence is on page 3
        assert filled.article_text("missing") is None

    def test_articles_are_found_by_source(self, filled: IndexStore) -> None:
        assert filled.ids_by_source("/corpus/science/oxygen.md") == ["oxygen"]
        assert filled.ids_by_source("/corpus/science") == []
        assert sorted(filled.ids_under("/corpus/history")) == [
            ("normans", "/corpus/history/50%_off/normans.md")
        ]
        assert filled.ids_under("/corpus/hist") == []  # a folder, not a prefix

    def test_stored_vectors_are_found_by_the_hash_of_their_text(self, filled: IndexStore) -> None:
        chunk = rows(ARTICLES[0])[0]
        sentence = chunk.sentences[0]
        found = filled.vectors_by_embed_hash([chunk.embed_hash, sentence.embed_hash, "unknown"])
        assert set(found) == {chunk.embed_hash, sentence.embed_hash}
        stored = np.frombuffer(found[chunk.embed_hash], dtype=np.float32)
        np.testing.assert_allclose(stored, chunk.vector, atol=1e-6)
        again = np.frombuffer(found[sentence.embed_hash], dtype=np.float32)
        assert float(again @ sentence.vector) > 0.99  # a compact format may round it

    def test_rewriting_an_article_replaces_its_chunks(self, store: IndexStore) -> None:
        before = write(store, ARTICLES[:1])["broncos"]
        edited = Article("broncos", "Super Bowl 50", "Denver won.\n\nZeppelins flew.", "/x.md")
        new = write(store, [edited])["broncos"]
        assert len(new) == 2 and not set(new) & set(before)
        assert store.chunk_ids("broncos") == new and store.passage_rows(before) == {}
        assert articles_of(store, store.keyword_search_text("zeppelins", 5, None)) == ["broncos"]
        assert store.keyword_search_text("Carolina Panthers", 5, None) == []
        assert store.article_text("broncos") == edited.text
        assert store.content_hashes() == {"broncos": edited.content_hash}

    def test_deleting_an_article_removes_all_of_it(self, store: IndexStore) -> None:
        ids = write(store, ARTICLES[:2])["broncos"]
        assert sorted(remove(store, "broncos")) == sorted(ids)
        assert not store.has_article("broncos") and store.article_text("broncos") is None
        assert store.chunk_ids("broncos") == [] and "broncos" not in store.content_hashes()
        assert len(store.sentence_rows(ids).chunk_ids) == 0
        hits = store.keyword_search_text("Super Bowl Broncos", 5, None)
        assert "broncos" not in articles_of(store, hits)
        assert store.has_article("normans")


class ListingTests(_Stores):
    def test_an_empty_store_lists_nothing(self, store: IndexStore) -> None:
        assert store.list_articles() == [] and store.titles() == [] and not store.has_chunks()
        assert store.count_articles() == store.count_chunks() == store.count_tokens() == 0

    def test_listing_counts_what_was_written(self, filled: IndexStore) -> None:
        listed = {info.id: info for info in filled.list_articles()}
        assert sorted(listed) == sorted(a.id for a in ARTICLES)
        for article in ARTICLES:
            info = listed[article.id]
            assert (info.title, info.source, info.url, info.date, info.author) == (
                article.title,
                article.source,
                article.url,
                article.date,
                article.author,
            )
            assert info.chars == len(article.text) and info.chunks == len(rows(article))
            assert info.content_hash == article.content_hash
        titles = [info.title for info in filled.list_articles()]
        assert titles == sorted(titles)
        assert sorted(filled.titles()) == titles
        all_rows = [row for a in ARTICLES for row in rows(a)]
        assert filled.has_chunks() and filled.count_articles() == len(ARTICLES)
        assert filled.count_chunks() == len(all_rows)
        assert filled.count_tokens() == sum(row.chunk.tokens for row in all_rows)
        assert filled.get_meta("updated_at")

    def test_an_article_is_found_by_id_or_exact_title(self, filled: IndexStore) -> None:
        listed = {info.id: info for info in filled.list_articles()}
        for article in ARTICLES:
            assert filled.find_articles(article.id) == [listed[article.id]]
            assert filled.find_articles(article.title) == [listed[article.id]]
        assert filled.find_articles("the normans") == []  # exact, as a link writes it
        assert filled.find_articles("missing") == []

    def test_a_shared_title_finds_each_by_id_and_an_id_wins(self, store: IndexStore) -> None:
        text = "The harbour master reopened the north pier in March."
        write(
            store,
            [
                Article("b-pier", "Pier", text, "/corpus/b.md"),
                Article("a-pier", "Pier", text, "/corpus/a.md"),
                Article("Pier", "Another", text, "/corpus/c.md"),
            ],
        )
        # the article of that id first, then those of that title
        assert [a.id for a in store.find_articles("Pier")] == ["Pier", "a-pier", "b-pier"]
        assert [a.id for a in store.find_articles("Another")] == ["Pier"]
        remove(store, "Pier")
        assert [a.id for a in store.find_articles("Pier")] == ["a-pier", "b-pier"]


class VectorSearchTests(_Stores):
    def test_a_chunk_is_found_by_its_own_vector(self, filled: IndexStore) -> None:
        chunk = rows(ARTICLES[1])[1]
        hits = filled.dense_search(chunk.vector, 5, None)
        assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
        assert [score for _, score in hits] == sorted((s for _, s in hits), reverse=True)
        row = filled.passage_rows([hits[0][0]])[hits[0][0]]
        assert row.text == chunk.chunk.text and row.article_id == "normans"
        np.testing.assert_allclose(filled.vectors([hits[0][0]])[0], chunk.vector, atol=1e-6)

    def test_cosines_are_exact(self, filled: IndexStore) -> None:
        ids = [i for a in ARTICLES for i in filled.chunk_ids(a.id)]
        query = vector_of("harbour ferry islands")
        expected = filled.vectors(ids) @ query
        found = filled.cosines(query, ids)
        assert sorted(found) == sorted(ids)
        for chunk_id, cosine in zip(ids, expected, strict=True):
            assert found[chunk_id] == pytest.approx(float(cosine), abs=1e-5)
        assert filled.cosines(query, []) == {}

    def test_filters_apply_inside_the_search(self, filled: IndexStore) -> None:
        cases = {
            Filters(article_ids=("normans",)): {"normans"},
            Filters(titles=("super bowl 50",)): {"broncos"},
            Filters(titles=('the "oxygen" article',)): {"oxygen"},
            Filters(source_prefix="/corpus/history/50%_off/"): {"normans"},
            Filters(source_prefix="/corpus/s"): {"broncos", "oxygen"},
            Filters(date_from="2015-01-01"): {"broncos"},
            Filters(date_to="2012-12-31"): {"normans"},
            Filters(article_ids=("oxygen",), date_from="2000-01-01"): set(),  # no date: out
            Filters(article_ids=("broncos",), titles=("The Normans",)): {"broncos", "normans"},
        }
        query = vector_of("the game")
        for filters, expected in cases.items():
            found = set(articles_of(filled, filled.dense_search(query, 50, filters)))
            assert found == expected, filters

    def test_keyword_search_keeps_to_the_filters(self, filled: IndexStore) -> None:
        """Whether one article mentions a word (the reader's quoted-article check) is a keyword
        search narrowed to it: a word another article holds finds nothing there."""
        normans, broncos = Filters(article_ids=("normans",)), Filters(article_ids=("broncos",))
        assert articles_of(filled, filled.keyword_search_text("claims", 5, normans)) == ["normans"]
        assert filled.keyword_search_text("claims", 5, broncos) == []
        assert filled.keyword_search_text("Super Bowl Broncos", 5, normans) == []
        assert set(articles_of(filled, filled.keyword_search_text("Broncos", 5, broncos))) == {
            "broncos"
        }


class KeywordSearchTests(_Stores):
    def test_keywords_find_their_chunks(self, filled: IndexStore) -> None:
        hits = filled.keyword_search_text("Who won Super Bowl 50?", 5, None)
        assert articles_of(filled, hits)[0] == "broncos"
        assert all(score > 0 for _, score in hits)
        assert [score for _, score in hits] == sorted((s for _, s in hits), reverse=True)
        # "claims" meets "claimed": through our stemmer, or the store's own.
        assert articles_of(filled, filled.keyword_search_text("claims", 5, None)) == ["normans"]

    def test_stop_words_and_unknown_words_match_nothing(self, filled: IndexStore) -> None:
        assert filled.keyword_search_text("the of and", 5, None) == []
        assert filled.keyword_search_text("zeppelin", 5, None) == []

    def test_filters_apply_inside_the_search(self, filled: IndexStore) -> None:
        query = "the normans game oxygen harbour"
        for filters, allowed in (
            (Filters(article_ids=("normans",)), {"normans"}),
            (Filters(source_prefix="/corpus/s"), {"broncos", "oxygen"}),
            (Filters(date_to="2012-12-31"), {"normans"}),
        ):
            found = set(articles_of(filled, filled.keyword_search_text(query, 50, filters)))
            assert found and found <= allowed, filters

    def test_passage_rows_name_their_article(self, filled: IndexStore) -> None:
        ids = filled.chunk_ids("normans")
        found = filled.passage_rows(ids)
        assert sorted(found) == sorted(ids)
        article = ARTICLES[1]
        for chunk_id, row in found.items():
            assert row.chunk_id == chunk_id and row.text == article.text[row.start : row.end]
            assert (row.title, row.url, row.date, row.source) == (
                article.title,
                article.url,
                article.date,
                article.source,
            )
        assert filled.passage_rows([]) == {}


class SentenceTests(_Stores):
    def test_sentences_are_stored_by_chunk(self, filled: IndexStore) -> None:
        article = ARTICLES[0]
        ids = filled.chunk_ids(article.id)
        written = [s for row in rows(article) for s in row.sentences]
        stored = filled.sentence_rows(ids)
        assert list(stored.chunk_ids) == [
            chunk_id
            for chunk_id, row in zip(ids, rows(article), strict=True)
            for _ in row.sentences
        ]
        assert [(int(a), int(b)) for a, b in zip(stored.starts, stored.ends, strict=True)] == [
            (s.start, s.end) for s in written
        ]
        for vector, sentence in zip(stored.vectors, written, strict=True):
            assert float(vector @ sentence.vector) > 0.99  # a compact format may round it
        vectors, owners = filled.sentence_vectors(ids)
        assert list(owners) == list(stored.chunk_ids) and len(vectors) == len(written)
        assert len(filled.sentence_rows([]).chunk_ids) == 0

    def test_best_sentence_cosines_are_each_chunks_best(self, filled: IndexStore) -> None:
        ids = [i for a in ARTICLES for i in filled.chunk_ids(a.id)]
        query = vector_of("Who was the most valuable player?")
        expected = best_sentence_scores(query, *filled.sentence_vectors(ids))
        found = filled.best_sentence_cosines(query, [*ids, ids[0], 10**12])
        assert sorted(found) == sorted(expected) == sorted(ids)
        for chunk_id, cosine in expected.items():
            assert found[chunk_id] == pytest.approx(cosine, abs=1e-4)
        assert filled.best_sentence_cosines(query, []) == {}


class MaintenanceTests(_Stores):
    def test_writes_are_searchable_after_write(self, store: IndexStore) -> None:
        store.follow_writers()
        write(store, ARTICLES[2:3])
        with store.snapshot():
            store.follow_writers()
            hits = store.dense_search(rows(ARTICLES[2])[0].vector, 1, None)
            assert articles_of(store, hits) == ["oxygen"]

    def test_stats_name_the_store(self, filled: IndexStore) -> None:
        stats = filled.stats()
        assert isinstance(stats, StoreStats) and stats.store and stats.keyword_index
        assert stats.outside_bytes >= 0


class CheckingTests(_Stores):
    def test_a_store_written_whole_checks_clean(self, filled: IndexStore) -> None:
        report = filled.check()
        assert report.ok, report.problems
        assert report.articles == len(ARTICLES)
        assert report.chunks == sum(len(rows(a)) for a in ARTICLES)


class StoreContract(
    CatalogTests,
    ListingTests,
    VectorSearchTests,
    KeywordSearchTests,
    SentenceTests,
    MaintenanceTests,
    CheckingTests,
):
    """Every test of the store contract: a store's test class subclasses this."""
