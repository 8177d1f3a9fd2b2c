"""Every loader, and every kind of bad input: one clear line naming the file, never a crash."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from qa.pipeline.corpus import discover, read_file

HTML = """<html><head><title>Site | Harbour news</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About us</a></nav>
<article><h1>Harbour reopens after storm</h1>
<p>The harbour reopened on Monday after a storm closed it for three days, officials said.</p>
<p>Fishing boats returned to the water at dawn, and the ferry to the island resumed service
in the afternoon with a reduced timetable.</p></article>
<footer>Copyright 2024 Example Media. All rights reserved.</footer></body></html>"""


def only(path: Path):
    result = read_file(path)
    assert result.failures == []
    assert len(result.articles) == 1
    return result.articles[0]


def failure(path: Path, **kw: int) -> str:
    result = read_file(path, **kw)
    assert result.articles == []
    assert len(result.failures) == 1
    line = str(result.failures[0])
    assert str(path) in line and "\n" not in line
    return line


def test_txt_title_from_first_line(write) -> None:
    article = only(write("a.txt", "Harbour reopens\n\nThe harbour reopened on Monday.\n"))
    assert article.title == "Harbour reopens"
    assert article.text == "The harbour reopened on Monday.\n"


def test_txt_title_from_file_name_without_blank_line(write) -> None:
    article = only(write("storm_report.txt", "The harbour reopened.\nBoats returned.\n"))
    assert article.title == "storm report"
    assert article.text.startswith("The harbour reopened.")


def test_md_front_matter(write) -> None:
    text = (
        '---\ntitle: "Storm: the aftermath"\nauthor: Ana Lima\ndate: 2024-03-02\n'
        "url: https://example.org/s\n---\n\nBody text here.\n"
    )
    article = only(write("s.md", text))
    assert (article.title, article.author, article.date, article.url) == (
        "Storm: the aftermath",
        "Ana Lima",
        "2024-03-02",
        "https://example.org/s",
    )
    assert article.text == "Body text here.\n"


def test_md_heading_title_without_front_matter(write) -> None:
    article = only(write("n.md", "Intro line\n\n# The real title\n\nBody.\n"))
    assert article.title == "The real title"


def test_html_main_text_without_boilerplate(write) -> None:
    article = only(write("h.html", HTML))
    assert "reopened on Monday" in article.text
    assert "Fishing boats returned" in article.text
    assert "All rights reserved" not in article.text
    assert "About us" not in article.text
    assert "Harbour" in article.title


def test_jsonl_records_and_a_bad_line(write) -> None:
    lines = [
        json.dumps({"id": "a1", "title": "First", "text": "One.", "url": "https://x.org/1"}),
        "{not json",
        json.dumps({"title": "No text"}),
        json.dumps({"title": "Third", "text": "Three.", "author": "Bo", "date": "2024-01-01"}),
    ]
    path = write("r.jsonl", "\n".join(lines) + "\n")
    result = read_file(path)
    assert [a.title for a in result.articles] == ["First", "Third"]
    assert result.articles[0].id == "a1" and result.articles[0].url == "https://x.org/1"
    assert result.articles[1].author == "Bo"
    reasons = [str(f) for f in result.failures]
    assert len(reasons) == 2
    assert "line 2" in reasons[0] and "invalid JSON" in reasons[0]
    assert "line 3" in reasons[1] and "text" in reasons[1]
    assert not result.complete


def test_json_list_and_single_record(write) -> None:
    many = write("m.json", json.dumps([{"title": "A", "text": "a."}, {"title": "B", "text": "b."}]))
    assert [a.title for a in read_file(many).articles] == ["A", "B"]
    one = write("o.json", json.dumps({"title": "Solo", "text": "s."}))
    assert only(one).title == "Solo"


def test_squad_json_gz_articles_join_paragraphs(write) -> None:
    squad = {
        "data": [
            {
                "title": "Super_Bowl_50",
                "paragraphs": [{"context": "P one."}, {"context": "P two."}],
            },
            {"title": "Warsaw", "paragraphs": [{"context": "W."}]},
        ]
    }
    path = write("dev.json.gz", gzip.compress(json.dumps(squad).encode()))
    result = read_file(path)
    assert [(a.title, a.text) for a in result.articles] == [
        ("Super Bowl 50", "P one.\n\nP two."),
        ("Warsaw", "W."),
    ]


def test_ids_are_stable_and_content_hash_tracks_changes(write) -> None:
    path = write("a.txt", "Title\n\nBody one.")
    first = only(path)
    assert only(path).id == first.id and only(path).content_hash == first.content_hash
    write("a.txt", "Title\n\nBody two.")
    second = only(path)
    assert second.id == first.id
    assert second.content_hash != first.content_hash


def test_crlf_is_normalised(write) -> None:
    article = only(write("w.txt", "T\r\n\r\nLine one.\r\nLine two.\r\n"))
    assert "\r" not in article.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", "", "is empty"),
        ("blank.md", "  \n\n \n", "is empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("latin1.txt", "Café au lait".encode("latin-1"), "not valid UTF-8"),
        ("bad.json", '{"title": "x", "text": ', "invalid JSON"),
        (
            "nothing.html",
            "<html><body><script>var x = 1;</script></body></html>",
            "no article text",
        ),
        ("data.txt.gz", gzip.compress(b"", mtime=0), "is empty"),
        ("headings.md", "# Title only\n\n## And a part\n", "has headings but no text"),
        ("broken.json.gz", b"not gzip at all", "not a valid gzip"),
    ],
)
def test_bad_files_fail_with_a_clear_line(
    write, name: str, content: str | bytes, reason: str
) -> None:
    assert reason in failure(write(name, content))


def test_file_over_the_size_limit(write) -> None:
    path = write("huge.txt", "")
    with open(path, "wb") as handle:
        handle.truncate(50 * 2**20)  # a sparse 50 MB file
    line = failure(path)
    assert "50.0 MB" in line and "--max-file-mb" in line


def test_unsupported_type_named_on_the_command_line(write) -> None:
    assert "unsupported file type" in failure(write("photo.png", b"\x89PNG..."))


def test_discover_walks_folders_skips_hidden_and_other_types(write) -> None:
    write("a.md", "# A\n\nx")
    write("sub/b.txt", "b")
    write("sub/deeper/c.jsonl", '{"title": "c", "text": "c"}')
    write(".hidden/d.md", "d")
    write("image.png", b"png")
    found = discover([write.base, "no/such/path"])
    names = sorted(p.name for p in found.files)
    assert names == ["a.md", "b.txt", "c.jsonl"]
    assert [Path(s).name for s in found.skipped] == ["image.png"]
    assert [(f.source, f.reason) for f in found.missing] == [
        ("no/such/path", "no such file or folder")
    ]


def test_demo_corpus_reads_cleanly() -> None:
    from tests.conftest import CORPUS

    found = discover([CORPUS])
    assert 10 <= len(found.files) <= 20
    for path in found.files:
        article = only(path)
        assert article.url and article.url.startswith("https://en.wikipedia.org/wiki/")


def test_a_questions_file_in_a_folder_is_skipped_not_failed(write) -> None:
    write("articles/a.md", "# A\n\nx")
    write("questions.json", '[{"question": "What is A?", "article": "A"}]')
    write("sub/questions.json", '[{"title": "B", "text": "An article file with that name."}]')
    found = discover([write.base])
    assert sorted(p.name for p in found.files) == ["a.md", "questions.json"]
    assert [Path(s).name for s in found.skipped] == ["questions.json"]
    assert found.missing == []


def test_a_questions_file_named_on_the_command_line_says_what_it_is(write) -> None:
    line = failure(write("questions.json", '[{"question": "What is A?", "article": "A"}]'))
    assert "holds questions, not articles" in line and "example questions" in line


def test_the_shipped_corpus_folder_ingests_without_failures() -> None:
    from tests.conftest import CORPUS

    found = discover([CORPUS.parent])  # corpus/: the articles and questions.json beside them
    assert found.missing == []
    assert "questions.json" in [Path(s).name for s in found.skipped]
    for path in found.files:
        assert read_file(path).failures == []
