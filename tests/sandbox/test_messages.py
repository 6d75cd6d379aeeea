"""The Jupyter message checks, without a kernel: each malformed shape is refused with
:class:`KernelProtocolError` (the reader drops it with a notice); well-formed ones map as before."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.errors import KernelProtocolError, SandboxError
from sandbox.messages import check_envelope, check_execute_reply
from sandbox.output import OutputLimiter, to_event
from sandbox.types import DisplayData, OutputTruncated


def msg(msg_type: str, content: Any, **over: Any) -> dict[str, Any]:
    m = {
        "header": {"msg_type": msg_type, "msg_id": "m1"},
        "parent_header": {"msg_id": "p1"},
        "metadata": {},
        "content": content,
    }
    m.update(over)
    return m


BAD_IOPUB = [
    ("display_data", {"data": {"text/plain": "x"}, "metadata": {}, "transient": "x"}),
    ("display_data", {"data": [1], "metadata": {}}),
    ("display_data", {"data": {"text/plain": 1}, "metadata": {}}),
    ("display_data", {"data": {"text/plain": "x"}, "metadata": "m"}),
    ("display_data", {"data": {"k" * 1000: "v"}, "metadata": {}}),
    ("display_data", {"data": {"text/plain": "\ud800"}, "metadata": {}}),
    ("update_display_data", {"data": {}, "metadata": {}}),
    ("execute_result", {"data": {}, "metadata": {}, "execution_count": "1"}),
    ("execute_result", {"data": {}, "metadata": {}, "execution_count": True}),
    ("stream", {"name": "stdout", "text": 123}),
    ("stream", {}),
    ("error", {"ename": "E", "evalue": "v", "traceback": "str"}),
    ("error", {"ename": 1, "evalue": "v", "traceback": []}),
    ("clear_output", {"wait": "yes"}),
    ("status", {"execution_state": "weird"}),
    ("bogus", {}),
]


@pytest.mark.parametrize(("msg_type", "content"), BAD_IOPUB)
def test_malformed_iopub_content_is_refused(msg_type: str, content: Any) -> None:
    with pytest.raises(KernelProtocolError, match="malformed"):
        to_event(msg(msg_type, content))


def test_deep_json_is_refused() -> None:
    v: Any = "x"
    for _ in range(100):
        v = [v]
    with pytest.raises(KernelProtocolError, match="nests deeper"):
        to_event(msg("display_data", {"data": {"application/json": v}, "metadata": {}}))


@pytest.mark.parametrize(
    "bad",
    [
        [1],
        {"header": "h", "parent_header": {}, "metadata": {}, "content": {}},
        msg("stream", [1]),
        msg("stream", {}, parent_header=[1]),
        msg("stream", {}, metadata="m"),
        msg("stream", {}, header={"msg_type": 5, "msg_id": "x"}),
        msg("stream", {}, header={"msg_type": "stream"}),
        msg("stream", {}, header={"msg_type": "s" * 1000, "msg_id": "x"}),
    ],
)
def test_malformed_envelopes_are_refused(bad: Any) -> None:
    with pytest.raises(KernelProtocolError):
        check_envelope(bad)


@pytest.mark.parametrize(
    "content",
    [
        {"execution_count": 1},
        {"status": "ok", "execution_count": "x"},
        {"status": 1, "execution_count": 1},
        {"status": "error", "execution_count": 1},
        {"status": "error", "execution_count": 1, "ename": "E", "evalue": 2},
    ],
)
def test_malformed_execute_replies_are_refused(content: dict[str, Any]) -> None:
    with pytest.raises(KernelProtocolError):
        check_execute_reply(msg("execute_reply", content))


def test_good_messages_still_map() -> None:
    shown = to_event(msg("display_data", {"data": {"text/plain": "x"}, "metadata": {}, "transient": {}}))
    assert isinstance(shown, DisplayData) and shown.display_id is None
    assert to_event(msg("comm_open", {"whatever": [1]})) is None  # known, not surfaced
    reply = check_execute_reply(
        msg("execute_reply", {"status": "error", "execution_count": None, "ename": "E", "evalue": "v"})
    )
    assert reply.ename == "E" and reply.execution_count is None


def test_protocol_errors_are_sandbox_errors_and_noticed_once_per_run() -> None:
    assert issubclass(KernelProtocolError, SandboxError)
    limiter = OutputLimiter(1000, 1000)
    first, second = limiter.malformed(), limiter.malformed()
    assert len(first) == 1 and isinstance(first[0], OutputTruncated) and second == []
    assert limiter.malformed_messages == 2


def test_huge_mime_keys_count_against_the_output_cap() -> None:
    limiter = OutputLimiter(1000, 10**9)
    event = DisplayData(data={"a" * 200: "x"}, metadata={"m": "y" * 900})
    [notice] = limiter.admit(event)
    assert isinstance(notice, OutputTruncated)
