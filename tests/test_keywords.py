"""The keyword impact index of large indexes agrees with FTS5 and follows changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import qa.stores.embedded.bm25 as keywords
from qa import Assistant

TOPICS = ["harbour", "glacier", "volcano", "orchestra", "satellite", "vineyard", "cathedral"]


def article(n: int) -> str:
    topic = TOPICS[n % len(TOPICS)]
    rng = np.random.default_rng(n)
    filler = " ".join(rng.choice(["report", "people", "city", "river", "market", "season"], 60))
    return f"# {topic.title()} story {n}\n\nThe {topic} number{n} was seen. {filler}.\n"


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keywords, "CACHE_FROM", 30)


def test_impact_index_ranks_like_fts5(index_dir: Path, write, small_threshold: None) -> None:
    paths = [write(f"a{n:02}.md", article(n)) for n in range(40)]
    with Assistant.open(index_dir, model="hash-64") as assistant:
        assistant.ingest(paths)
        cache = assistant.store.keywords
        assert cache is not None and cache.size == assistant.store.count_chunks()
        for query in ("orchestra number17", "orchestra season market", "glacier"):
            ours = cache.search(query, 10)
            match = " OR ".join(f'"{w}"' for w in query.split())
            fts = assistant.store.keyword_search(match, 10)
            # Same words, same formula: the scores agree closely (tokenisers differ a little),
            # and the best chunk is one FTS5 ranks best too (ties may come in another order).
            assert [s for _, s in ours] == pytest.approx([s for _, s in fts], rel=0.15)
            best = fts[0][1]
            assert ours[0][0] in {i for i, s in fts if s >= best * (1 - 1e-4)}, query
            assert [score for _, score in ours] == sorted((s for _, s in ours), reverse=True)
        hit = assistant.search("orchestra number17", k=1, mode="keyword")[0]
        assert hit.title == "Orchestra story 17"
        allowed = np.asarray(assistant.store.chunk_ids("a03"), dtype=np.int64)
        assert {i for i, _ in cache.search("report people", 10, allowed)} <= set(allowed.tolist())


def test_cache_follows_additions_and_removals(
    index_dir: Path, write, small_threshold: None
) -> None:
    paths = [write(f"a{n:02}.md", article(n)) for n in range(100)]
    with Assistant.open(index_dir, model="hash-64") as assistant:
        assistant.ingest(paths[:99])
        cache = assistant.store.keywords
        assert cache is not None
        # One new article (under 2% of the cache): served from FTS5 until the next rebuild.
        assistant.ingest([paths[99]])
        assert assistant.store.keywords is cache
        hit = assistant.search("glacier number99", k=1, mode="keyword")[0]
        assert hit.title == "Glacier story 99"
        # A removed article's chunks never come back from the cache.
        assistant.remove([str(paths[12])])
        found = assistant.search("vineyard number12", k=10, mode="keyword")
        assert found and all(p.title != "Vineyard story 12" for p in found)
        # Enough change: rebuilt over every chunk, and the old cache folder is gone.
        assistant.remove([str(path) for path in paths[20:30]])
        rebuilt = assistant.store.keywords
        assert rebuilt is not None and rebuilt is not cache
        assert rebuilt.size == assistant.store.count_chunks()
        assert not cache.folder.exists() and rebuilt.folder.exists()
    with Assistant.open(index_dir) as again:
        assert again.store.keywords is not None
        assert again.search("glacier number99", k=1, mode="keyword")[0].title == "Glacier story 99"
        # Small again: the cache is dropped and FTS5 answers alone.
        again.remove([str(path) for path in paths[30:]])
        assert again.store.keywords is None
        assert [p.name for p in index_dir.iterdir() if p.name.startswith("keywords")] == []


def test_chunk_ids_are_never_reused(index_dir: Path, write) -> None:
    with Assistant.open(index_dir, model="hash-64") as assistant:
        first, second = write("a.md", article(1)), write("b.md", article(2))
        assistant.ingest([first, second])
        highest = int(assistant.store.db.execute("SELECT max(id) FROM chunks").fetchone()[0])
        assistant.remove([str(second)])
        assistant.ingest([write("c.md", article(3))])
        newest = assistant.store.db.execute(
            "SELECT min(c.id) FROM chunks c JOIN articles a ON a.id = c.article_id "
            "WHERE a.title = 'Orchestra story 3'"
        ).fetchone()[0]
        assert newest > highest


def test_a_reader_follows_a_cache_rebuilt_by_a_writer(
    index_dir: Path, write, small_threshold: None
) -> None:
    paths = [write(f"a{n:02}.md", article(n)) for n in range(40)]
    with Assistant.open(index_dir, model="hash-64") as writer:
        writer.ingest(paths[:35])
        with Assistant.open(index_dir) as reader:
            first = reader.search("orchestra number3", k=1, mode="keyword")[0]
            assert first.title == "Orchestra story 3"
            old = reader.store.keywords
            assert old is not None
            writer.remove([str(path) for path in paths[:10]])  # enough change: rebuilt
            writer.ingest(paths[35:])
            hit = reader.search("glacier number36", k=1, mode="keyword")[0]
            assert hit.title == "Glacier story 36"
            assert reader.store.keywords is not None and reader.store.keywords.folder != old.folder
            removed = reader.search("orchestra number3", k=5, mode="keyword")
            assert all(p.title != "Orchestra story 3" for p in removed)


def test_a_small_index_keeps_its_fts5_index_in_one_segment(index_dir: Path, write) -> None:
    """Each ingest commits new FTS5 segments; below the impact index's size they are merged
    after the ingest (every query term is looked up once per segment), and search finds the
    same chunks."""

    def segments(assistant: Assistant) -> int:
        found = assistant.store.db.execute("SELECT count(DISTINCT segid) FROM chunks_fts_idx")
        return int(found.fetchone()[0])

    with Assistant.open(index_dir, model="hash-64") as assistant:
        paths = [write(f"a{n:02}.md", article(n)) for n in range(4)]
        for path in paths:
            assistant.ingest([path])
            assert segments(assistant) == 1
        hit = assistant.search("volcano number2", k=1, mode="keyword")[0]
        assert hit.title == "Volcano story 2"
        assistant.remove([str(paths[1])])
        assert segments(assistant) == 1
