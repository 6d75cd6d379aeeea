"""Runs: one queued or finished piece of code, what it printed, and the run history rebuilt
from a recording. Pure: no I/O.

A run keeps only a bounded share of its output in memory (what a new connection's greeting
carries); the recording has all of it, fetched on demand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from server import events as E
from server.events import Event

MAX_HISTORY_RUNS = 200


@dataclass(frozen=True)
class Limits:
    """What one session may make the server hold (from the settings)."""

    max_queued_runs: int = 20
    hello_runs: int = 50
    hello_output_bytes: int = 64 * 1024
    max_recording_bytes: int = 256 * 1024 * 1024
    max_connections_per_token: int = 8
    max_doc_chars: int | None = 1_000_000


def size_of(payload: dict[str, Any]) -> int:
    """Bytes a payload takes in the recording (its compact JSON)."""
    return len(json.dumps(payload, separators=(",", ":")))


@dataclass
class Run:
    """One queued or finished run and what it printed (as sent to clients)."""

    id: int
    by_role: str
    by_actor: str
    code: str
    state: str = "queued"
    outputs: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    output_bytes: int = 0  # of the outputs kept in memory
    outputs_truncated: bool = False  # older outputs are in the recording only

    def add_output(self, output: dict[str, Any], keep_bytes: int) -> None:
        """Keep an output in memory while the run's share allows; the recording has them all."""
        size = size_of(output)
        if self.output_bytes + size > keep_bytes:
            self.outputs_truncated = True
            return
        self.output_bytes += size
        self.outputs.append(output)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "by": {"role": self.by_role, "actor": self.by_actor},
            "code": self.code,
            "state": self.state,
            "outputs": self.outputs,
            "outputs_truncated": self.outputs_truncated,
            "result": self.result,
        }


def runs_from_events(events: list[Event], keep_bytes: int = Limits.hello_output_bytes) -> list[Run]:
    """Rebuild the run history from a recording (after a server restart), as the live one keeps it."""
    runs: dict[int, Run] = {}
    for ev in events:
        p = ev.payload
        run_id = p.get("run")
        if not isinstance(run_id, int):
            continue
        if ev.type == E.RUN_QUEUED:
            runs[run_id] = Run(run_id, ev.role, ev.actor, str(p.get("code", "")))
        elif ev.type == E.RUN_STARTED and run_id in runs:
            runs[run_id].state = "running"
        elif ev.type == E.RUN_OUTPUT and run_id in runs and isinstance(p.get("output"), dict):
            runs[run_id].add_output(p["output"], keep_bytes)
        elif ev.type == E.RECORDING_BUDGET and run_id in runs:
            runs[run_id].outputs_truncated = True
        elif ev.type == E.RUN_DONE and run_id in runs:
            runs[run_id].state = "done"
            runs[run_id].result = p.get("result")
    for run in runs.values():
        if run.state != "done":
            run.state = "done"
            run.result = {"status": "error", "reason": "the server restarted during this run"}
    return list(runs.values())[-MAX_HISTORY_RUNS:]


def outputs_from_events(events: list[Event], run_id: int) -> list[dict[str, Any]]:
    """Every recorded output of one run (what ``hello`` leaves out)."""
    return [
        ev.payload["output"]
        for ev in events
        if ev.type == E.RUN_OUTPUT and ev.payload.get("run") == run_id and isinstance(ev.payload.get("output"), dict)
    ]
