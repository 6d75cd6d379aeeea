"""Typed output events and run results. A leaf module: imports nothing from the package.

``Kernel.execute`` yields :data:`OutputEvent` values as they arrive and ends with an
:class:`ExecutionResult`. Every record is a frozen dataclass with a ``kind`` tag and
:meth:`to_json`, so the server can forward and record it without knowing the Jupyter protocol.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

RunStatus = Literal["ok", "error", "interrupted", "timed_out", "killed"]
KernelState = Literal["starting", "idle", "busy", "restarting", "dead"]


class _Event:
    kind: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with the event's ``kind`` and fields."""
        return {"kind": self.kind, **dataclasses.asdict(self)}  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class Stream(_Event):
    """Text written to stdout or stderr."""

    name: Literal["stdout", "stderr"]
    text: str
    kind: Literal["stream"] = "stream"


@dataclass(frozen=True, slots=True)
class DisplayData(_Event):
    """A rich output: a mime bundle such as ``{"image/png": <base64>, "text/plain": ...}``."""

    data: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    display_id: str | None = None
    update: bool = False
    kind: Literal["display_data"] = "display_data"


@dataclass(frozen=True, slots=True)
class ExecuteResult(_Event):
    """The value of the last expression of a cell (``Out[n]``)."""

    execution_count: int | None
    data: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    kind: Literal["execute_result"] = "execute_result"


@dataclass(frozen=True, slots=True)
class ErrorOutput(_Event):
    """An exception raised by the code, with its (ANSI-coloured) traceback lines."""

    ename: str
    evalue: str
    traceback: list[str]
    kind: Literal["error"] = "error"


@dataclass(frozen=True, slots=True)
class ClearOutput(_Event):
    """The code asked to clear its output (``IPython.display.clear_output``)."""

    wait: bool = False
    kind: Literal["clear_output"] = "clear_output"


@dataclass(frozen=True, slots=True)
class KernelStatus(_Event):
    """The kernel's execution state changed (busy, idle, restarting, dead)."""

    state: KernelState
    kind: Literal["status"] = "status"


@dataclass(frozen=True, slots=True)
class OutputTruncated(_Event):
    """Output beyond the per-run cap or rate was dropped; shown to the user as a notice."""

    reason: str
    kind: Literal["output_truncated"] = "output_truncated"


OutputEvent = Stream | DisplayData | ExecuteResult | ErrorOutput | ClearOutput | KernelStatus | OutputTruncated


@dataclass(frozen=True, slots=True)
class ExecutionResult(_Event):
    """How a run ended.

    ``status`` is ``ok``, ``error`` (the code raised), ``interrupted`` (a user interrupt),
    ``timed_out`` (the time limit interrupted it) or ``killed`` (the kernel died: out of memory,
    a crash, ``os._exit``). ``restarted`` says the sandbox restarted the kernel afterwards, so
    state is gone. ``dropped_bytes`` counts output that was not delivered (for a message
    refused for exceeding ``max_message_bytes`` it counts that limit, a lower bound).
    """

    status: RunStatus
    duration_ms: float
    execution_count: int | None = None
    reason: str | None = None
    restarted: bool = False
    dropped_bytes: int = 0
    kind: Literal["result"] = "result"
