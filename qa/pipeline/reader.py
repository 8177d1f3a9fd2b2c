"""The reader stage: a cross-encoder trained here reads the best candidate sentences.

Retrieval (``qa.pipeline.retrieval``) fuses keyword and vector scores; it finds the right
passage, but it cannot tell which sentence of it answers the question, nor whether any does.
The reader can: it reads the question and one sentence together (``embeddings.reader``, trained
by ``python -m qa.training`` from the bundled MiniLM weights; model card in
``embeddings/trained/README.md``).

Per question:

1. the sentences of the top ``READ_PASSAGES`` fused passages get today's cheap score (embedding
   cosine, word overlap, question-type cue, passage rank: ``qa.pipeline.answer.candidates``);
2. the best ``READ_SENTENCES`` of them are read by the model (one ONNX call);
3. a small logistic head turns the model's logit and the cheap features into the probability
   that the sentence answers the question (``HEAD``, fitted on the even halves of all files);
4. passages are re-ranked by the probability of their best read sentence (unread ones keep their
   fused order after the read ones), the answer quotes the most probable sentences, and the
   answer abstains when the best probability is below ``ABSTAIN_BELOW``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from embeddings import Embedder
from embeddings.reader import evidence_text
from qa.pipeline.answer import Candidate, SentenceKey, candidates, compose, not_found
from qa.pipeline.conversation import NAME, names_something, needs_context
from qa.pipeline.numbered_names import names_another, numbered
from qa.pipeline.spelling import Titles, spellings
from qa.types import Answer, Passage

# How much the reader reads per question. Each sentence costs ~3 ms (int8, 2 cores, ~50
# tokens); 16 keep `ask` p50 under 80 ms at SQuAD-dev size (benchmarks/query_latency.py), and
# reading 24 or 32 picks no better (benchmarks/quality_research/read_recall.py). Reading 8
# (2026-12-07, `python benchmarks/reader_calibrate.py` with this at 8, head refitted) chose as
# well (score .6697 against .6722) but abstained worse (correct abstention .852 / .707 / .090
# against .949 / .829 / .163), and `ask` p50 on an AVX2-only CPU was still 86 ms against 122.
READ_PASSAGES = 8
READ_SENTENCES = 16


# What the head reads of each sentence (``features``), in this order. Also tried, on the same
# calibration questions (benchmarks/reader_calibrate.py): the share of the question's keywords in
# the passage and its title, a flag for a capitalised name of the question missing from both, and
# the passage's own cosine and BM25 as levels, as sentence features or in a separate
# question-level abstention model. None raised correct abstention at 5% false abstention on any
# file (NYT .814 -> .79-.83, SQuAD .949 -> .93-.95, Amazon .137 -> .10-.13), so they are out.
FEATURES = ("logit", "cosine", "overlap", "passage")


@dataclass(frozen=True)
class Head:
    """Logistic head: P(answers) = sigmoid(intercept + sum(weight * feature)), one weight per
    name in ``FEATURES``."""

    intercept: float
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURES):
            raise ValueError(f"a head needs {len(FEATURES)} weights, got {len(self.weights)}")

    def probability(self, features: Sequence[float]) -> float:
        z = self.intercept + sum(w * f for w, f in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def features(candidate: Candidate, logit: float, top: float) -> tuple[float, ...]:
    """The head's inputs for one read sentence (see ``FEATURES``): the model's answer logit;
    the bi-encoder cosine of question and sentence and the share of the question's content
    words in the sentence (the cheap score's parts); the passage's fused score minus the best
    one (how retrieval ranked it)."""
    return (logit, candidate.cosine, candidate.overlap, candidate.passage.score - top)


# Fitted by `nice python benchmarks/reader_calibrate.py` (700 in-corpus questions per file and
# a third as many out of corpus, seed 7) on the calibration articles of SQuAD dev, NYT dev and
# Amazon reviews together (every fifth even article, never trained on), each file weighing
# alike. ABSTAIN_BELOW is the highest threshold keeping false abstention <= 5% on EVERY file
# (Amazon's hard questions set it); EXTRA_MARGIN the best mean of answer hit and citation
# precision. What they give on those questions (the no-reader rows: today's path), for the reader
# read twice over its pairs (2026-12-05; the reader read once before it gave answer hit .862 /
# .676 / .413 and correct abstention .929 / .793 / .090 by the same script):
#   file    R@1 fused  R@1 reader  answer hit  citation prec.  false abst.  correct abst.
#   squad     .902       .928        .868         .866           .023         .954
#   nyt       .846       .885        .676         .740           .049         .821
#   amazon    .441       .477        .420         .433           .047         .150
#   squad (no reader)                .830         .747           .014         .939
#   nyt   (no reader)                .662         .646           .051         .714
#   amazon (no reader)               .379         .272           .127         .189
# The model's logit alone (no head) re-ranks worse than the fusion (NYT R@1 .828): the head
# keeps the retrieval evidence (cosine, passage score) and adds the reader's.
# Run again on 2026-12-06 (its reads were collected again on 2026-12-05 after retrieval
# changes), the script fits a head within noise of this one (threshold .049, margin 0): answer
# hit .856 / .696 / .421, false abstention .026 / .047 / .041; these constants give .862 /
# .694 / .419 and .026 / .051 / .041 on the same reads. Not refitted: no figure moves by more
# than .013 (SQuAD citation precision .867 against .879), within what 700 questions tell apart.
HEAD = Head(intercept=-3.4533, weights=(0.5589, 3.1197, 1.7635, 3.0131))
# Abstain when no sentence reaches this probability; extra sentences join the best one when
# within EXTRA_MARGIN of it and above EXTRA_MIN.
ABSTAIN_BELOW = 0.052
EXTRA_MARGIN = 0.1
EXTRA_MIN = 0.5
# A question that names something no article mentions ("What is the population of Tokyo?" of
# articles that never say "Tokyo") is seldom answered by them, however close a sentence reads:
# its answer's confidence is the best probability times UNMENTIONED_FACTOR, so it abstains below
# a probability of UNMENTIONED_SURE_BELOW instead of ABSTAIN_BELOW. Chosen on the even halves of
# SQuAD dev, NYT dev and Amazon reviews together (`python benchmarks/unmentioned.py --half even`:
# a quarter of the articles left out of the index, seed 7, as `qa eval --out-of-corpus`): 0.25
# adds at most .005 false abstention on every file and gains the most correct abstention net of
# it (false +.003 / +.003 / +.000, correct +.013 / +.047 / +.014, SQuAD / NYT / Amazon). Chosen
# again for the reader read twice (2026-12-05): with the reader read once the rule chose 0.2,
# which now gains .002 less; on the odd halves (`--half odd`) 0.25 and 0.2 are .001 apart.
UNMENTIONED_SURE_BELOW = 0.25
UNMENTIONED_FACTOR = ABSTAIN_BELOW / UNMENTIONED_SURE_BELOW
# The same for a name some article mentions but the one the answer quotes never does: "What is
# the capital of France?" of articles where only the Rhine's says "France" quoted Warsaw's
# article ("the capital of the Grand Duchy of Warsaw"). Asked alone (not as a follow-up), such
# an answer abstains below a probability of ARTICLE_LACKS_SURE_BELOW. Chosen by the same rule on
# the same even halves (`python benchmarks/unmentioned.py --half even --article`): .15 adds
# false / correct abstention +.003 / +.035 (SQuAD), +.004 / +.037 (NYT), +.001 / +.006 (Amazon);
# .2 adds NYT .006 false abstention. Held out (`--half odd`): +.002 / +.020, +.005 / +.027,
# +.000 / +.006 (benchmarks/README.md, "A name the quoted article never mentions").
ARTICLE_LACKS_SURE_BELOW = 0.15
ARTICLE_LACKS_FACTOR = ABSTAIN_BELOW / ARTICLE_LACKS_SURE_BELOW
# Which of some names an article (by id) never mentions.
Lacking = Callable[[str, Sequence[str]], Sequence[str]]
# A follow-up read inside the conversation's subject ("Why?", "What did he do next?") shares few
# words with its answer, so the head above, fitted on questions asked alone, gives its answers
# low probabilities: follow-ups have their own head and threshold, fitted the same way on the
# follow-up turns of the CoQA calibration stories (benchmarks/reader_calibrate.py: 35 stories
# indexed together, first 6 turns, 125 follow-ups read inside their subject). Refitted on
# 2026-12-06, when a follow-up came to be searched in the last answer's article too
# (qa.pipeline.conversation.subjects): on those turns answer hit .464, false abstention .048;
# the constants fitted before (head -1.8342, threshold .054) gave .448 and .072 there, and the
# head above .344 and .344.
FOLLOW_UP_HEAD = Head(intercept=-1.8492, weights=(0.6576, 2.1506, 0.9661, 1.0271))
FOLLOW_UP_ABSTAIN_BELOW = 0.051


class AnswerModel(Protocol):
    """What the stage needs of the model (``embeddings.reader.ReaderModel``; tests fake it)."""

    def answer_logits(self, questions: list[str], sentences: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ReadSentence:
    """A candidate sentence as the reader scored it (``features``: what the head read)."""

    candidate: Candidate
    logit: float
    probability: float
    features: tuple[float, ...] = ()


@dataclass(frozen=True)
class Reading:
    """What the reader made of one question: passages re-ranked, sentences most probable
    first."""

    passages: list[Passage]
    sentences: list[ReadSentence]

    @property
    def best(self) -> float:
        return self.sentences[0].probability if self.sentences else 0.0

    def with_head(self, head: Head) -> Reading:
        """The same reading judged by another head (no model call: the features are kept)."""
        sentences = sorted(
            (replace(s, probability=head.probability(s.features)) for s in self.sentences),
            key=lambda s: (-s.probability, s.candidate.passage.rank, s.candidate.start),
        )
        return Reading(rerank(self.passages, sentences), sentences)


def reader_query(question: str, earlier_questions: Sequence[str] = ()) -> str:
    """What the reader reads as the question: a follow-up that leans on the conversation
    ("What did he do next?") is read with the question before it, as in training."""
    if earlier_questions and needs_context(question):
        return f"{question} {earlier_questions[-1]}"
    return question


def read(
    model: AnswerModel,
    question: str,
    passages: Sequence[Passage],
    embedder: Embedder,
    query_vector: np.ndarray,
    sentence_vectors: Mapping[SentenceKey, np.ndarray] | None = None,
    reader_question: str | None = None,
    head: Head | None = None,
) -> Reading:
    """Read the best candidate sentences of ``passages`` (best fused first) and re-rank.

    ``reader_question`` is what the model reads as the question (a follow-up's
    ``reader_query``); the cheap scores use ``question`` itself. ``head`` defaults to
    ``HEAD``."""
    head = head or HEAD
    window = list(passages[:READ_PASSAGES])
    if not window:
        return Reading(list(passages), [])
    scored = candidates(question, window, embedder, query_vector, None, sentence_vectors)
    # "World War I" is no answer about World War II (qa.pipeline.numbered_names).
    asked_names = numbered(question)
    scored = [c for c in scored if not names_another(asked_names, c.text)]
    chosen = scored[:READ_SENTENCES]
    if not chosen:
        return Reading(list(passages), [])
    asked = reader_question or question
    logits = model.answer_logits(
        [asked] * len(chosen), [evidence_text(c.passage.title, c.text) for c in chosen]
    )
    top = window[0].score
    read_sentences = []
    for c, logit in zip(chosen, logits, strict=True):
        found = features(c, float(logit), top)
        read_sentences.append(ReadSentence(c, float(logit), head.probability(found), found))
    read_sentences.sort(key=lambda s: (-s.probability, s.candidate.passage.rank, s.candidate.start))
    return Reading(rerank(list(passages), read_sentences), read_sentences)


def rerank(passages: list[Passage], sentences: list[ReadSentence]) -> list[Passage]:
    """Passages ordered by their best read sentence's probability; unread ones after, in
    fused order; ranks renumbered."""
    best: dict[int, float] = {}
    for sentence in sentences:
        chunk = sentence.candidate.passage.chunk_id
        best[chunk] = max(best.get(chunk, 0.0), sentence.probability)
    ordered = sorted(
        passages, key=lambda p: (p.chunk_id not in best, -best.get(p.chunk_id, 0.0), p.rank)
    )
    return [replace(p, rank=n) for n, p in enumerate(ordered, start=1)]


def choose(sentences: list[ReadSentence]) -> list[ReadSentence]:
    """The most probable sentence, plus up to two near-ties from other passages."""
    best = sentences[0]
    chosen = [best]
    for sentence in sentences[1:]:
        if len(chosen) == 3:
            break
        if sentence.probability < max(EXTRA_MIN, best.probability - EXTRA_MARGIN):
            break
        if all(sentence.candidate.passage.chunk_id != c.candidate.passage.chunk_id for c in chosen):
            chosen.append(sentence)
    return chosen


# In a conversation, the question's own passages win over the subject's when their best
# sentence is this much more probable (the same head judging both); a question that leans on the
# conversation needs LEANING_SWITCH_MARGIN, and one that leans and names nothing never leaves
# (`names_something`). On the CoQA calibration stories (`python benchmarks/conversations.py
# --half calibration --stories 35 --with-history-only --switch-margin S --leaning-margin L`),
# cited right story / the next story's first question answered from it: S 0, L .1 or .3:
# .705/.543 (without the never-leaves rule: .676/.600 and .705/.600; comparing the follow-up
# head's probability with the main head's: .714/.600). Without the reader: .438/.571. The rule
# keeps "When did it start?" on the Black Death, where the others took it to Super Bowl 50.
SWITCH_MARGIN = 0.0
LEANING_SWITCH_MARGIN = 0.1


def names(question: str) -> list[str]:
    """The names a question asks about: its capitalised words past the first, each once.
    Acronyms ("IRA") are left out: articles often write them dotted ("I.R.A.") or spelled out,
    so their absence from the index says little."""
    found = (m.group() for m in NAME.finditer(question))
    return list(dict.fromkeys(name for name in found if not name.isupper()))


def switches_topic(topic: Reading, alone: Reading, leaning: bool, question: str = "") -> bool:
    """True when the question read alone is surer than within the conversation's subject (both
    readings judged by the same head, so their probabilities compare). A question that leans on
    the conversation and names nothing ("When did it start?") is about the subject: it stays."""
    if leaning and not names_something(question):
        return False
    if not alone.sentences:
        return False
    if not topic.sentences:
        return True
    margin = LEANING_SWITCH_MARGIN if leaning else SWITCH_MARGIN
    return alone.best > topic.best + margin


def reading_answer(
    question: str,
    reading: Reading,
    abstain_below: float | None = None,
    default_threshold: float | None = None,
    unmentioned: Sequence[str] = (),
    lacking: Lacking | None = None,
    titles: Titles | None = None,
) -> Answer:
    """The answer from a reading: the most probable sentences quoted, or an abstention when
    none reaches ``abstain_below`` (else ``default_threshold``, else ``ABSTAIN_BELOW``).
    ``unmentioned``: the question's names that no article mentions; they lower the answer's
    confidence by ``UNMENTIONED_FACTOR`` and are named when it abstains. Else ``lacking``
    (given for a question asked alone) says which names the best sentence's article never
    mentions; they lower it by ``ARTICLE_LACKS_FACTOR``. An unmentioned name that looks
    misspelled (qa.pipeline.spelling: as a passage read writes a name, else as a word of one of
    the ``titles``, the articles searched) is read as that name: an answer quoting an article
    that never mentions it abstains and offers the question respelled ("When was Tesle born?"
    quoted Genghis Khan's birth; "Tesla" is the name meant).

    A follow-up may quote a sentence an earlier turn quoted: in a conversation the next answer
    is often in the same sentence ("Who attacked the theatre?", then "When?"). Passing over what
    was already said (until 2026-12-06) made follow-ups abstain on the CoQA calibration stories
    .156 of the time against the .041 their threshold was fitted for; quoting them again, the
    answers cite the right story in .743 of the turns against .686, and hold the turn's evidence
    in .490 against .381 (`python benchmarks/conversations.py --half calibration --stories
    35`, measured before follow-ups were searched in the last answer's article too)."""
    sentences = reading.sentences
    threshold = abstain_below if abstain_below is not None else default_threshold
    threshold = ABSTAIN_BELOW if threshold is None else threshold
    best = sentences[0].probability if sentences else 0.0
    sure = best * UNMENTIONED_FACTOR if unmentioned else best
    absent: tuple[str, list[str]] | None = None
    elsewhere = False  # the name meant (unmentioned, misspelled) is not in the quoted article
    if sentences and lacking is not None:
        passage = sentences[0].candidate.passage
        if not unmentioned:
            missing = list(lacking(passage.article_id, names(question)))
            if missing:
                absent, sure = (passage.title, missing), best * ARTICLE_LACKS_FACTOR
        elif sure >= threshold:
            texts = [f"{p.title}. {p.text}" for p in scored_passages(reading)]
            meant = list(spellings(unmentioned, texts, titles).values())
            elsewhere = bool(meant and lacking(passage.article_id, meant))
    if not sentences or sure < threshold or elsewhere:
        passages = scored_passages(reading)
        return not_found(
            question, passages, sure, list(unmentioned), absent_from=absent, titles=titles
        )
    chosen = choose(sentences)
    reply = compose(
        question,
        [replace(s.candidate, score=s.probability) for s in chosen],
        scored_passages(reading),
        sure,
    )
    return replace(reply, unmentioned=list(unmentioned)) if unmentioned else reply


def scored_passages(reading: Reading) -> list[Passage]:
    """The reading's passages, each with its best read sentence's probability."""
    best: dict[int, float] = {}
    for sentence in reading.sentences:
        chunk = sentence.candidate.passage.chunk_id
        best[chunk] = max(best.get(chunk, 0.0), sentence.probability)
    return [replace(p, reader_score=best.get(p.chunk_id)) for p in reading.passages]
