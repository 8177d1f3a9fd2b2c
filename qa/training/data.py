"""Training examples for the reader and the verifier, built from ``../shared/data``.

Every file is split by article in file order: even-numbered articles (titles, products,
stories) train, odd-numbered ones are never read here (figures come from them). Disfl-QA rows
follow their SQuAD article's side; VitaminC rows are split by page title in order of first
appearance.

**Reader groups.** One group per question: the question (segment A) against sentences (segment
B, ``title\\nsentence`` as the embedder reads them), label 1 for a sentence holding a gold
answer span, 0 otherwise. The candidates are what the product itself would show the reader:
the even articles of each file are indexed with the real model, the question is searched
(hybrid), and the sentences of the top passages are scored by today's cheap answer score. The
hardest negatives by that score are kept, at least one from another article where there is one
(the out-of-corpus case), at least one from the same passage (the neighbour sentence). A
question whose gold sentence was not among the candidates still gets it as its positive.
Disfl-QA's unanswerable questions give groups with no positive: on-topic negatives for
abstention. CoQA follow-ups read as the product reads them: ``qa.pipeline.reader.reader_query``.

**Verifier pairs.** (claim, evidence) labelled supports / refutes / not enough info: VitaminC,
plus claims made from QA pairs (question + answer) against the gold sentence (supports),
against a sentence of the same passage without the answer (not enough info), and with the answer
swapped for another number or name of the same passage (refutes: same words, another fact).
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from embeddings.reader import evidence_text
from qa.pipeline.sentences import split_sentences

READER = "reader"
VERIFIER = "verifier"
LABELS = ("supports", "refutes", "not_enough_info")


@dataclass(frozen=True)
class Pair:
    """One training pair: ``task`` "reader" (label 0/1) or "verifier" (label index of LABELS).
    ``group`` ties a reader question's pairs together (the listwise part of the loss)."""

    task: str
    group: str
    source: str  # the file it came from
    a: str
    b: str
    label: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_json(path: Path) -> Any:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# Every fifth even-numbered article is kept out of training too: the reader's head and
# thresholds are fitted on those (benchmarks/reader_calibrate.py), on text the model never read.
CALIBRATION_EVERY = 5


def article_side(position: int) -> str:
    """ "train", "calibration" (even, never trained on) or "held-out" (odd: figures only)."""
    if position % 2:
        return "held-out"
    return (
        "calibration" if (position // 2) % CALIBRATION_EVERY == CALIBRATION_EVERY - 1 else "train"
    )


def titles_on(titles: list[str], side: str) -> set[str]:
    """Titles on ``side`` of the split, by position in order of first appearance."""
    order = list(dict.fromkeys(titles))
    return {title for n, title in enumerate(order) if article_side(n) == side}


def sentence_spans(text: str) -> list[tuple[int, int]]:
    return [(a, b) for a, b in split_sentences(text) if b - a >= 12]


def gold_sentences(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentences of ``text`` that overlap an answer span."""
    return [(a, b) for a, b in sentence_spans(text) if any(a < e and s < b for s, e in spans)]


_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_NAME = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)*\b")


def swapped_answer(answer: str, context: str, rng: random.Random) -> str | None:
    """Another number or name from ``context`` in place of ``answer`` (for a refuting claim)."""
    for pattern in (_NUMBER, _NAME):
        if pattern.fullmatch(answer.strip()):
            others = sorted({m.group() for m in pattern.finditer(context)} - {answer.strip()})
            others = [o for o in others if o.lower() not in answer.lower()]
            if others:
                return rng.choice(others)
    numbers = list(_NUMBER.finditer(answer))
    if numbers:  # "23 million" -> "31 million"
        match = numbers[0]
        value = match.group().replace(",", "")
        try:
            number = float(value)
        except ValueError:
            return None
        changed = number * rng.choice((0.5, 0.7, 1.3, 2.0)) + rng.choice((1, 2, 3))
        text = str(int(changed)) if number.is_integer() else f"{changed:.1f}"
        return answer[: match.start()] + text + answer[match.end() :]
    return None


def claim_of(question: str, answer: str) -> str:
    """A claim from a question and its answer, as a small model would paraphrase it."""
    return f"{question.rstrip('?').strip()}: {answer.strip()}."


def squad_questions(
    raw: list[dict[str, Any]],
) -> Iterator[tuple[int, dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(article position, article, paragraph, qa) of every question, in file order."""
    for position, article in enumerate(raw):
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                yield position, article, paragraph, qa


def verifier_pairs_from_squad(
    raw: list[dict[str, Any]],
    source: str,
    limit: int,
    rng: random.Random,
    paraphrases: bool = False,
) -> list[Pair]:
    """Claims from training articles' questions: supports / not enough info / refutes.

    With ``paraphrases`` (the verifier's own training), the gold sentence itself is a claim too
    (supports), and so is the gold sentence with its answer replaced by another number or name
    of the paragraph (refutes): the same words with another fact, what a small model writes
    when it paraphrases wrongly."""
    pairs: list[Pair] = []
    rows = [row for row in squad_questions(raw) if article_side(row[0]) == "train"]
    rng.shuffle(rows)
    for _position, article, paragraph, qa in rows:
        if len(pairs) >= limit:
            break
        context = str(paragraph["context"])
        gold = qa["answers"][0]
        start = int(gold["answer_start"])
        answer = str(gold["text"])
        if context[start : start + len(answer)] != answer:
            continue
        golds = gold_sentences(context, [(start, start + len(answer))])
        if len(golds) != 1:
            continue
        title = title_text(article.get("title", ""))
        evidence = evidence_text(title, context[golds[0][0] : golds[0][1]])
        claim = claim_of(str(qa["question"]), answer)
        group = str(qa["id"])
        pairs.append(Pair(VERIFIER, group, source, claim, evidence, LABELS.index("supports")))
        other = swapped_answer(answer, context, rng)
        if other:
            wrong = claim_of(str(qa["question"]), other)
            pairs.append(Pair(VERIFIER, group, source, wrong, evidence, LABELS.index("refutes")))
        if paraphrases:
            a, b = golds[0]
            sentence = context[a:b]
            pairs.append(
                Pair(VERIFIER, group, source, sentence, evidence, LABELS.index("supports"))
            )
            if other:
                changed = context[a:start] + other + context[start + len(answer) : b]
                pairs.append(
                    Pair(VERIFIER, group, source, changed, evidence, LABELS.index("refutes"))
                )
        lacking = [
            (a, b)
            for a, b in sentence_spans(context)
            if (a, b) != golds[0] and answer.lower() not in context[a:b].lower()
        ]
        if lacking:
            a, b = rng.choice(lacking)
            neutral = evidence_text(title, context[a:b])
            pairs.append(
                Pair(VERIFIER, group, source, claim, neutral, LABELS.index("not_enough_info"))
            )
    return pairs


def vitaminc_pairs(
    path: Path, limit: int, rng: random.Random, swap_refutes: bool = False
) -> list[Pair]:
    """VitaminC pairs of the training titles, at most ``limit``. With ``swap_refutes``, each
    refuting pair is also read the other way round (its evidence as the claim, its claim as the
    evidence, still refutes: a contradiction holds both ways; support does not), source
    "vitaminc-swapped"; the first pairs are the same either way."""
    rows = load_jsonl(path)
    train = titles_on([str(r["title"]) for r in rows], "train")
    kept = [r for r in rows if str(r["title"]) in train]
    rng.shuffle(kept)
    chosen = list(enumerate(kept[:limit]))
    # (group, source, title, claim, evidence, label)
    read = [
        (f"vitaminc-{n}", "vitaminc", r["title"], r["claim"], r["evidence"], r["label"])
        for n, r in chosen
    ]
    if swap_refutes:
        read += [
            (
                f"vitaminc-{n}-swapped",
                "vitaminc-swapped",
                r["title"],
                r["evidence"],
                r["claim"],
                "refutes",
            )
            for n, r in chosen
            if str(r["label"]) == "refutes"
        ]
    return [
        Pair(
            VERIFIER,
            group,
            source,
            str(claim),
            evidence_text(str(title), str(evidence)),
            LABELS.index(str(label)),
        )
        for group, source, title, claim, evidence, label in read
    ]


def title_text(title: str) -> str:
    """A SQuAD title as ingest shows it ("Super_Bowl_50" -> "Super Bowl 50")."""
    from urllib.parse import unquote

    from qa.pipeline.formats import title_from_name

    return title_from_name(unquote(str(title))) or str(title)


def write_pairs(pairs: list[Pair], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair.to_dict(), ensure_ascii=False) + "\n")


def read_pairs(path: Path) -> list[Pair]:
    return [Pair(**row) for row in load_jsonl(path)]


def gold_answers(data_dir: Path) -> dict[str, list[str]]:
    """Reader group -> its gold answers (the groups ``qa.training.mining`` names: SQuAD, NYT and
    Amazon by question id, CoQA by story and turn), for the span loss (``span_weight``)."""
    answers: dict[str, list[str]] = {}
    for path, name in (
        (data_dir / "squad-dev-v1.1.json.gz", "squad"),
        (data_dir / "squadshifts-nyt-dev.json.gz", "nyt"),
        (data_dir / "train" / "squadshifts-amazon.json.gz", "amazon"),
    ):
        for article in load_json(path)["data"]:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    texts = [str(a["text"]) for a in qa.get("answers", [])]
                    answers[f"{name}-{qa['id']}"] = texts
    for story in load_json(data_dir / "coqa-dev-half.json.gz")["data"]:
        for number, turn in enumerate(story["turns"]):
            answers[f"coqa-{story['id']}-{number}"] = [str(turn["answer"]).strip().rstrip(".")]
    return answers


def answer_in(sentence: str, answers: list[str]) -> str:
    """The first of ``answers`` that ``sentence`` (``title + "\\n" + text``) writes after its
    title, as the sentence writes it (case aside); "" when none is there."""
    start = sentence.find("\n") + 1
    lowered = sentence.lower()
    for answer in sorted(answers, key=len):
        text = answer.strip()
        at = lowered.find(text.lower(), start) if text else -1
        if at >= 0:
            return sentence[at : at + len(text)]
    return ""
