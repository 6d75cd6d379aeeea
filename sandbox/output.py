"""From Jupyter iopub messages to typed events, under a per-run output cap and rate limit.

Kernel output is untrusted and unbounded (``print('x' * 10**9)``, a million tiny prints), so
every run gets an :class:`OutputLimiter`: a hard cap on the bytes delivered per run and a
token bucket on the rate. Beyond either, output is dropped and one visible
:class:`OutputTruncated` notice says so. Status changes and the final error always pass
(an error's traceback is clipped instead) so the user still learns how the run ended.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.types import (
    ClearOutput,
    DisplayData,
    ErrorOutput,
    ExecuteResult,
    KernelStatus,
    OutputEvent,
    OutputTruncated,
    Stream,
)

_MAX_TRACEBACK_BYTES = 64 * 1024


def to_event(msg: dict[str, Any]) -> OutputEvent | None:
    """Map one iopub message to an event; None for messages the sandbox does not surface."""
    msg_type = msg["header"]["msg_type"]
    c = msg["content"]
    if msg_type == "stream":
        name = "stderr" if c.get("name") == "stderr" else "stdout"
        return Stream(name=name, text=str(c.get("text", "")))
    if msg_type in ("display_data", "update_display_data"):
        return DisplayData(
            data=dict(c.get("data") or {}),
            metadata=dict(c.get("metadata") or {}),
            display_id=(c.get("transient") or {}).get("display_id"),
            update=msg_type == "update_display_data",
        )
    if msg_type == "execute_result":
        return ExecuteResult(
            execution_count=c.get("execution_count"),
            data=dict(c.get("data") or {}),
            metadata=dict(c.get("metadata") or {}),
        )
    if msg_type == "error":
        return ErrorOutput(
            ename=str(c.get("ename", "")), evalue=str(c.get("evalue", "")), traceback=list(c.get("traceback") or [])
        )
    if msg_type == "clear_output":
        return ClearOutput(wait=bool(c.get("wait", False)))
    if msg_type == "status":
        state = c.get("execution_state")
        if state in ("busy", "idle", "starting"):
            return KernelStatus(state=state)
    return None


def event_size(event: OutputEvent) -> int:
    """Bytes an event would deliver (text and mime-bundle payloads)."""
    if isinstance(event, Stream):
        return len(event.text.encode("utf-8", "replace"))
    if isinstance(event, DisplayData | ExecuteResult):
        return sum(len(str(v)) for v in event.data.values())
    if isinstance(event, ErrorOutput):
        return sum(len(line) for line in event.traceback) + len(event.evalue)
    return 0


def _clip_error(event: ErrorOutput) -> ErrorOutput:
    lines, total = [], 0
    for line in event.traceback:
        total += len(line)
        if total > _MAX_TRACEBACK_BYTES:
            lines.append("... traceback truncated ...")
            break
        lines.append(line)
    return ErrorOutput(ename=event.ename, evalue=event.evalue[:_MAX_TRACEBACK_BYTES], traceback=lines)


class OutputLimiter:
    """Decides, event by event, what one run may deliver."""

    def __init__(self, cap_bytes: int, rate_bytes_s: int, *, clock: Any = time.monotonic) -> None:
        self.cap_bytes = cap_bytes
        self.rate_bytes_s = rate_bytes_s
        self.delivered = 0
        self.dropped = 0
        self.lost_messages = 0  # messages zmq refused for size: their bytes are unknown
        self._clock = clock
        # The bucket holds a full cap's worth: a burst up to the cap goes straight through;
        # a run that keeps printing is then held to the sustained rate.
        self._tokens = float(cap_bytes)
        self._last = clock()
        self._noticed: set[str] = set()

    def admit(self, event: OutputEvent) -> list[OutputEvent]:
        """The events to deliver for ``event``: itself, nothing, or a truncation notice."""
        if isinstance(event, KernelStatus | ClearOutput):
            return [event]
        if isinstance(event, ErrorOutput):
            return [_clip_error(event)]
        size = event_size(event)
        now = self._clock()
        self._tokens = min(float(self.cap_bytes), self._tokens + (now - self._last) * self.rate_bytes_s)
        self._last = now
        if self.delivered + size > self.cap_bytes:
            return self._drop(size, "cap", f"output truncated: this run printed more than {_human(self.cap_bytes)}")
        if size > self._tokens:
            return self._drop(
                size, "rate", f"output truncated: more than {_human(self.rate_bytes_s)}/s; some output was dropped"
            )
        self._tokens -= size
        self.delivered += size
        return [event]

    def _drop(self, size: int, why: str, text: str) -> list[OutputEvent]:
        self.dropped += size
        if why in self._noticed:
            return []
        self._noticed.add(why)
        return [OutputTruncated(reason=text)]


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}".replace(".0 ", " ")
        n /= 1024  # type: ignore[assignment]
    return str(n)
