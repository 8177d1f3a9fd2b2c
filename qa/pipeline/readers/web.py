"""Web addresses and feeds: fetch safely, extract the article, skip what did not change.

``qa ingest https://site/page`` reads one page (trafilatura, as for ``.html`` files); an RSS or
Atom address (``https://site/feed.xml``) reads each item's article (feedparser). Each article's
``source`` is its address, so ``qa remove URL`` and re-ingesting work as for files.

Re-ingesting costs nothing when nothing changed: the index folder keeps ``web.json`` (per
address: ETag, Last-Modified, the fetch time, a feed's item addresses), and the next fetch is a
conditional GET; a 304 answer keeps the stored articles without reading or embedding anything.
A 200 answer with the same text is skipped by the usual content hash. ``web.json`` is written
(atomically) only after the articles are in the index, so an interrupted ingest fetches again.

Safety (``allow_private=False``, the web UI's default): every address, and every redirect hop,
is resolved first and refused when any of its addresses is loopback, private, link-local,
shared (CGNAT), multicast or reserved, so a visitor cannot make the server fetch from its own
network (cloud metadata at 169.254.169.254, an admin page on 10.0.0.1). The connection then goes
to the checked IP itself (Host header and TLS SNI keep the name), so a second DNS answer cannot
swap in another address. Proxies from the environment are not used (they would bypass this).
The command line allows private addresses: it runs as the user, who can reach them anyway.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa.pipeline.records import FormatError, Record

# Per hop: a page that takes longer than this to connect or to send its next bytes is given up.
TIMEOUT_S = 15.0
# Whole fetch, including slow trickles that each stay under TIMEOUT_S.
DEADLINE_S = 60.0
MAX_REDIRECTS = 5
DEFAULT_MAX_MB = 16
# A feed's newest items, at most: a feed with thousands of entries is an archive, not news.
MAX_FEED_ITEMS = 100
STATE_FILE = "web.json"
USER_AGENT = "article-qa (+https://github.com/article-qa)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
XML_TYPES = ("application/xml", "text/xml")
ALLOW_HINT = "start qa serve with --allow-private-urls to allow such addresses"


def is_address(value: object) -> bool:
    text = str(value).strip().lower()
    return text.startswith(("http://", "https://"))


class FetchError(FormatError):
    """An address could not be fetched or read (the message is one line for users)."""


@dataclass(frozen=True)
class Fetched:
    url: str  # the address asked for
    final_url: str  # after redirects
    status: int
    content_type: str
    body: bytes
    etag: str | None
    last_modified: str | None
    fetched_at: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """May a fetch for a visitor go to ``ip``? Only to globally routable unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise FetchError(f"the host name {host!r} could not be resolved ({error})") from error
    addresses = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]  # an IPv6 scope id is not part of the address
        addresses.append(ipaddress.ip_address(raw))
    if not addresses:
        raise FetchError(f"the host name {host!r} has no address")
    return addresses


@dataclass
class Fetcher:
    """Fetches one address at a time with the limits above (``fetch``)."""

    # Defaults are read when a Fetcher is made, so the module's limits can be changed.
    allow_private: bool = False
    timeout_s: float = field(default_factory=lambda: TIMEOUT_S)
    deadline_s: float = field(default_factory=lambda: DEADLINE_S)
    max_bytes: int = field(default_factory=lambda: int(DEFAULT_MAX_MB * 2**20))
    max_redirects: int = field(default_factory=lambda: MAX_REDIRECTS)

    def _pinned(self, url: Any) -> tuple[Any, str]:
        """The URL with its host replaced by a checked IP, and that IP (for messages)."""
        if url.scheme not in ("http", "https"):
            raise FetchError(f"only http and https addresses can be fetched, not {url.scheme}:")
        host = url.host
        if not host:
            raise FetchError("the address has no host")
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = resolve(host, port)
        if not self.allow_private:
            for ip in addresses:
                if not _public(ip):
                    raise FetchError(
                        f"refused: {host} resolves to {ip}, a loopback, private or link-local "
                        f"address ({ALLOW_HINT})"
                    )
        ip = addresses[0]
        return url.copy_with(host=str(ip)), str(ip)

    def fetch(
        self, address: str, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        """GET ``address`` (conditional when ``etag``/``last_modified`` are given)."""
        import httpx

        started = time.monotonic()
        try:
            url = httpx.URL(address.strip())
        except Exception as error:  # httpx.InvalidURL and friends
            raise FetchError(f"is not a valid address ({error})") from error
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        timeout = httpx.Timeout(self.timeout_s)
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            for _hop in range(self.max_redirects + 1):
                pinned, _ip = self._pinned(url)
                request = client.build_request(
                    "GET",
                    pinned,
                    headers={**headers, "Host": url.netloc.decode("ascii")},
                    extensions={"sni_hostname": url.host} if url.scheme == "https" else {},
                )
                try:
                    response = client.send(request, stream=True)
                except httpx.TimeoutException as error:
                    raise FetchError(f"timed out after {self.timeout_s:g} s") from error
                except httpx.HTTPError as error:
                    raise FetchError(f"could not be fetched ({error})") from error
                try:
                    if response.status_code in (301, 302, 303, 307, 308):
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(f"redirect ({response.status_code}) without a target")
                        url = url.join(location)
                        continue
                    return self._read(address, url, response, started)
                finally:
                    response.close()
        raise FetchError(f"more than {self.max_redirects} redirects")

    def _read(self, address: str, url: Any, response: Any, started: float) -> Fetched:
        import httpx

        status = response.status_code
        if status not in (200, 203, 304):
            raise FetchError(f"the server answered {status} {response.reason_phrase}".rstrip())
        declared = response.headers.get("content-length", "")
        limit_mb = self.max_bytes / 2**20
        if declared.isdigit() and int(declared) > self.max_bytes:
            size_mb = int(declared) / 2**20
            raise FetchError(f"is {size_mb:.1f} MB, over the limit of {limit_mb:g} MB")
        body = bytearray()
        try:
            for piece in response.iter_bytes():
                body.extend(piece)
                if len(body) > self.max_bytes:
                    raise FetchError(f"is over the limit of {limit_mb:g} MB")
                if time.monotonic() - started > self.deadline_s:
                    raise FetchError(f"took longer than {self.deadline_s:g} s to download")
        except httpx.TimeoutException as error:
            raise FetchError(f"timed out after {self.timeout_s:g} s") from error
        except httpx.HTTPError as error:
            raise FetchError(f"could not be downloaded ({error})") from error
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        return Fetched(
            url=address,
            final_url=str(url),
            status=status,
            content_type=kind,
            body=bytes(body),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )


def _is_feed(fetched: Fetched) -> bool:
    if fetched.content_type in FEED_TYPES:
        return True
    head = fetched.body[:2048].lstrip().lower()
    looks = b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head
    return looks and (fetched.content_type in XML_TYPES or head.startswith(b"<?xml"))


def page_records(fetched: Fetched) -> list[Record]:
    """The article of a fetched page (HTML, or a PDF or plain text behind an address)."""
    from qa.pipeline import formats

    stem = fetched.final_url.rstrip("/").rsplit("/", 1)[-1] or fetched.final_url
    if fetched.content_type in HTML_TYPES or (
        not fetched.content_type and fetched.body.lstrip()[:1] == b"<"
    ):
        records = formats.parse_html(fetched.body, stem)
    elif fetched.content_type == "application/pdf":
        from qa.pipeline.readers.pdf import parse_pdf

        records = parse_pdf(fetched.body, stem)
    elif fetched.content_type == "text/plain":
        records = formats.parse_text(fetched.body.decode("utf-8", "replace"), stem)
    else:
        shown = fetched.content_type or "none given"
        raise FetchError(f"is not a web page or feed (Content-Type: {shown})")
    for record in records:
        record.meta.setdefault("url", fetched.final_url)
    return records


def feed_links(fetched: Fetched) -> list[str]:
    """Item addresses of an RSS/Atom feed, newest first as the feed lists them."""
    import feedparser

    parsed = feedparser.parse(fetched.body)
    if parsed.bozo and not parsed.entries:
        raise FetchError(f"is not a readable feed ({parsed.get('bozo_exception')})")
    links: list[str] = []
    for entry in parsed.entries[:MAX_FEED_ITEMS]:
        link = entry.get("link")
        if isinstance(link, str) and is_address(link) and link not in links:
            links.append(link)
    if not links:
        raise FetchError("is a feed without item links")
    return links


@dataclass
class WebResult:
    """What one address gave (``path`` is the address: the articles' ``source``)."""

    path: str
    records: list[Record] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (address, reason)
    not_modified: bool = False


class WebState:
    """``web.json`` in the index folder: what the last fetch of each address said."""

    def __init__(self, index_dir: Path | None) -> None:
        self.path = index_dir / STATE_FILE if index_dir is not None else None
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path is not None and self.path.exists():
            try:
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}  # a damaged cache only costs a full fetch
        self.pending: dict[str, dict[str, Any]] = {}

    def get(self, address: str) -> dict[str, Any]:
        return self.entries.get(address, {})

    def remember(self, fetched: Fetched, items: list[str] | None = None) -> None:
        entry: dict[str, Any] = {
            "final_url": fetched.final_url,
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "fetched_at": fetched.fetched_at,
        }
        if items is not None:
            entry["items"] = items
        self.pending[fetched.url] = entry

    def save(self) -> None:
        """Keep what this run fetched; call only once its articles are in the index."""
        if self.path is None or not self.pending:
            return
        self.entries.update(self.pending)
        self.pending = {}
        handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=".web-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(self.entries, out, indent=1, sort_keys=True)
        os.replace(name, self.path)


def read_address(
    address: str,
    fetcher: Fetcher,
    state: WebState,
    stored: Callable[[str], bool],
) -> list[WebResult]:
    """Fetch ``address``: one result for a page, one per item for a feed (plus the feed's own
    when it failed or did not change). ``stored(address)`` says whether the index holds
    articles from it: only then is a conditional GET sent."""
    known = state.get(address)
    items = [str(item) for item in known.get("items", [])]
    # Conditional only when what the last answer gave is still in the index (a page's article,
    # or every item of a feed): else a 304 would keep articles that are gone.
    complete = all(stored(item) for item in items) if items else stored(address)
    conditional = known if complete else {}
    try:
        fetched = fetcher.fetch(address, conditional.get("etag"), conditional.get("last_modified"))
        if fetched.not_modified:
            return [WebResult(address, not_modified=True)] + [
                WebResult(item, not_modified=True) for item in items
            ]
        if not _is_feed(fetched):
            result = WebResult(address, page_records(fetched))
            state.remember(fetched)
            return [result]
        links = feed_links(fetched)
    except FormatError as error:
        return [WebResult(address, failures=[(address, str(error))])]
    results = [read_address(link, fetcher, state, stored)[0] for link in links]
    if not any(result.failures for result in results):  # else the next run tries them again
        state.remember(fetched, links)
    return results


@dataclass
class WebIngest:
    """How an ingest fetches addresses, and where it remembers them."""

    fetcher: Fetcher
    state: WebState


def file_results(web: WebIngest, addresses: list[str], stored: Callable[[str], bool]) -> list[Any]:
    """``qa.pipeline.corpus.FileResult``s for ``addresses`` (``None`` for each one that did not
    change, paired with its address), in the order fetched."""
    from qa.pipeline.corpus import FileResult, article_id
    from qa.pipeline.formats import normalise
    from qa.types import Article, IngestFailure

    out: list[Any] = []
    for address in addresses:
        for result in read_address(address, web.fetcher, web.state, stored):
            if result.not_modified:
                out.append((result.path, None))
                continue
            file_result = FileResult(path=result.path)
            file_result.failures.extend(IngestFailure(a, why) for a, why in result.failures)
            for record in result.records:
                text = normalise(record.text)
                file_result.articles.append(
                    Article(
                        id=article_id(result.path, ""),
                        title=record.title.strip() or result.path,
                        text=text,
                        source=result.path,
                        url=record.meta.get("url"),
                        date=record.meta.get("date"),
                        author=record.meta.get("author"),
                    )
                )
            out.append((result.path, file_result))
    return out
