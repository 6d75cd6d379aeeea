"""Checks that a Jupyter message has the shape the messaging spec gives it, before any use.

Everything a kernel sends is hostile input: the code in the kernel holds the session key, so it
can sign any JSON it likes (``get_ipython().kernel.session.send(...)``). A message is used only
after it passes these checks; one that fails raises :class:`KernelProtocolError`, which the
reader turns into a dropped message and a visible notice, never a crash.

The checks follow the Jupyter messaging spec (version 5): the envelope (header, parent header,
metadata, content: all dicts; ``msg_type`` and ``msg_id`` short strings), then the content of
each message type the sandbox reads. JSON values in mime bundles and metadata are walked with a
depth bound (so nothing downstream recurses without end) and strings must encode as UTF-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.errors import KernelProtocolError

Message = dict[str, Any]

MAX_NAME_CHARS = 256  # msg_type, msg_id, mime type keys, display ids, stream names
MAX_JSON_DEPTH = 32
EXECUTION_STATES = ("busy", "idle", "starting")
EXECUTE_REPLY_STATUSES = ("ok", "error", "aborted")
# iopub messages the sandbox does not surface but a well-behaved kernel sends: ignored quietly.
# Anything else is unknown and dropped with a notice.
IGNORED_IOPUB = frozenset(
    {"execute_input", "debug_event", "comm_open", "comm_msg", "comm_close", "shutdown_reply", "input_request"}
)
SURFACED_IOPUB = frozenset(
    {"stream", "display_data", "update_display_data", "execute_result", "error", "clear_output", "status"}
)


def _fail(what: str) -> KernelProtocolError:
    return KernelProtocolError(f"malformed kernel message: {what}")


def _short_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _fail(f"{what} is {type(value).__name__}, not a string")
    if len(value) > MAX_NAME_CHARS:
        raise _fail(f"{what} is longer than {MAX_NAME_CHARS} characters")
    _utf8(value, what)
    return value


def _utf8(value: str, what: str) -> None:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _fail(f"{what} is not valid UTF-8 (lone surrogates)") from None


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _fail(f"{what} is {type(value).__name__}, not a string")
    _utf8(value, what)
    return value


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"{what} is {type(value).__name__}, not an object")
    return value


def json_size(value: Any, what: str, depth: int = 0) -> int:
    """Check that ``value`` is plain JSON (bounded depth, UTF-8 strings) and return its rough size
    in bytes: string lengths (keys included) plus a little per item."""
    if isinstance(value, str):
        _utf8(value, what)
        return len(value)
    if value is None or isinstance(value, bool | int | float):
        return 8
    if depth >= MAX_JSON_DEPTH:
        raise _fail(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, dict):
        total = 2
        for k, v in value.items():
            if not isinstance(k, str):
                raise _fail(f"{what} has a non-string key")
            _utf8(k, what)
            total += len(k) + 4 + json_size(v, what, depth + 1)
        return total
    if isinstance(value, list):
        return 2 + sum(1 + json_size(v, what, depth + 1) for v in value)
    raise _fail(f"{what} holds a {type(value).__name__}")


def check_envelope(msg: Any) -> Message:
    """The parts every message has: raise :class:`KernelProtocolError` unless they are well formed."""
    msg = _dict(msg, "message")
    header = _dict(msg.get("header"), "header")
    _short_str(header.get("msg_type"), "header.msg_type")
    _short_str(header.get("msg_id"), "header.msg_id")
    parent = _dict(msg.get("parent_header"), "parent_header")
    if "msg_id" in parent:
        _short_str(parent["msg_id"], "parent_header.msg_id")
    _dict(msg.get("metadata"), "metadata")
    _dict(msg.get("content"), "content")
    return msg


def parent_id(msg: Message) -> str | None:
    """The ``msg_id`` of the request a (checked) message answers, if any."""
    value = msg["parent_header"].get("msg_id")
    return value if isinstance(value, str) else None


def _bundle(content: dict[str, Any], what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    data = _dict(content.get("data"), f"{what}.data")
    for key, value in data.items():
        _short_str(key, f"{what}.data key")
        if not isinstance(value, str | dict | list):
            raise _fail(f"{what}.data[{key[:40]!r}] is {type(value).__name__}, not a string, object or list")
        json_size(value, f"{what}.data")
    metadata = _dict(content.get("metadata", {}), f"{what}.metadata")
    json_size(metadata, f"{what}.metadata")
    return data, metadata


def check_iopub_content(msg_type: str, content: dict[str, Any]) -> None:
    """Raise :class:`KernelProtocolError` unless ``content`` is what the spec gives ``msg_type``.

    Types the sandbox ignores are accepted as they are; unknown types are refused.
    """
    if msg_type == "stream":
        _short_str(content.get("name"), "stream.name")
        _str(content.get("text"), "stream.text")
    elif msg_type in ("display_data", "update_display_data", "execute_result"):
        _bundle(content, msg_type)
        if "transient" in content or msg_type == "update_display_data":
            transient = _dict(content.get("transient"), f"{msg_type}.transient")
            if "display_id" in transient or msg_type == "update_display_data":
                _short_str(transient.get("display_id"), f"{msg_type}.transient.display_id")
        if msg_type == "execute_result":
            count = content.get("execution_count")
            if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
                raise _fail("execute_result.execution_count is not an integer")
    elif msg_type == "error":
        _check_error_fields(content, "error")
    elif msg_type == "clear_output":
        if not isinstance(content.get("wait", False), bool):
            raise _fail("clear_output.wait is not a boolean")
    elif msg_type == "status":
        state = content.get("execution_state")
        if state not in EXECUTION_STATES:
            raise _fail(f"status.execution_state is {str(state)[:40]!r}, not one of {', '.join(EXECUTION_STATES)}")
    elif msg_type not in IGNORED_IOPUB:
        raise _fail(f"unknown iopub message type {msg_type[:40]!r}")


def _check_error_fields(content: dict[str, Any], what: str) -> None:
    _str(content.get("ename"), f"{what}.ename")
    _str(content.get("evalue"), f"{what}.evalue")
    traceback = content.get("traceback", [])
    if not isinstance(traceback, list) or not all(isinstance(line, str) for line in traceback):
        raise _fail(f"{what}.traceback is not a list of strings")
    for line in traceback:
        _utf8(line, f"{what}.traceback")


@dataclass(frozen=True, slots=True)
class ExecuteReply:
    """The parts of an ``execute_reply`` a run uses, checked."""

    status: str
    execution_count: int | None
    ename: str = ""
    evalue: str = ""


def check_execute_reply(msg: Message) -> ExecuteReply:
    """The checked content of an ``execute_reply`` (its envelope already checked)."""
    if msg["header"]["msg_type"] != "execute_reply":
        raise _fail(f"expected execute_reply on shell, got {msg['header']['msg_type'][:40]!r}")
    content = msg["content"]
    status = content.get("status")
    if status not in EXECUTE_REPLY_STATUSES:
        raise _fail(f"execute_reply.status is {str(status)[:40]!r}, not one of {', '.join(EXECUTE_REPLY_STATUSES)}")
    count = content.get("execution_count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
        raise _fail("execute_reply.execution_count is not an integer")
    if status == "error":
        _check_error_fields(content, "execute_reply")
        return ExecuteReply(status, count, content["ename"], content["evalue"])
    return ExecuteReply(status, count)
