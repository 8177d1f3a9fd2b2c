"""Generative answers from any OpenAI-compatible server, every sentence checked (issue 16)."""

from qa.llm.client import DEFAULT_CONTEXT, DEFAULT_TIMEOUT, LLMClient, LLMConfig, LLMError
from qa.llm.generate import Token, checked_answer, generate

__all__ = [
    "DEFAULT_CONTEXT",
    "DEFAULT_TIMEOUT",
    "LLMClient",
    "LLMConfig",
    "LLMError",
    "Token",
    "checked_answer",
    "generate",
]
