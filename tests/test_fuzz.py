"""Fuzzed loaders: whatever bytes a file holds, reading it gives articles or one clear failure.

Every loader (``.txt``, ``.md``, ``.html``, ``.json``, ``.jsonl`` and their ``.gz`` versions) is
fed random bytes, text in random encodings, truncated and deeply nested JSON, giant lines, NUL
bytes and HTML soup. ``read_file`` must return (never raise) and each failure must name the
file. Run with ``-s`` to see how many cases ran. Speed is not asserted per case (a shared CI
machine is noisy); the one guard against a quadratic regex is a scaling ratio, marked slow.
"""

from __future__ import annotations

import gzip
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from embeddings import HashEmbedder
from qa import Assistant
from qa.pipeline.corpus import FileResult, read_file

KINDS = [".txt", ".md", ".html", ".json", ".jsonl"]
SUFFIXES = KINDS + [kind + ".gz" for kind in KINDS]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252",
             "shift_jis", "koi8-r"]  # fmt: skip
FUZZ = settings(
    deadline=None,  # no timing per case: the shared CI machine is noisy
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same cases on every run: a failure here is reproducible
    database=None,
)


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)


CASES = {"run": 0}  # read_file calls made by the fuzz tests, reported at the end


@pytest.fixture(scope="module", autouse=True)
def report_cases() -> Iterator[None]:
    yield
    print(f"\nfuzz cases run: {CASES['run']} files through read_file")


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    # Hypothesis runs many examples per test: one folder for all, each example overwrites.
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


BUG = "this is a bug in article-qa"  # read_file's safety net for exceptions no loader expected


def read(folder: Path, suffix: str, data: bytes, compress: bool = True) -> FileResult:
    """Write ``data`` as ``case{suffix}`` (gzipped for ``.gz`` unless ``compress=False``), read
    it, and check the contract: no exception, failures name the file."""
    path = folder / f"case{suffix}"
    path.write_bytes(gzip.compress(data, compresslevel=1) if suffix.endswith(".gz") and compress
                     else data)  # fmt: skip
    result = read_file(path)  # must not raise, whatever the bytes (the safety net aside)
    CASES["run"] += 1
    for failure in result.failures:
        assert str(failure).startswith(str(path)), failure
        assert failure.reason and "\n" not in str(failure) and "Traceback" not in failure.reason
        assert BUG not in failure.reason, f"a loader raised: {failure}"
    for article in result.articles:
        assert article.text.strip() and article.title and article.source == str(path.resolve())
    if not result.articles:
        assert result.failures, "a file that gives no article must say why"
    return result


@fuzz(500)
@given(suffix=st.sampled_from(SUFFIXES), data=st.binary(max_size=4096), compress=st.booleans())
def test_random_bytes(folder: Path, suffix: str, data: bytes, compress: bool) -> None:
    read(folder, suffix, data, compress)


@fuzz(400)
@given(
    suffix=st.sampled_from(SUFFIXES),
    text=st.text(max_size=2000),
    encoding=st.sampled_from(ENCODINGS),
)
def test_text_in_random_encodings(folder: Path, suffix: str, text: str, encoding: str) -> None:
    result = read(folder, suffix, text.encode(encoding, errors="replace"))
    if encoding == "utf-8" and suffix in (".txt", ".txt.gz") and "\x00" not in text:
        # Valid UTF-8 text with something to say is always read, and read exactly.
        assert bool(result.articles) == bool(text.strip())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "title",
                    "text",
                    "id",
                    "url",
                    "date",
                    "articles",
                    "data",
                    "paragraphs",
                    "context",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)
RECORD = st.fixed_dictionaries(
    {"title": st.text(max_size=40), "text": st.text(max_size=300)},
    optional={
        "id": st.text(max_size=10) | st.integers(),
        "url": st.text(max_size=30),
        "date": st.text(max_size=12),
        "author": JSON_VALUES,
    },
)


@fuzz(300)
@given(
    suffix=st.sampled_from([".json", ".jsonl", ".json.gz", ".jsonl.gz"]),
    value=JSON_VALUES | st.lists(RECORD, max_size=5) | RECORD,
    cut=st.integers(min_value=0, max_value=2000) | st.none(),
)
def test_json_values_whole_or_truncated(
    folder: Path, suffix: str, value: object, cut: int | None
) -> None:
    if ".jsonl" in suffix and isinstance(value, list):
        text = "\n".join(json.dumps(item) for item in value)
    else:
        text = json.dumps(value)
    read(folder, suffix, text[:cut].encode() if cut is not None else text.encode())


@fuzz(100)
@given(
    suffix=st.sampled_from([".json", ".jsonl", ".json.gz"]),
    depth=st.integers(min_value=1, max_value=200_000),
    opener=st.sampled_from(["[", '{"text": ', '{"articles": [', '{"data": [{"paragraphs": ']),
    closed=st.booleans(),
)
def test_deeply_nested_json(
    folder: Path, suffix: str, depth: int, opener: str, closed: bool
) -> None:
    closer = {
        "[": "]",
        '{"text": ': "}",
        '{"articles": [': "]}",
        '{"data": [{"paragraphs": ': "}]}",
    }
    text = opener * depth + '"deep"' + (closer[opener] * depth if closed else "")
    result = read(folder, suffix, text.encode())
    if closed and depth > 5000:
        assert "nested too deeply" in result.failures[0].reason


@fuzz(40)
@given(
    suffix=st.sampled_from(SUFFIXES),
    unit=st.sampled_from(["x", " ", "#", "# ", "<p>", "{", "word ", "é", "\t", "-", "a. "]),
    prefix=st.sampled_from(["", "# ", "---\n", "Title\n\n", '{"title": "t", "text": "']),
    length=st.integers(min_value=100_000, max_value=3_000_000),
)
@example(suffix=".md", unit=" ", prefix="# ", length=200_000)  # a quadratic regex, once
@example(suffix=".jsonl", unit="[", prefix="", length=200_000)
def test_giant_lines(folder: Path, suffix: str, unit: str, prefix: str, length: int) -> None:
    read(folder, suffix, (prefix + unit * (length // len(unit)) + "b\n\ntext").encode())


def _seconds_to_read(path: Path) -> float:
    """The best of five reads: the least disturbed by other work on the machine."""
    times = []
    for _ in range(5):
        started = time.perf_counter()
        read_file(path)
        times.append(time.perf_counter() - started)
    return min(times)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("suffix", "prefix", "unit"),
    [(".md", "# ", " "), (".md", "", "# "), (".txt", "", "a. "), (".jsonl", "", "[")],
)
def test_reading_time_grows_linearly_with_a_giant_line(
    folder: Path, suffix: str, prefix: str, unit: str
) -> None:
    """Four times the line, at most eight times the time (linear gives 4, quadratic 16): the
    guard against a regex that backtracks on a long run of one character (a heading of 200,000
    spaces once took minutes). A ratio, not a limit in seconds, so machine speed cancels out."""
    seconds = []
    for length in (500_000, 2_000_000):
        path = folder / f"scaling{suffix}"
        path.write_bytes((prefix + unit * (length // len(unit)) + "b\n\ntext").encode())
        seconds.append(_seconds_to_read(path))
    small, large = seconds
    assert large <= 8 * max(small, 0.005), f"{small:.3f} s, then {large:.3f} s for 4x the line"


@fuzz(200)
@given(
    suffix=st.sampled_from(SUFFIXES),
    text=st.text(min_size=1, max_size=500),
    positions=st.lists(st.integers(min_value=0, max_value=500), max_size=5),
)
def test_nul_bytes(folder: Path, suffix: str, text: str, positions: list[int]) -> None:
    for position in sorted(positions, reverse=True):
        text = text[:position] + "\x00" + text[position:]
    if suffix.startswith(".json"):
        text = json.dumps({"title": "t", "text": text}, ensure_ascii=False)
    read(folder, suffix, text.encode())


TAGS = ["html", "head", "body", "title", "article", "main", "div", "p", "span", "script", "style",
        "nav", "footer", "table", "tr", "td", "ul", "li", "a", "b", "svg", "iframe", "noscript",
        "h1", "pre", "code", "template", "form", "meta", "br", "img"]  # fmt: skip
SOUP = st.lists(
    st.one_of(
        st.sampled_from(TAGS).map(lambda tag: f"<{tag}>"),
        st.sampled_from(TAGS).map(lambda tag: f"</{tag}>"),
        st.tuples(st.sampled_from(TAGS), st.text(max_size=20)).map(
            lambda pair: f"<{pair[0]} class=\"{pair[1]}\" onload='{pair[1]}'>"
        ),
        st.sampled_from(
            [
                "<!--",
                "-->",
                "<![CDATA[",
                "]]>",
                "&amp;",
                "&#0;",
                "&#x110000;",
                "&nbsp;",
                "<!DOCTYPE html>",
                "<?xml version='1.0'?>",
                "<",
                ">",
                '"',
                "<meta charset='utf-16'>",
                "<meta http-equiv='refresh'>",
            ]
        ),
        st.text(max_size=60),
        st.just("The harbour reopened on Monday after the storm, officials said. " * 3),
    ),
    max_size=80,
).map("".join)


@fuzz(300)
@given(suffix=st.sampled_from([".html", ".html.gz"]), soup=SOUP, depth=st.integers(0, 3000))
def test_html_soup(folder: Path, suffix: str, soup: str, depth: int) -> None:
    read(folder, suffix, ("<div>" * depth + soup).encode("utf-8", errors="replace"))


GOOD = {
    "a.md": "# Harbour\n\nThe harbour reopened on Monday after the storm.",
    "b.txt": "Bridge\n\nThe new bridge over the Vale river opened in May.",
    "c.jsonl": json.dumps({"id": "c1", "title": "Ferry", "text": "The ferry runs again."}),
}


@fuzz(25)
@given(
    suffix=st.sampled_from(SUFFIXES),
    bad=st.sampled_from([b"\x00\x01binary", b"[" * 50_000, b"{\"title\": ", b"\xff\xfe\x00\xd8",
                         b"<html><script>x</script></html>", b"   ", b"\xc3\x28 not utf-8"])
    | st.binary(max_size=200),
)  # fmt: skip
def test_one_bad_file_never_stops_the_others(suffix: str, bad: bytes) -> None:
    with tempfile.TemporaryDirectory() as name:
        docs = Path(name, "docs")
        docs.mkdir()
        for file_name, content in GOOD.items():
            (docs / file_name).write_text(content, encoding="utf-8")
        (docs / f"zz-bad{suffix}").write_bytes(bad)
        with Assistant.open(Path(name, "index"), embedder=HashEmbedder()) as assistant:
            report = assistant.ingest([docs])
            titles = {info.title for info in assistant.articles()}
        CASES["run"] += 1
        assert {"Harbour", "Bridge", "Ferry"} <= titles  # the good files are all in
        assert all("zz-bad" in failure.source for failure in report.failed)
        assert len(report.added) >= 3
        if len(report.added) == 3:  # the bad file gave nothing: it must be reported, by name
            assert report.failed


def test_a_loader_bug_fails_that_file_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception inside one parser is reported for that file, not raised."""
    from qa.pipeline import formats

    def broken(text: str, stem: str) -> list[formats.Record]:
        raise KeyError("surprise")

    monkeypatch.setattr(formats, "parse_markdown", broken)
    path = folder / "case.md"
    path.write_text("# Title\n\nSome text.", encoding="utf-8")
    result = read_file(path)
    assert result.articles == []
    (failure,) = result.failures
    assert failure.source == str(path)
    assert "KeyError" in failure.reason and BUG in failure.reason


CONFIG_NAMES = ("model", "model_path", "dimension", "model_max_tokens", "probe", "encoding",
                "chunk_tokens", "overlap_tokens", "format_version", "backend", "vector_index",
                "store")  # fmt: skip
CONFIG_FIELDS = st.fixed_dictionaries({}, optional=dict.fromkeys(CONFIG_NAMES, JSON_VALUES))


@fuzz(300)
@given(value=JSON_VALUES | CONFIG_FIELDS, cut=st.integers(min_value=0, max_value=400) | st.none())
def test_any_config_json_is_read_or_refused_in_one_line(
    folder: Path, value: object, cut: int | None
) -> None:
    """Whatever config.json holds (issue 29: a JSON list, a text dimension, half a file), reading
    it gives a config or one ``IndexFormatError`` line, never another exception."""
    from qa.config import read_config
    from qa.errors import IndexFormatError

    text = json.dumps(value)
    (folder / "config.json").write_text(text[:cut] if cut is not None else text, encoding="utf-8")
    try:
        config = read_config(folder)
    except IndexFormatError as error:
        assert "\n" not in str(error) and str(error).endswith(".")
        return
    assert config is not None and isinstance(config.dimension, int) and config.dimension >= 1
