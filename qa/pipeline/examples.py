"""Example questions that fit the index, for the chat's "Try" list.

Drawn from what is indexed: a ``questions.json`` shipped beside a corpus (in an article's
folder or the folder above it, as ``corpus/questions.json`` beside ``corpus/articles/``: a list
of ``{"question", "article"}`` objects, ``article`` naming the title it is about) gives the
questions about the articles that are in the index; an article without one gets a question made
from its title. The newest articles come first, one question each, so the list follows what was
added or removed. An empty index has none.
"""

from __future__ import annotations

import json
from pathlib import Path

from qa.types import ArticleInfo

EXAMPLES_SHOWN = 4
QUESTIONS_FILE = "questions.json"
MAX_QUESTIONS_BYTES = 1_000_000  # a questions file is small; a huge one is not read


def example_questions(articles: list[ArticleInfo], count: int = EXAMPLES_SHOWN) -> list[str]:
    """Up to ``count`` questions about the indexed ``articles``, newest article first."""
    newest = sorted(articles, key=lambda a: (a.updated_at, a.title), reverse=True)
    files: dict[Path, dict[str, list[str]]] = {}
    chosen: list[str] = []
    titles: set[str] = set()
    for article in newest:
        if len(chosen) == count:
            break
        if article.title in titles:
            continue
        titles.add(article.title)
        shipped = _shipped_questions(Path(article.source), files).get(article.title, [])
        question = next((q for q in shipped if q not in chosen), None)
        chosen.append(question or f"What is known about {article.title}?")
    return chosen


def _shipped_questions(
    source: Path, cache: dict[Path, dict[str, list[str]]]
) -> dict[str, list[str]]:
    """Questions by article title from the ``questions.json`` nearest the article's file."""
    for folder in (source.parent, source.parent.parent):
        path = folder / QUESTIONS_FILE
        if path not in cache:
            cache[path] = _read_questions(path)
        if cache[path]:
            return cache[path]
    return {}


def holds_questions(path: Path) -> bool:
    """True for a ``questions.json`` of example questions (and no article text): ingest walks
    past it in a folder instead of failing it as an article file (``corpus/`` holds one)."""
    if path.name != QUESTIONS_FILE or not _read_questions(path):
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False  # changed since: read it as an article file, which says what is wrong
    return not any(isinstance(item, dict) and "text" in item for item in data)


def _read_questions(path: Path) -> dict[str, list[str]]:
    try:
        if not path.is_file() or path.stat().st_size > MAX_QUESTIONS_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}  # examples are a convenience: a bad file means none from it
    by_title: dict[str, list[str]] = {}
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        question, title = item.get("question"), item.get("article")
        if isinstance(question, str) and isinstance(title, str) and question.strip():
            by_title.setdefault(title, []).append(" ".join(question.split()))
    return by_title
