"""Measure retrieval and answers on SQuAD-format data (``qa eval``).

Each SQuAD article is ingested through the same code as ``qa ingest`` (its text = paragraphs
joined by blank lines), so every gold answer's ``answer_start`` maps to an exact character span
of the indexed article. Retrieval is scored by those spans; answers by SQuAD-normalised text.
"""

from __future__ import annotations

import gzip
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qa.assistant import Assistant
from qa.eval.metrics import (
    Span,
    contains_answer,
    contains_span,
    first_hit,
    ndcg_at,
    overlaps_span,
    percentile,
    recall_at,
    reciprocal_rank,
)
from qa.pipeline import answer as answer_module
from qa.pipeline import retrieval
from qa.pipeline.corpus import read_file
from qa.pipeline.formats import squad_article_text

MODES = retrieval.MODES
TOP_K = 10
MAX_FALSE_ABSTENTION = 0.05
DENSE_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    title: str
    article_id: str | None  # None for out-of-corpus questions (their article is not indexed)
    spans: tuple[Span, ...]
    article_number: int  # position in the file: even = tune half, odd = test half


@dataclass
class Result:
    question: Question
    ranks: dict[str, int | None] = field(default_factory=dict)
    ndcg: dict[str, float] = field(default_factory=dict)
    confidence: float = 0.0
    text: str = ""
    top_hit: bool = False
    citations: int = 0
    citations_on_gold: int = 0
    search_ms: float = 0.0
    ask_ms: float = 0.0

    @property
    def in_corpus(self) -> bool:
        return self.question.article_id is not None

    def found(self, threshold: float) -> bool:
        return self.confidence >= threshold

    def answer_hit(self, threshold: float) -> bool:
        return self.found(threshold) and contains_answer(self.text, self.question.answers)


def load_squad(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return list(json.load(handle)["data"])


def questions_for(
    raw: list[dict[str, Any]], source: Path | None, numbers: list[int]
) -> list[Question]:
    """Questions of the articles ``raw`` (file positions ``numbers``), with gold spans mapped
    into the text of the article as ingested from ``source`` (None: the article is not indexed).
    """
    ids: list[str | None] = [None] * len(raw)
    if source is not None:
        articles = read_file(source).articles
        for position, (data, article) in enumerate(zip(raw, articles, strict=True)):
            if article.text != squad_article_text(data["paragraphs"]):
                raise ValueError(f"article {article.title!r} was not ingested as its paragraphs")
            ids[position] = article.id
    questions: list[Question] = []
    for position, data in enumerate(raw):
        text = squad_article_text(data["paragraphs"])
        offset = 0
        for paragraph in data["paragraphs"]:
            context = str(paragraph["context"])
            for qa in paragraph["qas"]:
                spans = []
                for gold in qa["answers"]:
                    start = offset + int(gold["answer_start"])
                    end = start + len(gold["text"])
                    if text[start:end] == gold["text"]:
                        spans.append((start, end))
                questions.append(
                    Question(
                        id=str(qa["id"]),
                        question=" ".join(str(qa["question"]).split()),
                        answers=tuple(dict.fromkeys(str(g["text"]) for g in qa["answers"])),
                        title=str(data.get("title", "")),
                        article_id=ids[position],
                        spans=tuple(dict.fromkeys(spans)),
                        article_number=numbers[position],
                    )
                )
            offset += len(context) + 2  # paragraphs are joined by "\n\n"
    return questions


class Evaluator:
    """Runs questions against an index and keeps per-question results."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._relevant: dict[tuple[str, tuple[Span, ...]], int] = {}

    def total_relevant(self, question: Question) -> int:
        """How many chunks of the index contain a gold span (for nDCG's ideal ranking)."""
        assert question.article_id is not None
        key = (question.article_id, question.spans)
        if key not in self._relevant:
            chunks = self.assistant.catalog.chunk_rows(question.article_id)
            self._relevant[key] = sum(contains_span(c.start, c.end, question.spans) for c in chunks)
        return self._relevant[key]

    def rank(self, question: Question, mode: str) -> tuple[int | None, float, float]:
        """(first relevant rank, nDCG@10, milliseconds) of one search."""
        started = time.perf_counter()
        passages = self.assistant.search(question.question, k=TOP_K, mode=mode)
        elapsed = (time.perf_counter() - started) * 1000
        relevant = [
            p.article_id == question.article_id and contains_span(p.start, p.end, question.spans)
            for p in passages
        ]
        ndcg = ndcg_at(relevant, self.total_relevant(question), TOP_K)
        return first_hit(relevant), ndcg, elapsed

    def run(
        self,
        questions: Sequence[Question],
        modes: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Result]:
        results = []
        for done, question in enumerate(questions, start=1):
            result = Result(question)
            if question.article_id is not None:
                for mode in modes:
                    rank, ndcg, elapsed = self.rank(question, mode)
                    result.ranks[mode], result.ndcg[mode] = rank, ndcg
                    if mode == "hybrid":
                        result.search_ms = elapsed
            started = time.perf_counter()
            # Abstention off: every question gets its best answer and confidence, so any
            # threshold can be applied afterwards to the same answers.
            reply = self.assistant.ask(question.question, abstain_below=float("-inf"))
            result.ask_ms = (time.perf_counter() - started) * 1000
            result.confidence, result.text = reply.confidence, reply.text
            if reply.citations and question.article_id is not None:
                result.top_hit = contains_answer(reply.citations[0].quote, question.answers)
                result.citations = len(reply.citations)
                result.citations_on_gold = sum(
                    c.article_id == question.article_id
                    and overlaps_span(c.start, c.end, question.spans)
                    for c in reply.citations
                )
            results.append(result)
            if progress is not None:
                progress(done, len(questions))
        return results


def summarise(results: Sequence[Result], modes: Sequence[str], threshold: float) -> dict[str, Any]:
    """Metrics over ``results`` with answers abstaining below ``threshold``."""
    inside = [r for r in results if r.in_corpus]
    outside = [r for r in results if not r.in_corpus]
    summary: dict[str, Any] = {
        "questions_in_corpus": len(inside),
        "questions_out_of_corpus": len(outside),
    }
    retrieval_rows = {}
    for mode in modes:
        ranks = [r.ranks[mode] for r in inside if mode in r.ranks]
        if not ranks:
            continue
        retrieval_rows[mode] = {
            "recall@1": _mean(recall_at(rank, 1) for rank in ranks),
            "recall@5": _mean(recall_at(rank, 5) for rank in ranks),
            "recall@10": _mean(recall_at(rank, 10) for rank in ranks),
            "mrr@10": _mean(reciprocal_rank(rank, 10) for rank in ranks),
            "ndcg@10": _mean(r.ndcg[mode] for r in inside if mode in r.ndcg),
        }
    summary["retrieval"] = retrieval_rows
    if inside:
        answered = [r for r in inside if r.found(threshold)]
        summary["answers"] = {
            "answer_hit_rate": _mean(r.answer_hit(threshold) for r in inside),
            "top_sentence_hit_rate": _mean(r.found(threshold) and r.top_hit for r in inside),
            "citation_precision": _ratio(
                sum(r.citations_on_gold for r in answered), sum(r.citations for r in answered)
            ),
            "answered": len(answered) / len(inside),
            "answer_hit_rate_without_abstention": _mean(
                contains_answer(r.text, r.question.answers) for r in inside
            ),
        }
    summary["abstention"] = {
        "threshold": threshold,
        "false_abstention": _mean(not r.found(threshold) for r in inside) if inside else None,
        "correct_abstention": _mean(not r.found(threshold) for r in outside) if outside else None,
    }
    summary["latency_ms"] = {
        "search_p50": percentile([r.search_ms for r in inside], 0.5),
        "search_p95": percentile([r.search_ms for r in inside], 0.95),
        "ask_p50": percentile([r.ask_ms for r in results], 0.5),
        "ask_p95": percentile([r.ask_ms for r in results], 0.95),
    }
    return summary


def tune_threshold(results: Sequence[Result]) -> float:
    """The highest threshold keeping false abstention on in-corpus questions at or under 5%."""
    inside = sorted(r.confidence for r in results if r.in_corpus)
    if not inside:
        return answer_module.ABSTAIN_BELOW
    allowed = int(MAX_FALSE_ABSTENTION * len(inside))  # questions that may abstain wrongly
    return inside[allowed]


def tune_dense_weight(
    evaluator: Evaluator, questions: Sequence[Question]
) -> tuple[float, dict[float, float]]:
    """The chunk-dense weight with the best MRR@10 on ``questions`` (keyword weight = 1 - it,
    sentence weight unchanged); the retriever keeps its weights."""
    scores: dict[float, float] = {}
    assistant = evaluator.assistant
    saved = assistant.fusion
    base = assistant.retriever.weights
    try:
        for weight in DENSE_WEIGHTS:
            assistant.fusion = base.with_dense_share(weight)
            ranks = [evaluator.rank(q, "hybrid")[0] for q in questions if q.article_id]
            scores[weight] = _mean(reciprocal_rank(rank) for rank in ranks)
    finally:
        assistant.fusion = saved
    return max(scores, key=lambda w: (scores[w], -abs(w - base.dense_share))), scores


def mean_summary(summaries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The mean of several files' summaries, key by key (question counts are summed)."""

    def merge(values: list[Any], key: str) -> Any:
        first = values[0]
        if isinstance(first, dict):
            keys = [k for k in first if all(isinstance(v, dict) and k in v for v in values)]
            return {k: merge([v[k] for v in values], k) for k in keys}
        if key.startswith("questions_"):
            return sum(values)
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(numbers) == len(values):
            return sum(numbers) / len(numbers)
        return None

    return dict(merge([{k: v for k, v in s.items() if k != "run"} for s in summaries], ""))


def failures(results: Sequence[Result], threshold: float) -> list[dict[str, Any]]:
    """Questions that went wrong, for reading: retrieval misses, wrong or wrongly held answers."""
    rows = []
    for r in results:
        q = r.question
        reasons = []
        if r.in_corpus:
            if r.ranks.get("hybrid", 0) is None:
                reasons.append("no relevant chunk in the top 10")
            if not r.answer_hit(threshold):
                reasons.append("abstained" if not r.found(threshold) else "answer misses the gold")
        elif r.found(threshold):
            reasons.append("answered a question whose article is not indexed")
        if reasons:
            rows.append(
                {
                    **{k: v for k, v in asdict(q).items() if k != "spans"},
                    "reasons": reasons,
                    "hybrid_rank": r.ranks.get("hybrid"),
                    "confidence": round(r.confidence, 4),
                    "answer": r.text,
                }
            )
    return rows


def markdown(summary: dict[str, Any]) -> str:
    lines = ["| retriever | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 |", "|---|---|---|---|---|---|"]
    for mode, row in summary["retrieval"].items():
        lines.append(
            f"| {mode} | {row['recall@1']:.3f} | {row['recall@5']:.3f} | {row['recall@10']:.3f} "
            f"| {row['mrr@10']:.3f} | {row['ndcg@10']:.3f} |"
        )
    answers = summary.get("answers")
    if answers:
        lines += [
            "",
            "| answers (hybrid) | value |",
            "|---|---|",
            f"| answer hit rate | {answers['answer_hit_rate']:.3f} |",
            f"| top-sentence hit rate | {answers['top_sentence_hit_rate']:.3f} |",
            f"| citation precision | {answers['citation_precision']:.3f} |",
            f"| answered | {answers['answered']:.3f} |",
            "| answer hit rate without abstention | "
            f"{answers['answer_hit_rate_without_abstention']:.3f} |",
        ]
    abstention = summary["abstention"]
    lines += [
        "",
        "| abstention | value |",
        "|---|---|",
        f"| threshold | {abstention['threshold']:.3f} |",
    ]
    for key in ("false_abstention", "correct_abstention"):
        if abstention[key] is not None:
            lines.append(f"| {key.replace('_', ' ')} | {abstention[key]:.3f} |")
    latency = summary["latency_ms"]
    lines += [
        "",
        "| latency per question | p50 ms | p95 ms |",
        "|---|---|---|",
        f"| search (hybrid) | {latency['search_p50']:.0f} | {latency['search_p95']:.0f} |",
        f"| ask | {latency['ask_p50']:.0f} | {latency['ask_p95']:.0f} |",
    ]
    counts = f"{summary['questions_in_corpus']} in-corpus questions"
    if summary["questions_out_of_corpus"]:
        counts += f", {summary['questions_out_of_corpus']} out-of-corpus"
    return f"{counts}\n\n" + "\n".join(lines)


def sample(questions: list[Question], limit: int | None, seed: int) -> list[Question]:
    if limit is None or limit >= len(questions):
        return questions
    return random.Random(seed).sample(questions, limit)


def _mean(values: Any) -> float:
    items = [float(v) for v in values]
    return sum(items) / len(items) if items else 0.0


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
