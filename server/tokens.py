"""Role names and the one token parser. A leaf module: imports nothing from the package.

Where a token may come from is a security decision, so it is made here once: the
``Authorization: Bearer`` header always wins; the ``?token=`` query is read only where the
caller allows it (role tokens on session endpoints and websockets, whose links carry them),
never for the admin token, which must stay out of URLs, browser history and proxy logs.
"""

from __future__ import annotations

from collections.abc import Mapping

INTERVIEWER = "interviewer"
CANDIDATE = "candidate"
OBSERVER = "observer"
REVIEWER = "reviewer"

ROLES = (INTERVIEWER, CANDIDATE, OBSERVER, REVIEWER)
STAFF_ROLES = frozenset({INTERVIEWER, OBSERVER})
REPLAY_ROLES = frozenset({INTERVIEWER, OBSERVER, REVIEWER})
WRITE_ROLES = frozenset({INTERVIEWER, CANDIDATE})
ANY_ROLE = frozenset(ROLES)

QUERY_PARAM = "token"


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token in an ``Authorization: Bearer`` header, if any."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


def read_token(headers: Mapping[str, str], query: Mapping[str, str], *, allow_query: bool) -> str | None:
    """The presented token: the header first, then ``?token=`` when ``allow_query``."""
    token = bearer(headers)
    if token is None and allow_query:
        token = query.get(QUERY_PARAM) or None
    return token
