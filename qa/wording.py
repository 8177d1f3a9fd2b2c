"""How counts read in the messages article-qa writes for people: ``plural(3, "article")``.

Kept apart (no imports) so the stores' checks, the watcher, the conversations and the CLI all
word counts the same way without loading anything behind them.
"""

from __future__ import annotations


def plural(count: int, word: str) -> str:
    """``plural(1, "chunk")`` -> "1 chunk", ``plural(1200, "chunk")`` -> "1,200 chunks"."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"
