"""HTTP endpoints of the team: ``/api/me``, ``/api/members``, ``/api/tokens``, ``/api/audit``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from server.auth.personal_tokens import MAX_PER_MEMBER
from server.auth.policy import can, require
from server.auth.principal import Principal
from server.errors import InvalidInput, Unauthorized


async def caller(request: Request) -> Principal:
    """The authenticated caller of a team endpoint (401 without a credential)."""
    principal = await request.state.clarify.auth.resolve(request)
    if principal is None:
        raise Unauthorized("sign in, or send Authorization: Bearer <admin or personal token>")
    return principal


async def me(request: Request) -> JSONResponse:
    """Who I am, what I may do, and (signed-in browsers) the CSRF token for changes.

    With no credential at all the answer is ``{"signed_in": false, "sign_in": ...}`` (a page
    asks this first, so a visitor who has not signed in is not an error); a credential that is
    not valid is a 401. Both say whether this server offers sign-in, so a page knows to show
    its link."""
    state = request.state.clarify
    offered = state.oidc is not None
    try:
        principal = await state.auth.resolve(request)
    except Unauthorized as exc:
        return JSONResponse({**exc.to_json(), "sign_in": offered}, status_code=exc.status)
    if principal is None:
        if "token" in request.query_params:
            raise Unauthorized("a session's link token is not a sign-in")
        return JSONResponse({"signed_in": False, "sign_in": offered})
    body: dict[str, Any] = {
        "signed_in": True,
        "via": principal.via,
        "id": principal.actor,
        "name": principal.name,
        "role": principal.team_role,
        "member": principal.member.to_json() if principal.member else None,
        "can": {
            action: can(principal, action)
            for action in ("sessions.create", "recordings.import", "members.manage", "audit.read", "tokens.own")
        },
        "sign_in": offered,
    }
    if principal.web is not None:
        body["csrf"] = principal.web.csrf
    return JSONResponse(body)


class Invite(BaseModel):
    email: str = Field(..., min_length=3, max_length=320)
    role: str
    name: str = Field("", max_length=200)


class MemberPatch(BaseModel):
    role: str | None = None
    disabled: bool | None = None


async def list_members(request: Request) -> JSONResponse:
    principal = await caller(request)
    require(principal, "members.manage")
    members = request.state.clarify.members
    return JSONResponse({"members": [m.to_json() for m in await members.list()], "invites": await members.invites()})


async def add_member(request: Request) -> JSONResponse:
    """An admin adds a person by email before their first sign-in, with a role."""
    from server.api import json_body

    principal = await caller(request)
    require(principal, "members.manage")
    body = await json_body(request, Invite)
    assert isinstance(body, Invite)
    state = request.state.clarify
    invite = await state.members.invite(body.email, body.role, body.name)
    await state.audit.append(
        "member.invite",
        actor=principal.actor,
        name=principal.name,
        via=principal.via,
        target=invite["email"],
        role=invite["role"],
    )
    return JSONResponse(invite, status_code=201)


async def patch_member(request: Request) -> JSONResponse:
    """Change a member's role (it becomes admin-assigned) or disable / enable them. Disabling
    signs every browser out, revokes their personal tokens and closes their live sockets."""
    from server.api import json_body

    principal = await caller(request)
    require(principal, "members.manage")
    body = await json_body(request, MemberPatch)
    assert isinstance(body, MemberPatch)
    if body.role is None and body.disabled is None:
        raise InvalidInput("give 'role' or 'disabled'", field="body")
    state = request.state.clarify
    member_id = request.path_params["member_id"]
    before = await state.members.require(member_id)
    if body.disabled and principal.member is not None and principal.member.id == member_id:
        raise InvalidInput("you cannot disable yourself", field="disabled")
    member = await state.members.update(member_id, role=body.role, disabled=body.disabled)
    who = {"actor": principal.actor, "name": principal.name, "via": principal.via, "target": member.id}
    if body.role is not None and body.role != before.role:
        await state.audit.append("member.role", **who, role=member.role, previous=before.role)
    if body.disabled is not None and body.disabled != before.disabled:
        if member.disabled:
            await state.web.end_all(member.id)
            await state.personal.revoke_all(member.id)
            closed = state.disconnect_member(member.id, "your access to this Clarify was removed")
            await state.audit.append("member.disable", **who, closed_connections=closed)
        else:
            await state.audit.append("member.enable", **who)
    return JSONResponse(member.to_json())


class NewToken(BaseModel):
    label: str = Field("", max_length=100)


async def list_tokens(request: Request) -> JSONResponse:
    principal = await caller(request)
    require(principal, "tokens.own")
    assert principal.member is not None
    return JSONResponse({"tokens": await request.state.clarify.personal.list(principal.member.id)})


async def create_token(request: Request) -> JSONResponse:
    """A personal API token for scripts: shown once in this reply, stored hashed."""
    from server.api import json_body

    principal = await caller(request)
    require(principal, "tokens.own")
    assert principal.member is not None
    body = await json_body(request, NewToken)
    assert isinstance(body, NewToken)
    state = request.state.clarify
    if await state.personal.count(principal.member.id) >= MAX_PER_MEMBER:
        raise InvalidInput(f"you already have {MAX_PER_MEMBER} tokens; revoke one first")
    token, record = await state.personal.create(principal.member.id, body.label)
    await state.audit.append(
        "token.create", actor=principal.actor, name=principal.name, via=principal.via, target=record["id"]
    )
    return JSONResponse({**record, "token": token}, status_code=201)


async def revoke_token(request: Request) -> JSONResponse:
    principal = await caller(request)
    require(principal, "tokens.own")
    assert principal.member is not None
    token_id = request.path_params["token_id"]
    state = request.state.clarify
    await state.personal.revoke(principal.member.id, token_id)
    await state.audit.append(
        "token.revoke", actor=principal.actor, name=principal.name, via=principal.via, target=token_id
    )
    return JSONResponse({"revoked": token_id})


def _int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{name}: must be an integer (ms since the epoch)", field=name) from None


async def audit(request: Request) -> Response:
    """Admins: the audit log, filtered by ``actor``, ``action`` (``session.*`` for a family),
    ``session``, ``since``/``until`` (ms) and ``limit``; JSON, or JSON lines with
    ``Accept: application/x-ndjson``."""
    from server.audit import ndjson

    principal = await caller(request)
    require(principal, "audit.read")
    q = request.query_params
    limit = _int(request, "limit") or 500
    entries = await request.state.clarify.audit.read(
        actor=q.get("actor") or None,
        action=q.get("action") or None,
        session=q.get("session") or None,
        since_ms=_int(request, "since"),
        until_ms=_int(request, "until"),
        limit=max(1, min(limit, 10_000)),
    )
    if "application/x-ndjson" in request.headers.get("accept", ""):
        return PlainTextResponse(ndjson(entries), media_type="application/x-ndjson")
    return JSONResponse({"entries": entries})


def routes() -> list[Route]:
    return [
        Route("/api/me", me, methods=["GET"]),
        Route("/api/members", list_members, methods=["GET"]),
        Route("/api/members", add_member, methods=["POST"]),
        Route("/api/members/{member_id}", patch_member, methods=["PATCH"]),
        Route("/api/tokens", list_tokens, methods=["GET"]),
        Route("/api/tokens", create_token, methods=["POST"]),
        Route("/api/tokens/{token_id}", revoke_token, methods=["DELETE"]),
        Route("/api/audit", audit, methods=["GET"]),
    ]
