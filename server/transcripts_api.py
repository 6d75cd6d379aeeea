"""Spoken questions over HTTP (issue 10): call transcripts and live caption lines.

``POST /api/sessions/{id}/transcript`` (interviewer): a WebVTT or SRT export of the call. It is
recorded as one ``transcript.imported`` event (its cues, the clock offset, and the candidate's
questions with the matcher's suggestions) and the suggested marks come back. ``?offset_ms=`` sets
how the call's clock lines up with the session's (``session ms = transcript ms + offset``;
without it the suggested alignment is used) and ``?candidate_speaker=`` names the candidate's
label. Posting again replaces the earlier transcript, so adjusting the offset is a re-post.

``GET /api/sessions/{id}/transcript`` (staff, reviewer): the marks and their status.

``POST /api/sessions/{id}/transcript/marks`` (interviewer): ``{"utterance": id, "constraint": c}``
confirms a mark: the constraint enters the ledger as asked out loud at the transcript's time,
with the candidate's words (``source``: transcript or captions); ``{"utterance": id, "dismiss":
true}`` sets it aside.

``POST /api/sessions/{id}/captions`` (interviewer or observer, live sessions only): caption lines
from a meeting bot or browser captions; the candidate's questions among them reach the staff in
the room at once as ``transcript.suggestion`` (staff audience only).

A session that has ended has no runtime: its clarify state is replayed from the recording and
what the interviewer does is appended at the recording's last moment (so the replay's timeline
does not stretch to the day the transcript arrived); the ledger entry carries the spoken time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from server import events as E
from server.api import json_body, session_principal, validated_json
from server.audience import STAFF
from server.auth.principal import Principal
from server.clarify.session import ClarifySession
from server.errors import ClarifyError, InvalidInput, NotFound, SessionEnded
from server.events import Event
from server.tokens import INTERVIEWER, OBSERVER, REPLAY_ROLES
from server.transcripts import (
    MAX_TRANSCRIPT_BYTES,
    SpeakerGuess,
    TranscriptTooLarge,
    Utterance,
    caption_is_candidate,
    guess_candidate,
    parse_transcript,
    suggest_marks,
    suggest_offset,
    transcript_state,
)

MAX_CAPTIONS_BODY = 256 * 1024
MAX_OFFSET_MS = 24 * 3600 * 1000


class AlreadyDiscovered(ClarifyError):
    """The constraint is in the ledger already (first discovery wins)."""

    status, close_code, code = 409, 1008, "already_discovered"


class MarkAction(BaseModel):
    """Confirm a suggested mark with a constraint, or dismiss it."""

    model_config = ConfigDict(extra="forbid")

    utterance: str = Field(..., min_length=1, max_length=40)
    constraint: str | None = Field(None, min_length=1, max_length=200)
    dismiss: bool = False


class CaptionLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: str = Field("", max_length=200)
    text: str = Field(..., min_length=1, max_length=2000)
    t: int | None = Field(None, ge=0, description="ms since the session started (default: now)")


class Captions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[CaptionLine] = Field(..., min_length=1, max_length=100)
    candidate_speaker: str | None = Field(None, min_length=1, max_length=200)


@dataclass
class _Room:
    """Where a transcript action lands: the live runtime, or an ended session's recording."""

    clarify: ClarifySession
    record: Callable[..., tuple[int, Event]]
    broadcast: Callable[[dict[str, Any], Any], None]
    now: int
    events: list[Event]
    staff_names: list[str]
    live: bool


# Transcript actions on one session are taken one at a time (mark ids come from counts).
_locks: dict[str, asyncio.Lock] = {}


async def _room(request: Request, info: Any, principal: Principal) -> _Room:
    state = request.state.clarify
    problem = state.problems.get(info.problem)
    if problem is None:
        raise NotFound("this session has no problem: there are no constraints to match spoken questions to")
    await state.recorder.flush(timeout=2.0)
    events = await state.recorder.read(info.id)
    staff = [info.host_name, principal.name]
    if not info.ended:
        rt = await state.runtimes.get(info)
        rt.name_actor(principal.actor, principal.name)
        assert rt.clarify is not None
        staff += list(rt.names.values())
        return _Room(rt.clarify, rt.record_event, rt.broadcast, rt.t(), events, staff, True)
    end = max((e.t for e in events), default=0)
    count = len(events)
    name = principal.name

    def record(type_: str, role: str = "system", actor: str = "", **payload: Any) -> tuple[int, Event]:
        nonlocal count
        event = Event(end, type_, role, actor, {**payload, "by_name": name} if name else payload)
        state.recorder.append(info.id, event)
        count += 1
        return count - 1, event

    clarify = ClarifySession(problem, record, lambda m, a: None, lambda: end)
    clarify.replay(events)
    return _Room(clarify, record, lambda m, a: None, end, events, staff, False)


def _int_param(request: Request, name: str, lo: int, hi: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name}: must be an integer (ms)", field=name) from None
    if not lo <= value <= hi:
        raise InvalidInput(f"{name}: must be between {lo} and {hi}", field=name)
    return value


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The body, read no further than ``limit`` bytes (a larger one is refused, not held)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TranscriptTooLarge(f"the body is {declared} bytes; at most {limit} are accepted", field="body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TranscriptTooLarge(f"the body is larger than {limit} bytes", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


def _titles(clarify: ClarifySession) -> list[dict[str, str]]:
    """The constraints a mark may be confirmed as (staff see these titles anyway)."""
    return [{"id": c.id, "title": c.title} for c in clarify.constraints.values()]


def _actor(principal: Principal, role: str) -> str:
    return principal.actor or f"{role}-link"


async def import_transcript(request: Request) -> JSONResponse:
    """Interviewer: a WebVTT/SRT call transcript in, suggested marks out (see the module doc)."""
    info, role, principal = await session_principal(request, frozenset({INTERVIEWER}))
    raw = await _bounded_body(request, MAX_TRANSCRIPT_BYTES)
    offset = _int_param(request, "offset_ms", -MAX_OFFSET_MS, MAX_OFFSET_MS)
    explicit = request.query_params.get("candidate_speaker") or None
    lock = _locks.setdefault(info.id, asyncio.Lock())
    async with lock:
        room = await _room(request, info, principal)
        before = transcript_state(room.events)
        fmt, utterances = parse_transcript(
            raw, request.headers.get("content-type", ""), prefix=f"t{before.imports + 1}."
        )
        guess = guess_candidate(
            utterances, candidate_name=info.candidate, staff_names=room.staff_names, explicit=explicit
        )
        alignment = suggest_offset(utterances, guess, room.events)
        offset_ms = alignment["suggested_ms"] if offset is None else offset
        matcher = room.clarify.matcher
        marks = suggest_marks(utterances, guess, offset_ms, matcher.suggest, matcher.threshold)
        payload = {
            "format": fmt,
            "offset_ms": offset_ms,
            "alignment": alignment,
            "candidate_speaker": guess.candidate,
            "speaker_basis": guess.basis,
            "speakers": guess.speakers,
            "utterances": [u.to_json() for u in utterances],
            "marks": marks,
        }
        index, event = room.record(E.TRANSCRIPT_IMPORTED, INTERVIEWER, _actor(principal, role), **payload)
        before.apply(index, event)
        body = {**before.to_json(), "speaker_basis": guess.basis, "constraints": _titles(room.clarify)}
        room.broadcast({"type": "transcript.imported", "transcript": body}, STAFF)
    return JSONResponse(body, status_code=201)


async def get_transcript(request: Request) -> JSONResponse:
    """Staff and reviewers: the current transcript's marks with their status."""
    info, _ = (await session_principal(request, REPLAY_ROLES))[:2]
    state = request.state.clarify
    await state.recorder.flush(timeout=2.0)
    tstate = transcript_state(await state.recorder.read(info.id))
    imported = tstate.imported or {}
    problem = state.problems.get(info.problem)
    titles = [{"id": c.id, "title": c.title} for c in problem.meta.constraint] if problem else []
    return JSONResponse({**tstate.to_json(), "speaker_basis": imported.get("speaker_basis"), "constraints": titles})


async def act_on_mark(request: Request) -> JSONResponse:
    """Interviewer: confirm a suggested mark (the ledger gets it "aloud" at the spoken time) or
    dismiss it."""
    info, role, principal = await session_principal(request, frozenset({INTERVIEWER}))
    body = await json_body(request, MarkAction)
    assert isinstance(body, MarkAction)
    if body.dismiss == (body.constraint is not None):
        raise InvalidInput("give either 'constraint' (to confirm) or 'dismiss': true", field="constraint")
    lock = _locks.setdefault(info.id, asyncio.Lock())
    async with lock:
        room = await _room(request, info, principal)
        tstate = transcript_state(room.events)
        mark = tstate.marks.get(body.utterance)
        if mark is None:
            raise NotFound(f"utterance: no suggested mark {body.utterance!r} in this session's transcript")
        actor = _actor(principal, role)
        if body.dismiss:
            room.record(E.TRANSCRIPT_DISMISSED, INTERVIEWER, actor, mark=body.utterance)
            room.broadcast({"type": "transcript.dismissed", "mark": body.utterance}, STAFF)
            return JSONResponse({"utterance": body.utterance, "status": "dismissed"})
        cid = str(body.constraint)
        if cid not in room.clarify.constraints:
            raise InvalidInput(f"constraint: {cid!r} is not a constraint of this problem", field="constraint")
        found = room.clarify.ledger.entries.get(cid)
        if found is not None:
            raise AlreadyDiscovered(
                f"{cid!r} is already in the ledger ({found.how} at {found.t} ms); the first discovery stands",
                field="constraint",
            )
        room.clarify.mark_spoken(
            cid,
            int(mark["t"]),
            str(mark.get("quote") or ""),
            actor,
            source=str(mark.get("source") or "transcript"),
            utterance=body.utterance,
            event=int(mark.get("event", -1)),
        )
        d = room.clarify.ledger.entries[cid]
        return JSONResponse(
            {"utterance": body.utterance, "status": "confirmed", "constraint": cid, "discovery": d.to_json()}
        )


async def push_captions(request: Request) -> JSONResponse:
    """Interviewer or observer, live sessions only: caption lines in; the candidate's questions
    among them go to the staff in the room as ``transcript.suggestion``."""
    info, role, principal = await session_principal(request, frozenset({INTERVIEWER, OBSERVER}))
    if info.ended:
        raise SessionEnded("this session has ended: captions are taken only while it is live; import the transcript")
    body = validated_json(await _bounded_body(request, MAX_CAPTIONS_BODY), Captions)
    assert isinstance(body, Captions)
    lock = _locks.setdefault(info.id, asyncio.Lock())
    async with lock:
        room = await _room(request, info, principal)
        first = transcript_state(room.events).captions + 1
        lines = [
            Utterance(
                f"c{first + i}",
                min(line.t, room.now) if line.t is not None else room.now,
                0,
                line.speaker,
                " ".join(line.text.split()),
            )
            for i, line in enumerate(body.lines)
        ]
        theirs = [
            u
            for u in lines
            if caption_is_candidate(
                u.speaker, candidate_name=info.candidate, staff_names=room.staff_names, explicit=body.candidate_speaker
            )
        ]
        matcher = room.clarify.matcher
        marks = suggest_marks(
            theirs, SpeakerGuess(None, "captions"), 0, matcher.suggest, matcher.threshold, source="captions"
        )
        room.record(
            E.TRANSCRIPT_CAPTIONS,
            role,
            _actor(principal, role),
            lines=[{"id": u.id, "speaker": u.speaker, "text": u.text, "t": u.start} for u in lines],
            marks=marks,
        )
        for mark in marks:
            room.broadcast({"type": "transcript.suggestion", "mark": {**mark, "status": "open"}}, STAFF)
    return JSONResponse({"accepted": len(lines), "marks": marks})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/sessions/{session_id}/transcript", import_transcript, methods=["POST"]),
        Route("/api/sessions/{session_id}/transcript", get_transcript, methods=["GET"]),
        Route("/api/sessions/{session_id}/transcript/marks", act_on_mark, methods=["POST"]),
        Route("/api/sessions/{session_id}/captions", push_captions, methods=["POST"]),
    ]
