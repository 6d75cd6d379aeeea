"""The clarify flow of one live session: questions, suggestions, answers, marks, notes, ratings.

State changes only through :meth:`ClarifySession.apply`, which takes one recorded event: a
handler records its event first and then applies it, and a restarted server, a late joiner,
the replay and the scorecard apply the same recorded events through the same function, so
live and replayed state cannot differ. Handlers broadcast after applying, tagging staff-only
messages with their audience; nothing hidden goes to ``ALL``.
"""

from __future__ import annotations

import functools
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
RETRACTED_NOTE = "The interviewer withdrew this answer."
AUTO = "auto"  # the actor of what auto mode does (answers, and the credit that comes with them)


class UndoWindowPassed(InvalidInput):
    """An undo asked for after the window (``undo_window_s``) closed."""

    code = "undo_window_passed"


@functools.cache
def _default_undo_window_ms() -> int:
    """The server's ``undo_window_s`` setting, read once per process (only a live undo needs it)."""
    from server.settings import Settings

    return int(Settings().undo_window_s * 1000)


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
    answer_event: int | None = None  # recorded index of the current answer (what undo names)
    answered_by: str | None = None

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
    how: Literal["aloud", "volunteered", "check", "typed", "assistant"] = "aloud"
    quote: StrictStr = Field("", max_length=20_000)
    # "typed" marks a typed question without answering it (its time and words are the evidence);
    # "assistant" grants credit for a prompt to the AI assistant (its number, when known).
    question: StrictInt | None = None
    prompt: StrictInt | None = None


class UndoMsg(_Msg):
    event: StrictInt


class OverturnMsg(_Msg):
    constraint: StrictStr
    reason: StrictStr = Field(min_length=1, max_length=500)


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

    def __init__(
        self,
        problem: Problem,
        record: Record,
        broadcast: Broadcast,
        now: Callable[[], int],
        *,
        undo_window_ms: int | None = None,
    ) -> None:
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
        # Recorded index -> an interviewer's answer or mark that may still be undone (who, when).
        self._undoable: dict[int, dict[str, Any]] = {}
        # Recorded index of an answer -> the constraint its confirmation credited.
        self._answer_credit: dict[int, str] = {}
        self._undo_window_ms = undo_window_ms
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
            "undo": (frozenset({"interviewer"}), UndoMsg, self._on_undo),
            "overturn": (frozenset(STAFF_ROLES), OverturnMsg, self._on_overturn),
        }

    @property
    def matcher(self) -> Matcher:
        """The problem's matcher, built on first use (a replay or a scorecard never needs one)."""
        if self._matcher is None:
            self._matcher = build_matcher(self.problem)
        return self._matcher

    @property
    def undo_window_ms(self) -> int:
        """How long after an answer or a mark its author may undo it (the ``undo_window_s`` setting)."""
        if self._undo_window_ms is None:
            self._undo_window_ms = _default_undo_window_ms()
        return self._undo_window_ms

    KINDS = frozenset(
        {"ask", "answer", "dismiss", "mark", "reveal", "note", "rate", "mode", "extend", "undo", "overturn"}
    )

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
                if q.answer_event is not None:  # a newer answer: the older one is no longer undoable
                    self._undoable.pop(q.answer_event, None)
                q.answer_event, q.answered_by = index, ev.actor
                self._undoable[index] = {"kind": "answer", "t": ev.t, "actor": ev.actor, "question": q.id}
            elif ev.type == ev_types.DISMISS and (q := self._question(p.get("question"))):
                q.status = "dismissed"
                q.dismissed = "aloud" if p.get("how") == "aloud" else "unanswered"
            elif ev.type == ev_types.DISCOVERED:
                event = int(p.get("event", -1))
                cid = str(p["constraint"])
                d = self.ledger.discover(
                    cid,
                    p["how"],
                    int(p["at"]),
                    index if event < 0 else event,
                    str(p.get("quote", "")),
                    index=index,
                    by=ev.actor,
                    auto=ev.actor == AUTO,
                )
                if d is not None and p.get("mark") is True:
                    self._undoable[index] = {"kind": "mark", "t": ev.t, "actor": ev.actor, "constraint": cid}
                if d is not None and isinstance(p.get("answer"), int):
                    self._answer_credit[p["answer"]] = cid
            elif ev.type == ev_types.OVERTURNED:
                by = str(p.get("by") or ev.actor)
                self.ledger.overturn(str(p["constraint"]), by, str(p.get("by_name") or ""), ev.t, str(p["reason"]))
            elif ev.type == ev_types.UNDONE:
                self._undo(int(p["event"]))
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

    def _undo(self, event: int) -> None:
        """Apply a recorded undo: an answer's question is open again (and the credit its
        confirmation gave is gone); a mark's ledger entry is gone, so a later mark can be made."""
        action = self._undoable.pop(event, None)
        if action is None:
            return
        if action["kind"] == "answer":
            q = self._question(action["question"])
            if q is not None and q.answer_event == event:
                q.status, q.answer, q.constraint, q.answer_event, q.answered_by = "open", None, None, None, None
            cid = self._answer_credit.pop(event, None)
            d = self.ledger.entries.get(cid) if cid else None
            if cid and d is not None and d.overturned is None:
                self.ledger.remove(cid)
        else:
            d = self.ledger.entries.get(action["constraint"])
            if d is not None and d.index == event:
                self.ledger.remove(d.constraint)

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
            who = (
                "questions come from the candidate"
                if kind == "ask"
                else "only staff can"
                if kind == "overturn"
                else "only the interviewer can"
            )
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
        at, event, quote = self._now(), None, m.quote[:500]
        if m.how == "typed":
            # Credit for a typed question without answering it: the question is the evidence.
            if m.question is None:
                raise InvalidInput("a 'typed' mark needs the 'question' it credits", field="question")
            q = self._need_question(m.question)
            at, event, quote = q.t, q.event, q.text[:500]
        elif m.how == "assistant" and m.prompt is not None:
            # Credit for a prompt to the AI assistant: its time and words are the evidence.
            asked = next((a for a in self.assistant_asked if a["prompt"] == m.prompt), None)
            if asked is None:
                raise InvalidInput(f"no prompt {m.prompt} to the assistant was tied to a constraint", field="prompt")
            at, event, quote = asked["t"], asked["event"], (quote or asked["quote"])[:500]
        self._discover(cid, m.how, at, event, actor, quote, mark=True)

    def _on_undo(self, m: UndoMsg, role: str, actor: str) -> None:
        """Undo one's own answer or mark within the window; recorded as a correction."""
        action = self._undoable.get(m.event)
        if action is None:
            raise InvalidInput(f"event {m.event} is not an answer or a mark that can be undone", field="event")
        if action["actor"] != actor:
            whose = "auto mode's" if action["actor"] == AUTO else "someone else's"
            raise Forbidden(f"you can undo only your own answer or mark; event {m.event} is {whose}")
        window = self.undo_window_ms
        if self._now() - int(action["t"]) > window:
            raise UndoWindowPassed(
                f"the undo window has passed (an answer or a mark can be undone for {window / 1000:g} s); "
                "correct it with a new answer or a note instead",
                field="event",
            )
        cid = action.get("constraint") or self._answer_credit.get(m.event)
        d = self.ledger.entries.get(cid) if cid else None
        if action["kind"] == "mark" and d is not None and d.overturned is not None:
            raise InvalidInput("this credit was already overturned; there is nothing to undo", field="event")
        before = self.ledger.to_json()
        self._apply_new(ev_types.UNDONE, "interviewer", actor, event=m.event, by=actor, reason="correction")
        if action["kind"] == "answer":
            q = self._question(action["question"])
            view = q.public() if q is not None else None
            self._broadcast(
                {"type": "answer.retracted", "question": action["question"], "note": RETRACTED_NOTE, "view": view}, ALL
            )
        self._broadcast(
            {
                "type": "undone",
                "event": m.event,
                "kind": action["kind"],
                "question": action.get("question"),
                "constraint": cid,
                "by": actor,
            },
            STAFF,
        )
        if self.ledger.to_json() != before:
            self._broadcast({"type": "ledger", "discovery": None, "ledger": self.ledger.to_json()}, STAFF)

    def _on_overturn(self, m: OverturnMsg, role: str, actor: str) -> None:
        self.overturn(m.constraint, m.reason, role, actor)

    def overturn(self, constraint: Any, reason: str, role: str, actor: str) -> dict[str, Any]:
        """A person takes a discovery credit back (live, or on an ended session from the API):
        recorded and attributed; the entry stays in the ledger, marked, and scores nothing."""
        cid = self._need_constraint(constraint)
        reason = reason.strip()[:500]
        if not reason:
            raise InvalidInput("'reason' must say why the credit is overturned", field="reason")
        d = self.ledger.entries.get(cid)
        if d is None:
            raise InvalidInput(f"{cid!r} was not discovered: there is no credit to overturn", field="constraint")
        if d.how == "volunteered":
            raise InvalidInput(f"{cid!r} was volunteered: it already counts for nothing", field="constraint")
        if d.overturned is not None:
            who = d.overturned.get("name") or d.overturned.get("by") or "someone"
            raise InvalidInput(f"the credit for {cid!r} was already overturned by {who}", field="constraint")
        self._apply_new(ev_types.OVERTURNED, role, actor, constraint=cid, reason=reason, by=actor)
        d = self.ledger.entries[cid]
        self._broadcast({"type": "ledger", "discovery": d.to_json(), "ledger": self.ledger.to_json()}, STAFF)
        return d.to_json()

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
            # Its own message type: the staff panel offers "Grant credit" for it.
            self._broadcast({"type": "clarify.assistant_asked", "asked": self.assistant_asked[-1]}, STAFF)
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
        role = "interviewer" if actor != AUTO else "system"
        index = self._apply_new(ev_types.ANSWER, role, actor, question=q.id, text=text, constraint=cid)
        self._broadcast({"type": "answer", "question": q.id, "text": text}, ALL)
        if actor != AUTO:
            self._undoable_notice(index, "answer", actor, question=q.id, constraint=cid)
        if cid is not None:
            self._discover(cid, "typed", q.t, q.event, actor, q.text, answer=index)

    def _discover(
        self,
        cid: str,
        how: str,
        at: int,
        event: int | None,
        actor: str,
        quote: str = "",
        *,
        mark: bool = False,
        answer: int | None = None,
    ) -> None:
        if cid in self.ledger.entries:
            return
        extra: dict[str, Any] = {}
        if mark:
            extra["mark"] = True  # an interviewer's own mark: undoable in the window
        if answer is not None:
            extra["answer"] = answer  # the answer whose confirmation gave it: undone with it
        index = self._apply_new(
            ev_types.DISCOVERED,
            "interviewer",
            actor,
            constraint=cid,
            how=how,
            at=at,
            event=-1 if event is None else event,  # -1: this event itself is the evidence
            quote=quote,
            **extra,
        )
        d = self.ledger.entries.get(cid)
        if d is not None:
            self._broadcast({"type": "ledger", "discovery": d.to_json(), "ledger": self.ledger.to_json()}, STAFF)
            if mark and actor != AUTO:
                self._undoable_notice(index, "mark", actor, constraint=cid)

    def _undoable_notice(self, index: int, kind: str, actor: str, **what: Any) -> None:
        """Tell staff an answer or a mark may be undone by its author for the window."""
        self._broadcast(
            {"type": "undoable", "event": index, "kind": kind, "by": actor, "window_ms": self.undo_window_ms, **what},
            STAFF,
        )

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

    def mark_spoken(
        self, cid: str, at: int, quote: str, actor: str, *, source: str, utterance: str, event: int = -1
    ) -> bool:
        """A question asked out loud, found in a call transcript or live captions and confirmed by
        staff (issue 10): discovered "aloud" at the transcript's time ``at`` (not now), with the
        candidate's words and where they came from. False if the constraint was already found."""
        cid = self._need_constraint(cid)
        if cid in self.ledger.entries:
            return False
        self._apply_new(
            ev_types.DISCOVERED,
            "interviewer",
            actor,
            constraint=cid,
            how="aloud",
            at=max(0, int(at)),
            event=event,  # the transcript or caption event that holds the words; -1: this one
            quote=quote[:500],
            source=source,
            utterance=utterance,
        )
        d = self.ledger.entries.get(cid)
        if d is not None:
            self._broadcast({"type": "ledger", "discovery": d.to_json(), "ledger": self.ledger.to_json()}, STAFF)
        return d is not None


__all__ = ["HOWS", "ClarifySession", "Question", "Suggestion", "UndoWindowPassed"]
