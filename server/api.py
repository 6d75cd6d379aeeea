"""HTTP API endpoints (``/healthz``, ``/api/...``). Errors become JSON in one place."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from problems.model import Level
from server import events as E
from server import export, tokens
from server.auth import policy
from server.auth.principal import Principal
from server.clarify.levels import for_session
from server.document import text_at
from server.errors import ClarifyError, Forbidden, InvalidInput, Unauthorized
from server.errors import NotFound as NotFoundError
from server.events import InvalidEvent, validate_event
from server.lifecycle import Actor, exports_dir
from server.replay_stream import recording_response
from server.runs import outputs_from_events, runs_from_events
from server.scorecard import comparison, render_comparison_html, render_html, session_scorecard
from server.sessions import now_ms
from server.web import html_response
from server.webhooks import SESSION_CREATED

log = logging.getLogger(__name__)

STAFF_ROLES = tokens.STAFF_ROLES
REPLAY_ROLES = tokens.REPLAY_ROLES


class CreateSession(BaseModel):
    problem: str = Field("", max_length=200)
    candidate: str = Field(..., min_length=1, max_length=200)
    # The candidate link's validity in seconds (default: until the session ends, plus the grace).
    candidate_link_valid_s: int | None = Field(None, ge=1, le=30 * 24 * 3600)
    # The ATS's ids (e.g. {"candidate_id": ..., "application_id": ...}), echoed in every webhook.
    external_ids: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict, max_length=10
    )
    candidate_email: str = Field("", max_length=320)
    # When the interview is planned (ms since the epoch); the staff home lists it as upcoming.
    scheduled_at: int | None = Field(None, ge=0, le=4_102_444_800_000)
    # The level the candidate is interviewed at (issue 14): it sets the bar (problems/levels.toml).
    # Default: the problem's own level.
    level: Level | None = None


class CandidateLink(BaseModel):
    valid_s: int | None = Field(None, ge=1, le=30 * 24 * 3600)


def _bearer(request: Request) -> str | None:
    """The token in the Authorization header (the only place the admin token is read from)."""
    return tokens.bearer(request.headers)


async def require_team(request: Request, action: str) -> Principal:
    """Team endpoints: a signed-in member, a personal token or the admin token (header only),
    allowed ``action`` by :mod:`server.auth.policy`."""
    principal = await request.state.clarify.auth.resolve(request)
    if principal is None:
        raise Unauthorized("staff endpoint: sign in, or send Authorization: Bearer <admin or personal token>")
    policy.require(principal, action)
    return principal


# Reading a session's recording or scorecard is audited (once per person, session and hour).
AUDITED_VIEWS = {
    "recording": "replay.view",
    "document": "replay.view",
    "run_outputs": "replay.view",
    "scorecard": "scorecard.view",
}


async def session_principal(request: Request, allowed: frozenset[str]) -> tuple[Any, str, Principal]:
    """The session, the caller's role in it, and the caller. The admin token (header only)
    counts as interviewer; a member's role follows from the policy; a role token may come from
    the header or, as the session's links carry it, ``?token=``."""
    state = request.state.clarify
    session_id = request.path_params["session_id"]
    principal = await state.auth.resolve(request, session_id=session_id)
    if principal is None:
        await state.store.get(session_id)  # an unknown session is a 404 first
        raise Unauthorized("a token is required (?token= or Authorization: Bearer), or sign in")
    info = principal.session if principal.session is not None else await state.store.get(session_id)
    role = policy.session_role(principal, info)
    if role not in allowed:
        raise Forbidden(f"the {role} role cannot use this endpoint")
    endpoint = getattr(request.scope.get("endpoint"), "__name__", "")
    action = AUDITED_VIEWS.get(endpoint)
    if action and role != tokens.CANDIDATE:
        await state.audit.append_once(
            action,
            every_s=3600,
            actor=principal.actor or f"{role}-link",
            name=principal.name,
            via=principal.via,
            session=info.id,
        )
    return info, role, principal


async def session_role(request: Request, allowed: frozenset[str]) -> tuple[Any, str]:
    """The session and the caller's role in it (see :func:`session_principal`)."""
    info, role, _ = await session_principal(request, allowed)
    return info, role


async def json_body(request: Request, model: type[BaseModel]) -> BaseModel:
    return validated_json(await request.body(), model)


def validated_json(raw: bytes, model: type[BaseModel]) -> BaseModel:
    """A JSON body checked against ``model``; a 422 names the first bad field (a body nested too
    deeply to parse is invalid JSON too, not a server error)."""
    try:
        data = json.loads(raw or b"null")
    except (ValueError, RecursionError):
        raise InvalidInput("the body is not valid JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise InvalidInput(f"{field}: {err['msg']}", field=field) from None


async def handle_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClarifyError)
    return JSONResponse(exc.to_json(), status_code=exc.status)


async def handle_redis_down(request: Request, exc: Exception) -> Response:
    """Redis is the shared truth: without it nothing can be created or read, so say so (503)."""
    log.warning("%s %s: Redis unavailable (%s)", request.method, request.url.path, exc)
    return JSONResponse(
        {"error": "unavailable", "message": "the session store (Redis) is unavailable; try again shortly"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Anything unplanned: logged with the path, answered as JSON without internals."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal", "message": "the server could not handle this request"}, status_code=500)


async def healthz(request: Request) -> JSONResponse:
    """State of Redis, Docker and the warm pool: 200 when the server can create sessions and
    run code, else 503 (so a load balancer or supervisor stops sending it traffic)."""
    state = request.state.clarify
    try:
        redis_ok = bool(await state.redis.ping())
    except Exception:  # noqa: BLE001 - health reports, never raises
        redis_ok = False
    docker_ok = await state.launcher.ping()
    pool = state.pool.stats()
    # A pool that has nothing ready, nothing coming and a failing refill cannot run code.
    pool_ok = not (pool.get("consecutive_failures") and not pool.get("ready"))
    ok = redis_ok and docker_ok and state.recorder.healthy and pool_ok
    problems = [
        name
        for name, good in (
            ("redis", redis_ok),
            ("docker", docker_ok),
            ("recording", state.recorder.healthy),
            ("pool", pool_ok),
        )
        if not good
    ]
    return JSONResponse(
        {
            "status": "ok" if ok else "unavailable",
            "problems": problems,
            "redis": {"ok": redis_ok},
            "recording": {"ok": state.recorder.healthy, "pending_events": state.recorder.pending},
            "docker": {"ok": docker_ok, "image": state.launcher.image},
            "pool": {**pool, "ok": pool_ok},
            "sessions": {"live": len(state.runtimes._live), "job_failures": state.runtimes.job_failures},
        },
        status_code=200 if ok else 503,
    )


async def list_problems(request: Request) -> JSONResponse:
    """Staff: every loaded problem (id, title, specialization, level, minutes, summary), with its
    brief and, this being a staff endpoint, its hidden constraints for the preview."""
    await require_team(request, "problems.read")
    problems = request.state.clarify.problems
    return JSONResponse(
        [
            {
                **p.summary(),
                "brief": p.brief,
                "constraints": [
                    {"id": c.id, "title": c.title, "category": c.category, "weight": c.weight}
                    for c in p.meta.constraint
                ],
            }
            for p in problems.values()
        ]
    )


async def list_sessions(request: Request) -> JSONResponse:
    """Staff: the most recent sessions, newest first (summaries only: tokens are shown once).

    ``view=mine`` (sessions I host), ``view=live``, ``view=upcoming`` (scheduled, the candidate
    not yet joined; soonest first), ``view=awaiting`` (sessions I host that ended without my
    rating on every rubric dimension); ``q`` searches candidate and problem."""
    principal = await require_team(request, "sessions.list")
    state = request.state.clarify
    view = request.query_params.get("view", "")
    query = request.query_params.get("q", "").strip().lower()
    out = []
    for info in await state.store.list():
        if view in ("mine", "awaiting") and info.host != principal.actor:
            continue
        if view == "live" and info.ended:
            continue
        if view == "upcoming" and not info.upcoming(now_ms()):
            continue
        if query:
            problem = state.problems.get(info.problem)
            haystack = " ".join([info.candidate, info.problem, problem.meta.title if problem else ""]).lower()
            if query not in haystack:
                continue
        if view == "awaiting" and not await _awaits_rating(state, info, principal.actor):
            continue
        out.append(info.to_json())
    if view == "upcoming":
        out.sort(key=lambda s: s["scheduled_ms"])
    return JSONResponse(out)


async def _awaits_rating(state: Any, info: Any, actor: str) -> bool:
    problem = state.problems.get(info.problem)
    if problem is None or not info.ended:
        return False
    events = await state.recorder.read(info.id)
    rated = {e.payload.get("dimension") for e in events if e.type == E.RATE and e.actor == actor}
    # The rubric of the session's level (staff adds "design discussion", every level "scope & triage").
    return not {d.id for d in for_session(problem, info.level).meta.rubric} <= rated


def _links(request: Request, session_id: str, tokens: dict[str, str]) -> dict[str, str]:
    settings = request.state.clarify.settings
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    ws_base = base.replace("http", "ws", 1)
    links = {f"{role}": f"{base}/s/{session_id}?token={tok}" for role, tok in tokens.items()}
    links["doc_ws"] = f"{ws_base}/ws/doc/{session_id}"
    links["events_ws"] = f"{ws_base}/ws/events/{session_id}"
    return links


async def create_session(request: Request) -> JSONResponse:
    principal = await require_team(request, "sessions.create")
    body = await json_body(request, CreateSession)
    assert isinstance(body, CreateSession)
    state = request.state.clarify
    if body.problem and body.problem not in state.problems:
        raise InvalidInput(f"problem: unknown problem {body.problem!r}", field="problem")
    level = body.level or (state.problems[body.problem].meta.level if body.problem else "")
    info, tokens = await state.store.create(
        body.problem,
        body.candidate,
        host=principal.actor,
        host_name=principal.name,
        candidate_valid_s=body.candidate_link_valid_s,
        external_ids=body.external_ids,
        candidate_email=body.candidate_email.strip(),
        base_url=str(request.base_url),
        scheduled_ms=body.scheduled_at,
        level=level,
    )
    rt = await state.runtimes.get(info)
    rt.name_actor(principal.actor, principal.name)
    rt.start(body.candidate, principal.actor)
    await state.webhooks.emit(SESSION_CREATED, info.id)
    await state.audit.append(
        "session.create",
        actor=principal.actor,
        name=principal.name,
        via=principal.via,
        session=info.id,
        problem=body.problem,
        level=level,
    )
    return JSONResponse(
        {**info.staff_json(), "tokens": tokens, "links": _links(request, info.id, tokens)}, status_code=201
    )


async def get_session(request: Request) -> JSONResponse:
    info, role = await session_role(request, frozenset({"interviewer", "candidate", "observer", "reviewer"}))
    state = request.state.clarify
    body = info.staff_json() if role in STAFF_ROLES or role == tokens.REVIEWER else info.to_json()
    body["role"] = role
    rt = state.runtimes.loaded(info.id)
    if rt is not None:
        body["kernel"] = {"state": rt.kernel_state}
        body["participants"] = rt.participants
        if role in REPLAY_ROLES:
            body["recording_bytes"] = rt.recorded_bytes
            body["recording_budget"] = rt.limits.max_recording_bytes
    return JSONResponse(body)


async def run_outputs(request: Request) -> JSONResponse:
    """One run with every output it printed (``hello`` carries only the newest share)."""
    info, _ = await session_role(request, frozenset(tokens.ROLES))
    run_id = request.path_params["run_id"]
    state = request.state.clarify
    await state.recorder.flush(timeout=2.0)
    events = await state.recorder.read(info.id)
    runs = {r.id: r for r in runs_from_events(events)}
    run = runs.get(run_id)
    if run is None:
        raise NotFoundError(f"no run {run_id} in this session")
    body = run.to_json()
    body["outputs"] = outputs_from_events(events, run_id)
    body["outputs_truncated"] = any(e.type == E.RECORDING_BUDGET and e.payload.get("run") == run_id for e in events)
    return JSONResponse({"run": body})


async def end_session(request: Request) -> JSONResponse:
    info, role, principal = await session_principal(request, frozenset({"interviewer"}))
    state = request.state.clarify
    info = await state.store.end(info.id)
    await state.runtimes.end(info.id, actor=principal.actor or f"{role}-link", name=principal.name)
    await state.audit.append(
        "session.end",
        actor=principal.actor or f"{role}-link",
        name=principal.name,
        via=principal.via,
        session=info.id,
    )
    return JSONResponse(info.to_json())


async def reissue_candidate_link(request: Request) -> JSONResponse:
    """Staff: a new candidate link (shown once); the old one stops working at once."""
    info, role, principal = await session_principal(request, frozenset({"interviewer"}))
    raw = await request.body()
    body = await json_body(request, CandidateLink) if raw.strip() else CandidateLink()
    assert isinstance(body, CandidateLink)
    state = request.state.clarify
    info, token = await state.store.reissue_candidate(info.id, body.valid_s)
    await state.audit.append(
        "candidate_link.reissue",
        actor=principal.actor or f"{role}-link",
        name=principal.name,
        via=principal.via,
        session=info.id,
    )
    link = _links(request, info.id, {"candidate": token})["candidate"]
    return JSONResponse({"token": token, "link": link, "expires_ms": info.candidate_expires_ms}, status_code=201)


async def revoke_candidate_link(request: Request) -> JSONResponse:
    """Staff: the candidate link stops working (their open sockets stay until they reconnect)."""
    info, role, principal = await session_principal(request, frozenset({"interviewer"}))
    state = request.state.clarify
    await state.store.revoke_candidate(info.id)
    await state.audit.append(
        "candidate_link.revoke",
        actor=principal.actor or f"{role}-link",
        name=principal.name,
        via=principal.via,
        session=info.id,
    )
    return JSONResponse({"revoked": True})


async def recording(request: Request) -> Response:
    info, _ = await session_role(request, REPLAY_ROLES)
    state = request.state.clarify
    await state.recorder.flush(timeout=2.0)
    # Streamed chunk by chunk (gzip when accepted): the server never holds the whole recording.
    total, chunks = await state.recorder.json_lines(info.id)
    return recording_response(total, chunks, request.headers.get("accept-encoding", ""))


MAX_IMPORT_BYTES = 256 * 1024 * 1024


async def import_recording(request: Request) -> JSONResponse:
    """Load a JSON-lines recording (from ``/recording``) as a new, ended session."""
    principal = await require_team(request, "recordings.import")
    raw = await request.body()
    if len(raw) > MAX_IMPORT_BYTES:
        raise InvalidInput("the recording is larger than 256 MiB")
    meta: dict[str, Any] = {}
    if export.is_archive(raw):  # an export archive (GET /api/sessions/{id}/export)
        raw, meta = export.read_archive(raw, MAX_IMPORT_BYTES)
    events = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the recording is not UTF-8 text") from None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            raise InvalidInput(f"line {n}: not JSON", field=f"line {n}") from None
        try:
            events.append(validate_event(obj))
        except InvalidEvent as exc:
            raise InvalidInput(f"line {n}: {exc.field}: {exc.message}", field=f"line {n}: {exc.field}") from None
    if not events:
        raise InvalidInput("the recording is empty")
    created = next((e for e in events if e.type == "session.created"), None)
    candidate = str(created.payload.get("candidate", "imported")) if created else "imported"
    problem = str(created.payload.get("problem", "")) if created else ""
    state = request.state.clarify
    ids = meta.get("external_ids")
    info, tokens = await state.store.create(
        problem,
        candidate,
        host=principal.actor,
        host_name=principal.name,
        external_ids={str(k)[:64]: str(v)[:200] for k, v in ids.items()} if isinstance(ids, dict) else None,
        candidate_email=str(meta.get("candidate_email") or "")[:320],
    )
    await state.recorder.import_events(info.id, events)
    await state.audit.append(
        "session.import", actor=principal.actor, name=principal.name, via=principal.via, session=info.id
    )
    info = await state.store.end(info.id)
    tokens = {role: tok for role, tok in tokens.items() if role in ("interviewer", "reviewer")}
    return JSONResponse({**info.to_json(), "imported_events": len(events), "tokens": tokens}, status_code=201)


async def document(request: Request) -> JSONResponse:
    info, _ = await session_role(request, REPLAY_ROLES)
    at_raw = request.query_params.get("at")
    at: int | None = None
    if at_raw is not None:
        try:
            at = int(at_raw)
        except ValueError:
            raise InvalidInput("at: must be an integer (ms since session start)", field="at") from None
        if at < 0:
            raise InvalidInput("at: must not be negative", field="at")
    state = request.state.clarify
    await state.recorder.flush(timeout=2.0)
    # From the last checkpoint at or before `at`: the cost does not grow with the recording.
    events = await state.recorder.read_from_checkpoint(info.id, at)
    return JSONResponse({"session": info.id, "at": at, "text": text_at(events)})


async def _card(request: Request, info: Any) -> dict[str, Any]:
    state = request.state.clarify
    problem = state.problems.get(info.problem)
    if problem is None:
        raise NotFoundError("this session has no problem, so it has no scorecard")
    await state.recorder.flush(timeout=2.0)
    events = await state.recorder.read(info.id)
    # Replaying a long recording (document, assistant code share, typing pace) takes up to
    # seconds: off the event loop, so the live rooms on this server do not wait for it.
    return await run_in_threadpool(session_scorecard, problem, events, info.to_json())


async def scorecard(request: Request) -> Response:
    """Staff/reviewer: the scorecard as JSON, a readable page (``Accept: text/html``) or a PDF
    file (``/scorecard.pdf``, ``?format=pdf`` or ``Accept: application/pdf``)."""
    info, _ = await session_role(request, REPLAY_ROLES)
    fmt = request.query_params.get("format")
    if fmt is not None and fmt not in ("json", "html", "pdf"):
        raise InvalidInput("format: must be json, html or pdf", field="format")
    card = await _card(request, info)
    accept = request.headers.get("accept", "")
    if fmt is None:
        if request.url.path.endswith(".pdf") or "application/pdf" in accept:
            fmt = "pdf"
        else:
            fmt = "html" if "text/html" in accept else "json"
    if fmt == "pdf":
        # fpdf2 is loaded only when a PDF is asked for; drawing is CPU work, kept off the loop.
        from server.scorecard_pdf import pdf_filename, render_pdf

        body = await run_in_threadpool(render_pdf, card)
        return Response(
            body,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{pdf_filename(card)}"',
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
            },
        )
    if fmt == "html":
        # A page opened from a role link (?token=) links to the replay and the PDF the same way.
        return html_response(render_html(card, link_token=request.query_params.get("token")))
    return JSONResponse(card)


async def compare(request: Request) -> Response:
    """Staff: every candidate who worked on one problem, constraint by constraint."""
    await require_team(request, "comparison.read")
    state = request.state.clarify
    problem = state.problems.get(request.path_params["problem_id"])
    if problem is None:
        raise NotFoundError("no such problem")
    interviewer = request.query_params.get("interviewer")
    sessions = [info for info in await state.store.list() if info.problem == problem.id]
    cards = [await _card(request, info) for info in sessions if not interviewer or info.host == interviewer]
    data = comparison(problem, cards)
    # Who hosted these sessions, for the page's filter (the admin token counts as one host).
    data["interviewers"] = sorted(
        ({"id": i.host, "name": i.host_name or i.host} for i in {i.host: i for i in sessions if i.host}.values()),
        key=lambda h: h["name"].lower(),
    )
    data["interviewer"] = interviewer or None
    if "text/html" in request.headers.get("accept", ""):
        return html_response(render_comparison_html(data))
    return JSONResponse(data)


# -- hand-off and lifecycle (issue 12): legal hold, erasure, export -------------------------


class SessionPatch(BaseModel):
    legal_hold: bool


class ErasureRequest(BaseModel):
    """Who to erase: any one of the candidate's name, email or an ATS id."""

    candidate: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, min_length=1, max_length=320)
    external_id: str | None = Field(None, min_length=1, max_length=200)


def _actor(principal: Principal) -> Actor:
    return Actor(principal.actor or "admin", principal.name, principal.via)


async def patch_session(request: Request) -> JSONResponse:
    """Admin: set or lift a session's legal hold (the retention sweep skips held sessions)."""
    principal = await require_team(request, "sessions.erase")
    body = await json_body(request, SessionPatch)
    assert isinstance(body, SessionPatch)
    state = request.state.clarify
    info = await state.store.set_legal_hold(request.path_params["session_id"], body.legal_hold)
    await state.audit.append(
        "session.legal_hold",
        actor=principal.actor,
        name=principal.name,
        via=principal.via,
        session=info.id,
        hold=body.legal_hold,
    )
    return JSONResponse(info.staff_json())


async def delete_session(request: Request) -> JSONResponse:
    """Admin: erase a session and everything stored about it (see :mod:`server.lifecycle`)."""
    principal = await require_team(request, "sessions.erase")
    state = request.state.clarify
    result = await state.lifecycle.erase_session(request.path_params["session_id"], by=_actor(principal))
    return JSONResponse(result)


async def create_erasure(request: Request) -> JSONResponse:
    """Admin: erase every session of a candidate, found by name, email or ATS id."""
    principal = await require_team(request, "sessions.erase")
    body = await json_body(request, ErasureRequest)
    assert isinstance(body, ErasureRequest)
    if not (body.candidate or body.email or body.external_id):
        raise InvalidInput("give the candidate's name, email or external_id", field="candidate")
    erased = await request.state.clarify.lifecycle.erase_candidate(
        by=_actor(principal), name=body.candidate, email=body.email, external_id=body.external_id
    )
    return JSONResponse({"erased": erased, "sessions": len(erased)})


async def export_session(request: Request) -> Response:
    """Staff/reviewer: the session as one zip archive (see :mod:`server.export`)."""
    info, role, principal = await session_principal(request, REPLAY_ROLES)
    state = request.state.clarify
    path = await export.write_archive(
        info, state.recorder, state.problems.get(info.problem), exports_dir(state.settings.data_dir)
    )
    await state.audit.append(
        "session.export",
        actor=principal.actor or f"{role}-link",
        name=principal.name,
        via=principal.via,
        session=info.id,
    )
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"clarify-session-{info.id}.zip",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
