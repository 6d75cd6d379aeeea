"""Who is calling: the one place that turns a request or a websocket into a :class:`Principal`.

Credentials, in the order they are looked at:

1. ``Authorization: Bearer``: the admin token, a member's personal token (``clp_...``), or a
   session's role token (session endpoints and websockets only);
2. ``?token=``: a session's role token, where the caller allows it (the links carry them);
   never the admin token nor a personal token;
3. the browser-session cookie of a signed-in member. A state-changing request (anything but
   GET/HEAD/OPTIONS) authenticated this way must carry the session's CSRF token in
   ``X-CSRF-Token``, and a websocket upgrade must come from this server's own origin.

A member who is disabled is refused whichever credential they present. What a principal may
then do is decided in :mod:`server.auth.policy`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

from starlette.requests import HTTPConnection

from server import tokens
from server.auth.personal_tokens import PersonalTokens, is_personal
from server.auth.websessions import COOKIE, CSRF_HEADER, WebSession, WebSessions
from server.errors import Forbidden, Unauthorized
from server.members import Member, MemberStore
from server.sessions import SessionInfo, SessionStore

Via = Literal["admin-token", "cookie", "personal-token", "role-token"]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN_ACTOR = "admin"
ADMIN_NAME = "Admin token"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the admin token, a member (cookie or personal token), or the
    holder of one session's role token."""

    via: Via
    member: Member | None = None
    session_role: str | None = None  # role tokens only
    session: SessionInfo | None = None  # role tokens only: the session the token belongs to
    web: WebSession | None = None  # cookie only

    @property
    def is_admin_token(self) -> bool:
        return self.via == "admin-token"

    @property
    def team_role(self) -> str | None:
        """admin | interviewer | reviewer for the team; None for a session's role token."""
        if self.via == "admin-token":
            return "admin"
        return self.member.role if self.member else None

    @property
    def actor(self) -> str:
        """The id recorded as the author of what this principal does."""
        if self.member is not None:
            return self.member.id
        return ADMIN_ACTOR if self.via == "admin-token" else ""

    @property
    def name(self) -> str:
        if self.member is not None:
            return self.member.display_name
        return ADMIN_NAME if self.via == "admin-token" else ""


class Authenticator:
    """Resolves credentials to principals (see the module docstring for the order)."""

    def __init__(
        self,
        admin_token: str,
        store: SessionStore,
        members: MemberStore,
        web: WebSessions,
        personal: PersonalTokens,
        *,
        public_origin: str | None = None,
    ) -> None:
        self.admin_token = admin_token
        self.store = store
        self.members = members
        self.web = web
        self.personal = personal
        self.public_origin = public_origin

    def is_admin_token(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token.encode(), self.admin_token.encode())

    async def _member(self, member_id: str | None) -> Member:
        member = await self.members.get(member_id) if member_id else None
        if member is None:
            raise Unauthorized("this sign-in is no longer valid; sign in again")
        if member.disabled:
            raise Unauthorized("this member is disabled")
        return member

    async def resolve(self, conn: HTTPConnection, *, session_id: str | None = None) -> Principal | None:
        """The caller, or None when no credential was presented. ``session_id`` names the
        session of a session endpoint or websocket: only there do role tokens count.

        Raises Unauthorized for a credential that is presented but not valid, and Forbidden
        for a cookie request without its CSRF token (or a websocket from another origin)."""
        bearer = tokens.bearer(conn.headers)
        if bearer is not None:
            if self.is_admin_token(bearer):
                return Principal("admin-token")
            if is_personal(bearer):
                member_id = await self.personal.resolve(bearer)
                if member_id is None:
                    raise Unauthorized("this personal token is not valid (revoked?)")
                return Principal("personal-token", member=await self._member(member_id))
            if session_id is None:
                raise Unauthorized("invalid token")
            return await self._role_token(session_id, bearer)
        query = conn.query_params.get(tokens.QUERY_PARAM)
        if query and session_id is not None:
            if self.is_admin_token(query):
                raise Unauthorized("the admin token is accepted only in the Authorization header, never in the URL")
            return await self._role_token(session_id, query)
        if query and (self.is_admin_token(query) or is_personal(query)):
            raise Unauthorized("this token is accepted only in the Authorization header, never in the URL")
        cookie = conn.cookies.get(COOKIE)
        if cookie:
            web = await self.web.resolve(cookie)
            if web is None:
                raise Unauthorized("your sign-in has expired; sign in again")
            member = await self._member(web.member)
            self._check_cookie_request(conn, web)
            return Principal("cookie", member=member, web=web)
        return None

    async def _role_token(self, session_id: str, token: str) -> Principal:
        info, role = await self.store.authenticate(session_id, token)
        return Principal("role-token", session_role=role, session=info)

    def _check_cookie_request(self, conn: HTTPConnection, web: WebSession) -> None:
        if conn.scope["type"] == "websocket":
            origin = conn.headers.get("origin")
            if not origin or origin.rstrip("/") != self.origin_of(conn):
                raise Forbidden("a signed-in websocket must come from this server's own pages (Origin)")
            return
        if conn.scope.get("method", "GET") in SAFE_METHODS:
            return
        sent = conn.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode(), web.csrf.encode()):
            raise Forbidden(f"a signed-in request that changes something needs the {CSRF_HEADER} header")

    def origin_of(self, conn: HTTPConnection) -> str:
        """This server's own origin: the public URL's, else the one the request was sent to."""
        if self.public_origin:
            return self.public_origin
        scheme = {"ws": "http", "wss": "https"}.get(conn.url.scheme, conn.url.scheme)
        host = conn.headers.get("host", "")
        return f"{scheme}://{host}"


def origin(url: str | None) -> str | None:
    """``scheme://host[:port]`` of a URL."""
    if not url:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
