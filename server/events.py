"""Recorded events: the one list of event types and the shape of each payload. A leaf module.

Every event a session records is an :class:`Event` (time, type, who, payload). The live session,
a server restart, the replay page's data and the scorecard all read events through the replay
functions that consume these records, so the types are named here once. A recording that
comes from outside (``POST /api/recordings``) is checked with :func:`validate_event`: an unknown
type or a payload field of the wrong type is refused, naming the field.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

DOC_UPDATE = "doc.update"
DOC_CHECKPOINT = "doc.checkpoint"
JOIN, LEAVE = "join", "leave"
SESSION_CREATED, SESSION_ENDED = "session.created", "session.ended"
RUN_QUEUED, RUN_STARTED, RUN_OUTPUT, RUN_DONE = "run.queued", "run.started", "run.output", "run.done"
KERNEL_STATUS, KERNEL_INTERRUPT, KERNEL_RESTART = "kernel.status", "kernel.interrupt", "kernel.restart"
ASK, ANSWER, DISMISS = "clarify.ask", "clarify.answer", "clarify.dismiss"
DISCOVERED, NOTE, RATE = "clarify.discovered", "clarify.note", "clarify.rate"
CHECKS, MODE, REVEAL = "clarify.checks", "clarify.mode", "clarify.reveal"
RECORDING_GAP, RECORDING_BUDGET = "recording.gap", "recording.budget"
SESSION_ERROR, BUDGET = "session.error", "budget"
EXTEND = "session.extend"
ASSISTANT_CONFIG, ASSISTANT_PROMPT = "assistant.config", "assistant.prompt"
ASSISTANT_REPLY, ASSISTANT_ERROR = "assistant.reply", "assistant.error"
ASSISTANT_ASKED = "clarify.assistant_asked"
PROCESS_SIGNAL = "process.signal"

MAX_IMPORTED_TEXT = 1_000_000


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded event: ms since session start, type, who, and a JSON payload."""

    t: int
    type: str
    role: str = "system"
    actor: str = ""
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def doc_update(cls, t: int, role: str, actor: str, update: bytes) -> Event:
        return cls(t, DOC_UPDATE, role, actor, {"update": base64.b64encode(update).decode()})

    @property
    def update_bytes(self) -> bytes:
        return base64.b64decode(self.payload["update"])

    def to_fields(self) -> dict[str, str]:
        return {
            "t": str(self.t),
            "type": self.type,
            "role": self.role,
            "actor": self.actor,
            "payload": json.dumps(self.payload, separators=(",", ":")),
        }

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> Event:
        f = {k.decode(): v.decode() for k, v in fields.items()}
        return cls(int(f["t"]), f["type"], f.get("role", ""), f.get("actor", ""), json.loads(f.get("payload", "{}")))

    def to_json(self) -> dict[str, Any]:
        return {"t": self.t, "type": self.type, "role": self.role, "actor": self.actor, "payload": self.payload}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Event:
        return cls(
            int(obj["t"]),
            str(obj["type"]),
            str(obj.get("role", "")),
            str(obj.get("actor", "")),
            dict(obj.get("payload") or {}),
        )


# -- payload shapes (what an imported recording must look like) -----------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow")
    # The display name of the person who took the action (staff members; absent otherwise).
    by_name: StrictStr | None = Field(None, max_length=200)


class _B64(_Payload):
    @classmethod
    def _b64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not base64") from None
        return value


class DocUpdate(_B64):
    update: StrictStr

    def model_post_init(self, _: Any) -> None:
        self._b64(self.update)


class DocCheckpoint(_B64):
    state: StrictStr

    def model_post_init(self, _: Any) -> None:
        self._b64(self.state)


class Presence(_Payload):
    socket: StrictStr | None = None


class SessionCreated(_Payload):
    problem: StrictStr = ""
    candidate: StrictStr = Field("", max_length=200)


class RunQueued(_Payload):
    run: StrictInt
    code: StrictStr = Field("", max_length=MAX_IMPORTED_TEXT)


class RunRef(_Payload):
    run: StrictInt


class RunOutput(_Payload):
    run: StrictInt
    output: dict[str, Any]


class RunDone(_Payload):
    run: StrictInt
    result: dict[str, Any] | None = None


class KernelStatus(_Payload):
    state: StrictStr
    reason: StrictStr | None = None


class Ask(_Payload):
    id: StrictInt
    text: StrictStr = Field(max_length=4000)
    suggestions: list[dict[str, Any]] = []


class Answer(_Payload):
    question: StrictInt
    text: StrictStr = Field(max_length=8000)
    constraint: StrictStr | None = None


class Dismiss(_Payload):
    question: StrictInt
    # What the candidate is told: it is answered out loud, or the interviewer chose not to.
    how: Literal["aloud", "unanswered"] | None = None


class Discovered(_Payload):
    constraint: StrictStr
    how: Literal["typed", "aloud", "check", "volunteered", "assistant"]
    at: StrictInt
    event: StrictInt
    quote: StrictStr = ""


class Note(_Payload):
    text: StrictStr = Field(max_length=4000)


class Rate(_Payload):
    dimension: StrictStr
    score: StrictInt = Field(ge=1, le=4)


class CheckResult(_Payload):
    id: StrictStr
    constraint: StrictStr
    passed: StrictBool
    detail: StrictStr
    # passed | failed | not_exercised (what the check measures never happened); absent in older
    # recordings, where it follows ``passed``.
    status: Literal["passed", "failed", "not_exercised"] | None = None


class Checks(_Payload):
    results: list[CheckResult]


class Mode(_Payload):
    mode: Literal["assisted", "auto"]


class Reveal(_Payload):
    constraint: StrictStr
    text: StrictStr


class Extend(_Payload):
    minutes: StrictInt = Field(ge=1, le=120)


class Gap(_Payload):
    dropped_events: StrictInt


class AssistantConfig(_Payload):
    enabled: StrictBool
    model: StrictStr | None = None
    budget: StrictInt = Field(ge=0)


class AssistantPrompt(_Payload):
    id: StrictInt
    text: StrictStr = Field(max_length=MAX_IMPORTED_TEXT)
    model: StrictStr


class AssistantReply(_Payload):
    id: StrictInt
    text: StrictStr = Field(max_length=MAX_IMPORTED_TEXT)
    model: StrictStr
    prompt_tokens: StrictInt = Field(0, ge=0)
    completion_tokens: StrictInt = Field(0, ge=0)
    tokens: StrictInt = Field(0, ge=0)
    estimated: StrictBool = False  # the provider reported no usage; counted from the text
    cost: float | None = None
    latency_ms: StrictInt = Field(0, ge=0)
    first_token_ms: StrictInt | None = None


class AssistantError(_Payload):
    id: StrictInt | None = None
    code: StrictStr
    message: StrictStr = Field(max_length=4000)
    retry_after: float | None = None
    tokens: StrictInt = Field(0, ge=0)
    partial: StrictStr = Field("", max_length=MAX_IMPORTED_TEXT)


class AssistantAsked(_Payload):
    """A prompt to the assistant that the matcher tied to a hidden constraint (no credit)."""

    constraint: StrictStr
    prompt: StrictInt
    event: StrictInt
    confidence: float = 0.0
    quote: StrictStr = Field("", max_length=4000)


class ProcessSignal(_Payload):
    """A fact about the candidate's process: a paste, an insert, the tab hidden or shown."""

    kind: Literal["paste", "insert", "copy", "hidden", "visible", "blur", "focus"]
    size: StrictInt | None = Field(None, ge=0)
    source: Literal["document", "assistant", "external"] | None = None
    duration_ms: StrictInt | None = Field(None, ge=0)
    reply: StrictInt | None = None
    at: StrictInt | None = Field(None, ge=0)


PAYLOADS: dict[str, type[_Payload]] = {
    DOC_UPDATE: DocUpdate,
    DOC_CHECKPOINT: DocCheckpoint,
    JOIN: Presence,
    LEAVE: Presence,
    SESSION_CREATED: SessionCreated,
    SESSION_ENDED: _Payload,
    RUN_QUEUED: RunQueued,
    RUN_STARTED: RunRef,
    RUN_OUTPUT: RunOutput,
    RUN_DONE: RunDone,
    KERNEL_STATUS: KernelStatus,
    KERNEL_INTERRUPT: _Payload,
    KERNEL_RESTART: _Payload,
    ASK: Ask,
    ANSWER: Answer,
    DISMISS: Dismiss,
    DISCOVERED: Discovered,
    NOTE: Note,
    RATE: Rate,
    CHECKS: Checks,
    MODE: Mode,
    REVEAL: Reveal,
    RECORDING_GAP: Gap,
    RECORDING_BUDGET: _Payload,
    SESSION_ERROR: _Payload,
    BUDGET: _Payload,
    EXTEND: Extend,
    ASSISTANT_CONFIG: AssistantConfig,
    ASSISTANT_PROMPT: AssistantPrompt,
    ASSISTANT_REPLY: AssistantReply,
    ASSISTANT_ERROR: AssistantError,
    ASSISTANT_ASKED: AssistantAsked,
    PROCESS_SIGNAL: ProcessSignal,
}

# -- issue 10: corrections and overturned credit (clarify events) -----------------------------
OVERTURNED, UNDONE = "clarify.overturned", "clarify.undone"


class Overturned(_Payload):
    """A person took a discovery credit back (it stays in the ledger, scored as nothing)."""

    constraint: StrictStr
    reason: StrictStr = Field(min_length=1, max_length=500)
    by: StrictStr = Field("", max_length=200)


class Undone(_Payload):
    """An interviewer undid their own answer or mark (the recorded index ``event``) in the window."""

    event: StrictInt = Field(ge=0)
    by: StrictStr = Field("", max_length=200)
    reason: Literal["correction"] = "correction"


PAYLOADS[OVERTURNED] = Overturned
PAYLOADS[UNDONE] = Undone

# -- issue 10: spoken questions (call transcripts and live captions; see server/transcripts.py) --
TRANSCRIPT_IMPORTED, TRANSCRIPT_CAPTIONS = "transcript.imported", "transcript.captions"
TRANSCRIPT_DISMISSED = "transcript.dismissed"


class SpokenMark(_Payload):
    """A candidate's spoken question with the matcher's suggestions, for staff to confirm."""

    id: StrictStr = Field(min_length=1, max_length=40)
    utterance: StrictStr = Field(min_length=1, max_length=40)
    speaker: StrictStr = Field("", max_length=200)
    t: StrictInt = Field(ge=0)  # session ms (the transcript's time plus the offset)
    quote: StrictStr = Field("", max_length=4000)
    suggestions: list[dict[str, Any]] = []
    proposed: StrictStr | None = None
    source: Literal["transcript", "captions"] = "transcript"


class SpokenLine(_Payload):
    """One transcript cue (``start``/``end``: transcript ms) or caption line (``t``: session ms)."""

    id: StrictStr = Field(min_length=1, max_length=40)
    speaker: StrictStr = Field("", max_length=200)
    text: StrictStr = Field(max_length=4000)
    start: StrictInt | None = Field(None, ge=0)
    end: StrictInt | None = Field(None, ge=0)
    t: StrictInt | None = Field(None, ge=0)


class TranscriptImported(_Payload):
    """A call transcript, replacing any earlier one: its cues, clock offset and suggested marks."""

    format: Literal["vtt", "srt"]
    offset_ms: StrictInt
    candidate_speaker: StrictStr | None = None
    utterances: list[SpokenLine] = Field(max_length=10_000)
    marks: list[SpokenMark] = Field(max_length=10_000)


class TranscriptCaptions(_Payload):
    """Caption lines pushed while the session was live, and the marks found in them."""

    lines: list[SpokenLine] = Field(max_length=100)
    marks: list[SpokenMark] = Field(max_length=100)


class TranscriptDismissed(_Payload):
    mark: StrictStr = Field(min_length=1, max_length=40)


PAYLOADS[TRANSCRIPT_IMPORTED] = TranscriptImported
PAYLOADS[TRANSCRIPT_CAPTIONS] = TranscriptCaptions
PAYLOADS[TRANSCRIPT_DISMISSED] = TranscriptDismissed


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    t: StrictInt = Field(ge=0)
    type: StrictStr
    role: Literal["interviewer", "candidate", "observer", "reviewer", "system"] = "system"
    actor: StrictStr = Field("", max_length=200)
    payload: dict[str, Any] = {}


class InvalidEvent(ValueError):
    """An event that does not match its schema; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def validate_event(obj: Any) -> Event:
    """A recorded event from untrusted JSON, or :class:`InvalidEvent` naming the field."""
    if not isinstance(obj, dict):
        raise InvalidEvent("event", "expected a JSON object")
    try:
        env = _Envelope.model_validate(obj)
    except ValidationError as exc:
        raise _invalid(exc, "") from None
    model = PAYLOADS.get(env.type)
    if model is None:
        raise InvalidEvent("type", f"unknown event type {env.type!r}")
    try:
        model.model_validate(env.payload)
    except ValidationError as exc:
        raise _invalid(exc, "payload.") from None
    except ValueError as exc:
        raise InvalidEvent("payload", str(exc)) from None
    return Event(env.t, env.type, env.role, env.actor, env.payload)


def _invalid(exc: ValidationError, prefix: str) -> InvalidEvent:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return InvalidEvent(prefix + loc if loc else prefix.rstrip(".") or "event", err["msg"])
