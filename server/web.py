"""The browser app: the built pages of ``frontend/`` (``npm run build`` writes ``frontend/dist``).

The pages are static: the room reads the session id from its path and the token from its query
and authenticates on the websockets; home (staff) and replay authenticate on the API they call.
Serving them needs no session lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

DIST = Path(__file__).resolve().parents[1] / "frontend" / "dist"

# The token is in the page's URL: never send it on as a Referer. The policy: scripts only from
# our own assets, images only from ourselves or data: URIs (outputs are embedded, not fetched),
# websockets and fetches only to ourselves, no plugins, frames or <base>. Two allowances:
# CodeMirror injects its styles ('unsafe-inline' styles), and inline event-handler attributes
# (script-src-attr) are left to DOMPurify, which strips them from outputs: Chrome reports a
# violation for every handler attribute it merely parses (even in DOMParser's inert documents),
# so forbidding them would log console errors for each sanitized output without blocking anything.
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; script-src-attr 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


def page(path: Path) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint serving one built page with the page headers."""

    async def endpoint(request: Request) -> Response:
        return FileResponse(path, headers=PAGE_HEADERS)

    return endpoint


# path -> built page: the room (``/s/{id}?token=``), the staff home, a session's replay
# (``/replay/{id}?token=<reviewer or staff>#t=<ms>``; without a token it uses the staff token
# the home page keeps in sessionStorage).
PAGES = {
    "/s/{session_id}": "room.html",
    "/": "home.html",
    "/replay/{session_id}": "replay.html",
}


def routes(dist: Path = DIST) -> list[BaseRoute]:
    """The built pages and their assets, when the frontend has been built (else none)."""
    if not (dist / "assets").is_dir():
        return []
    pages: list[BaseRoute] = [Route(path, page(dist / name)) for path, name in PAGES.items() if (dist / name).is_file()]
    if not pages:
        return []
    return [*pages, Mount("/assets", app=StaticFiles(directory=dist / "assets"), name="assets")]
