"""The FAISS index: exact below the size threshold, IVF above it, both removable and saved whole."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import embeddings.index as vector_index
from embeddings import VectorIndex
from embeddings.index import FLAT, IVF, choose_layout
from qa import Assistant

DIM = 32


def clustered(count: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around 40 random centres: structure an IVF index can exploit, as real
    embeddings have."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, DIM))
    points = centres[rng.integers(0, 40, count)] + rng.normal(scale=0.6, size=(count, DIM))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def exact_top(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    order = np.argsort(-(queries @ vectors.T), axis=1)[:, :k]
    return ids[order]


def test_layout_follows_size_with_hysteresis() -> None:
    small = vector_index.APPROXIMATE_FROM - 1
    assert choose_layout(small) == {"kind": FLAT}
    big = choose_layout(vector_index.APPROXIMATE_FROM)
    assert big["kind"] == IVF and big["nlist"] >= 64 and 16 <= big["nprobe"] <= big["nlist"]
    assert big["nlist"] * vector_index.TRAIN_PER_LIST <= 2 * vector_index.APPROXIMATE_FROM * 4
    # Shrinking a little below the threshold keeps IVF; far below goes back to exact.
    assert choose_layout(small, big) is big
    assert choose_layout(vector_index.APPROXIMATE_FROM // 3, big) == {"kind": FLAT}
    # Growing within REGROW_FACTOR keeps the trained lists; past it, retrain with more lists.
    assert choose_layout(3 * vector_index.APPROXIMATE_FROM, big) is big
    grown = choose_layout(5 * vector_index.APPROXIMATE_FROM, big)
    assert grown["kind"] == IVF and grown["nlist"] > big["nlist"]
    assert choose_layout(1_000_000)["nlist"] == 1024


def test_ivf_finds_what_exact_search_finds_and_removes_by_id(tmp_path: Path) -> None:
    vectors = clustered(6000)
    ids = np.arange(10, 6010, dtype=np.int64) * 3  # ids need not be dense
    layout = {"kind": IVF, "nlist": 64, "nprobe": 16, "trained_on": 6000}
    index = VectorIndex.build(DIM, ids, vectors, layout)
    assert index.kind == IVF and len(index) == 6000
    assert sorted(index.ids().tolist()) == ids.tolist()
    np.testing.assert_allclose(index.vector(int(ids[7])), vectors[7], atol=1e-6)

    queries = clustered(50, seed=1)
    _, found = index.search(queries, 10)
    truth = exact_top(vectors, ids, queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.9, recall

    gone = ids[:3000]
    assert index.remove(gone) == 3000
    _, found = index.search(queries, 10)
    assert not set(found.ravel().tolist()) & set(gone.tolist())

    saved = tmp_path / "vectors.faiss"
    index.save(saved)
    again = VectorIndex.load(saved, DIM, nprobe=16)
    assert again.kind == IVF and len(again) == 3000
    np.testing.assert_array_equal(again.search(queries, 10)[1], index.search(queries, 10)[1])


def test_filtered_search_is_exact_among_the_allowed_ids() -> None:
    vectors = clustered(3000)
    ids = np.arange(3000, dtype=np.int64)
    # One probe of 64 lists would miss most of an arbitrary subset; the filter path must not.
    layout = {"kind": IVF, "nlist": 64, "nprobe": 1, "trained_on": 3000}
    index = VectorIndex.build(DIM, ids, vectors, layout)
    allowed = np.arange(0, 3000, 37, dtype=np.int64)
    queries = clustered(5, seed=2)
    scores, found = index.search(queries, 5, allowed)
    np.testing.assert_array_equal(found, exact_top(vectors[allowed], allowed, queries, 5))
    assert np.all(np.diff(scores, axis=1) <= 0)
    scores, found = index.search(queries, 5, np.zeros(0, dtype=np.int64))
    assert (found == -1).all()


def test_flat_and_ivf_agree_on_small_exact_problems() -> None:
    vectors = clustered(500)
    ids = np.arange(500, dtype=np.int64)
    flat = VectorIndex.build(DIM, ids, vectors, {"kind": FLAT})
    everything = {"kind": IVF, "nlist": 8, "nprobe": 8, "trained_on": 500}  # probes all lists
    ivf = VectorIndex.build(DIM, ids, vectors, everything)
    queries = clustered(20, seed=3)
    np.testing.assert_array_equal(flat.search(queries, 5)[1], ivf.search(queries, 5)[1])
    np.testing.assert_allclose(flat.vectors(ids[:9]), ivf.vectors(ids[:9]), atol=1e-6)


def test_assistant_switches_layout_by_size_and_records_it(
    index_dir: Path, write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_index, "APPROXIMATE_FROM", 60)
    monkeypatch.setattr(vector_index, "TRAIN_PER_LIST", 8)
    paths = [
        write(f"a{n:02}.md", f"# Article {n}\n\n" + " ".join(f"topic{n}word{w}" for w in range(90)))
        for n in range(40)
    ]
    folder = paths[0].parent
    with Assistant.open(index_dir, model="hash-64") as assistant:
        assistant.ingest([folder / "a00.md"])
        assert assistant.store.vector_index.kind == FLAT
        assistant.ingest([folder])
        chunks = assistant.store.count_chunks()
        assert chunks >= 60 and assistant.store.vector_index.kind == IVF
        config = json.loads((index_dir / "config.json").read_text())
        assert config["vector_index"]["kind"] == IVF
        assert config["vector_index"]["trained_on"] == chunks
        hit = assistant.search("topic7word3 topic7word4", k=1, mode="dense")[0]
        assert hit.title == "Article 7"
        assert assistant.stats().vector_index == IVF
    with Assistant.open(index_dir) as again:
        assert again.store.vector_index.kind == IVF and len(again.store.vector_index) == chunks
        assert again.search("topic7word3 topic7word4", k=1, mode="dense")[0].title == "Article 7"
        removed = again.remove([str(folder / f"a{n:02}.md") for n in range(35)])
        assert len(removed) == 35
        assert again.store.vector_index.kind == FLAT  # far below the threshold: exact search again
        assert sorted(again.store.vector_index.ids().tolist()) == sorted(
            row[0] for row in again.store.db.execute("SELECT id FROM chunks")
        )
    assert json.loads((index_dir / "config.json").read_text())["vector_index"] == {"kind": FLAT}


# -- what runs the model is recorded too ---------------------------------------------------------


def test_backend_is_recorded_and_cannot_change(index_dir: Path, write) -> None:
    from embeddings.onnx import BACKENDS
    from qa import ModelMismatchError
    from qa.cli.options import BACKENDS as CLI_BACKENDS
    from qa.config import read_config

    assert CLI_BACKENDS == BACKENDS
    with Assistant.open(index_dir, model="hash-64") as assistant:
        assistant.ingest([write("a.md", "# A\n\nSome words about rivers.")])
    assert json.loads((index_dir / "config.json").read_text())["backend"] == "hash"
    with pytest.raises(ModelMismatchError, match="backend"):
        Assistant.open(index_dir, backend="torch")
    # Indexes written before backends were recorded were built with PyTorch.
    data = json.loads((index_dir / "config.json").read_text())
    del data["backend"]
    (index_dir / "config.json").write_text(json.dumps(data))
    config = read_config(index_dir)
    assert config is not None and config.backend == "torch"


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import faiss

    index = VectorIndex.build(DIM, np.arange(10, dtype=np.int64), clustered(10))
    saved = tmp_path / "vectors.faiss"
    index.save(saved)
    before = saved.read_bytes()

    def full_disk(_index: object, name: str) -> None:
        Path(name).write_bytes(b"half")
        raise RuntimeError(f"Error in write: 28 (No space left on device) writing {name}")

    monkeypatch.setattr(faiss, "write_index", full_disk)
    with pytest.raises(OSError) as caught:
        index.save(saved)
    assert caught.value.errno == errno.ENOSPC
    assert saved.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["vectors.faiss"]


def test_one_query_is_searched_in_one_thread_and_the_setting_restored(monkeypatch) -> None:
    """A single query runs in one OpenMP thread (see ``_threads_for``); batches keep every
    thread, and the caller's setting is back afterwards, also when the search fails."""
    import faiss

    vectors = clustered(500)
    index = VectorIndex(DIM)
    index.add(np.arange(500, dtype=np.int64), vectors)
    seen: list[int] = []
    search = index._search

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(faiss.omp_get_max_threads())
        return search(*args, **kwargs)

    monkeypatch.setattr(index, "_search", watched)
    original = faiss.omp_get_max_threads()
    many = max(2, original)
    faiss.omp_set_num_threads(many)
    try:
        index.search(vectors[:1], 5)
        index.search(vectors[:3], 5)
        assert seen == [1, many] and faiss.omp_get_max_threads() == many

        def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

        monkeypatch.setattr(index, "_search", broken)
        with pytest.raises(RuntimeError):
            index.search(vectors[:1], 5)
        assert faiss.omp_get_max_threads() == many
    finally:
        faiss.omp_set_num_threads(original)
