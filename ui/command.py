"""``qa serve``: registered with the ``qa`` command line through an entry point, so ``qa``
never imports the UI (imports flow ui -> qa) and gradio loads only when the server starts."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from qa.cli.llm import llm_config, llm_options
from qa.cli.options import index_option, reader_option

AUTH_ENV = "QA_AUTH"
API_KEY_ENV = "QA_API_KEY"  # the same name as ui.openai_api.API_KEY_ENV (not imported: fastapi)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise click.BadParameter("use USER:PASSWORD", param_hint="--auth")
    return user, password


def parse_logins(values: tuple[str, ...]) -> list[tuple[str, str]] | None:
    """Every ``--auth USER:PASSWORD`` given (one per user; each sees only their own saved
    conversations), or None when there is no login."""
    logins = [login for login in (parse_auth(value) for value in values) if login is not None]
    return logins or None


@click.command()
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=7860,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--auth",
    envvar=AUTH_ENV,
    multiple=True,
    help=f"Require a login, as USER:PASSWORD (or set ${AUTH_ENV}); repeat for several users "
    "(in the variable, separate them by spaces). Each user sees only their own saved "
    "conversations.",
)
@click.option("--model", help="Model folder for a new index (default: bundled all-MiniLM-L6-v2).")
@click.option(
    "--allow-private-urls",
    is_flag=True,
    help="Let 'Add by address' fetch loopback, private and link-local addresses (refused by "
    "default, so visitors cannot reach this machine's network through the server).",
)
@click.option(
    "--watch",
    "watch_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="Keep the index in sync with this file or folder while serving (as qa watch; repeat "
    "for several).",
)
@click.option(
    "--api-key",
    envvar=API_KEY_ENV,
    metavar="KEY",
    help=f"Key the OpenAI-compatible API (/v1) asks of every request, as 'Authorization: "
    f"Bearer KEY' (or set ${API_KEY_ENV}). Required to serve the API beyond loopback "
    "(--host 0.0.0.0); without a key it answers only this machine.",
)
@reader_option
@llm_options
def serve(
    index_dir: str,
    host: str,
    port: int,
    auth: tuple[str, ...],
    model: str | None,
    allow_private_urls: bool,
    watch_paths: tuple[str, ...],
    api_key: str | None,
    no_reader: bool,
    llm_url: str | None,
    llm_model: str | None,
    llm_context: int,
    llm_timeout: float,
    llm_check: str,
    no_stream: bool,
) -> None:
    """Start the chat web UI (Gradio) and an OpenAI-compatible API on this machine.

    It listens on 127.0.0.1 only, unless --host says otherwise (e.g. --host 0.0.0.0 to let
    other machines in: then also set --auth, and --api-key for the API). Chat clients (e.g.
    open-webui) connect to http://HOST:PORT/v1 with the model "article-qa".

    \b
    Example:
      qa serve --index index --port 7860
      qa serve --watch notes/
      qa serve --llm http://127.0.0.1:11434/v1 --llm-model qwen2.5:3b
      qa serve --llm http://127.0.0.1:11434/v1 --check cosine
      qa serve --host 0.0.0.0 --auth ana:secret --api-key "$(openssl rand -hex 16)"
    """
    from ui.app import serve as run
    from ui.openai_api import refusal
    from ui.routes import mount

    credentials = parse_logins(auth)
    if host not in ("127.0.0.1", "localhost", "::1") and credentials is None:
        click.echo(
            f"Warning: listening on {host} without --auth: anyone who can reach it can read and "
            "change the index.",
            err=True,
        )
    refused = refusal(host, api_key)
    if refused:
        click.echo(refused, err=True)
    click.echo(f"article-qa on http://{host}:{port}  (Ctrl-C stops it)", err=True)
    if not refused:
        click.echo(f"OpenAI-compatible API on http://{host}:{port}/v1", err=True)
    config = llm_config(llm_url, llm_model, llm_context, llm_timeout, llm_check)
    run(
        Path(index_dir),
        host=host,
        port=port,
        auth=credentials,
        model=model,
        llm=config,
        allow_private_urls=allow_private_urls,
        watch=watch_paths,
        reader=not no_reader,
        mount=partial(mount, api=refused is None, api_key=api_key or None),
    )
