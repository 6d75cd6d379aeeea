"""The clarify flow of one live session: questions, suggestions, answers, marks, notes, ratings.

State changes only through :meth:`ClarifySession.apply`, which takes one recorded event: a
handler records its event first and then applies it, and a restarted server, a late joiner,
the replay and the scorecard apply the same recorded events through the same function, so
live and replayed state cannot differ. Handlers broadcast after applying, tagging staff-only
messages with their audience; nothing hidden goes to ``ALL``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from problems import Problem
from server import events as ev_types
from server.audience import ALL, STAFF, STAFF_ROLES, Audience
from server.clarify.ledger import HOWS, Ledger
from server.clarify.matcher import Matcher, Suggestion, build_matcher
from server.errors import Forbidden, InvalidInput
from server.events import Event

NEUTRAL_REPLY = "Good question. There is no more detail on that; state the assumption you would make and carry on."
MODES = ("assisted", "auto")

Record = Callable[..., tuple[int, Event]]  # record(type, role, actor, **payload) -> (index, event)
Broadcast = Callable[[dict[str, Any], Audience], None]


@dataclass
class Question:
    """A typed clarifying question and what became of it."""

    id: int
    text: str
    t: int
    event: int
    by: str
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    status: str = "open"  # open | answered | dismissed
    answer: str | None = None
    constraint: str | None = None
    dismissed: str | None = None  # aloud | unanswered: what the candidate is told of a dismissal

    def public(self) -> dict[str, Any]:
        """What everyone (the candidate included) may see."""
        return {
            "id": self.id,
            "text": self.text,
            "t": self.t,
            "by": self.by,
            "answer": self.answer,
            "answered": self.answer is not None,
            "status": self.status,
            "dismissed": self.dismissed,
        }

    def staff(self) -> dict[str, Any]:
        return asdict(self)


# -- client messages, each validated before its handler sees it ---------------------------


class _Msg(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AskMsg(_Msg):
    text: StrictStr = Field(min_length=1)


class AnswerMsg(_Msg):
    question: StrictInt
    constraint: StrictStr | None = None
    text: StrictStr | None = None
    use_pack_answer: StrictBool = False


class DismissMsg(_Msg):
    question: StrictInt
    how: Literal["aloud", "unanswered"] = "unanswered"


class MarkMsg(_Msg):
    constraint: StrictStr
    how: Literal["aloud", "volunteered", "check"] = "aloud"
    quote: StrictStr = Field("", max_length=20_000)


class RevealMsg(_Msg):
    constraint: StrictStr
    text: StrictStr | None = Field(None, max_length=4000)


class NoteMsg(_Msg):
    text: StrictStr = Field(min_length=1)


class RateMsg(_Msg):
    dimension: StrictStr
    score: StrictInt = Field(ge=1, le=4)


class ModeMsg(_Msg):
    mode: Literal["assisted", "auto"]


class ExtendMsg(_Msg):
    minutes: StrictInt = Field(ge=1, le=60)


def _validate(model: type[_Msg], msg: dict[str, Any]) -> Any:
    try:
        return model.model_validate(msg)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or "message"
        raise InvalidInput(f"'{name}': {err['msg']}", field=name) from None


class ClarifySession:
    """Clarify state and message handlers for one session on one problem."""

    def __init__(self, problem: Problem, record: Record, broadcast: Broadcast, now: Callable[[], int]) -> None:
        self.problem = problem
        self.constraints = {c.id: c for c in problem.meta.constraint}
        self._matcher: Matcher | None = None
        self.ledger = Ledger(list(self.constraints))
        self.questions: list[Question] = []
        self.notes: list[dict[str, Any]] = []
        self.ratings: dict[str, dict[str, Any]] = {}
        self.checks: list[dict[str, Any]] = []
        self.mode = "assisted"
        self.extra_minutes = 0  # added by the interviewer to the problem's minutes
        # Prompts to the AI assistant the matcher tied to a constraint: their own kind, no credit.
        self.assistant_asked: list[dict[str, Any]] = []
        self._record = record
        self._broadcast = broadcast
        self._now = now
        # kind -> (roles allowed, message model, handler)
        self._handlers: dict[str, tuple[frozenset[str], type[_Msg], Callable[[Any, str, str], None]]] = {
            "ask": (frozenset({"candidate"}), AskMsg, self._on_ask),
            "answer": (frozenset({"interviewer"}), AnswerMsg, self._on_answer),
            "dismiss": (frozenset({"interviewer"}), DismissMsg, self._on_dismiss),
            "mark": (frozenset({"interviewer"}), MarkMsg, self._on_mark),
            "reveal": (frozenset({"interviewer"}), RevealMsg, self._on_reveal),
            "note": (frozenset({"interviewer"}), NoteMsg, self._on_note),
            "rate": (frozenset({"interviewer"}), RateMsg, self._on_rate),
            "mode": (frozenset({"interviewer"}), ModeMsg, self._on_mode),
            "extend": (frozenset({"interviewer"}), ExtendMsg, self._on_extend),
        }

    @property
    def matcher(self) -> Matcher:
        """The problem's matcher, built on first use (a replay or a scorecard never needs one)."""
        if self._matcher is None:
            self._matcher = build_matcher(self.problem)
        return self._matcher

    KINDS = frozenset({"ask", "answer", "dismiss", "mark", "reveal", "note", "rate", "mode", "extend"})

    # -- views ----------------------------------------------------------------------------

    def view(self, role: str) -> dict[str, Any]:
        """The clarify part of ``hello`` for ``role``."""
        if role in STAFF_ROLES:
            return {
                "mode": self.mode,
                "questions": [q.staff() for q in self.questions],
                "ledger": self.ledger.to_json(),
                "notes": self.notes,
                "ratings": self.ratings,
                "checks": self.checks,
                "threshold": self.matcher.threshold,
                "assistant_asked": self.assistant_asked,
            }
        return {"questions": [q.public() for q in self.questions]}

    def clock(self) -> dict[str, Any]:
        """The session's time for everyone: now and the limit (the problem's minutes plus
        extensions), in ms since the session started, on the server's clock."""
        minutes = self.problem.meta.minutes + self.extra_minutes
        return {
            "now": self._now(),
            "limit": minutes * 60_000,
            "minutes": self.problem.meta.minutes,
            "extended": self.extra_minutes,
        }

    # -- the one state transition ---------------------------------------------------------

    def replay(self, events: Iterable[Event]) -> None:
        """Rebuild the state from a recording (each event applied at its index)."""
        for index, ev in enumerate(events):
            self.apply(index, ev)

    def apply(self, index: int, ev: Event) -> None:
        """Apply one recorded event (live right after recording it, or in replay)."""
        p = ev.payload
        try:
            if ev.type == ev_types.RUN_STARTED:
                self.ledger.note_run(ev.t)
            elif ev.type == ev_types.ASK:
                self.questions.append(
                    Question(int(p["id"]), str(p["text"]), ev.t, index, ev.role, list(p.get("suggestions") or []))
                )
            elif ev.type == ev_types.ANSWER and (q := self._question(p.get("question"))):
                q.status, q.answer, q.constraint = "answered", str(p["text"]), p.get("constraint")
            elif ev.type == ev_types.DISMISS and (q := self._question(p.get("question"))):
                q.status = "dismissed"
                q.dismissed = "aloud" if p.get("how") == "aloud" else "unanswered"
            elif ev.type == ev_types.DISCOVERED:
                event = int(p.get("event", -1))
                self.ledger.discover(
                    str(p["constraint"]), p["how"], int(p["at"]), index if event < 0 else event, str(p.get("quote", ""))
                )
            elif ev.type == ev_types.NOTE:
                note = {
                    "text": str(p["text"]),
                    "t": ev.t,
                    "event": index,
                    "by": ev.actor,
                    "name": p.get("by_name") or "",
                }
                self.notes.append(note)
            elif ev.type == ev_types.RATE:
                self.ratings[str(p["dimension"])] = {
                    "score": p["score"],
                    "t": ev.t,
                    "event": index,
                    "by": ev.actor,
                    "name": p.get("by_name") or "",
                }
            elif ev.type == ev_types.CHECKS:
                self.checks = [{**r, "event": index, "t": ev.t} for r in p["results"]]
            elif ev.type == ev_types.MODE:
                self.mode = str(p["mode"])
            elif ev.type == ev_types.EXTEND:
                self.extra_minutes += max(0, int(p["minutes"]))
            elif ev.type == ev_types.ASSISTANT_ASKED and str(p["constraint"]) in self.constraints:
                self.assistant_asked.append(
                    {
                        "constraint": str(p["constraint"]),
                        "prompt": int(p["prompt"]),
                        "t": ev.t,
                        "event": int(p["event"]),
                        "confidence": float(p.get("confidence") or 0.0),
                        "quote": str(p.get("quote") or ""),
                    }
                )
        except (KeyError, TypeError, ValueError):
            # A damaged event (an old or hand-edited recording) is skipped, never fatal.
            pass

    def _apply_new(self, type_: str, role: str, actor: str, **payload: Any) -> int:
        index, ev = self._record(type_, role, actor, **payload)
        self.apply(index, ev)
        return index

    def _question(self, qid: Any) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)

    # -- handlers -------------------------------------------------------------------------

    def handle(self, kind: str, msg: dict[str, Any], role: str, actor: str) -> None:
        """Apply one client message; raises a ClarifyError for bad input or a wrong role."""
        entry = self._handlers.get(kind)
        if entry is None:
            raise InvalidInput(f"unknown message type {kind!r}", field="type")
        roles, model, handler = entry
        if role not in roles:
            who = "questions come from the candidate" if kind == "ask" else "only the interviewer can"
            raise Forbidden(f"the {role} role cannot {kind}; {who}")
        handler(_validate(model, msg), role, actor)

    def _on_ask(self, m: AskMsg, role: str, actor: str) -> None:
        text = m.text.strip()[:2000]
        if not text:
            raise InvalidInput("'text' must be non-empty text", field="text")
        self.ask(text, role, actor)

    def _on_answer(self, m: AnswerMsg, role: str, actor: str) -> None:
        q = self._need_question(m.question)
        cid = self._need_constraint(m.constraint) if m.constraint is not None else None
        text = m.text
        if text is not None and not text.strip():
            raise InvalidInput("'text' must be non-empty text", field="text")
        if text is None:
            if not m.use_pack_answer or cid is None:
                raise InvalidInput("give 'text', or 'use_pack_answer' with a 'constraint'", field="text")
            text = self.constraints[cid].answer
        self._answer(q, text[:4000], cid, actor)

    def _on_dismiss(self, m: DismissMsg, role: str, actor: str) -> None:
        q = self._need_question(m.question)
        if q.status != "open":
            raise InvalidInput(f"question {q.id} is already {q.status}", field="question")
        self._apply_new(ev_types.DISMISS, "interviewer", actor, question=q.id, how=m.how)
        # Everyone learns what became of it (no hidden text: only how it was closed).
        self._broadcast({"type": "question.dismissed", "question": q.id, "how": q.dismissed}, ALL)

    def _on_mark(self, m: MarkMsg, role: str, actor: str) -> None:
        cid = self._need_constraint(m.constraint)
        self._discover(cid, m.how, self._now(), None, actor, m.quote[:500])

    def _on_reveal(self, m: RevealMsg, role: str, actor: str) -> None:
        cid = self._need_constraint(m.constraint)
        text = m.text or self.constraints[cid].answer
        self._apply_new(ev_types.REVEAL, "interviewer", actor, constraint=cid, text=text)
        self._broadcast({"type": "reveal", "text": text}, ALL)
        self._discover(cid, "volunteered", self._now(), None, actor)

    def _on_note(self, m: NoteMsg, role: str, actor: str) -> None:
        text = m.text.strip()[:2000]
        if not text:
            raise InvalidInput("'text' must be non-empty text", field="text")
        self._apply_new(ev_types.NOTE, "interviewer", actor, text=text)
        self._broadcast({"type": "note", "note": self.notes[-1]}, STAFF)

    def _on_rate(self, m: RateMsg, role: str, actor: str) -> None:
        if m.dimension not in {d.id for d in self.problem.meta.rubric}:
            raise InvalidInput(f"unknown rubric dimension {m.dimension!r}", field="dimension")
        self._apply_new(ev_types.RATE, "interviewer", actor, dimension=m.dimension, score=m.score)
        self._broadcast({"type": "rating", "dimension": m.dimension, "rating": self.ratings[m.dimension]}, STAFF)

    def _on_mode(self, m: ModeMsg, role: str, actor: str) -> None:
        self._apply_new(ev_types.MODE, "interviewer", actor, mode=m.mode)
        self._broadcast({"type": "mode", "mode": m.mode}, STAFF)

    def _on_extend(self, m: ExtendMsg, role: str, actor: str) -> None:
        self._apply_new(ev_types.EXTEND, "interviewer", actor, minutes=m.minutes)
        self._broadcast({"type": "clock", "clock": self.clock()}, ALL)

    def ask(self, text: str, role: str, actor: str) -> Question:
        suggestions = [asdict(s) for s in self.matcher.suggest(text)]
        qid = len(self.questions) + 1
        self._apply_new(ev_types.ASK, role, actor, id=qid, text=text, suggestions=suggestions)
        q = self.questions[-1]
        self._broadcast({"type": "question", "question": q.public()}, ALL)
        proposed = suggestions[0] if suggestions and suggestions[0]["confidence"] >= self.matcher.threshold else None
        self._broadcast(
            {
                "type": "suggestion",
                "question": qid,
                "suggestions": suggestions,
                "proposed": proposed["constraint"] if proposed else None,
            },
            STAFF,
        )
        if self.mode == "auto":
            # Auto mode answers from the pack only above the precision-calibrated threshold;
            # otherwise the candidate is asked to state an assumption and staff judge later.
            confident = suggestions and suggestions[0]["confidence"] >= self.matcher.auto_threshold
            if confident:
                cid = suggestions[0]["constraint"]
                self._answer(q, self.constraints[cid].answer, cid, "auto")
            else:
                self._answer(q, NEUTRAL_REPLY, None, "auto")
        return q

    def assistant_prompt(self, prompt: int, event: int, text: str, actor: str) -> None:
        """A question to the AI assistant: the matcher runs on it; one about a hidden constraint is
        told to staff only and kept as "asked the assistant" (no discovery credit; staff may mark)."""
        suggestions = self.matcher.suggest(text)
        if not suggestions:
            return
        top = suggestions[0]
        proposed = top.constraint if top.confidence >= self.matcher.threshold else None
        if proposed is not None:
            self._apply_new(
                ev_types.ASSISTANT_ASKED,
                "system",
                actor,
                constraint=proposed,
                prompt=prompt,
                event=event,
                confidence=round(top.confidence, 4),
                quote=text[:500],
            )
        title = self.constraints[proposed].title if proposed else None
        self._broadcast(
            {
                "type": "assistant.suggestion",
                "prompt": prompt,
                "suggestions": [asdict(s) for s in suggestions],
                "proposed": proposed,
                "text": f"asked the assistant about {title[0].lower() + title[1:]}" if title else None,
            },
            STAFF,
        )

    def _answer(self, q: Question, text: str, cid: str | None, actor: str) -> None:
        role = "interviewer" if actor != "auto" else "system"
        self._apply_new(ev_types.ANSWER, role, actor, question=q.id, text=text, constraint=cid)
        self._broadcast({"type": "answer", "question": q.id, "text": text}, ALL)
        if cid is not None:
            self._discover(cid, "typed", q.t, q.event, actor, q.text)

    def _discover(self, cid: str, how: str, at: int, event: int | None, actor: str, quote: str = "") -> None:
        if cid in self.ledger.entries:
            return
        self._apply_new(
            ev_types.DISCOVERED,
            "interviewer",
            actor,
            constraint=cid,
            how=how,
            at=at,
            event=-1 if event is None else event,  # -1: this event itself is the evidence
            quote=quote,
        )
        d = self.ledger.entries.get(cid)
        if d is not None:
            self._broadcast({"type": "ledger", "discovery": d.to_json(), "ledger": self.ledger.to_json()}, STAFF)

    def set_checks(self, results: list[dict[str, Any]], actor: str) -> None:
        self._apply_new(ev_types.CHECKS, "system", actor, results=results)
        self._broadcast({"type": "checks", "results": self.checks}, STAFF)

    def _need_question(self, qid: int) -> Question:
        q = self._question(qid)
        if q is None:
            raise InvalidInput("unknown question", field="question")
        return q

    def _need_constraint(self, cid: Any) -> str:
        if not isinstance(cid, str) or cid not in self.constraints:
            raise InvalidInput("unknown constraint", field="constraint")
        return cid


__all__ = ["HOWS", "ClarifySession", "Question", "Suggestion"]
