"""The discovery ledger: for each hidden constraint, whether, how and when it was surfaced.

Pure and rebuildable: :meth:`server.clarify.session.ClarifySession.apply` feeds it recorded
``clarify.discovered``, ``clarify.overturned``, ``clarify.undone`` and ``run.started`` events,
live and in replay alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

How = Literal["typed", "aloud", "check", "volunteered", "assistant"]
# "assistant": asked the AI assistant about it, and staff granted the credit (scored like typed).
HOWS: tuple[How, ...] = ("typed", "aloud", "check", "volunteered", "assistant")


@dataclass(frozen=True, slots=True)
class Discovery:
    """How and when one constraint was first surfaced, and the recording event behind it.

    ``auto`` says auto mode gave the credit (nobody judged it); ``overturned`` is ``None`` or
    ``{by, name, t, reason}`` when a person took the credit back: the entry stays visible, for
    the record, and counts for nothing.
    """

    constraint: str
    how: How
    t: int
    before_first_run: bool
    event: int  # index of the supporting event in the recording
    quote: str = ""
    index: int = -1  # index of the clarify.discovered event itself (what undo and overturn name)
    by: str = ""
    auto: bool = False
    overturned: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Ledger:
    """First discovery wins: a constraint volunteered by the interviewer stays volunteered."""

    def __init__(self, constraint_ids: Sequence[str]) -> None:
        self.constraint_ids = list(constraint_ids)
        self.entries: dict[str, Discovery] = {}
        self.first_run_t: int | None = None

    def note_run(self, t: int) -> None:
        """A run started at ``t`` (only the first one matters)."""
        if self.first_run_t is None:
            self.first_run_t = t

    def discover(
        self,
        constraint: str,
        how: How,
        t: int,
        event: int,
        quote: str = "",
        *,
        index: int = -1,
        by: str = "",
        auto: bool = False,
    ) -> Discovery | None:
        """Record a discovery; returns it, or None if unknown or already discovered."""
        if constraint not in self.constraint_ids or constraint in self.entries or how not in HOWS:
            return None
        before = self.first_run_t is None or t < self.first_run_t
        d = Discovery(constraint, how, t, before, event, quote, index, by, auto)
        self.entries[constraint] = d
        return d

    def overturn(self, constraint: str, by: str, name: str, t: int, reason: str) -> Discovery | None:
        """Take a credit back (kept visible, scored as nothing); None if there is none to take."""
        d = self.entries.get(constraint)
        if d is None or d.overturned is not None:
            return None
        d = replace(d, overturned={"by": by, "name": name, "t": t, "reason": reason})
        self.entries[constraint] = d
        return d

    def remove(self, constraint: str) -> Discovery | None:
        """Forget a discovery that was undone as a correction (a later mark may then be made)."""
        return self.entries.pop(constraint, None)

    def to_json(self) -> dict[str, Any]:
        return {
            "first_run_t": self.first_run_t,
            "constraints": {
                cid: (self.entries[cid].to_json() if cid in self.entries else None) for cid in self.constraint_ids
            },
        }
