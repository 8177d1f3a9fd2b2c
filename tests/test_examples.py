"""Example questions that fit the index (qa.pipeline.examples, the chat's "Try" list)."""

from __future__ import annotations

import json
from pathlib import Path

from qa import Assistant
from qa.pipeline.examples import example_questions
from ui.articles import add_files, remove_article
from ui.chat import index_views
from ui.state import AppState


def test_empty_index_has_no_examples(assistant: Assistant) -> None:
    assert example_questions(assistant.articles()) == []


def test_questions_shipped_beside_the_corpus_about_indexed_articles_only(
    assistant: Assistant, tmp_path: Path
) -> None:
    articles = tmp_path / "corpus" / "articles"
    articles.mkdir(parents=True)
    (articles / "rhine.md").write_text("# Rhine\n\nThe Rhine begins in the Alps.", "utf-8")
    (articles / "oxygen.md").write_text("# Oxygen\n\nOxygen is element 8.", "utf-8")
    shipped = [
        {"question": "Where does the Rhine begin?", "article": "Rhine"},
        {"question": "Which element has number 8?", "article": "Oxygen"},
        {"question": "Who won Super Bowl 50?", "article": "Super Bowl 50"},  # not indexed
    ]
    (tmp_path / "corpus" / "questions.json").write_text(json.dumps(shipped), "utf-8")
    assert assistant.ingest([articles]).ok
    examples = example_questions(assistant.articles())
    assert sorted(examples) == ["Where does the Rhine begin?", "Which element has number 8?"]


def test_articles_without_questions_get_one_from_their_title(assistant: Assistant, write) -> None:
    write("harbour.md", "# Harbour storm\n\nA storm closed the harbour.")
    write("questions.json", "not json")  # a broken file gives no questions, not an error
    assert assistant.ingest([write("harbour.md", "# Harbour storm\n\nA storm closed it.")]).ok
    assert example_questions(assistant.articles()) == ["What is known about Harbour storm?"]


def test_examples_follow_uploads_and_removals(index_dir: Path, write, tmp_path: Path) -> None:
    write("harbour.md", "# Harbour storm\n\nThe harbour master reopened the harbour on Monday.")
    with Assistant.open(index_dir, model="hash") as assistant:
        assistant.ingest([write.base])
    state = AppState(index_dir)

    def samples() -> list[list[str]]:
        return index_views(state)[1]["samples"]

    assert samples() == [["What is known about Harbour storm?"]]
    new = tmp_path / "bridge.md"
    new.write_text("# New bridge\n\nThe bridge opened in May.", encoding="utf-8")
    add_files(state, [str(new)])
    assert samples()[0] == ["What is known about New bridge?"], "the newest article comes first"
    assert ["What is known about Harbour storm?"] in samples()
    bridge_id = next(a.id for a in state.articles() if a.title == "New bridge")
    remove_article(state, bridge_id)
    assert samples() == [["What is known about Harbour storm?"]]
