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
from qa.pipeline import reader as reader_stage
from qa.pipeline import retrieval
from qa.pipeline.corpus import read_file
from qa.pipeline.formats import squad_article_text

MODES = retrieval.MODES
READER_MODE = "reader"  # the hybrid ranking re-ranked by the reader (Assistant.search)
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


# Answer paths `qa eval` can measure: with the trained reader (the default) and without it
# (the answer path before the reader, `--no-reader`).
READER_PATH = "reader"
NO_READER_PATH = "no-reader"


@dataclass
class Reply:
    """What one answer path gave one question (abstention off: every answer is kept, with its
    confidence, so any threshold can be applied afterwards)."""

    confidence: float = 0.0
    text: str = ""
    top_hit: bool = False
    citations: int = 0
    citations_on_gold: int = 0
    ms: float = 0.0


@dataclass
class Result:
    question: Question
    ranks: dict[str, int | None] = field(default_factory=dict)
    ndcg: dict[str, float] = field(default_factory=dict)
    replies: dict[str, Reply] = field(default_factory=dict)
    search_ms: float = 0.0

    @property
    def in_corpus(self) -> bool:
        return self.question.article_id is not None

    def reply(self, path: str | None = None) -> Reply:
        """The reply of ``path`` (default: the first path asked)."""
        return self.replies[path] if path else next(iter(self.replies.values()))

    def found(self, threshold: float, path: str | None = None) -> bool:
        return self.reply(path).confidence >= threshold

    def answer_hit(self, threshold: float, path: str | None = None) -> bool:
        return self.found(threshold, path) and contains_answer(
            self.reply(path).text, self.question.answers
        )


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
        paths: Sequence[str] = (READER_PATH,),
    ) -> list[Result]:
        """Rank each question's passages in every retrieval mode, and answer it on every
        answer path (``READER_PATH``, ``NO_READER_PATH``)."""
        results = []
        for done, question in enumerate(questions, start=1):
            result = Result(question)
            if question.article_id is not None:
                for mode in modes:
                    rank, ndcg, elapsed = self.rank(question, mode)
                    result.ranks[mode], result.ndcg[mode] = rank, ndcg
                    if mode == "hybrid":
                        result.search_ms = elapsed
            for path in paths:
                result.replies[path] = self.answer(question, path)
            results.append(result)
            if progress is not None:
                progress(done, len(questions))
        return results

    def answer(self, question: Question, path: str) -> Reply:
        """One answer, abstention off, on ``path`` (the reader on or off)."""
        assistant = self.assistant
        saved = assistant.reader_enabled
        assistant.reader_enabled = path == READER_PATH
        try:
            started = time.perf_counter()
            reply = assistant.ask(question.question, abstain_below=float("-inf"))
            elapsed = (time.perf_counter() - started) * 1000
        finally:
            assistant.reader_enabled = saved
        outcome = Reply(reply.confidence, reply.text, ms=elapsed)
        if reply.citations and question.article_id is not None:
            outcome.top_hit = contains_answer(reply.citations[0].quote, question.answers)
            outcome.citations = len(reply.citations)
            outcome.citations_on_gold = sum(
                c.article_id == question.article_id
                and overlaps_span(c.start, c.end, question.spans)
                for c in reply.citations
            )
        return outcome


def summarise(
    results: Sequence[Result], modes: Sequence[str], thresholds: dict[str, float]
) -> dict[str, Any]:
    """Metrics over ``results``; each answer path abstains below its own threshold. The first
    path's answers are ``answers`` and ``abstention``; the others are under ``compare``."""
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
    paths = list(thresholds)
    for number, path in enumerate(paths):
        part = _answers(inside, outside, path, thresholds[path])
        if number == 0:
            summary["answer_path"] = path
            summary.update(part)
        else:
            summary.setdefault("compare", {})[path] = part
    summary["latency_ms"] = {
        "search_p50": percentile([r.search_ms for r in inside], 0.5),
        "search_p95": percentile([r.search_ms for r in inside], 0.95),
    }
    for number, path in enumerate(paths):
        suffix = "" if number == 0 else f"_{path.replace('-', '_')}"
        times = [r.reply(path).ms for r in results]
        summary["latency_ms"][f"ask_p50{suffix}"] = percentile(times, 0.5)
        summary["latency_ms"][f"ask_p95{suffix}"] = percentile(times, 0.95)
    return summary


def _answers(
    inside: Sequence[Result], outside: Sequence[Result], path: str, threshold: float
) -> dict[str, Any]:
    part: dict[str, Any] = {}
    if inside:
        answered = [r for r in inside if r.found(threshold, path)]
        part["answers"] = {
            "answer_hit_rate": _mean(r.answer_hit(threshold, path) for r in inside),
            "top_sentence_hit_rate": _mean(
                r.found(threshold, path) and r.reply(path).top_hit for r in inside
            ),
            "citation_precision": _ratio(
                sum(r.reply(path).citations_on_gold for r in answered),
                sum(r.reply(path).citations for r in answered),
            ),
            "answered": len(answered) / len(inside),
            "answer_hit_rate_without_abstention": _mean(
                contains_answer(r.reply(path).text, r.question.answers) for r in inside
            ),
        }
    part["abstention"] = {
        "threshold": threshold,
        "false_abstention": (
            _mean(not r.found(threshold, path) for r in inside) if inside else None
        ),
        "correct_abstention": (
            _mean(not r.found(threshold, path) for r in outside) if outside else None
        ),
    }
    return part


def default_threshold(path: str) -> float:
    """The calibrated threshold an answer path ships with."""
    if path == READER_PATH:
        return reader_stage.ABSTAIN_BELOW
    return answer_module.ABSTAIN_BELOW


def tune_threshold(results: Sequence[Result], path: str) -> float:
    """The highest threshold keeping false abstention on in-corpus questions at or under 5%."""
    inside = sorted(r.reply(path).confidence for r in results if r.in_corpus)
    if not inside:
        return default_threshold(path)
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
    """Questions that went wrong on the first answer path, for reading: retrieval misses,
    wrong or wrongly held answers."""
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
                    "confidence": round(r.reply().confidence, 4),
                    "answer": r.reply().text,
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
    paths = {summary.get("answer_path") or READER_PATH: summary}
    paths.update(summary.get("compare", {}))
    names = list(paths)
    header = " | ".join(names)
    rule = "|".join("---" for _ in names)
    if all(part.get("answers") for part in paths.values()):
        rows = [
            ("answer hit rate", "answers", "answer_hit_rate"),
            ("top-sentence hit rate", "answers", "top_sentence_hit_rate"),
            ("citation precision", "answers", "citation_precision"),
            ("answered", "answers", "answered"),
            ("answer hit rate without abstention", "answers", "answer_hit_rate_without_abstention"),
        ]
        lines += ["", f"| answers | {header} |", f"|---|{rule}|"]
        lines += [
            f"| {label} | " + " | ".join(f"{paths[n][group][key]:.3f}" for n in names) + " |"
            for label, group, key in rows
        ]
    lines += ["", f"| abstention | {header} |", f"|---|{rule}|"]
    lines.append(
        "| threshold | "
        + " | ".join(f"{paths[n]['abstention']['threshold']:.3f}" for n in names)
        + " |"
    )
    for key in ("false_abstention", "correct_abstention"):
        values = [paths[n]["abstention"][key] for n in names]
        if all(v is not None for v in values):
            lines.append(
                f"| {key.replace('_', ' ')} | " + " | ".join(f"{v:.3f}" for v in values) + " |"
            )
    latency = summary["latency_ms"]
    lines += [
        "",
        "| latency per question | p50 ms | p95 ms |",
        "|---|---|---|",
        f"| search (hybrid) | {latency['search_p50']:.0f} | {latency['search_p95']:.0f} |",
    ]
    for number, name in enumerate(names):
        suffix = "" if number == 0 else f"_{name.replace('-', '_')}"
        if f"ask_p50{suffix}" in latency:
            lines.append(
                f"| ask ({name}) | {latency[f'ask_p50{suffix}']:.0f} "
                f"| {latency[f'ask_p95{suffix}']:.0f} |"
            )
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
