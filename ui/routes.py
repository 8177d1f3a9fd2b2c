"""Routes ``qa serve`` adds next to the Gradio app: the OpenAI-compatible API (ui/openai_api.py)
and the PDFs that citations open at their page (``qa.links.PDF_PATH``).

``mount`` is called with Gradio's FastAPI app once it is up (ui/command.py passes it to
``ui.app.serve``); both route families answer from the server's one ``AppState``.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from qa import QAError
from qa.links import PDF_PATH, PDF_SUFFIXES, is_web
from ui.openai_api import api_router

if TYPE_CHECKING:
    from ui.state import AppState


def mount(app: FastAPI, state: AppState, *, api: bool, api_key: str | None) -> None:
    """Add the PDF route, and the ``/v1`` API when ``api`` (see ``openai_api.refusal``)."""
    app.include_router(pdf_router(app, state))
    if api:
        app.include_router(api_router(state, api_key))


def logged_in(app: Any, request: Request) -> bool:
    """Does the request come from a user logged in to the UI (always, without ``--auth``)?
    Reads Gradio's login cookie as Gradio's own ``login_check`` does; unknown: refused."""
    if getattr(app, "auth", None) is None and getattr(app, "auth_dependency", None) is None:
        return True
    cookie_id, tokens = getattr(app, "cookie_id", None), getattr(app, "tokens", None)
    if cookie_id is None or not isinstance(tokens, dict):
        return False
    token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
        f"access-token-unsecure-{cookie_id}"
    )
    return token is not None and tokens.get(token) is not None


def pdf_router(app: FastAPI, state: AppState) -> APIRouter:
    """``GET /articles/ID/pdf``: the PDF an indexed article was read from, shown inline (a
    citation's link adds ``#page=N``). Only files the index names as an article's source are
    served, and only PDFs; with ``--auth``, only to a logged-in user."""
    router = APIRouter()

    def article_pdf(article_id: str, request: Request) -> Response:
        if not logged_in(app, request):
            return JSONResponse({"detail": "Log in to the UI first."}, status_code=401)
        try:
            found = state.article(article_id)
        except QAError as error:
            return JSONResponse({"detail": str(error)}, status_code=503)
        source = found.source if found is not None and found.id == article_id else None
        if source is None or is_web(source) or not source.lower().endswith(PDF_SUFFIXES):
            return JSONResponse({"detail": "No PDF for that article."}, status_code=404)
        path = Path(source)
        zipped = source.lower().endswith(".gz")
        name = path.name[: -len(".gz")] if zipped else path.name
        if not path.is_file():
            return JSONResponse(
                {"detail": "The PDF was moved or deleted since it was indexed."}, status_code=404
            )
        if not zipped:  # served as a file: PDF viewers fetch ranges of it
            return FileResponse(
                path, media_type="application/pdf", filename=name, content_disposition_type="inline"
            )
        try:
            data = gzip.decompress(path.read_bytes())
        except (OSError, EOFError, gzip.BadGzipFile):
            return JSONResponse({"detail": "The PDF cannot be read."}, status_code=404)
        disposition = f"inline; filename*=UTF-8''{quote(name)}"
        return Response(
            data, media_type="application/pdf", headers={"Content-Disposition": disposition}
        )

    router.add_api_route(PDF_PATH, article_pdf, methods=["GET"])
    return router
