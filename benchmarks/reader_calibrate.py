"""Fit the reader's head and thresholds on the calibration articles, and print what they give.

    nice -n 10 python benchmarks/reader_calibrate.py [--questions 700] [--seed 7]

The calibration articles are every fifth even-numbered article of each file
(``qa.training.data.article_side``): even, so no figure we report comes from them, and never
trained on, so the model is as unsure of them as of a user's articles. Per file (SQuAD dev,
NYT dev, Amazon reviews) an index holds the file's training articles and three quarters of its
calibration articles; the other quarter's questions are out of corpus (they must abstain).
Each question is asked as ``qa ask`` asks it (hybrid search, the top ``READ_PASSAGES``
passages, the ``READ_SENTENCES`` best sentences by the cheap score, read by the model), and every
read sentence is kept with its features. Then, offline:

1. the logistic head (``qa.pipeline.reader.HEAD``) is fitted on the read sentences of all files,
   each file weighing alike (label: the sentence overlaps a gold answer span);
2. ``ABSTAIN_BELOW`` is the highest threshold keeping false abstention at or under 5% on EVERY
   file's in-corpus questions (a question naming something the index lacks has its confidence
   discounted first, as ``qa ask`` does: ``UNMENTIONED_FACTOR``);
3. ``EXTRA_MARGIN`` is chosen from a small grid by the mean of answer hit and citation precision.

The printed table gives, per file, R@1 (the top passage after re-ranking holds a gold span),
answer hit, citation precision, false and correct abstention on these calibration questions.
Writes the constants to benchmarks/results/reader-calibration.json; copy them into
qa/pipeline/reader.py with this table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import QA_FILES, RESULTS  # noqa: E402
from embeddings.reader import MODEL_FILE, TRAINED_DIR, ReaderModel  # noqa: E402
from qa import Assistant  # noqa: E402
from qa.eval.evaluation import Question, questions_for  # noqa: E402
from qa.eval.metrics import contains_answer, contains_span, overlaps_span  # noqa: E402
from qa.pipeline import reader as reader_stage  # noqa: E402
from qa.pipeline.evidence import stored_sentence_vectors  # noqa: E402
from qa.training.data import article_side, load_json  # noqa: E402

MAX_FALSE_ABSTENTION = 0.05
EXTRA_MARGINS = (0.0, 0.05, 0.1, 0.2, 0.3)


@dataclass
class Read:
    """One read sentence: features, label, its chunk, and whether it holds an answer's words."""

    features: list[float]  # qa.pipeline.reader.FEATURES
    gold: bool
    holds_answer: bool
    chunk_id: int
    # Its place among the read sentences by the cheap score (the order ``read`` takes them in;
    # -1 in caches written before 2026-12-07): benchmarks/quality_research/read_in_two_steps.py.
    cheap_rank: int = -1


@dataclass
class Asked:
    file: str
    in_corpus: bool
    sentences: list[Read]
    gold_chunks: set[int]  # read passages holding a gold span
    fused_top_gold: bool
    # The answer without the reader (reader=False), abstention off: the baseline row.
    baseline: dict[str, Any] | None = None
    # The question names something the index lacks: its confidence is discounted
    # (qa.pipeline.reader.UNMENTIONED_FACTOR), as `qa ask` does.
    unmentioned: bool = False


class QuestionVectors:
    """The vectors a question is searched and read with: the index's own model's, or those of
    another sentence-transformers folder (``--question-model``, e.g. a question tower from
    benchmarks/quality_research/question_tower.py) for retrieval alone or for both."""

    def __init__(self, folder: Path | None = None, use: str = "all") -> None:
        self.model: Any = None
        self.use = use
        if folder is not None:
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(str(folder), device="cpu")

    def __call__(self, question: str, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(search vector, read vector) of ``question``, whose own-model vector is ``own``."""
        if self.model is None:
            return own, own
        other = self.model.encode([question], normalize_embeddings=True)[0].astype(np.float32)
        return (other, own) if self.use == "search" else (other, other)


@dataclass(frozen=True)
class Split:
    """A file's calibration split: its articles (``raw``), those indexed (``kept``: training
    articles and three quarters of the calibration ones), the calibration articles indexed
    (``inside``) and left out (``outside``: their questions must abstain), and the seeded
    generator that chose them, which goes on to sample the questions."""

    raw: list[Any]
    kept: list[int]
    inside: list[int]
    outside: set[int]
    rng: random.Random


def calibration_split(name: str, seed: int) -> Split:
    raw = load_json(QA_FILES[name])["data"]
    calibration = [n for n in range(len(raw)) if article_side(n) == "calibration"]
    train = [n for n in range(len(raw)) if article_side(n) == "train"]
    rng = random.Random(seed)
    outside = set(rng.sample(calibration, max(1, round(len(calibration) / 4))))
    inside = [n for n in calibration if n not in outside]
    return Split(raw, sorted(train + inside), inside, outside, rng)


def calibration_questions(
    split: Split, source: Path, questions: int
) -> tuple[list[Question], list[Question]]:
    """The questions asked of a file: ``questions`` answerable ones of the indexed calibration
    articles (``source``: the file of the indexed articles), then a third as many of the
    left-out ones, drawn in that order from the split's generator."""
    kept = split.kept
    everything = questions_for([split.raw[n] for n in kept], source, kept)
    asked_in = [q for q in everything if q.article_number in split.inside and q.spans]
    outside = sorted(split.outside)
    asked_out = questions_for([split.raw[n] for n in outside], None, outside)
    asked_in = split.rng.sample(asked_in, min(questions, len(asked_in)))
    asked_out = split.rng.sample(asked_out, min(questions // 3, len(asked_out)))
    return asked_in, asked_out


def collect(
    name: str,
    questions: int,
    seed: int,
    work: Path,
    reader_dir: Path | None,
    vectors: QuestionVectors,
) -> list[Asked]:
    split = calibration_split(name, seed)
    source = work / f"{name}-calibration.json"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(json.dumps({"data": [split.raw[n] for n in split.kept]}), encoding="utf-8")
    assistant = Assistant.open(work / f"index-{name}-calibration", reader_dir=reader_dir)
    print(f"{name}: {assistant.ingest([source], prune=True).summary()}", file=sys.stderr)
    asked_in, asked_out = calibration_questions(split, source, questions)
    model = ReaderModel(reader_dir)
    results = []
    with assistant:
        for q in asked_in + asked_out:
            embedder = assistant.embedder
            searched, vector = vectors(q.question, embedder.embed([q.question])[0])
            passages = assistant.retriever.search(
                q.question, reader_stage.READ_PASSAGES, None, searched
            )
            stored = stored_sentence_vectors(
                assistant.retriever.sentences, passages, reader_stage.READ_PASSAGES
            )
            reading = reader_stage.read(model, q.question, passages, embedder, vector, stored)
            inside_q = q.article_id is not None
            cheap = sorted(
                reading.sentences,
                key=lambda s: (-s.candidate.score, s.candidate.passage.rank, s.candidate.start),
            )
            cheap_rank = {id(s): n for n, s in enumerate(cheap)}
            assistant.reader_enabled = False
            old = assistant.ask(q.question, abstain_below=float("-inf"))
            assistant.reader_enabled = True
            baseline = {
                "confidence": old.confidence,
                "hit": inside_q and contains_answer(old.text, q.answers),
                "cited": len(old.citations),
                "cited_gold": sum(
                    inside_q
                    and c.article_id == q.article_id
                    and overlaps_span(c.start, c.end, q.spans)
                    for c in old.citations
                ),
            }
            results.append(
                Asked(
                    name,
                    inside_q,
                    [
                        Read(
                            list(s.features),
                            inside_q
                            and s.candidate.passage.article_id == q.article_id
                            and overlaps_span(s.candidate.start, s.candidate.end, q.spans),
                            inside_q and contains_answer(s.candidate.text, q.answers),
                            s.candidate.passage.chunk_id,
                            cheap_rank[id(s)],
                        )
                        for s in reading.sentences
                    ],
                    {
                        p.chunk_id
                        for p in passages
                        if inside_q
                        and p.article_id == q.article_id
                        and contains_span(p.start, p.end, q.spans)
                    },
                    bool(
                        inside_q
                        and passages
                        and passages[0].article_id == q.article_id
                        and contains_span(passages[0].start, passages[0].end, q.spans)
                    ),
                    baseline,
                    bool(assistant.retriever.unmentioned(reader_stage.names(q.question))),
                )
            )
    return results


def collect_conversations(
    work: Path, reader_dir: Path | None, vectors: QuestionVectors
) -> list[Asked]:
    """Follow-up turns of the CoQA calibration stories (first six turns, all indexed together),
    replayed with the product's own answers as history; each turn whose passages the subject
    chose is read as the product reads it (inside the subject, with the question before it)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from conversations import COQA, build_index, load_stories, overlaps, title_of

    from qa.pipeline.conversation import retrieve
    from qa.types import Turn

    stories = load_stories(COQA, 35, "calibration")
    index = work / "index-coqa-calibration"
    build_index(stories, index)
    results = []
    with Assistant.open(index, create=False, reader_dir=reader_dir) as assistant:
        model = ReaderModel(reader_dir)
        embedder = assistant.embedder
        ids = {info.title: info.id for info in assistant.articles()}
        for story in stories:
            article = ids[title_of(story)]
            history: list[Turn] = []
            for turn in story["turns"][:6]:
                question = " ".join(str(turn["question"]).split())
                if history:
                    searched, vector = vectors(question, embedder.embed([question])[0])
                    found = retrieve(
                        question, history, assistant.retriever, embedder,
                        reader_stage.READ_PASSAGES, None, searched,
                    )  # fmt: skip
                    if found.follow_up and model is not None:
                        stored = stored_sentence_vectors(
                            assistant.retriever.sentences,
                            found.passages,
                            reader_stage.READ_PASSAGES,
                        )
                        asked = reader_stage.reader_query(question, [t.question for t in history])
                        reading = reader_stage.read(
                            model, question, found.passages, embedder, vector, stored, asked
                        )
                        results.append(
                            Asked(
                                "coqa",
                                True,
                                [
                                    Read(
                                        list(r.features),
                                        r.candidate.passage.article_id == article
                                        and overlaps(r.candidate.text, str(turn["evidence"])),
                                        r.candidate.passage.article_id == article
                                        and overlaps(r.candidate.text, str(turn["evidence"])),
                                        r.candidate.passage.chunk_id,
                                    )
                                    for r in reading.sentences
                                ],
                                {p.chunk_id for p in found.passages if p.article_id == article},
                                found.passages[0].article_id == article,
                            )
                        )
                reply = assistant.ask(question, history=history)
                history.append(Turn.of(reply))
    return results


def read_asked(path: Path) -> list[Asked]:
    """The questions and reads a run cached in ``path`` (``read-*.json``)."""
    return [
        Asked(a["file"], a["in_corpus"], [Read(**r) for r in a["sentences"]],
              set(a["gold_chunks"]), a["fused_top_gold"], a.get("baseline"),
              a.get("unmentioned", False))
        for a in json.loads(path.read_text())
    ]  # fmt: skip


def matrix(rows: list[Read]) -> np.ndarray:
    return np.array([[1.0, *r.features] for r in rows])


def fit(asked: list[Asked]) -> reader_stage.Head:
    """Weighted logistic regression (Newton's method, a little L2) on every read sentence."""
    rows, labels, weights = [], [], []
    files = sorted({a.file for a in asked})
    for name in files:
        mine = [r for a in asked if a.file == name for r in a.sentences]
        rows += mine
        labels += [float(r.gold) for r in mine]
        weights += [1.0 / len(mine)] * len(mine)
    x, y, w = matrix(rows), np.array(labels), np.array(weights) * len(rows) / len(files)
    beta = np.zeros(x.shape[1])
    ridge = 1e-3 * np.eye(x.shape[1])
    ridge[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -30, 30)))
        gradient = x.T @ (w * (p - y)) + ridge @ beta
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + ridge
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return reader_stage.Head(round(float(beta[0]), 4), tuple(round(float(b), 4) for b in beta[1:]))


def probabilities(head: reader_stage.Head, a: Asked) -> list[tuple[float, Read]]:
    scored = [(head.probability(r.features), r) for r in a.sentences]
    return sorted(scored, key=lambda t: -t[0])


def sure(head: reader_stage.Head, a: Asked, best: float | None = None) -> float:
    """The answer's confidence: the best probability (``best``, when already known),
    discounted for an unmentioned name."""
    if best is None:
        best = probabilities(head, a)[0][0] if a.sentences else 0.0
    return best * reader_stage.UNMENTIONED_FACTOR if a.unmentioned else best


def outcome(head: reader_stage.Head, a: Asked, threshold: float, margin: float) -> dict[str, Any]:
    scored = probabilities(head, a)
    best = scored[0][0] if scored else 0.0
    answered = bool(scored) and sure(head, a, best) >= threshold
    chosen: list[Read] = []
    if answered:
        chosen = [scored[0][1]]
        for p, r in scored[1:]:
            if len(chosen) == 3 or p < max(reader_stage.EXTRA_MIN, best - margin):
                break
            if all(r.chunk_id != c.chunk_id for c in chosen):
                chosen.append(r)
    top_chunk = scored[0][1].chunk_id if scored else None
    return {
        "answered": answered,
        "best": best,
        "hit": any(r.holds_answer for r in chosen),
        "cited": len(chosen),
        "cited_gold": sum(r.gold for r in chosen),
        "r1": (top_chunk in a.gold_chunks) if top_chunk is not None else a.fused_top_gold,
    }


def threshold_for(head: reader_stage.Head, asked: list[Asked]) -> float:
    """The highest threshold keeping false abstention <= 5% on every file."""
    limits = []
    for name in sorted({a.file for a in asked}):
        best = sorted(sure(head, a) for a in asked if a.file == name and a.in_corpus)
        limits.append(best[int(MAX_FALSE_ABSTENTION * len(best))])
    return math.floor(min(limits) * 1000) / 1000


def table(head: reader_stage.Head, asked: list[Asked], threshold: float, margin: float) -> str:
    lines = [
        "| file | R@1 fused | R@1 reader | answer hit | citation precision | false abst. "
        "| correct abst. |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in sorted({a.file for a in asked}):
        inside = [a for a in asked if a.file == name and a.in_corpus]
        outside = [a for a in asked if a.file == name and not a.in_corpus]
        done = [outcome(head, a, threshold, margin) for a in inside]
        held = [not outcome(head, a, threshold, margin)["answered"] for a in outside]
        cited = sum(d["cited"] for d in done)
        lines.append(
            f"| {name} | {np.mean([a.fused_top_gold for a in inside]):.3f} "
            f"| {np.mean([d['r1'] for d in done]):.3f} "
            f"| {np.mean([d['hit'] for d in done]):.3f} "
            f"| {sum(d['cited_gold'] for d in done) / max(cited, 1):.3f} "
            f"| {np.mean([not d['answered'] for d in done]):.3f} "
            f"| {np.mean(held):.3f} |"
        )
    return "\n".join(lines)


def baseline_table(asked: list[Asked]) -> str:
    """The answer path without the reader, with its shipped threshold."""
    from qa.pipeline.answer import ABSTAIN_BELOW

    lines = []
    for name in sorted({a.file for a in asked}):
        inside = [a.baseline for a in asked if a.file == name and a.in_corpus and a.baseline]
        outside = [a.baseline for a in asked if a.file == name and not a.in_corpus and a.baseline]
        if not inside:
            continue
        answered = [b for b in inside if b["confidence"] >= ABSTAIN_BELOW]
        precision = sum(b["cited_gold"] for b in answered) / max(
            1, sum(b["cited"] for b in answered)
        )
        lines.append(
            f"| {name} (no reader) | | "
            f"| {np.mean([b['hit'] and b['confidence'] >= ABSTAIN_BELOW for b in inside]):.3f} "
            f"| {precision:.3f} "
            f"| {np.mean([b['confidence'] < ABSTAIN_BELOW for b in inside]):.3f} "
            f"| {np.mean([b['confidence'] < ABSTAIN_BELOW for b in outside]):.3f} |"
        )
    return "\n".join(lines)


def score(head: reader_stage.Head, asked: list[Asked], threshold: float, margin: float) -> float:
    values = []
    for name in sorted({a.file for a in asked}):
        done = [
            outcome(head, a, threshold, margin) for a in asked if a.file == name and a.in_corpus
        ]
        cited = sum(d["cited"] for d in done)
        values.append(np.mean([d["hit"] for d in done]))
        values.append(sum(d["cited_gold"] for d in done) / max(cited, 1))
    return float(np.mean(values))


def fitted(asked: list[Asked]) -> tuple[reader_stage.Head, float, float]:
    """The head fitted on ``asked``, its threshold and its extra margin (steps 1-3 above)."""
    head = fit(asked)
    threshold = threshold_for(head, asked)
    margin = max(EXTRA_MARGINS, key=lambda m: (score(head, asked, threshold, m), -m))
    return head, threshold, margin


def report(label: str, asked: list[Asked]) -> None:
    """Print the head fitted on ``asked`` and what it gives (research scripts compare two)."""
    head, threshold, margin = fitted(asked)
    print(f"\n{label}: {head}\nthreshold {threshold}, margin {margin}")
    print(f"score {score(head, asked, threshold, margin):.4f}")
    print(table(head, asked, threshold, margin))


def model_tag(reader_dir: Path | None) -> str:
    """The first 12 hex digits of the reader file's sha256 (the shipped one by default)."""
    path = (reader_dir or TRAINED_DIR) / MODEL_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=700, help="in-corpus questions per file")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=RESULTS / "reader-calibration")
    parser.add_argument("--reader-dir", type=Path, help="another trained reader (default: shipped)")
    parser.add_argument(
        "--question-model", type=Path,
        help="a sentence-transformers folder that embeds the questions instead (an experiment)",
    )  # fmt: skip
    parser.add_argument(
        "--question-model-for", choices=("all", "search"), default="all",
        help="use --question-model's vector for retrieval and the head's cosine (all) or for "
        "retrieval alone (search)",
    )  # fmt: skip
    args = parser.parse_args()
    # The reads depend on the model: each cache is named by the reader file's sha256, so another
    # reader (--reader-dir) or a retrained one never reuses them.
    tag = model_tag(args.reader_dir)
    vectors = QuestionVectors(args.question_model, args.question_model_for)
    if args.question_model is not None:
        weights = args.question_model / "model.safetensors"
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:8]
        tag += f"-q{digest}-{args.question_model_for}"
    cache = args.work / f"read-{args.questions}-{args.seed}-{tag}.json"
    if cache.exists():
        asked = read_asked(cache)
    else:
        asked = []
        for name in QA_FILES:
            asked += collect(name, args.questions, args.seed, args.work, args.reader_dir, vectors)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(
            json.dumps(
                [
                    {
                        "file": a.file,
                        "in_corpus": a.in_corpus,
                        "sentences": [r.__dict__ for r in a.sentences],
                        "gold_chunks": sorted(a.gold_chunks),
                        "fused_top_gold": a.fused_top_gold,
                        "baseline": a.baseline,
                        "unmentioned": a.unmentioned,
                    }
                    for a in asked
                ]
            )
        )
    conversations_cache = args.work / f"read-coqa-{tag}.json"
    if conversations_cache.exists():
        follow_ups = read_asked(conversations_cache)
    else:
        follow_ups = collect_conversations(args.work, args.reader_dir, vectors)
        conversations_cache.write_text(
            json.dumps(
                [
                    {
                        "file": a.file,
                        "in_corpus": a.in_corpus,
                        "sentences": [r.__dict__ for r in a.sentences],
                        "gold_chunks": sorted(a.gold_chunks),
                        "fused_top_gold": a.fused_top_gold,
                    }
                    for a in follow_ups
                ]
            )
        )
    follow_head = fit(follow_ups)
    follow_threshold = threshold_for(follow_head, follow_ups)
    print(f"follow-up head: {follow_head}")
    print(f"FOLLOW_UP_ABSTAIN_BELOW = {follow_threshold} ({len(follow_ups)} follow-up turns)")
    print(table(follow_head, follow_ups, follow_threshold, 0.05))
    print("the main head on the same follow-ups:")
    print(table(reader_stage.HEAD, follow_ups, reader_stage.ABSTAIN_BELOW, 0.05))
    head, threshold, margin = fitted(asked)
    print(f"head: {head}")
    print(f"ABSTAIN_BELOW = {threshold}, EXTRA_MARGIN = {margin}")
    print(table(head, asked, threshold, margin))
    print(baseline_table(asked))
    logit_only = reader_stage.Head(0.0, (1.0,) + (0.0,) * (len(reader_stage.FEATURES) - 1))
    print("\nthe model's logit alone (no head), same procedure:")
    print(table(logit_only, asked, threshold_for(logit_only, asked), margin))
    out = RESULTS / "reader-calibration.json"
    if args.question_model is not None:
        out = RESULTS / f"reader-calibration-{tag}.json"
    out.write_text(
        json.dumps(
            {
                "head": head.__dict__,
                "abstain_below": threshold,
                "extra_margin": margin,
                "follow_up_head": follow_head.__dict__,
                "follow_up_abstain_below": follow_threshold,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
