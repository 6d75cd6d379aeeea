"""The browser app: the built pages of ``frontend/`` (``npm run build`` writes ``frontend/dist``),
and the one place that decides the headers of every HTML response.

The pages are static: the room reads the session id from its path and the token from its query
and authenticates on the websockets; home (staff) and replay authenticate on the API they call.
Serving them needs no session lookup. Server-rendered pages (the scorecard, the comparison) are
answered through :func:`html_response`, so no HTML leaves the server without its policy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

DIST = Path(__file__).resolve().parents[1] / "frontend" / "dist"
TEMPLATES = Path(__file__).resolve().parent / "templates"
DOCUMENT_CSS = "/static/document.css"


def content_security_policy(*, inline_styles: bool) -> str:
    """The policy of an HTML response.

    Scripts only from our own files, never inline and never from attributes; images only from
    ourselves or embedded ``data:``/``blob:`` URIs (outputs are embedded, not fetched);
    fetches and websockets only to ourselves; no plugins, frames, ``<base>`` or foreign forms.
    ``inline_styles`` is for the built app alone: CodeMirror mounts its theme as ``<style>``
    elements and y-codemirror.next colours remote cursors with ``style`` attributes. CSS cannot
    run script, every remote colour is validated by the server (``collab.valid_awareness``),
    and kernel output loses its ``style`` attributes in the sanitizer.
    """
    style = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    return (
        f"default-src 'self'; script-src 'self'; style-src {style}; img-src 'self' data: blob:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def security_headers(*, inline_styles: bool = False) -> dict[str, str]:
    """Headers for every HTML response. Page URLs may carry a role token: never a Referer."""
    return {
        "Cache-Control": "no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": content_security_policy(inline_styles=inline_styles),
    }


PAGE_HEADERS = security_headers(inline_styles=True)


def html_response(body: str, status_code: int = 200) -> HTMLResponse:
    """A server-rendered page with the strict policy (its styles come from ``DOCUMENT_CSS``)."""
    return HTMLResponse(body, status_code=status_code, headers=security_headers())


def page(path: Path) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint serving one built page with the page headers."""

    async def endpoint(request: Request) -> Response:
        return FileResponse(path, headers=PAGE_HEADERS)

    return endpoint


async def document_css(request: Request) -> Response:
    """The stylesheet of the server-rendered pages (kept out of the page: no inline styles)."""
    return FileResponse(TEMPLATES / "document.css", media_type="text/css", headers={"Cache-Control": "no-cache"})


# path -> built page: the room (``/s/{id}?token=``, or no token for a signed-in member), the
# staff home, a session's replay (``/replay/{id}?token=<reviewer or staff>#t=<ms>``; without a
# token it uses the staff token the home page keeps in sessionStorage, sent only as a header,
# or the signed-in member's cookie), and the team page (tokens, members, audit log).
PAGES = {
    "/s/{session_id}": "room.html",
    "/": "home.html",
    "/replay/{session_id}": "replay.html",
    "/team": "team.html",
}


def routes(dist: Path = DIST) -> list[BaseRoute]:
    """The stylesheet of the server-rendered pages; the built pages and their assets when the
    frontend has been built."""
    base: list[BaseRoute] = [Route(DOCUMENT_CSS, document_css)]
    if not (dist / "assets").is_dir():
        return base
    pages: list[BaseRoute] = [Route(path, page(dist / name)) for path, name in PAGES.items() if (dist / name).is_file()]
    if not pages:
        return base
    return [*base, *pages, Mount("/assets", app=StaticFiles(directory=dist / "assets"), name="assets")]
