"""Process signals: facts about how the candidate worked outside the editor's typing.

The candidate's page reports pastes (size, and whether the text came from elsewhere in the
document, from the assistant, or from outside), code inserted from the assistant, and the tab
hidden or the window blurred. Each is validated, bounded and recorded as ``process.signal``;
how long a tab stayed hidden is measured on the server's clock, not taken from the client.
They are facts for the panel to read, never verdicts: nothing here scores anything.

From the recording, the scorecard also reads the candidate's typing pace in bursts
(:func:`typing_pace`) and, through :class:`DocAttribution`, which characters of the final code
came from an assistant insert.
"""

from __future__ import annotations

import base64
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pycrdt import Assoc, Doc, StickyIndex, Text
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from server import events as E
from server.audience import STAFF, Audience
from server.errors import Forbidden, InvalidInput
from server.events import Event
from server.tokens import CANDIDATE

MAX_SIGNALS = 5000  # per session; past it, signals are counted but no longer recorded
MAX_SIZE = 100_000_000
TIMELINE = 500  # signals listed on the scorecard (the recording has all of them)
TEXT_NAME = "code"  # the editor's Y.Text (as in server.document)

# Typing pace. A pause longer than BURST_GAP_MS ends a burst; an update inserting more than
# TYPED_MAX characters at once is not typing (a paste, an insert, a bulk edit) and is left out,
# as is any update matched to a paste or an insert signal.
BURST_GAP_MS = 5_000
TYPED_MAX = 20
BURSTS_LISTED = 200
PACE_MIN_MS = 2_000  # a burst shorter than this has no meaningful pace (cpm is null)
MATCH_RECENT = 20  # insert runs searched when a paste/insert signal looks for its update

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


@dataclass(slots=True)
class Run:
    """What one recorded update inserted: who, when, and the Yjs ids of its characters
    (client, clocks ``[clock, clock + size)``), which stay theirs through every later edit."""

    id: int
    t: int
    role: str
    actor: str
    client: int
    clock: int
    size: int
    index: int  # the update's event index


def _state_vector(data: bytes) -> dict[int, int]:
    """A Yjs state vector (varuint count, then client/clock varuint pairs) as a dict."""
    out: dict[int, int] = {}
    pos = 0

    def varuint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    for _ in range(varuint()):
        client = varuint()
        out[client] = varuint()
    return out


class DocAttribution:
    """Replays the editor's updates in recorded order, knowing which characters each update
    inserted, so the code a candidate inserted from the assistant can be counted in the end.

    This is exact CRDT attribution, not a text match. Every character of a Yjs text has an id
    (client, clock) that it keeps through any later edit; an update's characters are the clocks
    it advanced its client's state by, so a run is read off the state vector before and after
    it (no per-update delta is needed, which keeps a long recording cheap). An ``insert`` signal
    is matched to the recent run of its size whose first character sits at its offset (it
    usually arrives just after the update, on the other socket; if first, it waits for it). At
    the end, the characters of the final text whose ids fall in a matched run are counted:
    text edited around it moves with it, text deleted from it is gone, and the same text retyped
    by hand is not the assistant's. Counts are in the editor's units (characters for ASCII; for
    other text, Yjs counts UTF-16 units).
    """

    def __init__(self) -> None:
        self._doc: Doc | None = None
        self._text: Text | None = None
        self._sv: dict[int, int] = {}
        self.runs: list[Run] = []
        self.assistant: dict[int, int] = {}  # run id -> reply id
        self._pending: list[tuple[int, int | None, int, str]] = []  # (size, at, reply, actor)

    def apply(self, index: int, ev: Event) -> list[Run]:
        """Apply one recorded event; returns the runs a doc update inserted (none for others)."""
        if ev.type == E.PROCESS_SIGNAL:
            p = ev.payload
            size = p.get("size")
            if p.get("kind") == "insert" and isinstance(size, int) and not isinstance(size, bool) and size > 0:
                reply = p.get("reply") if isinstance(p.get("reply"), int) else 0
                at = p.get("at") if isinstance(p.get("at"), int) else None
                if not self._match(size, at, reply, ev.actor, self.runs[-MATCH_RECENT:], latest=True):
                    self._pending = [*self._pending[-MATCH_RECENT:], (size, at, reply, ev.actor)]
            return []
        if ev.type not in (E.DOC_UPDATE, E.DOC_CHECKPOINT):
            return []
        if self._doc is None:
            self._doc = Doc()
            self._text = self._doc.get(TEXT_NAME, type=Text)
        try:
            data = base64.b64decode(ev.payload["update" if ev.type == E.DOC_UPDATE else "state"])
            self._doc.apply_update(data)
            sv = _state_vector(self._doc.get_state())
        except Exception:  # noqa: BLE001 - a damaged update is skipped, as the document rebuild skips it
            return []
        new: list[Run] = []
        for client, clock in sv.items():
            before = self._sv.get(client, 0)
            if clock > before:
                role = ev.role if ev.type == E.DOC_UPDATE else "system"
                new.append(
                    Run(len(self.runs) + len(new) + 1, ev.t, role, ev.actor, client, before, clock - before, index)
                )
        self._sv = sv
        self.runs.extend(new)
        for pending in list(self._pending) if new else []:
            size, at, reply, actor = pending
            if self._match(size, at, reply, actor, new, latest=True):
                self._pending.remove(pending)
        return new

    def _first_at(self, run: Run, at: int) -> bool:
        """Whether the run's first character is at offset ``at`` now."""
        assert self._text is not None
        return at < len(self._text) and self._item_at(at) == (run.client, run.clock)

    def _match(self, size: int, at: int | None, reply: int, actor: str, runs: list[Run], latest: bool) -> bool:
        fits = [r for r in reversed(runs) if r.size == size and r.id not in self.assistant]
        best = next((r for r in fits if at is not None and self._first_at(r, at)), None)
        best = best or next((r for r in fits if r.actor == actor), None)
        if best is None:
            return False
        self.assistant[best.id] = reply
        return True

    def _item_at(self, i: int) -> tuple[Any, Any]:
        assert self._text is not None
        item = self._text.sticky_index(i, Assoc.AFTER).to_json().get("item") or {}
        return item.get("client"), item.get("clock")

    def assistant_chars(self) -> int:
        """Characters of the current text that came from an assistant insert: for each character
        id of a matched run, where that id is now, and whether the character there still has it
        (a deleted character resolves to where it was, with another character in its place)."""
        if not self.assistant or self._text is None:
            return 0
        text = self._text
        length = len(text)
        count = 0
        for run in self.runs:
            if run.id not in self.assistant:
                continue
            for clock in range(run.clock, run.clock + run.size):
                sticky = StickyIndex.from_json({"item": {"client": run.client, "clock": clock}, "assoc": 0}, text)
                at = sticky.get_index()
                if 0 <= at < length and self._item_at(at) == (run.client, clock):
                    count += 1
        return count

    def share(self) -> dict[str, Any]:
        """``final_code_share`` (0..1, or None when nothing was inserted) and the two counts."""
        total = len(self._text) if self._text is not None else 0
        chars = self.assistant_chars()
        share = None if not self.assistant else (round(chars / total, 4) if total else 0.0)
        return {"final_code_share": share, "final_code_chars_from_assistant": chars, "final_code_chars": total}


def typing_pace(events: Sequence[Event]) -> dict[str, Any]:
    """The candidate's typing as bursts: facts, not a verdict.

    Typed characters are those the candidate's own editor updates inserted, each update at most
    ``TYPED_MAX`` characters and not matched to a paste or assistant insert; a burst ends at a
    pause longer than ``BURST_GAP_MS``. A burst's pace (characters a minute) is given when it
    lasted at least ``PACE_MIN_MS``; ``median_cpm`` is the median of those.
    """
    doc = DocAttribution()
    typed: list[tuple[int, int]] = []  # (t, chars)
    pasted: list[tuple[int, int]] = []  # (t, size) of paste signals, to leave their updates out
    for index, ev in enumerate(events):
        if ev.type == E.PROCESS_SIGNAL and ev.payload.get("kind") == "paste":
            size = ev.payload.get("size")
            if isinstance(size, int) and not isinstance(size, bool):
                pasted.append((ev.t, size))
        runs = doc.apply(index, ev)
        if ev.type != E.DOC_UPDATE or ev.role != CANDIDATE or not runs:
            continue
        chars = sum(r.size for r in runs)
        if chars > TYPED_MAX:
            continue
        if any(r.size == size and abs(r.t - t) <= BURST_GAP_MS for r in runs for t, size in pasted[-5:]):
            continue
        typed.append((ev.t, chars))
    # An insert signal can arrive after its update: drop the runs finally matched to the assistant.
    inserted = {(r.t, r.size) for r in doc.runs if r.id in doc.assistant}
    typed = [(t, c) for t, c in typed if (t, c) not in inserted]
    bursts: list[dict[str, Any]] = []
    first = last = chars = 0
    for n, (t, c) in enumerate(typed):
        if n and t - last > BURST_GAP_MS:
            bursts.append(_burst(first, last, chars))
            chars = 0
        if not chars:
            first = t
        last, chars = t, chars + c
    if chars:
        bursts.append(_burst(first, last, chars))
    paces = [b["cpm"] for b in bursts if b["cpm"] is not None]
    return {
        "bursts": len(bursts),
        "gap_s": BURST_GAP_MS / 1000,
        "typed_chars": sum(b["chars"] for b in bursts),
        "median_cpm": round(statistics.median(paces)) if paces else None,
        "longest_burst_s": max((b["seconds"] for b in bursts), default=0.0),
        "list": bursts[:BURSTS_LISTED],
    }


def _burst(first: int, last: int, chars: int) -> dict[str, Any]:
    ms = last - first
    cpm = round(chars * 60_000 / ms) if ms >= PACE_MIN_MS else None
    return {"t": first, "seconds": round(ms / 1000, 1), "chars": chars, "cpm": cpm}


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
        "typing": typing_pace(events),
    }
