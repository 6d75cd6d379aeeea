"""From Jupyter iopub messages to typed events, under a per-run output cap and rate limit.

Kernel output is untrusted and unbounded (``print('x' * 10**9)``, a million tiny prints), so
every run gets an :class:`OutputLimiter`: a hard cap on the bytes delivered per run and a
token bucket on the rate. Beyond either, output is dropped and one visible
:class:`OutputTruncated` notice says so; a malformed message (see :mod:`sandbox.messages`)
is dropped with one such notice per run too. Status changes and the final error always pass
(an error's traceback is clipped instead) so the user still learns how the run ended.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.errors import KernelProtocolError
from sandbox.messages import check_iopub_content, json_size
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
_MAX_ENAME_CHARS = 1024
MALFORMED_NOTICE = "a malformed message from the kernel was dropped"


def to_event(msg: dict[str, Any]) -> OutputEvent | None:
    """Map one iopub message to an event; None for messages the sandbox does not surface.

    Raises :class:`KernelProtocolError` when the message's type or content does not have the
    shape the Jupyter spec gives it (the caller drops it with a notice).
    """
    header = msg.get("header") if isinstance(msg, dict) else None
    msg_type = header.get("msg_type") if isinstance(header, dict) else None
    c = msg.get("content") if isinstance(msg, dict) else None
    if not isinstance(msg_type, str) or not isinstance(c, dict):
        raise KernelProtocolError("malformed kernel message: no msg_type or content")
    check_iopub_content(msg_type, c)
    if msg_type == "stream":
        name = "stderr" if c["name"] == "stderr" else "stdout"
        return Stream(name=name, text=c["text"])
    if msg_type in ("display_data", "update_display_data"):
        return DisplayData(
            data=dict(c["data"]),
            metadata=dict(c.get("metadata", {})),
            display_id=c.get("transient", {}).get("display_id"),
            update=msg_type == "update_display_data",
        )
    if msg_type == "execute_result":
        return ExecuteResult(
            execution_count=c.get("execution_count"),
            data=dict(c["data"]),
            metadata=dict(c.get("metadata", {})),
        )
    if msg_type == "error":
        return ErrorOutput(ename=c["ename"], evalue=c["evalue"], traceback=list(c.get("traceback", [])))
    if msg_type == "clear_output":
        return ClearOutput(wait=c.get("wait", False))
    if msg_type == "status":
        return KernelStatus(state=c["execution_state"])
    return None


def event_size(event: OutputEvent) -> int:
    """Bytes an event would deliver (text, mime-bundle payloads and their keys, metadata)."""
    if isinstance(event, Stream):
        return len(event.text.encode("utf-8", "replace"))
    if isinstance(event, DisplayData | ExecuteResult):
        return json_size(event.data, "data") + json_size(event.metadata, "metadata")
    if isinstance(event, ErrorOutput):
        return sum(len(line) + 1 for line in event.traceback) + len(event.evalue) + len(event.ename)
    return 0


def _clip_error(event: ErrorOutput) -> ErrorOutput:
    lines, total = [], 0
    for line in event.traceback:
        total += len(line) + 1  # a million empty lines are not free either
        if total > _MAX_TRACEBACK_BYTES:
            lines.append("... traceback truncated ...")
            break
        lines.append(line)
    return ErrorOutput(
        ename=event.ename[:_MAX_ENAME_CHARS], evalue=event.evalue[:_MAX_TRACEBACK_BYTES], traceback=lines
    )


class OutputLimiter:
    """Decides, event by event, what one run may deliver."""

    def __init__(self, cap_bytes: int, rate_bytes_s: int, *, clock: Any = time.monotonic) -> None:
        self.cap_bytes = cap_bytes
        self.rate_bytes_s = rate_bytes_s
        self.delivered = 0
        self.dropped = 0
        self.lost_messages = 0  # messages zmq refused for size: their bytes are unknown
        self.malformed_messages = 0  # messages dropped because they were not well formed
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

    def malformed(self) -> list[OutputEvent]:
        """A kernel message was dropped as malformed: one notice per run says so."""
        self.malformed_messages += 1
        if "malformed" in self._noticed:
            return []
        self._noticed.add("malformed")
        return [OutputTruncated(reason=MALFORMED_NOTICE)]

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
