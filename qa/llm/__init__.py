"""Generative answers from any OpenAI-compatible server, every sentence checked (issue 16).

Loaded lazily (module ``__getattr__``): the CLI imports ``qa.cli.llm`` to parse ``--llm``,
which must not import httpx unless a URL is given.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.llm.client import DEFAULT_CONTEXT, DEFAULT_TIMEOUT, LLMClient, LLMConfig, LLMError
    from qa.llm.generative import Token, Verdict, checked_answer, generate

_WHERE = {
    "DEFAULT_CONTEXT": "qa.llm.client",
    "DEFAULT_TIMEOUT": "qa.llm.client",
    "LLMClient": "qa.llm.client",
    "LLMConfig": "qa.llm.client",
    "LLMError": "qa.llm.client",
    "Token": "qa.llm.generative",
    "Verdict": "qa.llm.generative",
    "checked_answer": "qa.llm.generative",
    "generate": "qa.llm.generative",
}

__all__ = [
    "DEFAULT_CONTEXT",
    "DEFAULT_TIMEOUT",
    "LLMClient",
    "LLMConfig",
    "LLMError",
    "Token",
    "Verdict",
    "checked_answer",
    "generate",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'qa.llm' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
