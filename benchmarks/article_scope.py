"""How much of a file's misses come from not knowing which article a question is about.

    nice -n 10 python benchmarks/article_scope.py [--questions 500] [--seed 7]

Per QA file (SQuAD dev, NYT dev, Amazon reviews), an index holds its held-out half (the
odd-numbered articles, never trained on). Each sampled question is asked twice with the default
settings (reader on, calibrated abstention), as ``qa ask`` asks it:

- **pooled:** over the whole half, as ``qa eval`` and a user with one collection ask it;
- **scoped:** narrowed to the question's own article (``Filters(article_ids=...)``, what
  ``qa ask --article`` or the UI's article filter does), so retrieval only has to find the
  passage inside the article.

Answer hit counts what the user sees: an answer that does not abstain and quotes a gold answer.
The gap between the two rows is the share lost to choosing the article; what remains under
"scoped" is lost inside the article (the passage, the sentence, or abstaining).
Index folders go under benchmarks/results/scope-*/ and are reused.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import QA_FILES, RESULTS  # noqa: E402
from qa import Assistant, Filters  # noqa: E402
from qa.eval.evaluation import Question, load_squad, questions_for  # noqa: E402
from qa.eval.metrics import contains_answer, overlaps_span  # noqa: E402


def held_out_index(name: str, path: Path) -> tuple[Path, list[Question]]:
    """The index of the file's odd-numbered articles (built on first use) and their questions."""
    raw = load_squad(path)
    odd = [i for i in range(len(raw)) if i % 2 == 1]
    folder = RESULTS / f"scope-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "odd-articles.json"
    if not source.exists():
        source.write_text(json.dumps({"data": [raw[i] for i in odd]}), encoding="utf-8")
    with Assistant.open(folder / "index") as assistant:
        report = assistant.ingest([source])
        if report.added:
            print(f"built {folder / 'index'}: {report.summary()}", file=sys.stderr)
    return folder / "index", questions_for([raw[i] for i in odd], source, odd)


def outcomes(assistant: Assistant, question: Question, filters: Filters | None) -> tuple[int, ...]:
    """(answered, answer hit, citations, citations on a gold span) of one asked question."""
    reply = assistant.ask(question.question, filters=filters)
    if not reply.found:
        return (0, 0, 0, 0)
    on_gold = sum(
        c.article_id == question.article_id and overlaps_span(c.start, c.end, question.spans)
        for c in reply.citations
    )
    hit = contains_answer(reply.text, question.answers)
    return (1, int(hit), len(reply.citations), on_gold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=500, help="per file")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{args.questions} held-out questions per file (odd-numbered articles), seed {args.seed}")
    print("\n| file | asked | answer hit | answered | citation precision |\n|---|---|---|---|---|")
    for name, path in QA_FILES.items():
        index, questions = held_out_index(name, path)
        sample = random.Random(args.seed).sample(questions, min(args.questions, len(questions)))
        with Assistant.open(index, create=False) as assistant:
            for label in ("pooled", "scoped"):
                totals = [0, 0, 0, 0]
                for question in sample:
                    assert question.article_id is not None
                    scope = Filters(article_ids=(question.article_id,))
                    got = outcomes(assistant, question, scope if label == "scoped" else None)
                    totals = [a + b for a, b in zip(totals, got, strict=True)]
                answered, hits, cited, on_gold = totals
                precision = on_gold / cited if cited else 0.0
                print(
                    f"| {name} | {label} | {hits / len(sample):.3f} | "
                    f"{answered / len(sample):.3f} | {precision:.3f} |"
                )


if __name__ == "__main__":
    main()
