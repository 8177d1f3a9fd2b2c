"""A client for OpenAI-compatible chat completions (Ollama, llama-server, vLLM, LM Studio).

httpx (already installed with gradio) plus our SSE parser: one POST to ``/chat/completions``
with ``stream: true``, tokens yielded as they arrive. Every way this can fail becomes an
``LLMError`` whose message says what happened and what to do; the caller then answers
extractively instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from qa.errors import QAError
from qa.llm.sse import SSEParser

# CPU servers are slow: a 7B model on a laptop can take a minute before its first token.
DEFAULT_TIMEOUT = 120.0
DEFAULT_CONTEXT = 4096
# The answer's share of the context: generous for a few cited sentences.
DEFAULT_MAX_TOKENS = 400


class LLMError(QAError):
    """The language model server could not give an answer (not running, refused, broke off)."""


@dataclass(frozen=True)
class LLMConfig:
    """Where the model is. ``url`` is the API base, ending in ``/v1`` for most servers."""

    url: str
    model: str | None = None
    api_key: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    context: int = DEFAULT_CONTEXT
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0
    # How each sentence is checked (qa/llm/check.py): "verifier" (the trained model) or
    # "cosine" (embedding cosine + word overlap, for comparison).
    check: str = "verifier"

    def __post_init__(self) -> None:
        if self.check not in ("verifier", "cosine"):
            raise LLMError(f"--check must be verifier or cosine, not {self.check!r}.")
        if not self.url.startswith(("http://", "https://")):
            raise LLMError(
                f"--llm must be an http(s) URL such as http://127.0.0.1:11434/v1, not {self.url!r}."
            )
        if self.context < 256:
            raise LLMError(f"--llm-context must be at least 256 tokens, not {self.context}.")
        if self.timeout <= 0:
            raise LLMError(f"--llm-timeout must be more than 0 seconds, not {self.timeout}.")

    @classmethod
    def from_env(
        cls,
        url: str | None = None,
        model: str | None = None,
        *,
        timeout: float | None = None,
        context: int | None = None,
    ) -> LLMConfig | None:
        """Options first, then ``QA_LLM_URL``, ``QA_LLM_MODEL``, ``QA_LLM_API_KEY``; None when
        no URL is set anywhere (answers stay extractive)."""
        url = url or os.environ.get("QA_LLM_URL")
        if not url:
            return None
        return cls(
            url=url.rstrip("/"),
            model=model or os.environ.get("QA_LLM_MODEL") or None,
            api_key=os.environ.get("QA_LLM_API_KEY") or None,
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            context=DEFAULT_CONTEXT if context is None else context,
        )


@dataclass(frozen=True)
class Delta:
    """A piece of the answer as it streams in."""

    text: str


class LLMClient:
    def __init__(self, config: LLMConfig, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        headers = {"Accept": "text/event-stream"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        self._http = httpx.Client(
            base_url=config.url,
            headers=headers,
            timeout=httpx.Timeout(config.timeout, connect=min(config.timeout, 10.0)),
            transport=transport,
        )
        self.model_used: str | None = config.model

    def close(self) -> None:
        self._http.close()

    def models(self) -> list[str]:
        """What ``GET /v1/models`` lists (ids), or [] when the server has no such endpoint."""
        response = self._request("GET", "/models")
        if response.status_code == 404:
            return []
        self._raise_for_status(response, response.text)
        try:
            return [str(m["id"]) for m in response.json().get("data", [])]
        except (ValueError, KeyError, TypeError, AttributeError):
            return []

    def resolve_model(self) -> str | None:
        """The model to ask for: the configured one, checked against the server's list
        (llama-server answers any name with its one model, so a typo would go unnoticed), or the
        server's first."""
        listed = self.models()
        model = self.config.model
        if model is None:
            self.model_used = listed[0] if listed else None
            return self.model_used
        if listed and model not in listed:
            raise LLMError(self._missing_model(model, listed))
        self.model_used = model
        return model

    def stream(self, messages: list[dict[str, str]]) -> Iterator[Delta]:
        """Yield the answer's text as it arrives; raise LLMError on any fault."""
        body: dict[str, Any] = {
            "messages": messages,
            "stream": True,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
            # llama-server: a cached prompt prefix makes temperature-0 answers differ run to run.
            "cache_prompt": False,
        }
        if self.model_used:
            body["model"] = self.model_used
        produced = False
        with (
            self._translated_errors(),
            self._http.stream("POST", "/chat/completions", json=body) as response,
        ):
            if response.status_code != 200:
                self._raise_for_status(response, response.read().decode("utf-8", "replace"))
            parser = SSEParser()
            for chunk in response.iter_bytes():
                for event in parser.feed(chunk):
                    for text in self._deltas(event.data):
                        produced = produced or bool(text.strip())
                        yield Delta(text)
                    if event.data.strip() == "[DONE]":
                        break
            for event in parser.close():
                for text in self._deltas(event.data):
                    produced = produced or bool(text.strip())
                    yield Delta(text)
        if not produced:
            raise LLMError(
                f"The language model at {self.config.url} answered with no text "
                f"(model {self.model_used or 'default'})."
            )

    def _request(self, method: str, path: str) -> httpx.Response:
        with self._translated_errors():
            return self._http.request(method, path)

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        """httpx's timeouts and connection faults, as one ``LLMError`` each."""
        try:
            yield
        except httpx.TimeoutException as error:
            raise LLMError(
                f"The language model at {self.config.url} did not answer within "
                f"{self.config.timeout:g} s. A CPU server may need longer: raise --llm-timeout."
            ) from error
        except httpx.TransportError as error:
            raise LLMError(
                f"Could not reach the language model at {self.config.url} "
                f"({type(error).__name__}: {error}). Is the server running (ollama serve, "
                "llama-server --port ...)?"
            ) from error

    def _deltas(self, data: str) -> Iterator[str]:
        if data.strip() == "[DONE]":
            return
        try:
            payload = json.loads(data)
        except ValueError as error:
            raise LLMError(
                f"The language model at {self.config.url} sent something that is not JSON "
                f"mid-answer: {data[:120]!r}."
            ) from error
        if not isinstance(payload, dict):
            return
        if "error" in payload:
            raise LLMError(
                f"The language model stopped with an error mid-answer: {_message(payload)}"
            )
        if payload.get("model"):
            self.model_used = str(payload["model"])
        for choice in payload.get("choices") or []:  # a usage chunk has "choices": []
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if content:
                yield str(content)

    def _raise_for_status(self, response: httpx.Response, text: str) -> None:
        if response.status_code < 400:
            return
        try:
            detail = _message(json.loads(text))
        except ValueError:
            detail = text.strip()[:200]
        status = response.status_code
        lowered = detail.lower()
        if status == 404 and "model" in lowered:
            raise LLMError(self._missing_model(self.model_used or "default", None, detail))
        if status == 404:
            raise LLMError(
                f"{response.request.url} was not found (404). The --llm URL is the API base, "
                f"usually ending in /v1 (Ollama: http://127.0.0.1:11434/v1)."
            )
        if status in (401, 403):
            raise LLMError(
                f"The language model server refused the request ({status}: {detail}). "
                "Set QA_LLM_API_KEY to its API key."
            )
        if status == 400 and ("context" in lowered or "too long" in lowered):
            raise LLMError(
                f"The prompt is longer than the model's context on the server ({detail}). "
                "Lower --llm-context to the server's context size (llama-server -c, Ollama "
                "num_ctx)."
            )
        raise LLMError(f"The language model server answered {status}: {detail}")

    def _missing_model(self, model: str, listed: list[str] | None, detail: str = "") -> str:
        have = f" It has: {', '.join(listed)}." if listed else ""
        why = f" ({detail})" if detail else ""
        return (
            f"The language model server has no model {model!r}{why}.{have} List its models with "
            f"GET {self.config.url}/models (curl {self.config.url}/models) and pass one with "
            "--llm-model or QA_LLM_MODEL."
        )


def _message(payload: Any) -> str:
    """The human part of an OpenAI-style error body: {"error": {"message": ...}} or variants."""
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict):
            return str(error.get("message") or error)
        return str(error)
    return str(payload)
