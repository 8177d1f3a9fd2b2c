"""The demo corpus as a SQuAD-format file, with only the questions of corpus/questions.json.

``qa eval`` reads SQuAD-format data; the demo corpus (corpus/articles) is 12 SQuAD dev
articles. This writes those articles, paragraphs unchanged, keeping only the 36 questions of
corpus/questions.json, so ``qa eval`` measures the demo corpus's own questions:

    PYTHONPATH=. python benchmarks/demo_squad.py ../shared/data/squad-dev-v1.1.json.gz demo.json
    qa eval demo.json --llm http://127.0.0.1:8080/v1 --limit 12
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from urllib.parse import unquote

from qa.eval.evaluation import load_squad

QUESTIONS = Path(__file__).resolve().parent.parent / "corpus" / "questions.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("squad", type=Path, help="SQuAD v1.1 dev set (.json or .json.gz)")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    wanted = {(q["article"], q["question"]) for q in json.loads(QUESTIONS.read_text())}
    titles = {title for title, _ in wanted}
    data = []
    for article in load_squad(args.squad):
        title = unquote(article["title"]).replace("_", " ")
        if title not in titles:
            continue
        paragraphs = [
            {
                **paragraph,
                "qas": [
                    qa
                    for qa in paragraph["qas"]
                    if (title, " ".join(qa["question"].split())) in wanted
                ],
            }
            for paragraph in article["paragraphs"]
        ]
        data.append({**article, "paragraphs": paragraphs})
    found = sum(len(p["qas"]) for a in data for p in a["paragraphs"])
    args.out.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    print(f"{len(data)} articles, {found} questions ({len(wanted)} distinct) -> {args.out}")


if __name__ == "__main__":
    main()
