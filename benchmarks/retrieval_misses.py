"""Where top-1 retrieval misses go: another chunk of the right article, or another article.

    python benchmarks/retrieval_misses.py ../shared/data/squad-dev-v1.1.json.gz \
        --index benchmarks/results/squad-all-index [--questions 600]

Uses the same gold spans as `qa eval` (a hit = the chunk contains a gold answer span).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import Assistant  # noqa: E402
from qa.eval import evaluation  # noqa: E402
from qa.eval.metrics import contains_span  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--index", type=Path, required=True, help="an index built from DATA")
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    raw = evaluation.load_squad(args.data)
    questions = evaluation.questions_for(raw, args.data, list(range(len(raw))))
    sample = random.Random(args.seed).sample(questions, args.questions)
    misses = right_article = 0
    with Assistant.open(args.index, create=False) as assistant:
        for question in sample:
            top = assistant.search(question.question, k=1)[0]
            if top.article_id == question.article_id and contains_span(
                top.start, top.end, question.spans
            ):
                continue
            misses += 1
            right_article += top.article_id == question.article_id
    share = right_article / max(misses, 1)
    print(
        f"{len(sample)} questions: {misses} top-1 misses, {right_article} of them in the right "
        f"article ({share:.0%}), {misses - right_article} elsewhere"
    )


if __name__ == "__main__":
    main()
