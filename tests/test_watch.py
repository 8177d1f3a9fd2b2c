"""``qa watch``: the index follows files created, edited and deleted in a watched folder."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from qa import Assistant
from qa.watch import Watcher, watch_in_thread

WAIT_S = (
    120.0  # a deadline for polling, not a speed target: the index usually follows within a second
)


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"the index did not follow within {WAIT_S:g} s: {what}")


def titles(index_dir: Path, embedder) -> set[str]:
    with Assistant.open(index_dir, embedder=embedder) as reader:
        return {a.title for a in reader.articles()}


def test_the_index_follows_create_edit_delete(tmp_path: Path, index_dir: Path, embedder) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "old.md").write_text("# Old note\n\nThe old pier was closed in winter.\n")
    (folder / "gone.md").write_text("# Gone note\n\nThis file is deleted before watching.\n")
    lines: list[str] = []
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        assistant.ingest([folder])
        (folder / "gone.md").unlink()  # deleted while nobody watched: the first sync removes it
        watcher = Watcher(lambda: assistant, [folder], log=lines.append)
        thread, stop = watch_in_thread(watcher)
        try:
            wait_for(lambda: titles(index_dir, embedder) == {"Old note"}, "first sync")
            (folder / "new.md").write_text("# New note\n\nThe new bridge opened in May.\n")
            (folder / "skip.bin").write_bytes(b"\x00\x01")  # other types are ignored
            wait_for(lambda: "New note" in titles(index_dir, embedder), "a created file")
            (folder / "new.md").write_text("# Renamed note\n\nThe new bridge opened in June.\n")
            wait_for(lambda: titles(index_dir, embedder) == {"Old note", "Renamed note"}, "an edit")
            (folder / "old.md").unlink()
            wait_for(lambda: titles(index_dir, embedder) == {"Renamed note"}, "a deletion")
            sub = folder / "sub"
            sub.mkdir()
            (sub / "deep.txt").write_text("Deep note\n\nA file in a new subfolder.\n")
            wait_for(lambda: "Deep note" in titles(index_dir, embedder), "a new subfolder")
        finally:
            stop.set()
            thread.join(timeout=10)
        assert not thread.is_alive()
        hits = assistant.search("bridge opened")
        assert "June" in hits[0].text
    assert lines[0].startswith("in sync: ") and "removed 1" in lines[0]
    assert any(line.startswith(f"added {folder / 'new.md'} (1 article)") for line in lines)
    assert any(line.startswith(f"updated {folder / 'new.md'}") for line in lines)
    assert f"removed {folder / 'old.md'} (1 article)" in lines
    assert not any("skip.bin" in line for line in lines)


def test_watching_a_missing_folder_is_a_clear_error(
    tmp_path: Path, index_dir: Path, embedder
) -> None:
    from qa.errors import QAError

    with (
        Assistant.open(index_dir, embedder=embedder) as assistant,
        pytest.raises(QAError, match="no such"),
    ):
        Watcher(lambda: assistant, [tmp_path / "nope"])


def test_the_index_folder_inside_a_watched_folder_is_ignored(tmp_path: Path, embedder) -> None:
    index_dir = tmp_path / "index"
    (tmp_path / "a.md").write_text("# A\n\nText.\n")
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        watcher = Watcher(lambda: assistant, [tmp_path], log=lambda line: None)
        assert watcher.sync().ok  # the index's own config.json and web.json are not read
        watcher.apply([index_dir / "config.json"], [])
        assert {a.title for a in assistant.articles()} == {"A"}


def test_a_new_folder_is_ingested_whole_even_without_events_for_its_files(
    tmp_path: Path, embedder
) -> None:
    """inotify watches each folder by itself: files written just after their folder was made
    can come before the watch on it, and send no event. The folder's own event brings them;
    a hidden new folder and the index folder stay out."""
    folder, index_dir = tmp_path / "notes", tmp_path / "notes" / "index"
    folder.mkdir()
    lines: list[str] = []
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        watcher = Watcher(lambda: assistant, [folder], log=lines.append)
        for name in ("sub", ".hidden"):
            (folder / name).mkdir()
            (folder / name / "a.txt").write_text(f"Note in {name}\n\nWritten before any watch.\n")
            (folder / name / "b.txt").write_text(f"Other in {name}\n\nAlso unseen.\n")
        watcher.apply([], [], folders=[folder / "sub", folder / ".hidden", index_dir])
        assert {a.title for a in assistant.articles()} == {"Note in sub", "Other in sub"}
    assert lines == [f"added {folder / 'sub'} (2 articles)"]


def test_a_change_made_during_the_first_sync_is_not_missed(
    tmp_path: Path, index_dir: Path, embedder
) -> None:
    """The first sync of a large folder takes minutes on a real model: a file written meanwhile
    must be picked up by the watch, not only by the next start."""
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# A note\n\nText.\n")
    late = folder / "late.md"

    def log(line: str) -> None:  # runs inside the first sync, after its ingest
        if line.startswith("in sync: ") and not late.exists():
            late.write_text("# Late note\n\nWritten while the first sync ran.\n")

    with Assistant.open(index_dir, embedder=embedder) as assistant:
        thread, stop = watch_in_thread(Watcher(lambda: assistant, [folder], log=log))
        try:
            wait_for(lambda: titles(index_dir, embedder) == {"A note", "Late note"}, "late.md")
        finally:
            stop.set()
            thread.join(timeout=10)


def test_an_edited_questions_file_is_not_read_as_articles(tmp_path: Path, embedder) -> None:
    """A ``questions.json`` of example questions beside the articles (as ``corpus/`` ships)
    gives the chat's "Try" list: neither the first sync nor an edit fails it as articles."""
    folder, index_dir = tmp_path / "notes", tmp_path / "index"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nText about A.\n")
    questions = folder / "questions.json"
    questions.write_text('[{"question": "What is A?", "article": "A"}]')
    lines: list[str] = []
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        watcher = Watcher(lambda: assistant, [folder], log=lines.append)
        assert watcher.sync().ok
        questions.write_text('[{"question": "What is said of A?", "article": "A"}]')
        watcher.apply([questions], [])
        assert {a.title for a in assistant.articles()} == {"A"}
    assert len(lines) == 1 and "failed 0" in lines[0]  # the edit said nothing
