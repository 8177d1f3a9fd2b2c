"""Generative answers: ask the model, stream its words, check every sentence, keep the verified.

The extractive answer is computed first, always: it decides whether to ask at all (when
retrieval is not confident enough the articles don't cover the question, and no model is
called), and it is the answer whenever the model fails or nothing it wrote is supported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from embeddings import Embedder
from qa.llm.check import (
    AnswerSentence,
    Support,
    SupportChecker,
    VerifyModel,
    answer_sentences,
    complete_sentences,
)
from qa.llm.client import LLMClient, LLMConfig, LLMError
from qa.llm.prompt import CANNOT_ANSWER, build_prompt
from qa.types import Answer, Citation, Passage, SentenceCheck, Turn

PASSAGES_GIVEN = 5  # the model reads at most this many passages (the default k)


@dataclass(frozen=True)
class Token:
    """A piece of the model's text, as it streams in (before any check)."""

    text: str


@dataclass(frozen=True)
class Verdict:
    """The check of one sentence, yielded as soon as the model has finished writing it.

    A preview for the CLI and the UI to mark the sentence verified or not while the model
    writes on; the final ``Answer`` is checked again from the whole text and is what counts.
    """

    index: int  # 0-based position of the sentence in the model's text
    sentence: str  # without its markers
    supported: bool
    score: float
    passage: int | None  # the given passage (1-based, as numbered in the prompt) that supports it
    quote: str
    reattributed: bool  # supported by a passage the model did not cite
    refuted: bool = False  # the verifier found ``quote`` (of ``passage``) contradicts it


def generate(
    question: str,
    passages: list[Passage],
    extractive: Answer,
    embedder: Embedder,
    config: LLMConfig,
    history: list[Turn] | None = None,
    verifier: VerifyModel | None = None,
) -> Iterator[Token | Verdict | Answer]:
    """Yield ``Token``s as the model writes, a ``Verdict`` for each sentence as it completes
    (before the token that showed it complete), then the checked ``Answer`` (always last).
    ``verifier`` checks the sentences when ``config.check`` is "verifier" (else the cosine
    check does)."""
    if not extractive.found:
        yield extractive  # abstain before asking: the articles don't cover it
        return
    prompt = build_prompt(
        question, passages[:PASSAGES_GIVEN], history, config.context, config.max_tokens
    )
    client = LLMClient(config)
    checker = SupportChecker(
        prompt.passages,
        embedder,
        verifier=verifier if config.check == "verifier" else None,
    )
    parts: list[str] = []
    verdicts = 0
    try:
        client.resolve_model()
        for delta in client.stream(prompt.messages):
            parts.append(delta.text)
            done = complete_sentences("".join(parts))
            for index in range(verdicts, len(done)):
                yield _verdict(index, done[index], checker)
            verdicts = max(verdicts, len(done))
            yield Token(delta.text)
    except LLMError as error:
        yield replace(extractive, notice=str(error))
        return
    finally:
        client.close()
    text = "".join(parts)
    last = answer_sentences(text)
    for index in range(verdicts, len(last)):
        yield _verdict(index, last[index], checker)
    yield checked_answer(
        question, text, prompt.passages, extractive, embedder, client.model_used, checker
    )


def _verdict(index: int, sentence: AnswerSentence, checker: SupportChecker) -> Verdict:
    (support,) = checker.check([sentence])
    return Verdict(
        index=index,
        sentence=sentence.text,
        supported=support.supported,
        score=round(support.score, 4),
        passage=support.passage,
        quote=support.quote,
        reattributed=support.reattributed,
        refuted=support.refuted,
    )


def checked_answer(
    question: str,
    text: str,
    given: list[Passage],
    extractive: Answer,
    embedder: Embedder,
    model: str | None,
    checker: SupportChecker | None = None,
) -> Answer:
    """The generated ``text`` reduced to its supported sentences, each with its checked ``[n]``.

    Citation numbers are renumbered by first appearance (one per distinct quote), so the text
    reads like an extractive answer and the UI highlights quotes the same way.
    """
    if CANNOT_ANSWER.rstrip(".").lower() in text.lower():
        # Retrieval was confident but the model found nothing: show the quotes instead.
        note = "The language model said the passages don't answer this; showing quotes instead."
        return replace(extractive, notice=note, model=model)
    checker = checker or SupportChecker(given, embedder)  # passages embedded once per answer
    supports = checker.check(answer_sentences(text))
    citations: list[Citation] = []
    numbers: dict[tuple[int, int, int], int] = {}
    parts: list[str] = []
    checks: list[SentenceCheck] = []
    for support in supports:
        number = _cite(support, given, citations, numbers)
        if number is not None:
            parts.append(f"{support.sentence.text} [{number}]")
        checks.append(
            SentenceCheck(
                text=support.sentence.text,
                cited=support.sentence.cited,
                supported=support.supported,
                score=round(support.score, 4),
                citation=number,
                quote=support.quote,
                reattributed=support.reattributed,
                refuted=support.refuted,
            )
        )
    if not parts:
        note = "No sentence of the language model's answer was supported by the passages."
        return replace(extractive, notice=note, model=model, sentences=checks)
    return Answer(
        question=question,
        text=" ".join(parts),
        found=True,
        citations=citations,
        passages=extractive.passages,
        confidence=extractive.confidence,
        mode="generative",
        model=model,
        sentences=checks,
    )


def _cite(
    support: Support,
    given: list[Passage],
    citations: list[Citation],
    numbers: dict[tuple[int, int, int], int],
) -> int | None:
    if not support.supported or support.passage is None:
        return None
    passage = given[support.passage - 1]
    key = (passage.chunk_id, support.start, support.end)
    if key not in numbers:
        numbers[key] = len(citations) + 1
        citations.append(
            Citation(
                number=numbers[key],
                article_id=passage.article_id,
                title=passage.title,
                url=passage.url,
                quote=support.quote,
                start=support.start,
                end=support.end,
                score=round(support.score, 4),
                chunk_id=passage.chunk_id,
            )
        )
    return numbers[key]
