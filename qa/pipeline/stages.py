"""Answer stages: what turns the passages retrieval found into the quoted answer.

Retrieval (``qa.pipeline.retrieval``, and ``qa.pipeline.conversation`` with history) finds the
passages; an answer stage reads them and writes the ``Answer``: which sentences to quote, or
whether to abstain. ``ANSWER_STAGES`` is the one table of them, by name:

- ``"reader"``: the cross-encoder trained here reads the best candidate sentences
  (``qa.pipeline.reader``): the default;
- ``"overlap"``: the path from before the reader, embedding cosine plus word overlap
  (``qa.pipeline.answer``): ``--no-reader``.

A stage says how many of the fused passages it reads, whether it reads a follow-up alone too
(the facade fetches their stored sentence vectors in the same snapshot as the search) and whether
it weighs the question's names that no article mentions (looked up only then), and
writes the answer from a ``Found``. A new stage is a class with these members and one entry in
the table; the facade
(``Assistant._extractive``) has no branch per stage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from embeddings import Embedder
from qa.pipeline.answer import PASSAGES_READ, SentenceKey, answer
from qa.pipeline.conversation import Retrieved, needs_context
from qa.pipeline.reader import (
    FOLLOW_UP_ABSTAIN_BELOW,
    FOLLOW_UP_HEAD,
    READ_PASSAGES,
    AnswerModel,
    Lacking,
    read,
    reader_query,
    reading_answer,
    switches_topic,
)
from qa.pipeline.spelling import Titles
from qa.types import Answer, Passage, Turn

StoredVectors = Mapping[SentenceKey, np.ndarray] | None


@dataclass(frozen=True)
class Found:
    """What retrieval found for one question, as an answer stage reads it."""

    question: str
    vector: np.ndarray  # the question's embedding
    passages: list[Passage]  # fused, best first (a follow-up's: searched inside its subject)
    stored: StoredVectors  # stored sentence vectors of the passages read (None: embed them)
    turns: list[Turn]
    # With history: the conversation's search (the subject, the question alone, related
    # passages); ``alone_stored`` are the sentence vectors of its passages read alone.
    conversation: Retrieved | None = None
    alone_stored: StoredVectors = None
    # The question's names that no article (within the filters) mentions (Retriever.unmentioned).
    unmentioned: tuple[str, ...] = ()
    # Which of the question's other names an article (by id) never mentions: asked only of the
    # article an answer to a question asked alone would quote (qa.pipeline.reader.reading_answer).
    lacking: Lacking | None = None
    # The titles of the articles searched, read only when a name no article mentions is
    # spelled alike by no passage found ("Tesle": qa.pipeline.spelling).
    titles: Titles | None = None

    @property
    def follow_up(self) -> bool:
        return self.conversation is not None and self.conversation.follow_up


class AnswerStage(Protocol):
    """Reads the passages retrieval found and writes the answer."""

    @property
    def passages_read(self) -> int:
        """How many of the fused passages it reads (their sentence vectors are fetched)."""
        ...

    @property
    def reads_alone(self) -> bool:
        """Whether a follow-up is also read alone (``Found.alone_stored`` is then fetched)."""
        ...

    @property
    def weighs_names(self) -> bool:
        """Whether it reads ``Found.unmentioned`` (the index is then asked for each name)."""
        ...

    def answer(self, found: Found, embedder: Embedder, abstain_below: float | None) -> Answer:
        """The quoted answer, or an abstention; ``abstain_below`` overrides the stage's own
        threshold (evaluation passes -inf to see every answer)."""
        ...


class OverlapStage:
    """The answer path from before the reader: cosine plus word overlap (qa.pipeline.answer)."""

    passages_read = PASSAGES_READ
    reads_alone = False
    weighs_names = False

    def answer(self, found: Found, embedder: Embedder, abstain_below: float | None) -> Answer:
        reply = answer(
            found.question, found.passages, embedder, found.vector, abstain_below,
            sentence_vectors=found.stored,
        )  # fmt: skip
        if found.conversation is not None and found.follow_up:
            reply = replace(reply, passages=reply.passages + found.conversation.related)
        return reply


class ReaderStage:
    """The trained reader (qa.pipeline.reader): reads the best candidate sentences, re-ranks
    the passages by them, and abstains from its calibrated probability."""

    passages_read = READ_PASSAGES
    reads_alone = True
    weighs_names = True

    def __init__(self, model: AnswerModel) -> None:
        self.model = model

    def answer(self, found: Found, embedder: Embedder, abstain_below: float | None) -> Answer:
        question, vector = found.question, found.vector
        conversation = found.conversation
        if conversation is None or not conversation.follow_up:
            reading = read(self.model, question, found.passages, embedder, vector, found.stored)
            return reading_answer(
                question, reading, abstain_below, None, found.unmentioned, found.lacking,
                found.titles,
            )  # fmt: skip
        # Read inside the subject (the question read with the one before it, as a follow-up),
        # and alone: a new topic ("Where is the Rhine?" after Super Bowl 50) reads surer alone
        # and leaves the subject.
        asked = reader_query(question, [t.question for t in found.turns])
        topic = read(self.model, question, found.passages, embedder, vector, found.stored, asked)
        alone = read(self.model, question, conversation.alone, embedder, vector, found.alone_stored)
        if switches_topic(topic, alone, needs_context(question), question):
            return reading_answer(
                question, alone, abstain_below, None, found.unmentioned, found.lacking,
                found.titles,
            )  # fmt: skip
        # A follow-up: its own head and threshold decide.
        reply = reading_answer(
            question, topic.with_head(FOLLOW_UP_HEAD), abstain_below, FOLLOW_UP_ABSTAIN_BELOW,
            found.unmentioned, titles=found.titles,
        )  # fmt: skip
        return replace(reply, passages=reply.passages + conversation.related)


# The stages by name, each made from a loader of the trained reader (called only by the
# stages that need it, so --no-reader never loads the model).
ANSWER_STAGES: dict[str, Callable[[Callable[[], AnswerModel]], AnswerStage]] = {
    "reader": lambda reader: ReaderStage(reader()),
    "overlap": lambda reader: OverlapStage(),
}
