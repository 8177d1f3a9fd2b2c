"""Reader groups mined with the product's own retrieval (see ``qa.training.data``).

Each file's training articles (``qa.training.data.article_side``) are indexed with the bundled
model in ``work_dir``; every question is searched as ``qa ask`` searches it, and the sentences of
the top passages are scored by the cheap answer score (``qa.pipeline.answer.candidates``): those
are the sentences the reader will be shown at query time, so its hard negatives are the ones it
must learn to reject.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.reader import ReaderModel, evidence_text
from qa.assistant import Assistant
from qa.eval.evaluation import Question, questions_for
from qa.eval.metrics import contains_answer, overlaps_span
from qa.limits import has_words
from qa.pipeline.answer import Candidate, candidates
from qa.pipeline.corpus import read_file
from qa.pipeline.reader import READ_SENTENCES, reader_query
from qa.stores.base import SentenceSearch
from qa.training.data import (
    READER,
    Pair,
    article_side,
    load_json,
    load_jsonl,
    sentence_spans,
)
from qa.types import Filters, Passage

PASSAGES_MINED = 8  # passages whose sentences a question's candidates come from
NEGATIVES = 3  # negatives per answerable question; unanswerable ones keep NEGATIVES + 1


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def scored_sentences(
    assistant: Assistant, query: str, passages: Sequence[Passage]
) -> list[Candidate]:
    """The sentences of ``passages`` scored by today's answer score, best first."""
    if not passages:
        return []
    store = assistant.store
    vector = assistant.embedder.embed([query])[0]
    stored: dict[tuple[str, int, int], np.ndarray] = {}
    if isinstance(store, SentenceSearch):
        rows = store.sentence_rows([p.chunk_id for p in passages])
        article_of = {p.chunk_id: p.article_id for p in passages}
        for chunk_id, start, end, vec in zip(
            rows.chunk_ids, rows.starts, rows.ends, rows.vectors, strict=True
        ):
            stored[(article_of[int(chunk_id)], int(start), int(end))] = vec
    return candidates(query, list(passages), assistant.embedder, vector, None, stored)


Rescore = Callable[[str, list[Candidate]], list[Candidate]]


def as_scored(query: str, scored: list[Candidate]) -> list[Candidate]:
    """The cheap answer score's order, kept (the default)."""
    return scored


def by_reader(model: ReaderModel, read: int = READ_SENTENCES) -> Rescore:
    """The first ``read`` sentences (those the reader reads at query time) put in the order of
    ``model``'s answer logit: the negatives kept are then the ones a trained reader finds
    hardest, not the ones the cheap score does (``python -m qa.training --mine-with-reader``)."""

    def rescore(query: str, scored: list[Candidate]) -> list[Candidate]:
        head, rest = scored[:read], scored[read:]
        if not head:
            return scored
        logits = model.answer_logits(
            [query] * len(head), [evidence_text(c.passage.title, c.text) for c in head]
        )
        return [head[int(n)] for n in np.argsort(-logits, kind="stable")] + rest

    return rescore


@dataclass(frozen=True)
class Mining:
    """How a run mines every source: its seed (which questions), the negatives kept per
    answerable question, the order they are taken in (``rescore``) and how many questions,
    as a multiple of the budget."""

    seed: int
    negatives: int = NEGATIVES
    rescore: Rescore = as_scored
    order: str = "cheap score"  # what ``rescore`` is, as the work folder's mining.json says
    questions: float = 1.0  # times each source's question budget (said only when not 1)

    def described(self) -> dict[str, Any]:
        said: dict[str, Any] = {"seed": self.seed, "negatives": self.negatives, "order": self.order}
        if self.questions != 1:
            said["questions"] = self.questions
        return said


Test = Callable[[Candidate], bool]


def on_spans(article_id: str | None, spans: Sequence[tuple[int, int]]) -> Test:
    """A sentence of ``article_id`` overlapping one of ``spans`` (a gold sentence)."""

    def test(c: Candidate) -> bool:
        return c.passage.article_id == article_id and overlaps_span(c.start, c.end, spans)

    return test


def on_text(article_id: str | None, texts: Sequence[str]) -> Test:
    """A sentence of ``article_id`` inside one of ``texts`` or holding one (a gold sentence)."""

    def test(c: Candidate) -> bool:
        return c.passage.article_id == article_id and any(c.text in t or t in c.text for t in texts)

    return test


def holding(answers: Sequence[str]) -> Test:
    """A sentence holding an answer's words (neither positive nor negative elsewhere)."""

    def test(c: Candidate) -> bool:
        return contains_answer(c.text, answers)

    return test


def never(c: Candidate) -> bool:
    return False


def pick_group(
    group: str,
    source: str,
    query: str,
    scored: list[Candidate],
    is_gold: Test,
    is_ambiguous: Test,
    fallback_positive: str | None,
    gold_article: str | None,
    negatives_wanted: int = NEGATIVES,
) -> list[Pair]:
    """One question's pairs: its best-scored positive (or ``fallback_positive``), then the
    hardest negatives: one from another article and one from the gold article first."""
    positives = [c for c in scored if is_gold(c)]
    negatives = [c for c in scored if not is_gold(c) and not is_ambiguous(c)]
    pairs: list[Pair] = []
    positive = (
        evidence_text(positives[0].passage.title, positives[0].text)
        if positives
        else fallback_positive
    )
    wanted = negatives_wanted if positive else negatives_wanted + 1
    if positive:
        pairs.append(Pair(READER, group, source, query, positive, 1))
    chosen: list[Candidate] = []
    other = [c for c in negatives if c.passage.article_id != gold_article]
    same = [c for c in negatives if c.passage.article_id == gold_article]
    for pool in (other[:1], same[:1], negatives):
        for c in pool:
            if len(chosen) < wanted and c not in chosen:
                chosen.append(c)
    pairs.extend(
        Pair(READER, group, source, query, evidence_text(c.passage.title, c.text), 0)
        for c in chosen
    )
    return pairs


def training_articles(raw: list[Any]) -> tuple[list[Any], list[int]]:
    """The articles (or stories) of a file on the training side, and their positions."""
    numbers = [n for n in range(len(raw)) if article_side(n) == "train"]
    return [raw[n] for n in numbers], numbers


def index_training(
    raw: list[dict[str, Any]], name: str, work_dir: Path
) -> tuple[Assistant, list[Question], Path]:
    """Index the training articles of a SQuAD-format file; their questions with gold spans."""
    train, numbers = training_articles(raw)
    source = work_dir / f"{name}-train.json"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(json.dumps({"data": train}), encoding="utf-8")
    assistant = Assistant.open(work_dir / f"index-{name}", reader=False)
    report = assistant.ingest([source], prune=True)
    log(f"{name}: {report.summary()}")
    only_from(assistant, source)
    return assistant, questions_for(train, source, numbers), source


def only_from(assistant: Assistant, source: Path) -> None:
    """Remove the articles an index holds that ``source`` does not. An index copied from
    another work folder keeps the articles of that folder's copy of a SQuAD file beside the new
    ones (their ids come from the file's path, and the old file still exists, so ``prune`` keeps
    them): every article would be there twice, and the copy of the gold article would give
    "other article" negatives (2026-12-07: 36-41% of the negatives changed). Records with ids
    of their own (CoQA's) are the same articles, whichever file brought them."""
    own = {article.id for article in read_file(source).articles}
    stray = [info.id for info in assistant.articles() if info.id not in own]
    if stray:
        assistant.remove(stray)
        log(f"{source.name}: removed {len(stray)} articles of other files from the index")


def squad_groups(
    path: Path,
    name: str,
    work_dir: Path,
    limit: int,
    how: Mining,
) -> list[Pair]:
    raw = load_json(path)["data"]
    assistant, questions, _ = index_training(raw, name, work_dir)
    rng = random.Random(how.seed)
    chosen = rng.sample(questions, min(limit, len(questions)))
    contexts = _gold_contexts(training_articles(raw)[0])
    pairs: list[Pair] = []
    with assistant:
        for n, q in enumerate(chosen):
            if not q.spans or not has_words(q.question):
                continue
            passages = assistant.search(q.question, k=PASSAGES_MINED)
            scored = how.rescore(q.question, scored_sentences(assistant, q.question, passages))
            pairs += pick_group(
                f"{name}-{q.id}",
                name,
                q.question,
                scored,
                on_spans(q.article_id, q.spans),
                holding(q.answers),
                _fallback(contexts, q),
                q.article_id,
                how.negatives,
            )
            if n % 500 == 0:
                log(f"{name}: {n}/{len(chosen)} questions")
    return pairs


def _gold_contexts(articles: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """question id -> (title, paragraph) for the fallback positive."""
    from qa.training.data import title_text

    return {
        str(qa["id"]): (title_text(article.get("title", "")), str(paragraph["context"]))
        for article in articles
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    }


def _fallback(contexts: dict[str, tuple[str, str]], q: Question) -> str | None:
    """The gold sentence straight from the paragraph, when retrieval missed it."""
    title, context = contexts.get(q.id, ("", ""))
    for answer in q.answers:
        at = context.find(answer)
        if at < 0:
            continue
        for a, b in sentence_spans(context):
            if a <= at < b:
                return evidence_text(title, context[a:b])
    return None


def disfl_groups(
    path: Path,
    squad_path: Path,
    work_dir: Path,
    limit: int,
    how: Mining,
) -> list[Pair]:
    """Disfluent questions on the SQuAD index: answerable ones with their gold sentence,
    unanswerable ones as groups of on-topic negatives."""
    raw = load_json(squad_path)["data"]
    assistant = Assistant.open(work_dir / "index-squad", create=False, reader=False)
    from qa.training.data import title_text

    train = training_articles(raw)[0]
    train_titles = {str(a["title"]) for a in train}
    ids = {title_text(a["title"]): None for a in train}
    by_title = {info.title: info.id for info in assistant.articles()}
    rows = [r for r in load_jsonl(path) if str(r["title"]) in train_titles]
    rng = random.Random(how.seed)
    rng.shuffle(rows)
    pairs: list[Pair] = []
    with assistant:
        for n, row in enumerate(rows[:limit]):
            title = title_text(row["title"])
            gold_article = by_title.get(title) if title in ids else None
            question = " ".join(str(row["question"]).split())
            if not has_words(question):
                # A few rows are punctuation alone ('\\ "\\ "'), which the assistant refuses to
                # search: nothing to learn from them.
                continue
            context = str(row["context"])
            passages = assistant.search(question, k=PASSAGES_MINED)
            scored = how.rescore(question, scored_sentences(assistant, question, passages))
            answer = row.get("answer")
            if answer:
                start = int(row["answer_start"])
                gold_text = [context[a:b] for a, b in sentence_spans(context) if a <= start < b]
                is_gold, ambiguous = on_text(gold_article, gold_text), holding([str(answer)])
                fallback = evidence_text(title, gold_text[0]) if gold_text else None
            else:
                is_gold, ambiguous, fallback = never, never, None
            pairs += pick_group(
                f"disfl-{n}", "disfl-qa", question, scored, is_gold, ambiguous, fallback,
                gold_article, how.negatives,
            )  # fmt: skip
            if n % 500 == 0:
                log(f"disfl-qa: {n}/{min(limit, len(rows))} questions")
    return pairs


def coqa_groups(
    path: Path,
    work_dir: Path,
    limit: int,
    how: Mining,
) -> list[Pair]:
    """CoQA turns of the training stories, asked as the chat asks them (the subject story's
    passages, the question read with the last one when it leans on it)."""
    stories = training_articles(load_json(path)["data"])[0]
    records = work_dir / "coqa-train.jsonl"
    records.parent.mkdir(parents=True, exist_ok=True)
    with records.open("w", encoding="utf-8") as handle:
        for story in stories:
            title = f"{story['title']} ({story['id'][:8]})"
            handle.write(json.dumps({"id": story["id"], "title": title, "text": story["story"]}))
            handle.write("\n")
    assistant = Assistant.open(work_dir / "index-coqa", reader=False)
    log(f"coqa: {assistant.ingest([records], prune=True).summary()}")
    only_from(assistant, records)
    ids = {info.title: info.id for info in assistant.articles()}
    turns = [(story, number) for story in stories for number in range(len(story["turns"]))]
    rng = random.Random(how.seed)
    chosen = sorted(rng.sample(turns, min(limit, len(turns))), key=lambda t: t[1])
    pairs: list[Pair] = []
    with assistant:
        for n, (story, number) in enumerate(chosen):
            article = ids.get(f"{story['title']} ({story['id'][:8]})")
            turn = story["turns"][number]
            if article is None or turn.get("evidence_start") is None:
                continue
            if not has_words(str(turn["question"])):
                continue
            earlier = [t["question"] for t in story["turns"][:number]]
            query = reader_query(" ".join(str(turn["question"]).split()), earlier)
            passages = assistant.search(query, k=4, filters=Filters(article_ids=(article,)))
            scored = how.rescore(query, scored_sentences(assistant, query, passages))
            span = (int(turn["evidence_start"]), int(turn["evidence_end"]))
            pairs += pick_group(
                f"coqa-{story['id']}-{number}",
                "coqa",
                query,
                scored,
                on_spans(article, [span]),
                never,
                None,
                article,
                how.negatives,
            )
            if n % 500 == 0:
                log(f"coqa: {n}/{len(chosen)} turns")
    return pairs
