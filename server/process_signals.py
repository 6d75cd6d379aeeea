"""Process signals: facts about how the candidate worked outside the editor's typing.

The candidate's page reports pastes (size, and whether the text came from elsewhere in the
document, from the assistant, or from outside), code inserted from the assistant, and the tab
hidden or the window blurred. Each is validated, bounded and recorded as ``process.signal``;
how long a tab stayed hidden is measured on the server's clock, not taken from the client.
They are facts for the panel to read, never verdicts: nothing here scores anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from server import events as E
from server.audience import STAFF, Audience
from server.errors import Forbidden, InvalidInput
from server.events import Event
from server.tokens import CANDIDATE

MAX_SIGNALS = 5000  # per session; past it, signals are counted but no longer recorded
MAX_SIZE = 100_000_000
TIMELINE = 500  # signals listed on the scorecard (the recording has all of them)

Record = Callable[..., tuple[int, Event]]
Broadcast = Callable[[dict[str, Any], Audience], None]

# kind -> the kind that ends it (its duration is measured when it ends)
_ENDS = {"visible": "hidden", "focus": "blur"}


class SignalMsg(BaseModel):
    """``{"type": "signal", "kind": ..., "size": ..., "source": ...}`` from the candidate's page."""

    model_config = ConfigDict(extra="ignore")
    kind: Literal["paste", "insert", "copy", "hidden", "visible", "blur", "focus"]
    size: StrictInt | None = Field(None, ge=0, le=MAX_SIZE)
    source: Literal["document", "assistant", "external"] | None = None
    reply: StrictInt | None = Field(None, ge=0)
    at: StrictInt | None = Field(None, ge=0, le=MAX_SIZE)


class ProcessSignals:
    """The signals of one session; state changes only through :meth:`apply` of recorded events."""

    def __init__(self, record: Record, broadcast: Broadcast) -> None:
        self.count = 0
        self.dropped = 0
        self._since: dict[tuple[str, str], int] = {}  # (actor, hidden|blur) -> when it began
        self._record = record
        self._broadcast = broadcast

    def replay(self, events: Iterable[Event]) -> None:
        for index, ev in enumerate(events):
            self.apply(index, ev)

    def apply(self, index: int, ev: Event) -> None:
        if ev.type != E.PROCESS_SIGNAL:
            return
        self.count += 1
        kind = ev.payload.get("kind")
        if kind in ("hidden", "blur"):
            self._since[(ev.actor, str(kind))] = ev.t
        elif kind in _ENDS:
            self._since.pop((ev.actor, _ENDS[str(kind)]), None)

    def handle(self, msg: dict[str, Any], role: str, actor: str, now: int) -> None:
        """Validate and record one signal from the candidate; staff see it live."""
        if role != CANDIDATE:
            raise Forbidden(f"the {role} role does not send process signals")
        try:
            m = SignalMsg.model_validate(msg)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(str(p) for p in err["loc"]) or "message"
            raise InvalidInput(f"'{name}': {err['msg']}", field=name) from None
        payload: dict[str, Any] = {"kind": m.kind}
        if m.kind in ("paste", "insert", "copy"):
            if m.size is None:
                raise InvalidInput(f"a {m.kind} signal needs its 'size'", field="size")
            source = m.source or ("assistant" if m.kind == "insert" else "external")
            if m.kind == "insert" and source != "assistant":
                raise InvalidInput("an insert signal comes from the assistant", field="source")
            payload.update(size=m.size, source=source)
            if m.reply is not None:
                payload["reply"] = m.reply
            if m.at is not None:
                payload["at"] = m.at
        elif m.kind in ("hidden", "blur"):
            if (actor, m.kind) in self._since:
                return  # already hidden (another tab of the same link): nothing new happened
        else:
            began = self._since.get((actor, _ENDS[m.kind]))
            if began is None:
                return  # shown without having been hidden: nothing to record
            payload["duration_ms"] = max(0, now - began)
        if self.count >= MAX_SIGNALS:
            self.dropped += 1
            return
        index, ev = self._record(E.PROCESS_SIGNAL, role, actor, **payload)
        self.apply(index, ev)
        self._broadcast({"type": "signal", "t": ev.t, "actor": actor, **payload}, STAFF)


def summary(events: Sequence[Event]) -> dict[str, Any]:
    """The scorecard's process facts: counts, sizes and durations, and a timeline to replay."""
    pastes = {"document": 0, "assistant": 0, "external": 0}
    paste_chars = {"document": 0, "assistant": 0, "external": 0}
    largest = 0
    inserts = insert_chars = copies = 0
    away = {"hidden": [0, 0, 0], "blur": [0, 0, 0]}  # count, total ms, longest ms
    timeline: list[dict[str, Any]] = []
    for index, ev in enumerate(events):
        if ev.type != E.PROCESS_SIGNAL:
            continue
        p = ev.payload
        kind, size = p.get("kind"), p.get("size")
        size = size if isinstance(size, int) and not isinstance(size, bool) else 0
        if kind == "paste" and p.get("source") in pastes:
            pastes[p["source"]] += 1
            paste_chars[p["source"]] += size
            largest = max(largest, size)
        elif kind == "insert":
            inserts += 1
            insert_chars += size
        elif kind == "copy":
            copies += 1
        elif kind in ("hidden", "blur"):
            away[kind][0] += 1
        elif kind in _ENDS:
            ms = p.get("duration_ms")
            if isinstance(ms, int) and not isinstance(ms, bool):
                away[_ENDS[kind]][1] += ms
                away[_ENDS[kind]][2] = max(away[_ENDS[kind]][2], ms)
        if len(timeline) < TIMELINE:
            timeline.append({"t": ev.t, "event": index, **{k: v for k, v in p.items() if k != "by_name"}})
    return {
        "pastes": sum(pastes.values()),
        "pastes_by_source": pastes,
        "pasted_chars_by_source": paste_chars,
        "largest_paste": largest,
        "assistant_inserts": inserts,
        "assistant_inserted_chars": insert_chars,
        "copies": copies,
        "tab_hidden": {"times": away["hidden"][0], "total_ms": away["hidden"][1], "longest_ms": away["hidden"][2]},
        "window_blurred": {"times": away["blur"][0], "total_ms": away["blur"][1], "longest_ms": away["blur"][2]},
        "timeline": timeline,
    }
