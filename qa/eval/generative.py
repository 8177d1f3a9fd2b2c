"""Generative answers measured (``qa eval --llm``, ``benchmarks/llm.py``; issue 16).

Citation recall and precision are in the sense of ALCE (Gao et al., 2023), but judged by our own
support check (qa/llm/check.py: the trained verifier by default, or cosine + word overlap with
``--check cosine``) instead of ALCE's NLI model, over the sentences the model wrote (before the
check drops any):

- citation recall: the share of the model's sentences that a passage they cite supports (a
  sentence that cites nothing, or only numbers that were not given, counts against it);
- citation precision: of the sentences that cite something, the share whose citation was
  right (supported by a cited passage, not re-attributed to another one).

Plus what the check did: the share of sentences dropped (no given passage supports them) and
the fallback rate (questions the model was asked whose answer is the extractive one: a fault,
"the passages don't answer this", or no sentence supported). The answer hit rate is the
extractive one's measure (a gold answer in the answer text, SQuAD-normalised) on the answer
shown, so the two are comparable; abstentions count as misses in both.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qa.eval.metrics import contains_answer, overlaps_span
from qa.types import Answer, SentenceCheck

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.eval.evaluation import Question
    from qa.llm import LLMConfig


@dataclass(frozen=True)
class GenerativeResult:
    question: Question
    asked: bool  # retrieval was confident enough to ask the model (else it abstained)
    mode: str  # of the answer shown: "generative", or "extractive" (fallback or abstention)
    text: str
    sentences: tuple[SentenceCheck, ...]  # every sentence the model wrote, checked
    citations: int
    citations_on_gold: int  # citations of the answer shown that overlap a gold answer span
    first_token_s: float | None
    seconds: float
    notice: str | None
    model: str | None

    @property
    def hit(self) -> bool:
        return self.asked and contains_answer(self.text, self.question.answers)


def run_generative(
    assistant: Assistant,
    questions: Sequence[Question],
    config: LLMConfig,
    progress: Callable[[int, int], None] | None = None,
) -> list[GenerativeResult]:
    """Ask each question with the model, as ``qa ask --llm`` does (the calibrated threshold
    decides whether the model is asked at all)."""
    from qa.llm import Token

    results = []
    for done, question in enumerate(questions, start=1):
        started = time.perf_counter()
        first: float | None = None
        reply: Answer | None = None
        for event in assistant.ask_stream(question.question, llm=config):
            if isinstance(event, Token) and first is None:
                first = time.perf_counter() - started
            elif isinstance(event, Answer):
                reply = event
        assert reply is not None  # ask_stream always ends with the Answer
        on_gold = sum(
            c.article_id == question.article_id and overlaps_span(c.start, c.end, question.spans)
            for c in reply.citations
        )
        results.append(
            GenerativeResult(
                question=question,
                asked=reply.found,
                mode=reply.mode,
                text=reply.text,
                sentences=tuple(reply.sentences),
                citations=len(reply.citations) if reply.found else 0,
                citations_on_gold=on_gold if reply.found else 0,
                first_token_s=first,
                seconds=time.perf_counter() - started,
                notice=reply.notice,
                model=reply.model,
            )
        )
        if progress is not None:
            progress(done, len(questions))
    return results


def citation_counts(sentences: Sequence[SentenceCheck]) -> tuple[int, int, int]:
    """(sentences, cited right, citing anything) of one answer, for citation recall/precision.

    >>> from qa.types import SentenceCheck as S
    >>> citation_counts([S("a", [1], True, 0.9, 1, "q", False), S("b", [9], True, 0.8, 2, "q",
    ...     True), S("c", [], False, 0.2, None, "", False)])
    (3, 1, 2)
    """
    right = sum(s.supported and not s.reattributed and bool(s.cited) for s in sentences)
    return len(sentences), right, sum(bool(s.cited) for s in sentences)


JUDGES = {
    "verifier": "the trained verifier (qa/llm/check.py), not ALCE's NLI model",
    "cosine": "cosine + word overlap (qa/llm/check.py --check cosine), not an NLI model",
}


def summarise_generative(
    results: Sequence[GenerativeResult], check: str = "verifier"
) -> dict[str, Any]:
    """The figures of ``qa eval --llm`` over in-corpus questions (see the module docstring);
    ``check`` names the support check that judged them."""
    inside = [r for r in results if r.question.article_id is not None]
    outside = [r for r in results if r.question.article_id is None]
    asked = [r for r in inside if r.asked]
    sentences = right = citing = 0
    for r in asked:
        n, ok, cites = citation_counts(r.sentences)
        sentences, right, citing = sentences + n, right + ok, citing + cites
    dropped = sum(not s.supported for r in asked for s in r.sentences)
    firsts = [r.first_token_s for r in asked if r.first_token_s is not None]
    with_spans = [r for r in asked if r.question.spans]
    return {
        "questions_in_corpus": len(inside),
        "model": next((r.model for r in results if r.model), None),
        "asked_model": len(asked),
        "answer_hit_rate": _share(sum(r.hit for r in inside), len(inside)),
        "generative_answers": sum(r.mode == "generative" for r in asked),
        "fallback_rate": _share(sum(r.mode != "generative" for r in asked), len(asked)),
        "sentences": sentences,
        "dropped_sentences": _share(dropped, sentences),
        "citation_recall": _share(right, sentences),
        "citation_precision": _share(right, citing),
        "gold_citation_precision": (
            _share(
                sum(r.citations_on_gold for r in with_spans), sum(r.citations for r in with_spans)
            )
            if with_spans
            else None
        ),
        "asked_model_out_of_corpus": sum(r.asked for r in outside) if outside else None,
        "time_to_first_token_s_p50": statistics.median(firsts) if firsts else None,
        "seconds_per_question_p50": (
            statistics.median(r.seconds for r in results) if results else None
        ),
        "notices": sorted({r.notice for r in asked if r.notice}),
        "judge": JUDGES[check],
        "refuted_sentences": _share(sum(s.refuted for r in asked for s in r.sentences), sentences),
    }


def markdown_generative(summary: dict[str, Any], extractive: dict[str, Any] | None) -> str:
    """The --llm table, with the extractive figures of the same questions next to them."""
    answers = (extractive or {}).get("answers") or {}

    def value(number: float | None) -> str:
        return "–" if number is None else f"{number:.3f}"

    rows = [
        ("answer hit rate", summary["answer_hit_rate"], answers.get("answer_hit_rate")),
        (
            "citation precision (on the gold answer span)",
            summary["gold_citation_precision"],
            answers.get("citation_precision"),
        ),
        ("citation recall (ALCE-style, by our check)", summary["citation_recall"], None),
        (
            "citation precision (ALCE-style, by our check)",
            summary["citation_precision"],
            None,
        ),
        ("sentences dropped (no passage supports them)", summary["dropped_sentences"], None),
        ("fallback rate (to the extractive answer)", summary["fallback_rate"], None),
    ]
    lines = [
        f"| answers, {summary['model'] or 'language model'} | generative | extractive |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {value(g)} | {value(e)} |" for name, g, e in rows]
    first = summary["time_to_first_token_s_p50"]
    per = summary["seconds_per_question_p50"]
    lines += [
        "",
        f"Asked the model {summary['asked_model']} of {summary['questions_in_corpus']} "
        f"in-corpus questions ({summary['generative_answers']} answers stayed generative); "
        f"{summary['sentences']} sentences written. Citation recall/precision as in ALCE, but "
        f"judged by {summary['judge']}; the model's own [n] are what they score. "
        f"Sentences contradicted by their passage: {summary.get('refuted_sentences') or 0:.3f}.",
    ]
    if summary["asked_model_out_of_corpus"] is not None:
        lines.append(
            f"Out-of-corpus questions that reached the model: "
            f"{summary['asked_model_out_of_corpus']}."
        )
    if first is not None and per is not None:
        lines.append(f"Time to first token p50 {first:.2f} s; per question p50 {per:.2f} s.")
    for notice in summary["notices"]:
        lines.append(f"Notice: {notice}")
    return "\n".join(lines)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
