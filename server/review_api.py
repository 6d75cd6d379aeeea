"""Review endpoints: ``POST /api/sessions/{id}/overturn`` takes a discovery credit back.

A reviewer reads the scorecard after the session ended and judges a credit wrong (typically
one auto mode gave: nobody judged it live). The overturn is recorded in the session's
recording like any other clarify event, applied through the same
:meth:`~server.clarify.session.ClarifySession.apply`, and attributed to the person; the
scorecard is a pure function of the recording, so it shows the change at once.

A live session goes through its runtime (staff in the room see the ledger change); an
ended one has no runtime, so its recording is replayed here and the event appended to it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from server.api import json_body, session_principal
from server.clarify.session import ClarifySession
from server.errors import NotFound
from server.events import Event
from server.sessions import now_ms
from server.tokens import REPLAY_ROLES


class OverturnBody(BaseModel):
    constraint: str = Field(..., min_length=1, max_length=200)
    reason: str = Field(..., min_length=1, max_length=500)


async def overturn(request: Request) -> JSONResponse:
    """Staff or reviewer: mark a discovery credit overturned (it then scores nothing)."""
    info, role, principal = await session_principal(request, REPLAY_ROLES)
    body = await json_body(request, OverturnBody)
    assert isinstance(body, OverturnBody)
    state = request.state.clarify
    problem = state.problems.get(info.problem)
    if problem is None:
        raise NotFound("this session has no problem, so it has no discovery credit to overturn")
    actor = principal.actor or f"{role}-link"
    if info.status != "ended":
        rt = state.runtimes.loaded(info.id) or await state.runtimes.get(info)
        assert rt.clarify is not None
        rt.name_actor(actor, principal.name)
        discovery = rt.clarify.overturn(body.constraint, body.reason, role, actor)
    else:
        discovery = await _overturn_recorded(state, info, problem, body, role, actor, principal.name)
    # The recorded event is the attributed record; the audit log says who changed a score and
    # when (not why: the reason is in the recording, which an erasure removes with the session).
    await state.audit.append(
        "discovery.overturn",
        actor=actor,
        name=principal.name,
        via=principal.via,
        session=info.id,
        target=body.constraint,
    )
    return JSONResponse({"session": info.id, "discovery": discovery})


async def _overturn_recorded(
    state: Any, info: Any, problem: Any, body: OverturnBody, role: str, actor: str, name: str
) -> dict[str, Any]:
    """An ended session: replay its recording, validate and append the event to it."""
    await state.recorder.flush(timeout=2.0)
    events = await state.recorder.read(info.id)
    next_index = len(events)

    def record(type_: str, role: str = "system", actor: str = "", **payload: Any) -> tuple[int, Event]:
        nonlocal next_index
        event = Event(max(0, now_ms() - info.created_ms), type_, role, actor, {**payload, **_named(name)})
        state.recorder.append(info.id, event)
        next_index += 1
        return next_index - 1, event

    clarify = ClarifySession(problem, record, lambda message, audience: None, lambda: now_ms() - info.created_ms)
    clarify.replay(events)
    discovery = clarify.overturn(body.constraint, body.reason, role, actor)
    await state.recorder.flush(timeout=5.0)  # the scorecard read right after must see it
    return discovery


def _named(name: str) -> dict[str, str]:
    return {"by_name": name[:200]} if name else {}


def routes() -> list[BaseRoute]:
    return [Route("/api/sessions/{session_id}/overturn", overturn, methods=["POST"])]
