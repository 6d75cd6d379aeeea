"""Pure tests of the per-run output cap and rate limit (no kernel)."""

from __future__ import annotations

from sandbox.output import OutputLimiter, to_event
from sandbox.types import ErrorOutput, KernelStatus, OutputTruncated, Stream


class FakeClock:
    """A controllable clock (an in-memory stand-in for time.monotonic)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_output_under_the_cap_passes_untouched() -> None:
    limiter = OutputLimiter(cap_bytes=100, rate_bytes_s=10, clock=FakeClock())
    event = Stream(name="stdout", text="x" * 60)
    assert limiter.admit(event) == [event]
    assert limiter.delivered == 60 and limiter.dropped == 0


def test_cap_drops_the_rest_with_one_notice() -> None:
    limiter = OutputLimiter(cap_bytes=100, rate_bytes_s=1000, clock=FakeClock())
    limiter.admit(Stream(name="stdout", text="x" * 90))
    first = limiter.admit(Stream(name="stdout", text="y" * 20))
    second = limiter.admit(Stream(name="stdout", text="z" * 20))
    assert len(first) == 1 and isinstance(first[0], OutputTruncated)
    assert "100 B" in first[0].reason
    assert second == []
    assert limiter.dropped == 40 and limiter.delivered == 90


def test_rate_limit_drops_a_burst_then_recovers() -> None:
    clock = FakeClock()
    limiter = OutputLimiter(cap_bytes=1000, rate_bytes_s=100, clock=clock)
    limiter.cap_bytes = 10_000  # a big cap, so only the rate can drop
    assert limiter.admit(Stream(name="stdout", text="a" * 1000))[0].kind == "stream"
    dropped = limiter.admit(Stream(name="stdout", text="b" * 500))
    assert isinstance(dropped[0], OutputTruncated) and "/s" in dropped[0].reason
    clock.now = 6.0  # 600 bytes of budget have accrued
    assert limiter.admit(Stream(name="stdout", text="c" * 500))[0].kind == "stream"


def test_status_and_errors_always_pass_but_tracebacks_are_clipped() -> None:
    limiter = OutputLimiter(cap_bytes=10, rate_bytes_s=1, clock=FakeClock())
    limiter.admit(Stream(name="stdout", text="x" * 10))
    status = KernelStatus(state="idle")
    assert limiter.admit(status) == [status]
    huge = ErrorOutput(ename="ValueError", evalue="bad", traceback=["line\n" * 1000] * 100)
    [clipped] = limiter.admit(huge)
    assert isinstance(clipped, ErrorOutput) and clipped.ename == "ValueError"
    assert sum(len(line) for line in clipped.traceback) < 70 * 1024
    assert clipped.traceback[-1] == "... traceback truncated ..."


def test_iopub_messages_map_to_typed_events() -> None:
    def msg(msg_type: str, content: dict) -> dict:
        return {"header": {"msg_type": msg_type}, "content": content}

    assert to_event(msg("stream", {"name": "stderr", "text": "w"})) == Stream(name="stderr", text="w")
    shown = to_event(
        msg("display_data", {"data": {"image/png": "AA=="}, "metadata": {}, "transient": {"display_id": "d"}})
    )
    assert shown is not None and shown.kind == "display_data" and shown.display_id == "d"
    assert to_event(msg("execute_input", {"code": "1"})) is None
    assert to_event(msg("status", {"execution_state": "busy"})) == KernelStatus(state="busy")
