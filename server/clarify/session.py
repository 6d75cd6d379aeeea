"""The clarify flow of one live session: questions, suggestions, answers, marks, notes, ratings.

State is rebuilt from the recording (:meth:`ClarifySession.replay`), so a restarted server or a
late joiner sees the same thread and ledger. Handlers record first, then broadcast, tagging
staff-only messages with their audience; nothing hidden goes to ``ALL``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from problems import Problem
from server.audience import ALL, STAFF, STAFF_ROLES, Audience
from server.clarify.ledger import HOWS, Ledger
from server.clarify.matcher import LexicalMatcher, Suggestion
from server.errors import Forbidden, InvalidInput

NEUTRAL_REPLY = "Good question. There is no more detail on that; state the assumption you would make and carry on."
MODES = ("assisted", "auto")

Record = Callable[..., int]  # record(type, role, actor, **payload) -> event index
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

    def public(self) -> dict[str, Any]:
        """What everyone (the candidate included) may see."""
        return {
            "id": self.id,
            "text": self.text,
            "t": self.t,
            "by": self.by,
            "answer": self.answer,
            "answered": self.answer is not None,
        }

    def staff(self) -> dict[str, Any]:
        return asdict(self)


class ClarifySession:
    """Clarify state and message handlers for one session on one problem."""

    def __init__(self, problem: Problem, record: Record, broadcast: Broadcast, now: Callable[[], int]) -> None:
        self.problem = problem
        self.constraints = {c.id: c for c in problem.meta.constraint}
        self.matcher = LexicalMatcher(
            problem.meta.constraint, examples=[(q.text, q.constraint) for q in problem.questions]
        )
        self.ledger = Ledger(list(self.constraints))
        self.questions: list[Question] = []
        self.notes: list[dict[str, Any]] = []
        self.ratings: dict[str, dict[str, Any]] = {}
        self.checks: list[dict[str, Any]] = []
        self.mode = "assisted"
        self._record = record
        self._broadcast = broadcast
        self._now = now

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
            }
        return {"questions": [q.public() for q in self.questions]}

    # -- replay ---------------------------------------------------------------------------

    def replay(self, events: Iterable[Any]) -> None:
        """Rebuild the state from recorded events (objects with t, type, role, actor, payload)."""
        for index, ev in enumerate(events):
            p = ev.payload
            if ev.type == "run.started":
                self.ledger.note_run(ev.t)
            elif ev.type == "clarify.ask":
                self.questions.append(
                    Question(p["id"], p["text"], ev.t, index, ev.role, suggestions=p.get("suggestions", []))
                )
            elif ev.type == "clarify.answer" and (q := self._question(p.get("question"))):
                q.status, q.answer, q.constraint = "answered", p["text"], p.get("constraint")
            elif ev.type == "clarify.dismiss" and (q := self._question(p.get("question"))):
                q.status = "dismissed"
            elif ev.type == "clarify.discovered":
                self.ledger.discover(p["constraint"], p["how"], int(p["at"]), int(p["event"]), p.get("quote", ""))
            elif ev.type == "clarify.note":
                self.notes.append({"text": p["text"], "t": ev.t, "event": index})
            elif ev.type == "clarify.rate":
                self.ratings[p["dimension"]] = {"score": p["score"], "t": ev.t, "event": index}
            elif ev.type == "clarify.checks":
                self.checks = [{**r, "event": index, "t": ev.t} for r in p["results"]]
            elif ev.type == "clarify.mode":
                self.mode = p["mode"]

    def _question(self, qid: Any) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)

    # -- handlers -------------------------------------------------------------------------

    def handle(self, kind: str, msg: dict[str, Any], role: str, actor: str) -> None:
        """Apply one client message; raises a ClarifyError for bad input or a wrong role."""
        if kind == "ask":
            if role != "candidate":
                raise Forbidden(f"the {role} role cannot ask; questions come from the candidate")
            self.ask(_text(msg, "text"), role, actor)
            return
        if role != "interviewer":
            raise Forbidden(f"the {role} role cannot {kind}")
        if kind == "answer":
            self.answer(msg, actor)
        elif kind == "dismiss":
            q = self._need_question(msg)
            self._record("clarify.dismiss", "interviewer", actor, question=q.id)
            q.status = "dismissed"
            self._broadcast({"type": "question.dismissed", "question": q.id}, STAFF)
        elif kind == "mark":
            cid = self._need_constraint(msg.get("constraint"))
            how = msg.get("how", "aloud")
            if how not in ("aloud", "volunteered", "check"):
                raise InvalidInput("'how' must be aloud, volunteered or check", field="how")
            quote = msg.get("quote") or ""
            if not isinstance(quote, str):
                raise InvalidInput("'quote' must be text", field="quote")
            self._discover(cid, how, self._now(), None, actor, quote[:500])
        elif kind == "reveal":
            cid = self._need_constraint(msg.get("constraint"))
            text = msg.get("text") or self.constraints[cid].answer
            self._record("clarify.reveal", "interviewer", actor, constraint=cid, text=text)
            self._broadcast({"type": "reveal", "text": text}, ALL)
            self._discover(cid, "volunteered", self._now(), None, actor)
        elif kind == "note":
            text = _text(msg, "text")
            index = self._record("clarify.note", "interviewer", actor, text=text)
            note = {"text": text, "t": self._now(), "event": index}
            self.notes.append(note)
            self._broadcast({"type": "note", "note": note}, STAFF)
        elif kind == "rate":
            dims = {d.id for d in self.problem.meta.rubric}
            dim, score = msg.get("dimension"), msg.get("score")
            if dim not in dims:
                raise InvalidInput(f"unknown rubric dimension {dim!r}", field="dimension")
            if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 4:
                raise InvalidInput("'score' must be an integer from 1 to 4", field="score")
            index = self._record("clarify.rate", "interviewer", actor, dimension=dim, score=score)
            self.ratings[dim] = {"score": score, "t": self._now(), "event": index}
            self._broadcast({"type": "rating", "dimension": dim, "rating": self.ratings[dim]}, STAFF)
        elif kind == "mode":
            mode = msg.get("mode")
            if mode not in MODES:
                raise InvalidInput("'mode' must be assisted or auto", field="mode")
            self._record("clarify.mode", "interviewer", actor, mode=mode)
            self.mode = mode
            self._broadcast({"type": "mode", "mode": mode}, STAFF)
        else:
            raise InvalidInput(f"unknown message type {kind!r}", field="type")

    def ask(self, text: str, role: str, actor: str) -> Question:
        suggestions = [asdict(s) for s in self.matcher.suggest(text)]
        qid = len(self.questions) + 1
        t = self._now()
        index = self._record("clarify.ask", role, actor, id=qid, text=text, suggestions=suggestions)
        q = Question(qid, text, t, index, role, suggestions=suggestions)
        self.questions.append(q)
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
            if proposed:
                cid = proposed["constraint"]
                self._answer(q, self.constraints[cid].answer, cid, "auto")
            else:
                self._answer(q, NEUTRAL_REPLY, None, "auto")
        return q

    def answer(self, msg: dict[str, Any], actor: str) -> None:
        q = self._need_question(msg)
        cid = msg.get("constraint")
        if cid is not None:
            self._need_constraint(cid)
        text = msg.get("text")
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise InvalidInput("'text' must be non-empty text", field="text")
        if text is None:
            if not msg.get("use_pack_answer") or cid is None:
                raise InvalidInput("give 'text', or 'use_pack_answer' with a 'constraint'", field="text")
            text = self.constraints[cid].answer
        self._answer(q, text[:4000], cid, actor)

    def _answer(self, q: Question, text: str, cid: str | None, actor: str) -> None:
        self._record(
            "clarify.answer",
            "interviewer" if actor != "auto" else "system",
            actor,
            question=q.id,
            text=text,
            constraint=cid,
        )
        q.status, q.answer, q.constraint = "answered", text, cid
        self._broadcast({"type": "answer", "question": q.id, "text": text}, ALL)
        if cid is not None:
            self._discover(cid, "typed", q.t, q.event, actor, q.text)

    def _discover(self, cid: str, how: str, at: int, event: int | None, actor: str, quote: str = "") -> None:
        if cid in self.ledger.entries:
            return
        index = self._record(
            "clarify.discovered",
            "interviewer",
            actor,
            constraint=cid,
            how=how,
            at=at,
            event=-1 if event is None else event,
            quote=quote,
        )
        d = self.ledger.discover(cid, how, at, index if event is None else event, quote)  # type: ignore[arg-type]
        if d is not None:
            self._broadcast({"type": "ledger", "discovery": d.to_json(), "ledger": self.ledger.to_json()}, STAFF)

    def note_run(self, t: int) -> None:
        self.ledger.note_run(t)

    def set_checks(self, results: list[dict[str, Any]], actor: str) -> None:
        index = self._record("clarify.checks", "system", actor, results=results)
        self.checks = [{**r, "event": index, "t": self._now()} for r in results]
        self._broadcast({"type": "checks", "results": self.checks}, STAFF)

    def _need_question(self, msg: dict[str, Any]) -> Question:
        q = self._question(msg.get("question"))
        if q is None:
            raise InvalidInput("unknown question", field="question")
        return q

    def _need_constraint(self, cid: Any) -> str:
        if not isinstance(cid, str) or cid not in self.constraints:
            raise InvalidInput("unknown constraint", field="constraint")
        return cid


def _text(msg: dict[str, Any], name: str, limit: int = 2000) -> str:
    value = msg.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"'{name}' must be non-empty text", field=name)
    return value.strip()[:limit]


__all__ = ["HOWS", "ClarifySession", "Question", "Suggestion"]
