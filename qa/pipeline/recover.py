"""Read one article again from its source, for ``qa check --repair`` (``qa.stores.base.Recover``).

An article whose stored text fails its content hash is never re-chunked from that text: repair
asks here for the article as its file, or its web address, holds it now, and uses it only when
its content hash is one the damaged article could have had (the recorded one, or that of the
stored fields). A file is read as ``qa ingest`` reads it; a web address is fetched again whole
(a conditional GET would answer "not modified" without the text to restore from).
"""

from __future__ import annotations

import logging
from pathlib import Path

from qa.pipeline.corpus import read_file
from qa.pipeline.readers.web import Fetcher, WebIngest, WebState, file_results, is_address
from qa.types import Article

log = logging.getLogger("article_qa")


def reread(
    article_id: str, source: str, hashes: frozenset[str], fetcher: Fetcher | None = None
) -> Article | None:
    """The article ``article_id`` as ``source`` holds it now, if its content hash is in
    ``hashes``; None when the source is gone, unreadable, or changed since."""
    try:
        for article in _articles(source, fetcher):
            if article.id == article_id:
                return article if article.content_hash in hashes else None
    except Exception as error:  # a repair goes on without this source, whatever went wrong
        log.info("%s could not be read again (%s)", source, error)
    return None


def _articles(source: str, fetcher: Fetcher | None) -> list[Article]:
    if is_address(source):
        # The repair runs as the user, like `qa ingest`: their own network is theirs to read.
        web = WebIngest(fetcher or Fetcher(allow_private=True), WebState(None))
        found: list[Article] = []
        for _, result in file_results(web, [source], lambda _address: False):
            if result is not None:
                found.extend(result.articles)
        return found
    path = Path(source)
    if not path.is_file():
        return []
    return read_file(path).articles
