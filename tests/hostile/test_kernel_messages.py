"""A hostile kernel: every malformed Jupyter message candidate code can send from inside its own
kernel is dropped with a visible notice, never raised, and the kernel then works as before.

The code runs in real kernel containers and sends what a candidate would: raw messages signed
with the kernel's own session key (``get_ipython().kernel.session.send``) on iopub and on the
shell channel, hand-built frames (not JSON, not UTF-8, a bad signature), and IPython's own
``publish_display_data(..., transient='x')``.
"""

from __future__ import annotations

import asyncio

import pytest

from sandbox import ExecuteResult, Kernel, KernelDead, OutputTruncated, SandboxError
from sandbox.output import MALFORMED_NOTICE

# Helpers defined once in the kernel: `send` signs a message like the kernel itself does;
# `raw` sends hand-built frames (signed over whatever bytes it is given, or with a bad signature).
_HELPERS = r"""
import json as _json
_k = get_ipython().kernel
_s = _k.session

def send(msg_type, content, *, channel="iopub", parent=None):
    parent = _k.get_parent() if parent is None else parent
    if channel == "iopub":
        _s.send(_k.iopub_socket, msg_type, content, parent=parent)
    else:
        _s.send(_k.shell_stream, msg_type, content, parent=parent, ident=_k._parent_ident["shell"])

def raw(header=None, parent=None, content=b"{}", *, sign=True, channel="iopub", msg_type="stream"):
    if header is None:
        header = _json.dumps(_s.msg_header(msg_type), default=str).encode()
    if parent is None:
        parent = _json.dumps(_k.get_parent()["header"], default=str).encode()
    parts = [header, parent, b"{}", content]
    sig = _s.sign(parts) if sign else b"0" * 64
    if channel == "iopub":
        _k.iopub_socket.send_multipart([b"<IDS|MSG>", sig, *parts])
    else:
        _k.shell_stream.send_multipart([*_k._parent_ident["shell"], b"<IDS|MSG>", sig, *parts])
"""

# (name, code run in the kernel). Every one sends at least one malformed message for its run.
CASES: list[tuple[str, str]] = [
    (
        "publish_display_data_transient_str",
        "from IPython.display import publish_display_data; publish_display_data({'text/plain': 'x'}, transient='x')",
    ),
    ("display_transient_str", "send('display_data', {'data': {'text/plain': 'x'}, 'metadata': {}, 'transient': 'x'})"),
    (
        "display_transient_display_id_int",
        "send('display_data', {'data': {}, 'metadata': {}, 'transient': {'display_id': 5}})",
    ),
    ("display_data_list", "send('display_data', {'data': [1], 'metadata': {}})"),
    ("display_data_value_int", "send('display_data', {'data': {'text/plain': 5}, 'metadata': {}})"),
    ("display_metadata_str", "send('display_data', {'data': {'text/plain': 'x'}, 'metadata': 'm'})"),
    ("display_missing_data", "send('display_data', {'metadata': {}})"),
    ("display_huge_key", "send('display_data', {'data': {'k' * 200_000: 'v'}, 'metadata': {}})"),
    (
        "display_deep_nesting",
        "v = 'x'\nfor _ in range(500): v = [v]\n"
        "send('display_data', {'data': {'application/json': v}, 'metadata': {}})",
    ),
    ("update_display_no_transient", "send('update_display_data', {'data': {'text/plain': 'x'}, 'metadata': {}})"),
    (
        "execute_result_count_str",
        "send('execute_result', {'data': {'text/plain': 'x'}, 'metadata': {}, 'execution_count': 'one'})",
    ),
    ("stream_text_int", "send('stream', {'name': 'stdout', 'text': 123})"),
    ("stream_name_list", "send('stream', {'name': ['stdout'], 'text': 'x'})"),
    ("stream_missing_keys", "send('stream', {})"),
    ("error_traceback_str", "send('error', {'ename': 'E', 'evalue': 'v', 'traceback': 'str'})"),
    ("error_ename_missing", "send('error', {'evalue': 'v', 'traceback': []})"),
    ("clear_output_wait_str", "send('clear_output', {'wait': 'yes'})"),
    ("status_weird_state", "send('status', {'execution_state': 'exploded'})"),
    ("status_state_dict", "send('status', {'execution_state': {'a': 1}})"),
    ("unknown_msg_type", "send('bogus_type', {'anything': 1})"),
    ("content_not_a_dict", "raw(content=b'[1, 2, 3]')"),
    ("content_not_json", "raw(content=b'{not json')"),
    ("content_not_utf8", 'raw(content=b\'{"name": "stdout", "text": "\\xff\\xfe"}\')'),
    ("content_lone_surrogate", 'raw(content=b\'{"name": "stdout", "text": "\\\\ud800"}\')'),
    ("bad_signature", 'raw(content=b\'{"name": "stdout", "text": "forged"}\', sign=False)'),
    ("header_msg_type_int", 'raw(header=b\'{"msg_type": 5, "msg_id": "x", "session": "s"}\')'),
    ("header_not_a_dict", "raw(header=b'[\"stream\"]')"),
    ("parent_header_list", 'raw(parent=b\'[1]\', content=b\'{"name": "stdout", "text": "x"}\')'),
    ("too_few_frames", "_k.iopub_socket.send_multipart([b'<IDS|MSG>', b'sig'])"),
    # On the shell channel, as replies to the run in progress.
    ("shell_reply_content_list", "raw(content=b'[1]', channel='shell', msg_type='execute_reply')"),
    ("shell_reply_count_str", "send('execute_reply', {'status': 'ok', 'execution_count': 'x'}, channel='shell')"),
    ("shell_reply_status_missing", "send('execute_reply', {'execution_count': 1}, channel='shell')"),
    ("shell_reply_error_no_ename", "send('execute_reply', {'status': 'error', 'execution_count': 1}, channel='shell')"),
    ("shell_reply_wrong_type", "send('kernel_info_reply', {'status': 'ok'}, channel='shell')"),
    ("shell_bad_signature", "raw(content=b'{}', sign=False, channel='shell', msg_type='execute_reply')"),
]


def _notices(events: list) -> list[OutputTruncated]:
    return [e for e in events if isinstance(e, OutputTruncated) and e.reason == MALFORMED_NOTICE]


async def _two(kernel: Kernel) -> None:
    events, result = await kernel.run("1 + 1", timeout=20)
    assert result.status == "ok", result
    assert [e.data.get("text/plain") for e in events if isinstance(e, ExecuteResult)] == ["2"], events


async def test_every_malformed_message_is_dropped_with_a_notice_and_the_kernel_carries_on(kernel: Kernel) -> None:
    _, result = await kernel.run(_HELPERS, timeout=20)
    assert result.status == "ok", result
    failures: list[str] = []
    for name, code in CASES:
        try:
            events, result = await kernel.run(f"{code}\nprint('after')", timeout=30)
            if result.status != "ok":
                failures.append(f"{name}: run ended {result.status} ({result.reason})")
            if len(_notices(events)) != 1:
                failures.append(f"{name}: {len(_notices(events))} malformed-message notices, expected 1: {events}")
            if "after" not in "".join(getattr(e, "text", "") for e in events):
                failures.append(f"{name}: the run's own output was lost: {events}")
            await _two(kernel)
        except Exception as exc:  # noqa: BLE001 - report every case, not just the first
            failures.append(f"{name}: raised {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)
    assert kernel.state == "idle"


async def test_a_flood_of_malformed_messages_gives_one_notice_per_run(kernel: Kernel) -> None:
    code = _HELPERS + "\nfor i in range(2000):\n    send('display_data', {'data': [i], 'metadata': {}})\nprint('done')"
    events, result = await kernel.run(code, timeout=60)
    assert result.status == "ok", result
    assert len(_notices(events)) == 1
    # Every one that reached the host was dropped; zmq's high-water mark may have discarded
    # some of the flood before that, under load.
    assert kernel.client.malformed >= 100
    await _two(kernel)


async def test_a_lost_connection_mid_run_raises_a_sandbox_error_only(kernel: Kernel) -> None:
    # Whatever breaks under a run, the iterator raises SandboxError subclasses only.
    with pytest.raises(SandboxError) as caught:
        async with kernel.execute("print('started', flush=True); import time; time.sleep(5)", timeout=20) as run:
            async for _event in run:
                kernel.client.close()  # the sockets vanish under the reader
    assert isinstance(caught.value, KernelDead), caught.value


async def test_a_valid_forged_reply_does_not_break_the_next_run(kernel: Kernel) -> None:
    # A well-formed but forged execute_reply for the running request ends that run early; the
    # real reply then arrives during the next run, whose parent differs, and is ignored.
    code = _HELPERS + "\nsend('execute_reply', {'status': 'ok', 'execution_count': 99}, channel='shell')"
    _, result = await kernel.run(code, timeout=20)
    assert result.status == "ok"
    await asyncio.sleep(0.2)
    await _two(kernel)
