"""End to end: ``qa watch`` and ``qa serve --watch`` as users run them, on the hash test model.

``qa watch`` runs as a real subprocess (``python -m qa watch``): the index follows files
created, edited and deleted, Ctrl-C (SIGINT) stops it cleanly with one log line per change, and
a watch killed with SIGKILL mid-way loses nothing: the next start catches up. ``qa serve
--watch`` runs through its click command with Gradio's ``launch`` replaced (no HTTP server is
needed to see the watch thread it starts keep the shared index in sync).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qa import Assistant

ROOT = Path(__file__).resolve().parent.parent
# Generous for a loaded CI machine (the interpreter starts in a few seconds, then the index
# usually follows within a second); a deadline, so a watch that never follows fails the test.
WAIT_S = 180.0  # a deadline for polling, not a speed target


def wait_for(
    check: Callable[[], bool], what: str, process: subprocess.Popen[str] | None = None
) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"qa watch exited ({process.returncode}) before {what}")
        time.sleep(0.2)
    raise AssertionError(f"the index did not follow within {WAIT_S:g} s: {what}")


def titles(index_dir: Path) -> set[str]:
    """The titles in the index now, read by a second process's view (the index's own model)."""
    if not (index_dir / "config.json").exists():
        return set()
    with Assistant.open(index_dir) as reader:
        return {a.title for a in reader.articles()}


class Watch:
    """``python -m qa watch FOLDER --index IDX --model hash``, its stderr collected by a thread."""

    def __init__(self, folder: Path, index_dir: Path) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "qa", "watch", str(folder), "--index", str(index_dir),
             "--model", "hash"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def logged(self, prefix: str) -> list[str]:
        return [line for line in self.lines if line.startswith(prefix)]

    def wait_logged(self, prefix: str, what: str) -> None:
        wait_for(lambda: bool(self.logged(prefix)), what, self.process)

    def stop(self, sig: int = signal.SIGINT) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=WAIT_S)
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT_S)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "notes"
    path.mkdir()
    return path


@pytest.fixture
def started() -> Iterator[list[Watch]]:
    """Every watch a test starts is killed at its end, whatever happened."""
    watches: list[Watch] = []
    yield watches
    for watch in watches:
        watch.kill()


def test_qa_watch_follows_create_edit_delete_and_stops_on_ctrl_c(
    folder: Path, index_dir: Path, started: list[Watch]
) -> None:
    (folder / "old.md").write_text("# Old note\n\nThe old pier was closed in winter.\n")
    watch = Watch(folder, index_dir)
    started.append(watch)
    watch.wait_logged("in sync: ", "the first sync")
    assert titles(index_dir) == {"Old note"}
    new = folder / "new.md"
    new.write_text("# New note\n\nThe new bridge opened in May.\n")
    wait_for(lambda: "New note" in titles(index_dir), "a created file", watch.process)
    new.write_text("# Renamed note\n\nThe new bridge opened in June.\n")
    wait_for(lambda: titles(index_dir) == {"Old note", "Renamed note"}, "an edit", watch.process)
    (folder / "old.md").unlink()
    wait_for(lambda: titles(index_dir) == {"Renamed note"}, "a deletion", watch.process)
    # A folder moved out of the watched tree is one event, for the folder only.
    sub = folder / "sub"
    sub.mkdir()
    (sub / "a.txt").write_text("Deep note A\n\nA file in a subfolder.\n")
    (sub / "b.txt").write_text("Deep note B\n\nAnother file in a subfolder.\n")
    wait_for(lambda: len(titles(index_dir)) == 3, "a new subfolder", watch.process)
    sub.rename(folder.parent / "moved-away")
    wait_for(lambda: titles(index_dir) == {"Renamed note"}, "a folder moved away", watch.process)
    # The log line of the last change is written after the removal it reports.
    watch.wait_logged(f"removed {folder.resolve() / 'sub'} (2 articles)", "the folder's log line")

    assert watch.stop(signal.SIGINT) == 0, watch.lines
    log = "\n".join(watch.lines)
    assert "Traceback" not in log, log
    assert watch.lines[0].startswith("watching "), log
    assert watch.lines[-1] == "stopped; the index holds every change applied so far", log
    resolved = folder.resolve()
    # One line per change, naming the file.
    assert len(watch.logged(f"added {resolved / 'new.md'} (1 article)")) == 1, log
    assert len(watch.logged(f"updated {resolved / 'new.md'} (1 article, ")) == 1, log
    assert watch.logged(f"removed {resolved / 'old.md'}") == [
        f"removed {resolved / 'old.md'} (1 article)"
    ], log
    assert not watch.logged("failed:"), log
    with Assistant.open(index_dir) as reader:
        assert "June" in reader.search("bridge opened")[0].text


def test_a_killed_watch_loses_nothing_and_the_next_start_catches_up(
    folder: Path, index_dir: Path, started: list[Watch]
) -> None:
    (folder / "kept.md").write_text("# Kept note\n\nIt stays while nobody watches.\n")
    (folder / "doomed.md").write_text("# Doomed note\n\nDeleted while nobody watches.\n")
    first = Watch(folder, index_dir)
    started.append(first)
    first.wait_logged("in sync: ", "the first sync")
    count = 20
    for n in range(count):
        (folder / f"burst-{n:02d}.md").write_text(f"# Burst {n}\n\nNote number {n} of a burst.\n")
    # Kill it mid-way: as soon as the watch has applied some of the burst, or right away if it
    # took the whole burst as one batch before we looked.
    first.wait_logged("added ", "the first files of the burst")
    first.process.kill()
    first.process.wait(timeout=WAIT_S)
    before = titles(index_dir)  # whatever was written is readable: no half-written index
    assert {"Kept note", "Doomed note"} <= before

    # While nobody watches: one file deleted, one edited, one created.
    (folder / "doomed.md").unlink()
    (folder / "kept.md").write_text("# Kept note\n\nIt stays, edited while nobody watched.\n")
    (folder / "late.md").write_text("# Late note\n\nWritten while nobody watched.\n")

    second = Watch(folder, index_dir)
    started.append(second)
    second.wait_logged("in sync: ", "the catch-up sync")
    expected = {"Kept note", "Late note"} | {f"Burst {n}" for n in range(count)}
    assert titles(index_dir) == expected, second.lines
    with Assistant.open(index_dir) as reader:
        assert "edited while nobody watched" in reader.search("It stays edited")[0].text
    assert second.stop(signal.SIGINT) == 0, second.lines


def test_qa_serve_watch_keeps_the_served_index_in_sync(
    folder: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gradio as gr  # a core dependency: never skipped
    from click.testing import CliRunner

    import ui.app
    from ui.command import serve

    launched: list[dict[str, object]] = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: launched.append(kwargs))
    watching: list[tuple[object, threading.Thread, threading.Event]] = []
    real_watch_in_thread = ui.app.watch_in_thread

    def recording(watcher):  # keep a handle on the thread, to stop it at the end
        thread, stop = real_watch_in_thread(watcher)
        watching.append((watcher, thread, stop))
        return thread, stop

    monkeypatch.setattr(ui.app, "watch_in_thread", recording)
    (folder / "first.md").write_text("# First note\n\nThe ferry leaves at noon.\n")
    result = CliRunner().invoke(
        serve,
        ["--index", str(index_dir), "--model", "hash", "--port", "7999", "--watch", str(folder)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert launched and launched[0]["server_port"] == 7999
    ((watcher, thread, stop),) = watching
    try:
        wait_for(lambda: titles(index_dir) == {"First note"}, "the first sync of qa serve --watch")
        (folder / "second.md").write_text("# Second note\n\nThe tram runs every ten minutes.\n")
        wait_for(lambda: "Second note" in titles(index_dir), "a file created while serving")
        (folder / "first.md").unlink()
        wait_for(lambda: titles(index_dir) == {"Second note"}, "a file deleted while serving")
        # The served assistant (the one visitors ask) sees it too, not only a fresh reader.
        assistant = watcher.get_assistant()
        assert {a.title for a in assistant.articles()} == {"Second note"}
    finally:
        stop.set()
        thread.join(timeout=30)
        watcher.get_assistant().close()
    assert not thread.is_alive()
