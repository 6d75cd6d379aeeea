"""The discovery ledger: for each hidden constraint, whether, how and when it was surfaced.

Pure and rebuildable: :meth:`server.clarify.session.ClarifySession.apply` feeds it recorded
``clarify.discovered`` and ``run.started`` events, live and in replay alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

How = Literal["typed", "aloud", "check", "volunteered"]
HOWS: tuple[How, ...] = ("typed", "aloud", "check", "volunteered")


@dataclass(frozen=True, slots=True)
class Discovery:
    """How and when one constraint was first surfaced, and the recording event behind it."""

    constraint: str
    how: How
    t: int
    before_first_run: bool
    event: int  # index of the supporting event in the recording
    quote: str = ""

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

    def discover(self, constraint: str, how: How, t: int, event: int, quote: str = "") -> Discovery | None:
        """Record a discovery; returns it, or None if unknown or already discovered."""
        if constraint not in self.constraint_ids or constraint in self.entries or how not in HOWS:
            return None
        before = self.first_run_t is None or t < self.first_run_t
        d = Discovery(constraint, how, t, before, event, quote)
        self.entries[constraint] = d
        return d

    def to_json(self) -> dict[str, Any]:
        return {
            "first_run_t": self.first_run_t,
            "constraints": {
                cid: (self.entries[cid].to_json() if cid in self.entries else None) for cid in self.constraint_ids
            },
        }
