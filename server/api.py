"""HTTP API endpoints (``/healthz``, ``/api/...``). Errors become JSON in one place."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server import events as E
from server import tokens
from server.document import text_at
from server.errors import ClarifyError, Forbidden, InvalidInput, Unauthorized
from server.errors import NotFound as NotFoundError
from server.events import InvalidEvent, validate_event
from server.replay_stream import recording_response
from server.runs import outputs_from_events, runs_from_events
from server.scorecard import comparison, render_comparison_html, render_html, session_scorecard
from server.web import html_response

log = logging.getLogger(__name__)

STAFF_ROLES = tokens.STAFF_ROLES
REPLAY_ROLES = tokens.REPLAY_ROLES


class CreateSession(BaseModel):
    problem: str = Field("", max_length=200)
    candidate: str = Field(..., min_length=1, max_length=200)


def _bearer(request: Request) -> str | None:
    """The token in the Authorization header (the only place the admin token is read from)."""
    return tokens.bearer(request.headers)


def _is_admin(request: Request) -> bool:
    token = _bearer(request)
    admin = request.state.clarify.admin_token
    return bool(token) and hmac.compare_digest(token.encode(), admin.encode())


def require_admin(request: Request) -> None:
    """Staff endpoints: the admin token in ``Authorization: Bearer``, never in the URL."""
    if not _bearer(request):
        if tokens.QUERY_PARAM in request.query_params:
            raise Unauthorized("the admin token is accepted only in the Authorization header, never in the URL")
        raise Unauthorized("staff endpoint: send Authorization: Bearer <admin token>")
    if not _is_admin(request):
        raise Unauthorized("invalid admin token")


async def session_role(request: Request, allowed: frozenset[str]) -> tuple[Any, str]:
    """The session and the caller's role: the admin token (header only) counts as interviewer;
    a role token may come from the header or, as the session's links carry it, ``?token=``."""
    state = request.state.clarify
    session_id = request.path_params["session_id"]
    if _is_admin(request):
        return await state.store.get(session_id), tokens.INTERVIEWER
    token = tokens.read_token(request.headers, request.query_params, allow_query=True)
    info, role = await state.store.authenticate(session_id, token)
    if role not in allowed:
        raise Forbidden(f"the {role} role cannot use this endpoint")
    return info, role


async def json_body(request: Request, model: type[BaseModel]) -> BaseModel:
    try:
        raw = await request.body()
        data = json.loads(raw or b"null")
    except ValueError:
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
    require_admin(request)
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
    """Staff: the most recent sessions, newest first (summaries only: tokens are shown once)."""
    require_admin(request)
    return JSONResponse([info.to_json() for info in await request.state.clarify.store.list()])


def _links(request: Request, session_id: str, tokens: dict[str, str]) -> dict[str, str]:
    settings = request.state.clarify.settings
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    ws_base = base.replace("http", "ws", 1)
    links = {f"{role}": f"{base}/s/{session_id}?token={tok}" for role, tok in tokens.items()}
    links["doc_ws"] = f"{ws_base}/ws/doc/{session_id}"
    links["events_ws"] = f"{ws_base}/ws/events/{session_id}"
    return links


async def create_session(request: Request) -> JSONResponse:
    require_admin(request)
    body = await json_body(request, CreateSession)
    assert isinstance(body, CreateSession)
    state = request.state.clarify
    if body.problem and body.problem not in state.problems:
        raise InvalidInput(f"problem: unknown problem {body.problem!r}", field="problem")
    info, tokens = await state.store.create(body.problem, body.candidate)
    rt = await state.runtimes.get(info)
    rt.start(body.candidate)
    return JSONResponse(
        {**info.to_json(), "tokens": tokens, "links": _links(request, info.id, tokens)}, status_code=201
    )


async def get_session(request: Request) -> JSONResponse:
    info, role = await session_role(request, frozenset({"interviewer", "candidate", "observer", "reviewer"}))
    state = request.state.clarify
    body = info.to_json()
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
    info, _ = await session_role(request, frozenset({"interviewer"}))
    state = request.state.clarify
    info = await state.store.end(info.id)
    await state.runtimes.end(info.id)
    return JSONResponse(info.to_json())


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
    require_admin(request)
    raw = await request.body()
    if len(raw) > MAX_IMPORT_BYTES:
        raise InvalidInput("the recording is larger than 256 MiB")
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
    info, tokens = await state.store.create(problem, candidate)
    await state.recorder.import_events(info.id, events)
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
    return session_scorecard(problem, events, info.to_json())


async def scorecard(request: Request) -> Response:
    """Staff/reviewer: the scorecard as JSON, or a readable page with ``Accept: text/html``."""
    info, _ = await session_role(request, REPLAY_ROLES)
    card = await _card(request, info)
    if "text/html" in request.headers.get("accept", ""):
        return html_response(render_html(card))
    return JSONResponse(card)


async def compare(request: Request) -> Response:
    """Staff: every candidate who worked on one problem, constraint by constraint."""
    require_admin(request)
    state = request.state.clarify
    problem = state.problems.get(request.path_params["problem_id"])
    if problem is None:
        raise NotFoundError("no such problem")
    cards = [await _card(request, info) for info in await state.store.list() if info.problem == problem.id]
    data = comparison(problem, cards)
    if "text/html" in request.headers.get("accept", ""):
        return html_response(render_comparison_html(data))
    return JSONResponse(data)
