"""Sign-in with the company's identity provider: OpenID Connect, authorization code flow with
PKCE, through Authlib's Starlette client (server metadata from the issuer's discovery document).

The flow's state, nonce and PKCE verifier are kept in Redis for ``login_timeout_s`` and
deleted on first use, and a marker in a short-lived signed cookie (``clarify_login``, path
``/auth``) binds them to the browser that started: a forged, expired or replayed state (or a
callback from another browser) finds nothing and is refused with a clear page; Authlib checks
the ID token's signature, issuer, audience and nonce. A good sign-in becomes a browser
session (:mod:`server.auth.websessions`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, OAuthError
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from joserfc.errors import JoseError
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from server.auth.config import OidcSettings
from server.auth.websessions import COOKIE
from server.members import NoRole
from server.web import DOCUMENT_CSS, html_response

log = logging.getLogger(__name__)

LOGIN_COOKIE = "clarify_login"
STATE_KEY = "clarify:oidc-state:{}"
CLIENT_NAME = "idp"

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
    autoescape=select_autoescape(("html",), default=True),
    undefined=StrictUndefined,
)


def page(title: str, message: str, status: int, *, retry: bool = False) -> Response:
    body = _templates.get_template("signin.html").render(
        title=title, message=message, retry=retry, css_url=DOCUMENT_CSS
    )
    return html_response(body, status_code=status)


class RedisStateCache:
    """Authlib's cache interface over Redis: the sign-in state lives server-side, once."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def get(self, key: str) -> Any:
        return await self.redis.get(STATE_KEY.format(key))

    async def set(self, key: str, value: str, expires: int | None = None) -> None:
        await self.redis.set(STATE_KEY.format(key), value, ex=expires)

    async def delete(self, key: str) -> None:
        await self.redis.delete(STATE_KEY.format(key))


class OidcClient:
    """The registered OpenID Connect client of this server."""

    def __init__(self, settings: OidcSettings, redis: aioredis.Redis) -> None:
        assert settings.issuer
        self.settings = settings
        self.oauth = OAuth(cache=RedisStateCache(redis))
        self.client = self.oauth.register(
            CLIENT_NAME,
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value() if settings.client_secret else None,
            server_metadata_url=settings.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": settings.scopes, "code_challenge_method": "S256", "timeout": 10},
        )
        self.client.framework.expires_in = settings.login_timeout_s


def _next_path(raw: str | None) -> str:
    """Where to go after signing in: a path on this server, never another site."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/"


def _redirect_uri(request: Request) -> str:
    base = request.state.clarify.settings.public_url or str(request.base_url)
    return base.rstrip("/") + "/auth/callback"


async def login(request: Request) -> Response:
    """``GET /auth/login[?next=/path]``: off to the identity provider."""
    state = request.state.clarify
    if state.oidc is None:
        return page(
            "Sign-in is not configured",
            "This Clarify has no identity provider (CLARIFY_OIDC__ISSUER is unset): use the admin token.",
            404,
        )
    request.session.clear()
    request.session["next"] = _next_path(request.query_params.get("next"))
    try:
        return await state.oidc.client.authorize_redirect(request, _redirect_uri(request))
    except (httpx.HTTPError, AuthlibBaseError, ValueError, KeyError) as exc:
        log.warning("sign-in: the identity provider is unreachable (%s)", exc)
        return page("Sign-in is unavailable", "The identity provider could not be reached; try again shortly.", 502)


async def callback(request: Request) -> Response:
    """``GET /auth/callback``: the identity provider sends the browser back here."""
    state = request.state.clarify
    if state.oidc is None:
        return page("Sign-in is not configured", "This Clarify has no identity provider.", 404)
    settings: OidcSettings = state.oidc.settings
    audit = state.audit
    try:
        token = await state.oidc.client.authorize_access_token(request)
    except OAuthError as exc:
        reason = exc.description or exc.error or "the sign-in could not be verified"
        if exc.error == "mismatching_state":
            reason = (
                "this sign-in link is not valid here: it expired, was already used, or was not started in this browser"
            )
        log.info("sign-in refused: %s", reason)
        await audit.append("auth.login_refused", actor="", reason=str(reason))
        return page("Sign-in refused", f"Sign-in refused: {reason}.", 400, retry=True)
    except (JoseError, AuthlibBaseError, ValueError, KeyError) as exc:
        log.info("sign-in refused: the ID token did not verify (%s)", exc)
        await audit.append("auth.login_refused", actor="", reason=f"ID token: {type(exc).__name__}")
        message = "Sign-in refused: the identity provider's answer did not verify."
        return page("Sign-in refused", message, 400, retry=True)
    except httpx.HTTPError as exc:
        log.warning("sign-in: the identity provider is unreachable (%s)", exc)
        return page("Sign-in is unavailable", "The identity provider could not be reached; try again shortly.", 502)
    claims = dict(token.get("userinfo") or {})
    sub = str(claims.get("sub") or "")
    email = str(claims.get("email") or "")
    name = str(claims.get("name") or "")
    groups = claims.get(settings.groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    if not sub or not email:
        return page("Sign-in refused", "The identity provider did not give an email address.", 403)
    if claims.get("email_verified") is False:
        return page("Sign-in refused", "Your email address is not verified at the identity provider.", 403)
    if not settings.domain_allowed(email):
        await audit.append("auth.login_refused", actor=sub, name=name, reason="email domain not allowed")
        return page("Sign-in refused", "Your email domain is not allowed to sign in to this Clarify.", 403)
    try:
        member = await state.members.signed_in(
            sub, email, name, settings.role_for_groups([str(g) for g in groups]), settings.default_role
        )
    except NoRole as exc:
        await audit.append("auth.login_refused", actor=sub, name=name, reason="no role")
        return page("No access yet", str(exc), 403)
    if member.disabled:
        await audit.append("auth.login_refused", actor=member.id, name=member.display_name, reason="disabled")
        return page("Access removed", "Your access to this Clarify has been removed.", 403)
    cookie, _ = await state.web.create(member.id)
    target = _next_path(request.session.pop("next", None))
    request.session.clear()
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, cookie)
    await audit.append("auth.login", actor=member.id, name=member.display_name, via="oidc", role=member.role)
    return response


def secure_cookies(request: Request) -> bool:
    public = request.state.clarify.settings.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def set_session_cookie(request: Request, response: Response, value: str) -> None:
    settings: OidcSettings = request.state.clarify.settings.oidc
    response.set_cookie(
        COOKIE,
        value,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
        httponly=True,
        secure=secure_cookies(request),
        samesite="lax",
    )


async def logout(request: Request) -> Response:
    """``POST /auth/logout`` (with the CSRF header): ends this browser's session."""
    state = request.state.clarify
    principal = await state.auth.resolve(request)
    if principal is not None and principal.web is not None:
        await state.web.end_hash(principal.web.id_hash, principal.web.member)
        await state.audit.append(
            "auth.logout", actor=principal.actor, name=principal.name, via="cookie", target=principal.actor
        )
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(COOKIE, path="/", httponly=True, secure=secure_cookies(request), samesite="lax")
    return response


def routes(login_secret: str, *, login_timeout_s: int, https_only: bool) -> list[Route]:
    """The sign-in endpoints; the two halves of the flow share the short ``clarify_login`` cookie."""
    flow = [
        Middleware(
            SessionMiddleware,
            secret_key=login_secret,
            session_cookie=LOGIN_COOKIE,
            max_age=login_timeout_s,
            path="/auth",
            same_site="lax",
            https_only=https_only,
        )
    ]
    return [
        Route("/auth/login", login, methods=["GET"], middleware=flow),
        Route("/auth/callback", callback, methods=["GET"], middleware=flow),
        Route("/auth/logout", logout, methods=["POST"]),
    ]


__all__ = ["OidcClient", "routes"]
