"""The ways an index makes sentence vectors (issue 26): each sentence title-prefixed (as before),
on its own text, or pooled from its chunk's own pass (late chunking); or each sentence
title-prefixed and the chunk's vector pooled from its sentences' ("pooled")."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from embeddings import HashEmbedder, load_embedder
from embeddings.batching import Batch, embed_batch
from embeddings.spans import Span, embed_with_spans, pool_spans, row_starts
from qa import Assistant
from qa.cli.commands import cli
from qa.errors import IndexFormatError
from qa.pipeline.chunking import embedding_text
from qa.pipeline.ingest import POOLED_CONTEXT_SHARE
from qa.pipeline.sentences import split_sentences

STORY = (
    "Harbour news\n\nThe harbour reopened on Monday after the storm. Fishing boats left at dawn. "
    "The mayor thanked the crews who cleared the wreckage."
)


class PoolingHash(HashEmbedder):
    """The hash model with span pooling: a span's vector is its words' plus half its text's, so
    a vector that came from the chunk's pass shows it (the context is in it)."""

    def __init__(self) -> None:
        super().__init__(dimension=64, max_tokens=128)
        self.read_with_spans: list[str] = []

    def embed_spans(self, texts: list[str], spans: Sequence[Sequence[Span]]) -> np.ndarray:
        self.read_with_spans.extend(texts)
        whole = self.embed(texts)
        rows = []
        for text, vector, text_spans in zip(texts, whole, spans, strict=True):
            rows.append(vector)
            for a, b in text_spans:
                own = HashEmbedder.embed(HashEmbedder(64, 128), [text[a:b]])[0]
                mixed = own + 0.5 * vector
                rows.append(mixed / np.linalg.norm(mixed))
        return np.asarray(rows, dtype=np.float32)


def expected(text: str, spans: Sequence[Span]) -> np.ndarray:
    """What PoolingHash gives for ``text`` and its spans."""
    return PoolingHash().embed_spans([text], [list(spans)])


# -- pooling ---------------------------------------------------------------------------------------


def test_a_span_is_the_mean_of_the_tokens_inside_it() -> None:
    tokens = np.array([[9.0, 9.0], [1.0, 0.0], [0.0, 1.0], [3.0, 0.0], [9.0, 9.0]], np.float32)
    # [CLS] "ab" "cd" "ef" [SEP]: special tokens have empty offsets and belong to no span.
    offsets = [(0, 0), (0, 2), (3, 5), (6, 8), (0, 0)]
    whole = np.array([0.6, 0.8], np.float32)
    pooled = pool_spans(tokens, offsets, [(0, 5), (6, 8), (20, 30)], whole)
    np.testing.assert_allclose(pooled[0], np.array([0.5, 0.5]) / np.linalg.norm([0.5, 0.5]))
    np.testing.assert_allclose(pooled[1], [1.0, 0.0])
    np.testing.assert_allclose(pooled[2], whole)  # no token there (cut off): the text's vector
    assert pool_spans(tokens, offsets, [], whole).shape == (0, 2)


def test_a_model_without_span_pooling_embeds_each_span_alone() -> None:
    model = HashEmbedder(dimension=32)
    texts = ["Title\nOne two. Three four.", "Five six."]
    spans = [[(6, 14), (15, 26)], [(0, 9)]]
    rows = embed_with_spans(model, texts, spans)
    assert row_starts(spans) == [0, 3]
    want = model.embed([texts[0], "One two.", "Three four.", texts[1], "Five six."])
    np.testing.assert_allclose(rows, want)


def test_a_batch_with_spans_puts_every_row_back_in_place() -> None:
    """Slices are cut by length (longest first); each text's rows still follow it in order."""
    model = PoolingHash()
    texts = [f"Text {n}. " + "word " * (n * 7 % 23) + "end." for n in range(150)]
    spans = [[(0, len(f"Text {n}."))] if n % 3 else [] for n, _ in enumerate(texts)]
    done: list[int] = []
    rows = embed_batch(model, Batch(texts, spans), done.append)
    whole = np.vstack([expected(text, s) for text, s in zip(texts, spans, strict=True)])
    np.testing.assert_allclose(rows, whole, atol=1e-6)
    assert sum(done) == len(rows) == Batch(texts, spans).rows


# -- ingest ----------------------------------------------------------------------------------------


def test_ingest_reads_each_chunk_once_and_pools_its_sentences(tmp_path: Path, write) -> None:
    model = PoolingHash()
    path = write("story.txt", STORY)
    with Assistant.open(tmp_path / "index", embedder=model, sentence_vectors="late") as assistant:
        report = assistant.ingest([write.base])
        (article,) = assistant.articles()
        (chunk,) = assistant.catalog.chunk_rows(article.id)
        (chunk_id,) = assistant.catalog.chunk_ids(article.id)
        # The model read the chunk (title-prefixed) and no sentence on its own.
        text = embedding_text("Harbour news", chunk.text)
        spans = split_sentences(chunk.text)
        assert model.read_with_spans == [text]
        assert not {chunk.text[a:b] for a, b in spans} & set(model.embedded)
        assert report.chunks_embedded == 1 and report.sentences_embedded == len(spans) == 3
        prefix = len(text) - len(chunk.text)
        want = expected(text, [(prefix + a, prefix + b) for a, b in spans])[1:]
        rows = assistant.store.sentence_rows([chunk_id])
        np.testing.assert_allclose((rows.vectors * want).sum(axis=1), 1.0, atol=1e-4)  # int8
        # ... which is not what the sentence alone gives: its chunk is in it.
        alone = HashEmbedder(64, 128).embed([chunk.text[a:b] for a, b in spans])
        assert ((rows.vectors * alone).sum(axis=1) < 0.99).all()
    config = json.loads((tmp_path / "index" / "config.json").read_text(encoding="utf-8"))
    assert config["sentence_vectors"] == "late"

    # A new section is a new chunk: only it is read; the first chunk keeps its sentences.
    model.read_with_spans.clear()
    path.write_text(STORY + "\n\n## Repairs\n\nThe sea wall needs work. It will take months.")
    with Assistant.open(tmp_path / "index", embedder=model) as assistant:
        report = assistant.ingest([write.base])
        assert report.chunks_embedded == 1 and report.chunks_reused == 1
        assert report.sentences_embedded == 2 and report.sentences_reused == 3
        assert model.read_with_spans == [
            embedding_text(
                "Harbour news", "The sea wall needs work. It will take months.", "Repairs"
            )
        ]
        ids = [i for a in assistant.articles() for i in assistant.catalog.chunk_ids(a.id)]
        again = assistant.store.sentence_rows(ids)
        np.testing.assert_allclose(again.vectors[:3], rows.vectors, atol=1e-6)  # reused


def test_alone_embeds_each_sentence_on_its_own_text(tmp_path: Path, write) -> None:
    model = PoolingHash()
    write("story.txt", STORY)
    with Assistant.open(tmp_path / "index", embedder=model, sentence_vectors="alone") as assistant:
        report = assistant.ingest([write.base])
        (article,) = assistant.articles()
        (chunk,) = assistant.catalog.chunk_rows(article.id)
        sentences = [chunk.text[a:b] for a, b in split_sentences(chunk.text)]
        assert model.read_with_spans == [] and report.sentences_embedded == 3
        # The model read the chunk title-prefixed and each sentence without the title.
        read = [embedding_text("Harbour news", chunk.text), *sentences]
        assert sorted(model.embedded[-4:]) == sorted(read)


def test_pooled_reads_only_the_sentences_and_pools_each_chunk_from_them(
    tmp_path: Path, write
) -> None:
    model = PoolingHash()
    path = write("story.txt", STORY)
    folder = tmp_path / "index"
    with Assistant.open(folder, embedder=model, sentence_vectors="pooled") as assistant:
        report = assistant.ingest([write.base])
        (article,) = assistant.articles()
        (chunk,) = assistant.catalog.chunk_rows(article.id)
        (chunk_id,) = assistant.catalog.chunk_ids(article.id)
        spans = split_sentences(chunk.text)
        titled = [embedding_text("Harbour news", chunk.text[a:b]) for a, b in spans]
        # The model read each sentence, title-prefixed, and the context line, never the chunk.
        read = sorted([*titled, "Harbour news"])
        assert sorted(model.embedded[-4:]) == read and model.read_with_spans == []
        assert embedding_text("Harbour news", chunk.text) not in model.embedded
        assert report.chunks_embedded == 1 and report.sentences_embedded == 3
        # The chunk's vector: its sentences' mean, weighted by their length, less a share of
        # the context line's vector.
        vectors = HashEmbedder(64, 128).embed(titled)
        lengths = np.array([b - a for a, b in spans], dtype=np.float64)[:, None]
        mean = (vectors * lengths).sum(axis=0)
        line = HashEmbedder(64, 128).embed(["Harbour news"])[0]
        want = mean / np.linalg.norm(mean) - POOLED_CONTEXT_SHARE * line
        want /= np.linalg.norm(want)
        np.testing.assert_allclose(assistant.store.vectors([chunk_id])[0], want, atol=1e-6)
        assert assistant.search("When did the fishing boats leave?", k=1)[0].chunk_id == chunk_id
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["sentence_vectors"] == "pooled"

    # A new section: only its sentences are read; the first chunk keeps its vector.
    model.embedded.clear()
    path.write_text(STORY + "\n\n## Repairs\n\nThe sea wall needs work. It will take months.")
    with Assistant.open(folder, embedder=model) as assistant:
        report = assistant.ingest([write.base])
        assert assistant.sentence_vectors == "pooled"
        assert report.chunks_embedded == 1 and report.chunks_reused == 1
        assert report.sentences_embedded == 2 and report.sentences_reused == 3
        new = [
            embedding_text("Harbour news", text, "Repairs")
            for text in ("The sea wall needs work.", "It will take months.")
        ]
        lines = ["Harbour news", "Harbour news › Repairs"]  # context lines are not stored
        assert sorted(model.embedded[-4:]) == sorted([*new, *lines])
        (article,) = assistant.articles()
        first = assistant.catalog.chunk_ids(article.id)[0]
        np.testing.assert_allclose(assistant.store.vectors([first])[0], want, atol=1e-6)


def test_an_index_keeps_the_way_it_makes_sentence_vectors(tmp_path: Path, write) -> None:
    """A new index makes sentence vectors "pooled" (each sentence embedded alone,
    title-prefixed; each chunk's vector pooled from them), on every later ingest too; an index
    made another way keeps its own ("titled": every index from before the default changed)."""
    model = PoolingHash()
    write("story.txt", STORY)
    folder = tmp_path / "index"
    with Assistant.open(folder, embedder=model) as assistant:
        assert assistant.sentence_vectors == "pooled"
        report = assistant.ingest([write.base])
        assert model.read_with_spans == [] and report.sentences_embedded == 3
        assert embedding_text("Harbour news", "Fishing boats left at dawn.") in model.embedded
        (chunk,) = assistant.catalog.chunk_rows(assistant.articles()[0].id)
        assert embedding_text("Harbour news", chunk.text) not in model.embedded
    with pytest.raises(IndexFormatError, match="'pooled' way"):
        Assistant.open(folder, embedder=model, sentence_vectors="late")
    with Assistant.open(folder, embedder=model) as assistant:
        assert assistant.sentence_vectors == "pooled"
    with pytest.raises(IndexFormatError, match="sentence_vectors must be one of"):
        Assistant.open(tmp_path / "other", embedder=model, sentence_vectors="mean")

    model.embedded.clear()
    titled = tmp_path / "titled"
    with Assistant.open(titled, embedder=model, sentence_vectors="titled") as assistant:
        assistant.ingest([write.base])
        (chunk,) = assistant.catalog.chunk_rows(assistant.articles()[0].id)
        assert embedding_text("Harbour news", chunk.text) in model.embedded  # the chunk is read
    with Assistant.open(titled, embedder=model) as assistant:
        assert assistant.sentence_vectors == "titled"


def test_qa_ingest_makes_a_new_index_the_way_asked_and_keeps_it(tmp_path: Path, write) -> None:
    write("story.txt", STORY)
    folder = str(tmp_path / "index")
    ingest = ["ingest", str(write.base), "--index", folder, "--model", "hash", "-q"]
    done = CliRunner().invoke(cli, [*ingest, "--sentence-vectors", "pooled"])
    assert done.exit_code == 0, done.output
    config = json.loads((tmp_path / "index" / "config.json").read_text(encoding="utf-8"))
    assert config["sentence_vectors"] == "pooled"
    refused = CliRunner().invoke(cli, [*ingest, "--sentence-vectors", "titled"])
    assert refused.exit_code != 0
    assert "'pooled' way, not 'titled'" in " ".join(refused.output.split())
    assert CliRunner().invoke(cli, ingest).exit_code == 0  # left out: the index's own way
    other = [*ingest[:3], str(tmp_path / "other"), *ingest[4:], "--sentence-vectors", "mean"]
    wrong = CliRunner().invoke(cli, other)
    assert wrong.exit_code != 0 and "sentence_vectors must be one of" in wrong.output


# -- the real model --------------------------------------------------------------------------------


@pytest.mark.integration
def test_the_onnx_and_torch_models_pool_the_same_sentence_vectors() -> None:
    """Two implementations (ONNX Runtime with the tokenizers library's offsets; PyTorch with
    sentence-transformers' token embeddings and the transformers tokenizer's offsets) agree,
    and each text's own row is exactly what ``embed`` gives."""
    texts = [
        "Black Death › Arrival\nThe plague arrived in Europe in 1347. It spread along trade "
        "routes, reaching Paris (France) by 1348!",
        "Short one. Two.",
    ]
    spans = [[(23, 58), (59, 121)], [(0, 10), (11, 15)]]
    onnx = load_embedder(None, "onnx")
    torch = load_embedder(None, "torch")
    late = {
        name: embed_with_spans(m, texts, spans) for name, m in [("onnx", onnx), ("torch", torch)]
    }
    np.testing.assert_allclose((late["onnx"] * late["torch"]).sum(axis=1), 1.0, atol=1e-4)
    whole = late["onnx"][[0, 3]]
    np.testing.assert_array_equal(whole, onnx.embed(texts))
    # A sentence's pooled vector is close to, but not, the sentence embedded alone.
    alone = onnx.embed([texts[0][23:58]])[0]
    assert 0.6 < float(late["onnx"][1] @ alone) < 0.99
