"""Adversarial clients against a live session: bad tokens, ended sessions, racing joins,
oversized and malformed frames, protocol errors, floods and readers that stop reading.

Everything is real: a `clarify serve` subprocess, its Redis, the kernel container, stock Yjs
clients in Node and raw websockets from the ``websockets`` library.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.server.harness import ADMIN, ServerProcess, YClient, events_socket, recv_until, staff_get

# -- helpers ------------------------------------------------------------------------------


def ws_url(server: ServerProcess, kind: str, session_id: str, token: str | None) -> str:
    url = f"{server.ws_base}/ws/{kind}/{session_id}"
    return url if token is None else f"{url}?token={token}"


def raw_doc(server: ServerProcess, session_id: str, token: str, **kwargs: Any):
    """A raw websocket on the document room (the caller uses ``async with``)."""
    return websockets.connect(ws_url(server, "doc", session_id, token), max_size=None, **kwargs)


async def close_code(ws, timeout: float = 15.0) -> int | str:
    """Read (and discard) until the server closes; its close code, or what happened instead."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd is not None else f"closed without a close frame ({exc})"
    except TimeoutError:
        return f"still open after {timeout}s"


async def connect_close_code(url: str, timeout: float = 15.0) -> int | str:
    """Open a websocket and report how the server ends it (a close code, or a refused handshake)."""
    try:
        async with websockets.connect(url, max_size=None, open_timeout=timeout) as ws:
            return await close_code(ws, timeout)
    except InvalidStatus as exc:
        return f"handshake refused with HTTP {exc.response.status_code} (no websocket close code)"


async def send_all(ws, frames: list[str | bytes]) -> int:
    """Send frames until the server closes; how many went out."""
    sent = 0
    with contextlib.suppress(ConnectionClosed):
        for frame in frames:
            await ws.send(frame)
            sent += 1
    return sent


async def hello(ws) -> dict[str, Any]:
    msg = json.loads(await ws.recv())
    assert msg["type"] == "hello", msg
    return msg


async def run_and_collect(ws, code: str, timeout: float = 90.0) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Submit ``code`` on an events socket; the outputs and the result of that run."""
    await ws.send(json.dumps({"type": "run", "code": code}))
    queued = await recv_until(ws, lambda m: m["type"] == "run.queued" and m["run"]["code"] == code, timeout)
    run_id = queued[-1]["run"]["id"]
    seen = await recv_until(ws, lambda m: m["type"] == "run.done" and m["run"] == run_id, timeout)
    outputs = [m["output"] for m in seen if m["type"] == "run.output" and m["run"] == run_id]
    return outputs, seen[-1]["result"]


def printed(outputs: list[dict[str, Any]]) -> str:
    return "".join(o.get("text", "") for o in outputs if o["kind"] == "stream")


async def get_json(server: ServerProcess, path: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.base, headers=headers) as http:
        return await http.get(path, timeout=30)


async def post(server: ServerProcess, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.base, headers=headers) as http:
        return await http.post(path, timeout=30, **kwargs)


async def synced_pair(server: ServerProcess, sid: str, tokens: dict[str, str]) -> tuple[YClient, YClient]:
    a = await YClient.start(server.ws_base, sid, tokens["candidate"], "Ada")
    b = await YClient.start(server.ws_base, sid, tokens["interviewer"], "Ines")
    await a.synced()
    await b.synced()
    return a, b


# -- 1. tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["doc", "events"])
async def test_bad_tokens_and_unknown_sessions_get_contract_close_codes(server_factory, kind: str) -> None:
    server = server_factory()
    s1, s2 = server.create_session("Ada"), server.create_session("Bob")
    sid = s1["id"]
    cases = {
        "missing token": (ws_url(server, kind, sid, None), 4401),
        "empty token": (ws_url(server, kind, sid, ""), 4401),
        "garbage token": (ws_url(server, kind, sid, "not-a-token-" + "x" * 40), 4401),
        "another session's candidate token": (ws_url(server, kind, sid, s2["tokens"]["candidate"]), 4401),
        "another session's interviewer token": (ws_url(server, kind, sid, s2["tokens"]["interviewer"]), 4401),
        "unknown session id": (ws_url(server, kind, "0123456789abcdef", s1["tokens"]["candidate"]), 4404),
    }
    got = {name: await connect_close_code(url) for name, (url, _) in cases.items()}
    assert got == {name: code for name, (_, code) in cases.items()}
    # The right token still works on the same endpoint.
    async with websockets.connect(ws_url(server, kind, sid, s1["tokens"]["candidate"]), max_size=None) as ok:
        first = await asyncio.wait_for(ok.recv(), 15)
        assert first  # sync step 1 (doc) or hello (events)


async def test_http_auth_and_input_validation(server_factory) -> None:
    server = server_factory()
    s = server.create_session()
    sid, tokens = s["id"], s["tokens"]

    r = await get_json(server, f"/api/sessions/{sid}")
    assert r.status_code == 401
    assert "error" in r.json()
    r = await get_json(server, f"/api/sessions/{sid}", token="garbage")
    assert r.status_code == 401 and "error" in r.json()
    r = await get_json(server, f"/api/sessions/{sid}", token=tokens["candidate"])
    assert r.status_code == 200
    assert r.json()["role"] == "candidate" and r.json()["id"] == sid
    r = await get_json(server, f"/api/sessions/{sid}?token={tokens['candidate']}")
    assert r.status_code == 200 and r.json()["role"] == "candidate"
    other = server.create_session("Bob")
    r = await get_json(server, f"/api/sessions/{sid}", token=other["tokens"]["interviewer"])
    assert r.status_code == 401, "a token of another session must not open this one"

    r = await post(server, "/api/sessions", json={"candidate": "Eve"})
    assert r.status_code == 401 and "error" in r.json()
    r = await post(server, "/api/sessions", token=tokens["interviewer"], json={"candidate": "Eve"})
    assert r.status_code == 401, "a session's interviewer token is not the admin token"
    json_header = {"Content-Type": "application/json"}
    r = await post(server, "/api/sessions", token=ADMIN, content=b"{not json", headers=json_header)
    assert r.status_code == 422 and "error" in r.json()
    # JSON nested too deeply for the parser is invalid input too, not a server error.
    r = await post(server, "/api/sessions", token=ADMIN, content=b"[" * 200_000, headers=json_header)
    assert r.status_code == 422 and "not valid JSON" in r.json()["message"]
    r = await post(server, "/api/sessions", token=ADMIN, json={"candidate": ""})
    assert r.status_code == 422
    assert r.json()["field"] == "candidate"
    assert "candidate" in r.json()["message"]
    r = await post(server, "/api/sessions", token=ADMIN, json={"candidate": "Eve", "problem": "no-such-problem"})
    assert r.status_code == 422
    assert r.json()["field"] == "problem"
    assert "problem" in r.json()["message"]


# -- 2. ended sessions --------------------------------------------------------------------


async def test_ended_session_locks_out_candidate_and_observer_but_not_the_reviewer(server_factory) -> None:
    server = server_factory()
    s = server.create_session()
    sid, tokens = s["id"], s["tokens"]
    doc = await YClient.start(server.ws_base, sid, tokens["candidate"], "Ada")
    try:
        await doc.synced()
        doc.send(op="append", text="def solve():\n    return 42\n")
        await doc.wait_text("def solve():\n    return 42\n")
        async with (
            events_socket(server, sid, tokens["candidate"]) as cand,
            events_socket(server, sid, tokens["observer"]) as obs,
            events_socket(server, sid, tokens["interviewer"]) as inter,
        ):
            for ws in (cand, obs, inter):
                await hello(ws)
            r = await post(server, f"/api/sessions/{sid}/end", token=tokens["interviewer"])
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "ended"
            for ws in (cand, obs, inter):
                await recv_until(ws, lambda m: m["type"] == "session.ended", timeout=15)
                code = await close_code(ws)
                assert isinstance(code, int), f"the events socket was not closed after session.ended: {code}"
        # The candidate's editor connection is closed too.
        await doc.wait_for(lambda e: e["event"] == "close")
    finally:
        await doc.close()

    for role in ("candidate", "observer"):
        r = await get_json(server, f"/api/sessions/{sid}", token=tokens[role])
        assert r.status_code == 409, f"{role}: {r.status_code} {r.text}"
        assert "error" in r.json()

    r = await get_json(server, f"/api/sessions/{sid}/recording", token=tokens["reviewer"])
    assert r.status_code == 200
    assert "session.ended" in [json.loads(line)["type"] for line in r.text.splitlines()]
    r = await get_json(server, f"/api/sessions/{sid}/document", token=tokens["reviewer"])
    assert r.status_code == 200
    assert r.json()["text"] == "def solve():\n    return 42\n"

    got = {
        f"{role} on /ws/{kind}": await connect_close_code(ws_url(server, kind, sid, tokens[role]))
        for role in ("candidate", "observer")
        for kind in ("doc", "events")
    }
    assert got == dict.fromkeys(got, 4409)


# -- 3. concurrent join -------------------------------------------------------------------


async def test_two_clients_joining_a_new_session_at_once_both_sync(server_factory) -> None:
    server = server_factory()
    for i in range(5):
        s = server.create_session(f"Race {i}")
        sid, tokens = s["id"], s["tokens"]
        a, b = await asyncio.gather(
            YClient.start(server.ws_base, sid, tokens["candidate"], "Ada"),
            YClient.start(server.ws_base, sid, tokens["interviewer"], "Ines"),
        )
        try:
            await asyncio.gather(a.synced(), b.synced())
            a.send(op="append", text=f"a{i};")
            b.send(op="append", text=f"b{i};")
            await a.wait_for(lambda e: e["event"] == "text" and len(e["text"]) == 6)
            final = await a.text()
            assert sorted(final.split(";")[:2]) == [f"a{i}", f"b{i}"]
            await b.wait_text(final)
        finally:
            await a.close()
            await b.close()


# -- 4. oversized frames ------------------------------------------------------------------


async def test_oversized_frames_close_only_that_socket(server_factory) -> None:
    server = server_factory(CLARIFY_MAX_FRAME_BYTES="65536")
    s = server.create_session()
    sid, tokens = s["id"], s["tokens"]
    a, b = await synced_pair(server, sid, tokens)
    try:
        a.send(op="append", text="before;")
        await b.wait_text("before;")
        async with raw_doc(server, sid, tokens["candidate"]) as big:
            await send_all(big, [b"\x00\x02" + b"x" * 100_000])
            assert await close_code(big) == 1009
        a.send(op="append", text="after;")
        await b.wait_text("before;after;")

        async with (
            events_socket(server, sid, tokens["candidate"]) as big,
            events_socket(server, sid, tokens["interviewer"]) as other,
        ):
            await hello(big)
            await hello(other)
            await send_all(big, [json.dumps({"type": "note", "text": "y" * 100_000})])
            assert await close_code(big) == 1009
            outputs, result = await run_and_collect(other, "print('still serving')")
            assert "still serving" in printed(outputs)
            assert result["status"] == "ok"
    finally:
        await a.close()
        await b.close()
    r = await staff_get(server, f"/api/sessions/{sid}/document")
    assert r.json()["text"] == "before;after;"


# -- 5. malformed document frames ---------------------------------------------------------


async def test_malformed_doc_frames_close_that_socket_and_the_room_carries_on(server_factory) -> None:
    server = server_factory()
    s = server.create_session()
    sid, tokens = s["id"], s["tokens"]
    bad_frames: dict[str, str | bytes] = {
        "unknown sync type": b"\x00\x09garbage",
        "one byte": b"\x07",
        "empty": b"",
        "text frame": "hello, I am text",
    }
    a, b = await synced_pair(server, sid, tokens)
    expected = ""
    try:
        got = {}
        for i, (name, frame) in enumerate(bad_frames.items()):
            async with raw_doc(server, sid, tokens["candidate"]) as bad:
                await send_all(bad, [frame])
                got[name] = await close_code(bad)
            a.send(op="append", text=f"{i};")
            expected += f"{i};"
            await b.wait_text(expected)
        assert got == dict.fromkeys(bad_frames, 1007)
    finally:
        await a.close()
        await b.close()
    r = await staff_get(server, f"/api/sessions/{sid}/document")
    assert r.json()["text"] == expected


async def test_malformed_awareness_frame_is_not_relayed_to_other_clients(server_factory) -> None:
    """A truncated awareness message (its length prefix says 5 bytes, 3 follow) from a read-only
    observer must not reach the other editors: a stock Yjs client cannot decode it."""
    server = server_factory()
    s = server.create_session()
    sid, tokens = s["id"], s["tokens"]
    a, b = await synced_pair(server, sid, tokens)
    try:
        async with raw_doc(server, sid, tokens["observer"]) as bad:
            await send_all(bad, [b"\x01\x05\x01\x01\x01"])
            with contextlib.suppress(TimeoutError, ConnectionClosed):
                async with asyncio.timeout(1):
                    while True:
                        await bad.recv()
        await asyncio.sleep(0.5)
        crashed = {c.events[0]["clientID"]: c.proc.returncode for c in (a, b) if c.proc.returncode is not None}
        assert not crashed, f"stock Yjs clients exited after the relayed frame (client id: exit code): {crashed}"
        a.send(op="append", text="still editing")
        await b.wait_text("still editing")
        b.send(op="append", text="; both of us")
        await a.wait_text("still editing; both of us")
        assert a.proc.returncode is None and b.proc.returncode is None
    finally:
        await a.close()
        await b.close()


# -- 6. events protocol errors ------------------------------------------------------------


async def test_events_protocol_errors_get_an_error_reply_and_the_socket_stays_open(server_factory) -> None:
    server = server_factory()
    s = server.create_session()
    sid, tokens = s["id"], s["tokens"]
    cases: list[tuple[str | bytes, dict[str, str]]] = [
        ("this is not json", {"message": "JSON"}),
        (json.dumps([{"type": "run", "code": "1"}]), {"field": "type"}),
        (json.dumps({"type": 5}), {"field": "type"}),
        (json.dumps({"code": "1"}), {"field": "type"}),
        (json.dumps({"type": "nope"}), {"field": "type", "message": "nope"}),
        (json.dumps({"type": "run"}), {"field": "code"}),
        (json.dumps({"type": "run", "code": 123}), {"field": "code"}),
        (b"\xff\xfe\x00garbage", {"message": "JSON"}),
    ]
    async with events_socket(server, sid, tokens["candidate"]) as ws:
        await hello(ws)
        for frame, expect in cases:
            await ws.send(frame)
            err = (await recv_until(ws, lambda m: m["type"] in ("error", "run.queued"), timeout=15))[-1]
            assert err["type"] == "error", f"{frame!r} was accepted: {err}"
            assert isinstance(err.get("message"), str) and err["message"]
            if "field" in expect:
                assert err.get("field") == expect["field"], (frame, err)
            if "message" in expect:
                assert expect["message"] in err["message"], (frame, err)
        outputs, result = await run_and_collect(ws, "print('after the errors')")
        assert printed(outputs) == "after the errors\n"
        assert result["status"] == "ok"


# -- 7. flood -----------------------------------------------------------------------------


async def test_flooding_the_events_socket_is_rate_limited_then_closed(server_factory) -> None:
    server = server_factory()
    s = server.create_session()
    sid, tokens = s["id"], s["tokens"]
    async with events_socket(server, sid, tokens["candidate"]) as flood:
        await hello(flood)
        await send_all(flood, [json.dumps({"type": "interrupt"})] * 500)
        received: list[dict[str, Any]] = []
        code: int | str
        try:
            async with asyncio.timeout(30):
                while True:
                    received.append(json.loads(await flood.recv()))
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else "no close frame"
        except TimeoutError:
            code = "still open"
    slow_down = [m for m in received if m["type"] == "error" and "slow down" in m["message"]]
    assert slow_down, f"no 'slow down' error before the close; got {[m['type'] for m in received]}"
    assert code == 1008

    r = await get_json(server, "/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    async with events_socket(server, sid, tokens["interviewer"]) as other:
        await hello(other)
        outputs, result = await run_and_collect(other, "print('after the flood')")
        assert printed(outputs) == "after the flood\n"
        assert result["status"] == "ok"


# -- 8. readers that stop reading ---------------------------------------------------------


def tiny_receive_buffer_socket(port: int) -> socket.socket:
    """A client socket whose kernel receive buffer is as small as Linux allows."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


def never_reading_doc(server: ServerProcess, session_id: str, token: str):
    return websockets.connect(
        ws_url(server, "doc", session_id, token),
        sock=tiny_receive_buffer_socket(server.port),
        max_queue=1,
        max_size=None,
        ping_interval=None,  # no keepalive: nothing may read on this connection's behalf
    )


async def flood_edits(writer: YClient, peer: YClient, rounds: int = 250, big: int = 30_000, small: int = 40) -> str:
    """Push megabytes of updates through the room, then small ones; the final text.

    Each round inserts a 30 KB chunk and deletes it again: every update still travels to every
    peer, but the text stays small (the Node client prints the whole text on each change, and
    the harness reads its output in lines of at most 64 KiB). Each edit waits until ``peer``
    has it, so the room never sees a burst: only a reader that stops reading falls behind.
    """
    for i in range(rounds):
        marker = f"<{i:04d}>"
        writer.send(op="append", text=marker + "x" * big)
        await peer.wait_for(lambda e, m=marker: e["event"] == "text" and e["text"].startswith(m), timeout=30)
        writer.send(op="delete", index=0, length=big + len(marker))
    text = ""
    for i in range(small):
        text += f"line {i:03d}\n"
        writer.send(op="append", text=f"line {i:03d}\n")
        await peer.wait_for(lambda e, t=text: e["event"] == "text" and e["text"] == t, timeout=30)
    return text


async def participants(server: ServerProcess, sid: str, token: str) -> int:
    r = await get_json(server, f"/api/sessions/{sid}", token=token)
    assert r.status_code == 200, r.text
    return r.json()["participants"]


async def test_a_reader_that_stops_reading_is_dropped_and_the_room_carries_on(server_factory) -> None:
    server = server_factory(CLARIFY_SEND_QUEUE="16")
    s = server.create_session()
    sid, tokens = s["id"], s["tokens"]
    writer, peer = await synced_pair(server, sid, tokens)
    try:
        slow = await never_reading_doc(server, sid, tokens["candidate"])
        try:
            final = await flood_edits(writer, peer)
            await peer.wait_text(final, timeout=45)
            await writer.wait_text(final, timeout=15)
            # Only now read: what is buffered, then the server's close.
            # Disconnected: with 1013 when the close frame could still be written, or abruptly
            # when its buffers were full (a reader that never reads is owed no close frame).
            code = await close_code(slow, timeout=20)
            assert code == 1013 or str(code).startswith("closed without a close frame"), code
        finally:
            await slow.close()
    finally:
        await writer.close()
        await peer.close()
    r = await staff_get(server, f"/api/sessions/{sid}/document")
    assert r.json()["text"] == final


async def test_a_dropped_reader_is_disconnected_without_its_cooperation(server_factory) -> None:
    """Once dropped, the server lets go of the connection itself, not when the client next reads."""
    server = server_factory(CLARIFY_SEND_QUEUE="16")
    s = server.create_session()
    sid, tokens = s["id"], s["tokens"]
    writer, peer = await synced_pair(server, sid, tokens)
    try:
        slow = await never_reading_doc(server, sid, tokens["candidate"])
        try:
            assert await participants(server, sid, tokens["interviewer"]) == 3
            final = await flood_edits(writer, peer)
            await peer.wait_text(final, timeout=45)
            counts = []
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(15):
                    while True:
                        counts.append(await participants(server, sid, tokens["interviewer"]))
                        if counts[-1] == 2:
                            break
                        await asyncio.sleep(0.5)
            assert counts[-1] == 2, f"the dropped reader is still connected to the room: participants {counts[-3:]}"
        finally:
            await slow.close()
    finally:
        await writer.close()
        await peer.close()


async def test_a_burst_of_edits_does_not_drop_a_peer_that_keeps_reading(server_factory) -> None:
    """Hundreds of small edits sent back to back: the reading peer must not be dropped as slow."""
    server = server_factory(CLARIFY_SEND_QUEUE="16")
    s = server.create_session()
    sid, tokens = s["id"], s["tokens"]
    writer, peer = await synced_pair(server, sid, tokens)
    try:
        lines = [f"{i:03d};" for i in range(500)]
        for line in lines:
            writer.send(op="append", text=line)
        await peer.wait_text("".join(lines), timeout=45)
        closes = [e for e in peer.events if e["event"] == "close"]
        assert not closes, f"the reading peer was disconnected {len(closes)} time(s): {closes[:3]}"
    finally:
        await writer.close()
        await peer.close()


async def test_role_tokens_never_reach_the_server_log(server_factory) -> None:
    server = server_factory()
    s = server.create_session()
    async with events_socket(server, s["id"], s["tokens"]["candidate"]) as ws:
        await ws.recv()
    await staff_get(server, f"/api/sessions/{s['id']}", token=s["tokens"]["reviewer"])
    log = server.log.read_text()
    assert "token=***" in log
    for token in s["tokens"].values():
        assert token not in log
