"""Web addresses and feeds against a real HTTP server on 127.0.0.1, started by each test.

127.0.0.1 is loopback, so fetches that should succeed run with private addresses allowed (as
the command line does); the refusals run with them refused (the web UI's default).
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from qa import Assistant
from qa.pipeline.corpus import read_file
from qa.pipeline.readers import web
from qa.pipeline.readers.web import Fetcher, FetchError


def page(title: str, body: str) -> bytes:
    paragraphs = "".join(f"<p>{line}</p>" for line in body.split("\n"))
    return (
        f"<html><head><title>{title}</title><meta name='author' content='Ana Lima'>"
        f"<meta name='date' content='2024-05-01'></head><body><nav>Home | About</nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article><footer>(c) Harbour news</footer>"
        "</body></html>"
    ).encode()


ARTICLE = page(
    "Storm closes harbour",
    "A storm closed the harbour for three days and the fishing fleet stayed in port.\n"
    "The harbour master Ana Lima reopened the harbour on Monday after the divers inspected the "
    "eastern pier and found it sound.",
)
ITEMS = {
    "/news/1": page("Bridge opens", "The new bridge over the Vale river opened in May with a "
                    "parade of boats and a brass band playing on the deck."),
    "/news/2": page("Lighthouse repainted", "The lighthouse keeper Tomas Berg repainted the "
                    "lantern room in bright red before the winter storms arrived."),
    "/news/3": page("Seawall approved", "The council approved a new seawall for the following "
                    "year after a long debate about its cost and its height."),
}  # fmt: skip


def feed(base: str) -> bytes:
    items = "".join(
        f"<item><title>{path}</title><link>{base}{path}</link></item>" for path in ITEMS
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour news</title>'
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()


class Site:
    """What the test server serves, and what it saw."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)
        self.base = ""
        self.article = ARTICLE
        self.redirect_to = ""
        self.release = threading.Event()  # /slow answers only once this is set (at teardown)


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def send(self, status: int, body: bytes, kind: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("If-None-Match")))
            if self.path == "/article":
                etag = f'"{hash(state.article)}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send(200, state.article, "text/html; charset=utf-8", ETag=etag)
            elif self.path == "/feed.xml":
                self.send(200, feed(state.base), "application/rss+xml")
            elif self.path in ITEMS:
                self.send(200, ITEMS[self.path], "text/html")
            elif self.path == "/moved":
                self.send(302, b"", "text/plain", Location="/article")
            elif self.path == "/loop":
                self.send(302, b"", "text/plain", Location="/loop")
            elif self.path == "/to-private":
                self.send(302, b"", "text/plain", Location=state.redirect_to)
            elif self.path == "/image.png":
                self.send(200, b"\x89PNG....", "image/png")
            elif self.path == "/broken":
                self.send(500, b"oops", "text/plain")
            elif self.path == "/slow":  # stalls: a timeout fires whatever the machine's speed
                state.release.wait(timeout=60)
                self.send(200, ARTICLE, "text/html")
            elif self.path == "/huge":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()  # no Content-Length: the limit must hold while reading
                for _ in range(64):
                    self.wfile.write(b"<p>" + b"x" * 16384 + b"</p>")
            else:
                self.send(404, b"not here", "text/plain")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


def test_an_article_page_with_its_metadata(site: Site, index_dir: Path, embedder) -> None:
    url = f"{site.base}/article"
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        report = assistant.ingest([url])
        assert report.ok and len(report.added) == 1, report.failed
        (info,) = assistant.articles()
        assert info.source == url and info.title == "Storm closes harbour"
        assert info.url and info.url.startswith(site.base)
        assert info.author == "Ana Lima" and info.date == "2024-05-01"
        reply = assistant.ask("Who reopened the harbour?")
        assert reply.found and "Ana Lima" in reply.text
        assert "Home | About" not in assistant.search("harbour")[0].text
    fetched = web.WebState(index_dir).get(url)
    assert fetched["etag"] and fetched["fetched_at"]


def test_offsets_into_a_fetched_page_slice_the_page_as_read_again(
    site: Site, index_dir: Path, embedder, tmp_path: Path
) -> None:
    """Chunks and citations of a fetched page point into its text as read again now: the page
    downloaded once more (plain urllib, not the Fetcher) and read as a saved .html file."""
    import urllib.request

    url = f"{site.base}/article"
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        assert assistant.ingest([url]).ok
        (info,) = assistant.articles()
        chunks = assistant.catalog.chunk_rows(info.id)
        reply = assistant.ask("Who reopened the harbour after the divers inspected the pier?")
    with urllib.request.urlopen(url, timeout=10) as response:
        (tmp_path / "again.html").write_bytes(response.read())
    (again,) = read_file(tmp_path / "again.html").articles
    assert chunks and all(again.text[c.start : c.end] == c.text for c in chunks)
    assert reply.found and reply.citations
    written = ARTICLE.decode()
    for citation in reply.citations:
        assert again.text[citation.start : citation.end] == citation.quote
        assert citation.quote in written  # and the quote is words the server sent


def test_unchanged_page_costs_a_304_and_a_changed_one_is_updated(
    site: Site, index_dir: Path, embedder
) -> None:
    url = f"{site.base}/article"
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        first = assistant.ingest([url])
        again = assistant.ingest([url])
        assert again.unchanged == first.added and not again.added and not again.updated
        assert site.requests[-1][1] is not None  # a conditional GET, answered 304
        site.article = page("Storm closes harbour", "The harbour reopened on Tuesday instead.")
        changed = assistant.ingest([url])
        assert changed.updated == first.added
        assert "Tuesday" in assistant.search("harbour reopened Tuesday")[0].text
        assert assistant.remove([url]) == first.added


def test_a_feed_ingests_each_item(site: Site, index_dir: Path, embedder) -> None:
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        report = assistant.ingest([f"{site.base}/feed.xml"])
        assert report.ok and len(report.added) == 3, report.failed
        sources = sorted(a.source for a in assistant.articles())
        assert sources == sorted(f"{site.base}{path}" for path in ITEMS)
        reply = assistant.ask("Who repainted the lantern room?")
        assert reply.found and "Tomas Berg" in reply.text
        again = assistant.ingest([f"{site.base}/feed.xml"])
        assert sorted(again.unchanged) == sorted(report.added) and not again.added
        # An item removed from the index comes back with the next run (no 304 for the feed).
        assistant.remove([f"{site.base}/news/2"])
        back = assistant.ingest([f"{site.base}/feed.xml"])
        assert len(back.added) == 1 and len(back.unchanged) == 2


def test_a_redirect_is_followed(site: Site) -> None:
    fetched = Fetcher(allow_private=True).fetch(f"{site.base}/moved")
    assert fetched.final_url == f"{site.base}/article" and b"Storm" in fetched.body


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing", "the server answered 404 Not Found"),
        ("/broken", "the server answered 500 Internal Server Error"),
        ("/slow", "timed out after 0.5 s"),
        ("/huge", "is over the limit of 0.5 MB"),
        ("/loop", "more than 5 redirects"),
        ("/image.png", "is not a web page or feed (Content-Type: image/png)"),
    ],
)
def test_failures_are_one_line_naming_the_address(
    site: Site, index_dir: Path, embedder, monkeypatch: pytest.MonkeyPatch, path: str, reason: str
) -> None:
    # A short timeout only where the server stalls: elsewhere a loaded machine must not turn a
    # 404 or a 500 into a timeout.
    monkeypatch.setattr(web, "TIMEOUT_S", 0.5 if path == "/slow" else 60.0)
    monkeypatch.setattr(web, "DEFAULT_MAX_MB", 0.5)
    url = f"{site.base}{path}"
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        report = assistant.ingest([url, f"{site.base}/article"])
    (failure,) = report.failed
    assert str(failure).startswith(f"{url}: ") and reason in failure.reason, failure
    assert "\n" not in str(failure) and len(report.added) == 1  # the other address still works


def test_private_destinations_are_refused_after_dns(site: Site) -> None:
    fetcher = Fetcher(allow_private=False)
    for url in (f"{site.base}/article", "http://localhost:9/", "http://[::1]:9/"):
        with pytest.raises(FetchError, match=r"refused: .* loopback, private or link-local"):
            fetcher.fetch(url)
    assert not site.requests  # refused before connecting


@pytest.mark.parametrize(
    "host",
    ["0.0.0.0", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]", "[::1]"],
    ids=["zeros", "decimal", "hex", "ipv4-mapped-ipv6", "ipv6-loopback"],
)
def test_other_spellings_of_loopback_are_refused(site: Site, host: str) -> None:
    """Each reaches this machine's test server if let through (a refusal is the only way to
    pass), and none is let through."""
    port = site.base.rsplit(":", 1)[1]
    with pytest.raises(FetchError, match=r"refused: .* loopback, private or link-local"):
        Fetcher(allow_private=False).fetch(f"http://{host}:{port}/article")
    assert not site.requests


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("::ffff:8.8.8.8", True),  # a public IPv4 address, mapped: judged as that address
        ("::ffff:100.64.0.1", False),  # shared (carrier-grade NAT) space, mapped
        ("::ffff:224.0.0.1", False),  # IPv4 multicast, mapped
        ("::ffff:10.1.2.3", False),
        ("::ffff:169.254.169.254", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
    ],
)
def test_ipv4_mapped_addresses_are_judged_as_their_ipv4_address(address: str, public: bool) -> None:
    # Python judges ::ffff:100.64.0.1 and ::ffff:224.0.0.1 global and not multicast: without
    # the guard's own unmapping they would pass.
    assert web._public(ipaddress.ip_address(address)) is public


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every address a name resolves to is checked, not only the first: a DNS answer that mixes
    public and private addresses is refused (the connection could go to either)."""
    answers = [("8.8.8.8",), ("10.0.0.7",)]

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
        assert host == "mixed.test"
        return [(2, 1, 6, "", (ip, port)) for (ip,) in answers]

    monkeypatch.setattr(web.socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(FetchError, match=r"refused: mixed\.test resolves to 10\.0\.0\.7"):
        Fetcher(allow_private=False).fetch("http://mixed.test/")
    answers.reverse()  # private first: refused as well
    with pytest.raises(FetchError, match=r"refused: mixed\.test resolves to 10\.0\.0\.7"):
        Fetcher(allow_private=False).fetch("http://mixed.test/")


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/", "http://localhost/"]
)
def test_a_redirect_to_a_private_address_is_refused(
    site: Site, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    # The test server stands in for a public site: its own address passes the check, and only
    # the hop after the redirect meets the real rule.
    real_public = web._public
    monkeypatch.setattr(
        web, "_public", lambda ip: ip == ipaddress.ip_address("127.0.0.1") or real_public(ip)
    )
    monkeypatch.setattr(web, "resolve", _resolve_public_test)
    site.redirect_to = target
    with pytest.raises(FetchError, match="refused"):
        Fetcher(allow_private=False).fetch(
            f"http://public.test:{site.base.rsplit(':', 1)[1]}/to-private"
        )
    assert site.requests == [("/to-private", None)]


def _resolve_public_test(host: str, port: int) -> list[object]:
    if host == "public.test":
        return [ipaddress.ip_address("127.0.0.1")]
    if host == "localhost":
        return [ipaddress.ip_address("::1")]
    return [ipaddress.ip_address(host)]


def test_the_checked_ip_is_the_one_connected_to(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name is resolved once: the connection goes to the checked address with the name in
    the Host header (a second, different DNS answer cannot be used)."""
    monkeypatch.setattr(web, "resolve", _resolve_public_test)
    port = site.base.rsplit(":", 1)[1]
    fetched = Fetcher(allow_private=True).fetch(f"http://public.test:{port}/article")
    assert b"Storm" in fetched.body and fetched.final_url == f"http://public.test:{port}/article"


def ui_state(index_dir: Path, allow_private: bool):
    from ui.state import AppState

    with Assistant.open(index_dir, model="hash"):
        pass  # a new index on the hash test model, as qa ingest --model hash makes
    return AppState(index_dir, allow_private_urls=allow_private)


def test_add_by_address_in_the_ui(site: Site, index_dir: Path) -> None:
    from ui.articles import add_address

    state = ui_state(index_dir, allow_private=True)  # as qa serve --allow-private-urls
    text, table = add_address(state, f"{site.base}/article")
    assert "added 1" in text and "Storm closes harbour" in table
    text, _ = add_address(state, "not an address")
    assert "starting with http://" in text


def test_the_ui_refuses_private_addresses_by_default(
    site: Site, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.articles import add_address

    state = ui_state(index_dir, allow_private=False)  # qa serve's default
    text, _ = add_address(state, f"{site.base}/article")
    text = text.replace("\\", "")  # Markdown escapes
    assert "refused: 127.0.0.1 resolves to 127.0.0.1" in text and "--allow-private-urls" in text
    assert not state.articles() and not site.requests
    # A public-looking site that redirects into the private network is refused at that hop.
    real_public = web._public
    monkeypatch.setattr(
        web, "_public", lambda ip: ip == ipaddress.ip_address("127.0.0.1") or real_public(ip)
    )
    monkeypatch.setattr(web, "resolve", _resolve_public_test)
    site.redirect_to = "http://169.254.169.254/latest/meta-data/"
    port = site.base.rsplit(":", 1)[1]
    text, _ = add_address(state, f"http://public.test:{port}/to-private")
    text = text.replace("\\", "")
    assert "refused: 169.254.169.254 resolves to 169.254.169.254" in text
    assert not state.articles()
    assert site.requests == [("/to-private", None)]
