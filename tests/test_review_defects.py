"""Defects found in the issue-14 review, each pinned by a test that failed before its fix."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from qa import Assistant, Filters, QAError, SearchOptionError
from qa.eval import evaluation
from qa.pipeline import retrieval
from qa.pipeline.corpus import read_file


def _articles(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"river-{n}.md").write_text(
            f"# River {n}\n\nThe river number {n} floods the valley every spring.\n",
            encoding="utf-8",
        )


def test_keyword_search_with_a_wide_filter_binds_no_parameter_per_chunk(
    assistant: Assistant, tmp_path: Path
) -> None:
    _articles(tmp_path / "docs", 12)
    assert assistant.ingest([tmp_path / "docs"]).ok
    # Lower SQLite's variable limit below the number of filtered chunks: one "?" per allowed
    # chunk id (the old query) fails with "too many SQL variables".
    assistant.store.db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 8)
    wide = Filters(source_prefix=str(tmp_path / "docs"))
    # k stays under the limit: only the filter must not cost one parameter per chunk.
    for mode in retrieval.MODES:
        hits = assistant.search("river floods valley", k=5, filters=wide, mode=mode)
        assert len(hits) == 5
    narrow = Filters(titles=("River 3",))
    assert [p.title for p in assistant.search("river", k=5, filters=narrow, mode="keyword")] == [
        "River 3"
    ]


def test_ingest_of_the_folder_holding_the_index_skips_the_index(
    embedder: object, tmp_path: Path
) -> None:
    _articles(tmp_path, 2)
    with Assistant.open(tmp_path / "index", embedder=embedder) as assistant:  # type: ignore[arg-type]
        assert assistant.ingest([tmp_path]).ok
        again = assistant.ingest([tmp_path])
    assert again.ok, again.failed
    assert len(again.unchanged) == 2
    assert not any("index" in Path(f.source).parts for f in again.failed)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        (
            "questions.json",
            json.dumps([{"question": f"q{n}", "answer": "a"} for n in range(36)]),
            "holds questions, not articles (no record has a 'text' field)",
        ),
        (
            "questions.jsonl",
            "\n".join(json.dumps({"question": f"q{n}"}) for n in range(5)),
            "no record has a 'text' field",
        ),
    ],
)
def test_a_json_file_without_text_records_fails_once(
    tmp_path: Path, name: str, content: str, says: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = read_file(path)
    assert result.articles == []
    assert len(result.failures) == 1  # one line for the file, not one per record
    assert result.failures[0].reason.startswith(says)


def test_tuning_the_fusion_weight_leaves_module_globals_alone(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _articles(tmp_path / "docs", 3)
    assert assistant.ingest([tmp_path / "docs"]).ok
    evaluator = evaluation.Evaluator(assistant)
    seen: list[tuple[float, float]] = []
    rank = evaluator.rank

    def spying_rank(question: evaluation.Question, mode: str) -> tuple[int | None, float, float]:
        # The tuned two-way share (the sentence weight, where the store has sentence vectors,
        # keeps its part).
        seen.append((retrieval.DENSE_WEIGHT, assistant.retriever.weights.dense_share))
        return rank(question, mode)

    monkeypatch.setattr(evaluator, "rank", spying_rank)
    article = assistant.articles()[0]
    question = evaluation.Question(
        id="q1",
        question="Which river floods the valley?",
        answers=("river",),
        title=article.title,
        article_id=article.id,
        spans=((0, 5),),
        article_number=0,
    )
    _, scores = evaluation.tune_dense_weight(evaluator, [question])
    assert set(scores) == set(evaluation.DENSE_WEIGHTS)
    assert {globals_weight for globals_weight, _ in seen} == {retrieval.CHUNK_FUSION.dense}
    assert sorted({used for _, used in seen}) == sorted(evaluation.DENSE_WEIGHTS)
    assert assistant.fusion is None  # restored afterwards: the retriever's default


def test_bad_search_arguments_are_qa_errors(assistant: Assistant, tmp_path: Path) -> None:
    _articles(tmp_path / "docs", 1)
    assert assistant.ingest([tmp_path / "docs"]).ok
    with pytest.raises(QAError, match="mode must be one of"):
        assistant.search("river", mode="fuzzy")
    with pytest.raises(SearchOptionError, match="k must be greater than 0"):
        assistant.retriever.search("river", k=0)


def test_one_modes_tuple() -> None:
    assert evaluation.MODES is retrieval.MODES
