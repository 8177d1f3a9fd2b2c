"""The ``--llm`` options of ``qa ask``, ``qa chat`` (and ``qa serve``), and the streaming printer.

Kept apart from qa/cli/commands.py so the commands change by a decorator and a call. Parsing the
options imports nothing heavy; httpx loads only when a URL is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from qa.cli.output import echo, secho
from qa.wording import plural

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.llm.client import LLMConfig
    from qa.types import Answer, Filters, Turn


# The mark printed after each streamed sentence once it is checked: a passage supports it (✓),
# none does and it will be left out of the answer (✗), or a passage contradicts it (✗!).
VERIFIED = " \u2713"
UNSUPPORTED = " \u2717"
CONTRADICTED = " \u2717!"


def llm_options(command: Callable[..., Any]) -> Callable[..., Any]:
    return _with(command, [*_server_options(), _NO_STREAM])


def llm_eval_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--llm``, ``--llm-model``, ``--llm-context``, ``--llm-timeout`` (``qa eval``: no stream).
    ``qa eval`` asks a model only when ``--llm`` is given: a ``$QA_LLM_URL`` set for ``qa ask``
    must not turn every evaluation into minutes of model calls."""
    return _with(command, _server_options(url_envvar=None))


_NO_STREAM = click.option("--no-stream", is_flag=True, help="Print the answer once it is checked.")


def _with(
    command: Callable[..., Any], options: list[Callable[[Callable[..., Any]], Any]]
) -> Callable[..., Any]:
    for option in reversed(options):
        command = option(command)
    return command


def _server_options(
    url_envvar: str | None = "QA_LLM_URL",
) -> list[Callable[[Callable[..., Any]], Any]]:
    return [
        click.option(
            "--llm",
            "llm_url",
            envvar=url_envvar,
            metavar="URL",
            help="An OpenAI-compatible server writes the answer, every sentence checked against "
            "its passage (e.g. Ollama http://127.0.0.1:11434/v1, llama-server "
            "http://127.0.0.1:8080/v1; default $QA_LLM_URL). API key: $QA_LLM_API_KEY.",
        ),
        click.option(
            "--llm-model",
            envvar="QA_LLM_MODEL",
            help="Model name (default $QA_LLM_MODEL, or the server's first model).",
        ),
        click.option(
            "--llm-context",
            type=click.IntRange(256),
            default=4096,
            show_default=True,
            help="The model's context in tokens; passages are trimmed to fit it.",
        ),
        click.option(
            "--check",
            "llm_check",
            type=click.Choice(["verifier", "cosine"]),
            default="verifier",
            show_default=True,
            help="How each sentence is checked: the trained verifier (sees a wrong number or "
            "name) or embedding cosine + word overlap (the check before it, for comparison).",
        ),
        click.option(
            "--llm-timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=120.0,
            show_default=True,
            help="Seconds to wait for the server (CPU servers are slow).",
        ),
    ]


def llm_config(
    llm_url: str | None,
    llm_model: str | None,
    llm_context: int,
    llm_timeout: float,
    llm_check: str = "verifier",
) -> LLMConfig | None:
    if not llm_url:
        return None
    from dataclasses import replace

    from qa.llm.client import LLMConfig

    config = LLMConfig.from_env(llm_url, llm_model, timeout=llm_timeout, context=llm_context)
    return replace(config, check=llm_check) if config is not None else None


def ask_printing(
    assistant: Assistant,
    question: str,
    history: Sequence[Turn] | None,
    k: int,
    filters: Filters | None,
    config: LLMConfig,
    stream: bool,
) -> Answer:
    """Ask the model, printing its words as they come (to stderr when ``stream``: the checked
    answer that follows on stdout is what counts), each sentence marked as soon as it is
    checked (``VERIFIED``, ``UNSUPPORTED``). Returns the checked answer."""
    from qa.llm import Token, Verdict
    from qa.types import Answer

    final: Answer | None = None
    streamed = False
    for event in assistant.ask_stream(question, history, k, filters, llm=config):
        if isinstance(event, Token):
            if stream:
                if not streamed:
                    secho("Model: ", err=True, nl=False, dim=True)
                secho(event.text, err=True, nl=False, dim=True)
                streamed = True
        elif isinstance(event, Verdict):
            if stream and streamed:
                mark, colour = (VERIFIED, "green") if event.supported else (UNSUPPORTED, "red")
                if event.refuted:
                    mark = CONTRADICTED
                secho(mark, err=True, nl=False, fg=colour)
        elif isinstance(event, Answer):
            final = event
    if streamed:
        echo("\n", err=True)
    assert final is not None
    return final


def print_checks(reply: Answer) -> None:
    """Which sentences were verified, after a generative answer (or why it fell back)."""
    if reply.notice:
        secho(f"Note: {reply.notice}", fg="yellow", err=True)
    dropped = [s for s in reply.sentences if not s.supported]
    if reply.mode == "generative":
        kept = len(reply.sentences) - len(dropped)
        secho(
            f"Checked: {kept} of {plural(len(reply.sentences), 'sentence')} supported by their "
            f"passages (model {reply.model}).",
            err=True,
            dim=True,
        )
    for sentence in dropped:
        if sentence.refuted:  # named with what the source says instead
            secho(
                f"Left out (contradicted{CONTRADICTED}): {sentence.text}\n"
                f'  The source says: "{sentence.quote}"',
                err=True,
                dim=True,
            )
        else:
            secho(f"Left out (no passage supports it): {sentence.text}", err=True, dim=True)
