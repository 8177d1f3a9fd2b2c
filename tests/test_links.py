"""Links that open a citation at its quote (qa/links.py): text fragments, PDF pages, and where
they appear (qa ask --json, the exports, the Sources panel)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from qa import Assistant
from qa.cli.commands import cli
from qa.conversations import Conversations, answer_from_dict
from qa.links import (
    EDGE_WORDS,
    WHOLE_QUOTE_CHARS,
    answer_dict,
    citation_link,
    encode_term,
    quote_url,
    text_directive,
)
from qa.types import Answer, Citation, Passage
from ui.sources import sources_html

URL = "https://news.example/harbour"


def citation(quote: str = "Quote.", url: str | None = URL, page: int | None = None) -> Citation:
    return Citation(1, "a1", "Harbour", url, quote, 10, 10 + len(quote), 0.9, 7, page)


def answer_with(cited: Citation, source: str) -> Answer:
    passage = Passage(cited.chunk_id, cited.article_id, cited.title, cited.url, None, source,
                      cited.quote, cited.start, cited.end, 1.0, 1, 0.9, 1.0)  # fmt: skip
    return Answer("q?", f"{cited.quote} [1]", True, [cited], [passage], 0.9)


# -- the encoding (WICG text fragments) -----------------------------------------------------


def test_dashes_commas_and_ampersands_are_percent_encoded() -> None:
    # They are the directive's own syntax: "-" marks a prefix/suffix, "," separates the start
    # from the end, "&" separates directives.
    assert encode_term("Paris-based, Smith & Co") == "Paris%2Dbased%2C%20Smith%20%26%20Co"


def test_non_ascii_text_is_utf8_percent_encoded() -> None:
    assert encode_term("Floresta Amazônica") == "Floresta%20Amaz%C3%B4nica"
    assert encode_term("1576–77") == "1576%E2%80%9377"  # an en dash, as Wikipedia writes ranges
    assert encode_term("東京") == "%E6%9D%B1%E4%BA%AC"


@given(st.text(min_size=1, max_size=60))
def test_an_encoded_term_decodes_to_itself_and_has_no_directive_syntax(term: str) -> None:
    encoded = encode_term(term)
    assert unquote(encoded) == term
    assert not set(encoded) & set("-,&# ")


def test_a_short_quote_is_given_whole() -> None:
    quote = "The harbour reopened on Monday."
    assert text_directive(quote) == "text=The%20harbour%20reopened%20on%20Monday."


def test_a_long_quote_is_given_by_its_first_and_last_words() -> None:
    words = [f"word{n}" for n in range(30)]
    directive = text_directive(" ".join(words))
    start, end = directive.removeprefix("text=").split(",")
    assert unquote(start) == " ".join(words[:EDGE_WORDS])
    assert unquote(end) == " ".join(words[-EDGE_WORDS:])
    assert len(" ".join(words)) > WHOLE_QUOTE_CHARS


def test_whitespace_runs_match_as_the_browser_renders_them() -> None:
    assert text_directive("Page one\fends.\n  Then") == "text=Page%20one%20ends.%20Then"


def test_a_long_quote_with_syntax_characters_keeps_them_encoded_in_each_term() -> None:
    quote = "Paris-based Smith & Co, founded in 1847, sold steel, iron and rope until 1902–1903."
    start, end = text_directive(quote).removeprefix("text=").split(",")
    assert unquote(start) == "Paris-based Smith & Co, founded"
    assert unquote(end) == "iron and rope until 1902–1903."


def test_the_directive_follows_a_fragment_the_address_already_has() -> None:
    assert quote_url("https://x.example/a", "Hi.") == "https://x.example/a#:~:text=Hi."
    assert quote_url("https://x.example/#/post/5", "Hi.") == "https://x.example/#/post/5:~:text=Hi."
    assert quote_url("https://x.example/a#:~:text=old", "Hi.") == "https://x.example/a#:~:text=Hi."


# -- which link each kind of source gets ----------------------------------------------------


def test_a_web_article_links_to_its_page_at_the_quote() -> None:
    link = citation_link(citation("Ana Lima reopened the harbour."), "/docs/harbour.md")
    assert link == f"{URL}#:~:text=Ana%20Lima%20reopened%20the%20harbour."


def test_a_local_text_file_has_no_link_and_a_script_address_none_either() -> None:
    assert citation_link(citation(url=None), "/docs/notes.md") is None
    assert citation_link(citation(url="javascript:alert(1)"), "/docs/notes.md") is None


def test_a_pdf_opens_at_its_page() -> None:
    cited = citation("Fishing boats returned.", url=None, page=2)
    # Served by qa serve: a link inside its own pages, or absolute for an API client.
    assert citation_link(cited, "/docs/report.pdf", server="") == "/articles/a1/pdf#page=2"
    assert (
        citation_link(cited, "/docs/report.pdf.gz", server="http://127.0.0.1:7860/")
        == "http://127.0.0.1:7860/articles/a1/pdf#page=2"
    )
    # No server (qa ask --json, the exports): the file itself.
    assert citation_link(cited, "/docs/my report.pdf") == "file:///docs/my%20report.pdf#page=2"
    assert citation_link(cited, "/docs/report.pdf.gz") is None  # a viewer cannot open .gz
    # Fetched from the web: its address, at the page.
    web = citation("Fishing boats returned.", url="https://x.example/r.pdf#top", page=2)
    assert citation_link(web, "https://x.example/r.pdf", server="") == (
        "https://x.example/r.pdf#page=2"
    )


# -- where links appear ---------------------------------------------------------------------


def test_answer_dict_adds_each_link_and_reads_back_as_the_answer() -> None:
    reply = answer_with(citation("Ana Lima reopened the harbour."), "/docs/harbour.md")
    data = answer_dict(reply)
    assert data["citations"][0]["link"] == citation_link(reply.citations[0])
    assert answer_from_dict(data) == reply


def test_exports_include_the_link(tmp_path: Path) -> None:
    reply = answer_with(citation("Ana Lima reopened the harbour."), "/docs/harbour.md")
    chats = Conversations(tmp_path)
    conversation_id = chats.save(None, None, reply)
    link = f"{URL}#:~:text=Ana%20Lima%20reopened%20the%20harbour."
    exported = json.loads(chats.json(None, conversation_id))
    assert exported["turns"][0]["answer"]["citations"][0]["link"] == link
    assert f"({link})" in chats.markdown(None, conversation_id)
    assert chats.get(None, conversation_id).answers == [reply]  # what is saved stays the Answer


def test_qa_ask_json_includes_the_link(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour.md").write_text(
        f"---\ntitle: Harbour\nurl: {URL}\n---\n\nA storm closed the harbour for three days. "
        "The harbour master Ana Lima reopened the harbour on Monday.",
        encoding="utf-8",
    )
    with Assistant.open(tmp_path / "index", model="hash") as assistant:
        assert assistant.ingest([docs]).ok
    result = CliRunner().invoke(
        cli,
        ["ask", "Who reopened the harbour on Monday?", "--json"],
        env={"QA_INDEX": str(tmp_path / "index")},
    )
    assert result.exit_code == 0, result.output
    cited = json.loads(result.output)["citations"][0]
    assert cited["link"] == quote_url(URL, cited["quote"])
    assert cited["link"].startswith(f"{URL}#:~:text=")


def test_sources_panel_links_the_quote_or_the_served_pdf() -> None:
    web = sources_html([answer_with(citation("Ana Lima reopened it."), "/docs/harbour.md")])
    assert f'href="{URL}#:~:text=Ana%20Lima%20reopened%20it."' in web
    assert f">{URL}</a>" in web  # the address is what the link says
    pdf = sources_html(
        [answer_with(citation("Boats returned.", url=None, page=2), "/docs/report.pdf")]
    )
    assert 'href="/articles/a1/pdf#page=2"' in pdf and "Open the PDF at page 2" in pdf
    text = sources_html([answer_with(citation("Boats returned.", url=None), "/docs/notes.md")])
    assert "<a " not in text and "Boats returned." in text  # the panel shows the passage
