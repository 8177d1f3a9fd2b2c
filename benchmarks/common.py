"""Helpers shared by the benchmark scripts: the SQuAD index, questions, percentiles, memory."""

from __future__ import annotations

import gzip
import json
import random
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DATA = ROOT.parent / "shared" / "data"
SQUAD = DATA / "squad-dev-v1.1.json.gz"
# The three QA files the reader is trained and measured on (../shared/data READMEs).
QA_FILES = {
    "squad": SQUAD,
    "nyt": DATA / "squadshifts-nyt-dev.json.gz",
    "amazon": DATA / "train" / "squadshifts-amazon.json.gz",
}
# The 48 SQuAD dev articles, ingested with the default model and backend; reused across runs.
SQUAD_INDEX = RESULTS / "squad-all-index"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def squad_questions(data: Path = SQUAD) -> list[str]:
    with gzip.open(data, "rt", encoding="utf-8") as handle:
        articles = json.load(handle)["data"]
    return [qa["question"] for a in articles for p in a["paragraphs"] for qa in p["qas"]]


def sample_questions(count: int, seed: int = 0, data: Path = SQUAD) -> list[str]:
    return random.Random(seed).sample(squad_questions(data), count)


def squad_index(data: Path = SQUAD) -> Path:
    """The index of every SQuAD dev article (built on first use, about a minute)."""
    from qa import Assistant

    with Assistant.open(SQUAD_INDEX) as assistant:
        report = assistant.ingest([data])
        if report.added or report.updated:
            print(f"built {SQUAD_INDEX}: {report.summary()}", file=sys.stderr)
    return SQUAD_INDEX


def retrieval_scores(
    found: list[tuple[str, int, int]], article_id: str | None, spans: object
) -> dict[str, float]:
    """R@1/5/10 and MRR@10 of a ranked list of (article id, start, end), as `qa eval` scores
    them: a hit is a passage of the right article that contains a gold answer span."""
    from qa.eval.metrics import contains_span, recall_at, reciprocal_rank

    rank = next(
        (
            n
            for n, (article, start, end) in enumerate(found, 1)
            if article == article_id and contains_span(start, end, spans)  # type: ignore[arg-type]
        ),
        None,
    )
    return {
        "R@1": recall_at(rank, 1),
        "R@5": recall_at(rank, 5),
        "R@10": recall_at(rank, 10),
        "MRR@10": reciprocal_rank(rank, 10),
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident memory of this process now."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


class Recording:
    """The model, recording what it reads and how long it takes (the ingest's embedding stage)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.seconds = 0.0

    name = property(lambda self: self.inner.name)
    path = property(lambda self: self.inner.path)
    backend = property(lambda self: self.inner.backend)
    dimension = property(lambda self: self.inner.dimension)
    max_tokens = property(lambda self: self.inner.max_tokens)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return list(self.inner.count_tokens(texts))

    def embed(self, texts: list[str]) -> Any:
        started = time.perf_counter()
        vectors = self.inner.embed(texts)
        self.seconds += time.perf_counter() - started
        self.texts.extend(texts)
        return vectors

    def embed_spans(self, texts: list[str], spans: Sequence[Sequence[tuple[int, int]]]) -> Any:
        from embeddings.spans import embed_with_spans  # not at the top: stdlib-only import

        started = time.perf_counter()
        vectors = embed_with_spans(self.inner, texts, spans)
        self.seconds += time.perf_counter() - started
        self.texts.extend(texts)
        return vectors

    def model_tokens(self) -> int:
        """Tokens the model read (each text's, capped at its limit as the model cuts it).

        Counted 256 texts at a time: the tokenizer's encodings of all 12,500 SQuAD texts at
        once took ~110 MB, which the benchmarks' peak RSS would have charged to article-qa."""
        total = 0
        for begin in range(0, len(self.texts), 256):
            counts = self.inner.count_tokens(self.texts[begin : begin + 256])
            total += sum(min(n, self.inner.max_tokens) for n in counts)
        return total


# What a rule switched on changes, per question answered both ways (benchmarks/definitions.py,
# benchmarks/numbered_names.py): in-corpus answers that gained or lost a gold answer, false
# abstentions added (+) or removed (-); out-of-corpus ones, correct abstentions added or removed.
RULE_CHANGES = ("changed", "gained", "lost", "false+", "false-", "correct+", "correct-")


def count_change(
    counts: dict[str, int], inside: bool, on: Any, off: Any, answers: Sequence[str]
) -> bool:
    """Add to ``counts`` how the answer with the rule (``on``) differs from the one without
    (``off``) for a question of an indexed article (``inside``) or of a left-out one; False
    when the two are the same."""
    from qa.eval.metrics import contains_answer

    if on.text == off.text:
        return False
    counts["changed"] += 1
    if inside:
        hit_on = on.found and contains_answer(on.text, answers)
        hit_off = off.found and contains_answer(off.text, answers)
        counts["gained"] += hit_on and not hit_off
        counts["lost"] += hit_off and not hit_on
        counts["false+"] += off.found and not on.found
        counts["false-"] += on.found and not off.found
    else:
        counts["correct+"] += off.found and not on.found
        counts["correct-"] += on.found and not off.found
    return True


def report_rule(
    name: str, half: str, found: Any, counts: dict[str, int], totals: dict[str, int]
) -> None:
    """Print one file's ``counts`` (``found``: its ``qa.eval.protocol.Indexed``) and add its
    gold answers gained and lost to ``totals``."""
    totals["gained"] += counts["gained"]
    totals["lost"] += counts["lost"]
    said = ", ".join(f"{key} {value}" for key, value in counts.items())
    print(
        f"{name} ({half} half: {len(found.inside)} in-corpus, {len(found.outside)} "
        f"out-of-corpus questions): {said}",
        flush=True,
    )


def rule_files(doc: str) -> Any:
    """Read ``--half`` (even, odd) and ``--seed`` and yield, per QA file, (its name, its articles
    indexed as `qa eval --out-of-corpus` indexes them, the half): the loop of the scripts that
    answer each question with a rule and without."""
    import argparse

    from qa.eval.protocol import EvalSettings, indexed

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--half", choices=("even", "odd"), default="even")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    run = EvalSettings(seed=args.seed, out_of_corpus=True, half=args.half)
    for name, data in QA_FILES.items():
        yield name, indexed(data, None, run), args.half
