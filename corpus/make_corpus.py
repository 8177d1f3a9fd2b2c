"""Build the small shipped demo corpus from the SQuAD v1.1 dev set.

Reads the SQuAD v1.1 dev set JSON (optionally gzipped) and writes, next to this script:

* ``articles/<slug>.md`` -- 12 Wikipedia articles as Markdown, each with a simple
  ``key: value`` front matter block (title, url, license, attribution) followed by the
  article's paragraphs, unmodified, separated by blank lines;
* ``questions.json`` -- 3 sample questions per article (the first question of paragraphs
  0, 1 and 2), each with the article title and its distinct gold answer texts;
* ``README.md`` -- what the corpus is, its licence and attribution, how it was made, and
  a few sample questions.

The output is deterministic. Run it from the repository root with::

    python corpus/make_corpus.py ../shared/data/squad-dev-v1.1.json.gz

Only the standard library is used.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

CORPUS_DIR = Path(__file__).resolve().parent
ARTICLES_DIR = CORPUS_DIR / "articles"
QUESTIONS_PATH = CORPUS_DIR / "questions.json"
README_PATH = CORPUS_DIR / "README.md"

# SQuAD titles (as in the data, i.e. Wikipedia URL form) of the articles to ship.
ARTICLES: tuple[str, ...] = (
    "Super_Bowl_50",
    "Nikola_Tesla",
    "Amazon_rainforest",
    "Black_Death",
    "Oxygen",
    "Genghis_Khan",
    "Apollo_program",
    "Rhine",
    "Steam_engine",
    "Normans",
    "Warsaw",
    "Packet_switching",
)

# Sample questions are the first question of each of these paragraphs of an article.
QUESTION_PARAGRAPHS: tuple[int, ...] = (0, 1, 2)

# Questions (from questions.json) listed in the README: ones with a short, clear answer.
README_QUESTIONS: tuple[str, ...] = (
    "Which NFL team represented the AFC at Super Bowl 50?",
    "In what year was Nikola Tesla born?",
    "Where did the black death originate?",
    "Who proved that air is necessary for combustion?",
    "Who did Genghis Khan assign as his successor?",
    "In what year did the Apollo 1 cabin fire occur?",
    "What was the first true engine that was commercially successful?",
    "What was Maria Curie the first female recipient of?",
)

WIKIPEDIA_URL = "https://en.wikipedia.org/wiki/"
LICENSE = "CC BY-SA 4.0"
ATTRIBUTION = "Wikipedia contributors, via the SQuAD v1.1 dev set (Rajpurkar et al., 2016)"


def load_squad(path: Path) -> dict[str, Any]:
    """Load a SQuAD JSON file, gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def display_title(squad_title: str) -> str:
    """Turn a SQuAD (Wikipedia URL form) title into a readable one."""
    return unquote(squad_title).replace("_", " ")


def slugify(title: str) -> str:
    """Lowercase the title and turn each run of non-alphanumerics into a single '-'."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def front_matter_value(value: str) -> str:
    """Double-quote a front matter value if it holds a colon-space, a quote or a '#'."""
    needs_quotes = (
        ": " in value
        or value.endswith(":")
        or '"' in value
        or "'" in value
        or "#" in value
        or value != value.strip()
    )
    if not needs_quotes:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def article_markdown(article: dict[str, Any]) -> str:
    """Render one SQuAD article as Markdown with front matter."""
    squad_title: str = article["title"]
    fields = {
        "title": display_title(squad_title),
        "url": WIKIPEDIA_URL + squad_title,
        "license": LICENSE,
        "attribution": ATTRIBUTION,
    }
    lines = ["---"]
    lines += [f"{key}: {front_matter_value(value)}" for key, value in fields.items()]
    lines.append("---")
    body = "\n\n".join(p["context"] for p in article["paragraphs"])
    return "\n".join(lines) + "\n\n" + body + "\n"


def sample_questions(article: dict[str, Any]) -> list[dict[str, Any]]:
    """Pick the first question of each paragraph in QUESTION_PARAGRAPHS."""
    questions = []
    for index in QUESTION_PARAGRAPHS:
        qa = article["paragraphs"][index]["qas"][0]
        answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
        questions.append(
            {
                "question": qa["question"].strip(),
                "article": display_title(article["title"]),
                "answers": answers,
            }
        )
    return questions


def readme_text(titles: list[str], questions: list[dict[str, Any]]) -> str:
    """Render the corpus README."""
    by_question = {q["question"]: q for q in questions}
    missing = [q for q in README_QUESTIONS if q not in by_question]
    if missing:
        raise SystemExit(f"README questions not in questions.json: {missing}")
    article_list = "\n".join(f"- [{title}](articles/{slugify(title)}.md)" for title in titles)
    question_list = "\n".join(
        f"- {q} *(answer: {by_question[q]['answers'][0]}; article: {by_question[q]['article']})*"
        for q in README_QUESTIONS
    )
    paragraphs = [str(i) for i in QUESTION_PARAGRAPHS]
    questions_note = (
        f"{len(paragraphs)} sample questions per article (the first question of paragraphs "
        f"{', '.join(paragraphs[:-1])} and {paragraphs[-1]})"
    )
    return f"""# Demo corpus

A small demo corpus for article-qa: {len(titles)} English Wikipedia articles as Markdown,
taken from the [SQuAD v1.1](https://rajpurkar.github.io/SQuAD-explorer/) dev set.
Each article's text is the SQuAD paragraphs, unmodified, separated by blank lines, so it
holds the article's paragraphs as SQuAD has them, not the whole Wikipedia page.

The articles to ingest are in `articles/`. This README, `questions.json` and
`make_corpus.py` live one level up, in `corpus/`, so that they are not ingested as articles.

## Articles

{article_list}

## Licence and attribution

The article texts are licensed under [{LICENSE}](https://creativecommons.org/licenses/by-sa/4.0/).
They were written by the Wikipedia contributors of each article and collected by the SQuAD
authors: Pranav Rajpurkar, Jian Zhang, Konstantin Lopyrev and Percy Liang (2016),
"SQuAD: 100,000+ Questions for Machine Comprehension of Text", EMNLP 2016.
Each file's front matter links its Wikipedia article (`url`), where the history of its
contributors can be found. The questions in `questions.json` are from the same data set and
under the same licence.

## How it was made

From the repository root:

```
python corpus/make_corpus.py ../shared/data/squad-dev-v1.1.json.gz
```

The script uses only the Python standard library and is deterministic. Besides the articles
it writes `questions.json`:
{questions_note},
each with its article title and its distinct gold answer texts.

## Sample questions

{question_list}
"""


def main(argv: list[str] | None = None) -> int:
    """Write the articles, questions.json and README.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", type=Path, help="SQuAD v1.1 dev set JSON (.json or .json.gz)")
    args = parser.parse_args(argv)

    by_title = {a["title"]: a for a in load_squad(args.squad)["data"]}
    missing = [t for t in ARTICLES if t not in by_title]
    if missing:
        print(f"articles not found in {args.squad}: {missing}", file=sys.stderr)
        return 1

    ARTICLES_DIR.mkdir(parents=True, exist_ok=True)
    titles: list[str] = []
    questions: list[dict[str, Any]] = []
    for squad_title in ARTICLES:
        article = by_title[squad_title]
        title = display_title(squad_title)
        path = ARTICLES_DIR / f"{slugify(title)}.md"
        path.write_text(article_markdown(article), encoding="utf-8", newline="\n")
        titles.append(title)
        questions.extend(sample_questions(article))
        print(f"wrote {path.relative_to(CORPUS_DIR)} ({path.stat().st_size} bytes)")

    QUESTIONS_PATH.write_text(
        json.dumps(questions, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n"
    )
    print(f"wrote {QUESTIONS_PATH.name} ({len(questions)} questions)")
    README_PATH.write_text(readme_text(titles, questions), encoding="utf-8", newline="\n")
    print(f"wrote {README_PATH.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
