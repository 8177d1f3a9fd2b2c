"""A question typed without its "?" is searched and read with one (qa.pipeline.question_form);
the facade's part is in tests/test_reader.py."""

from __future__ import annotations

import pytest

from qa.pipeline.question_form import as_question


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("where does the rhine begin", "where does the rhine begin?"),
        ("Who reopened the harbour.", "Who reopened the harbour?"),
        ("did it rain  ", "did it rain?"),
        ("Where does it begin?", "Where does it begin?"),  # already a question
        ("tell me about tesla", "tell me about tesla"),  # no question word first: as typed
        ("tesla", "tesla"),
        ("Whoever won", "Whoever won"),
    ],
)
def test_a_question_gets_its_mark(typed: str, read: str) -> None:
    assert as_question(typed) == read
