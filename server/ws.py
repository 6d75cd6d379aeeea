"""Websocket endpoints: the shared document (y-websocket) and the session events (JSON).

Each connection runs one task group: a receive loop and a sender draining the connection's
bounded queue. Errors in one frame get an ``error`` reply (events) or close that socket only
(document); the room and the recording carry on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
from starlette.websockets import WebSocket, WebSocketDisconnect

from server.collab import Peer
from server.errors import ClarifyError, Forbidden, InvalidInput, SessionEnded
from server.runtime import RUN_ROLES, EventPeer, Runtimes, SessionRuntime

log = logging.getLogger(__name__)

WRITE_ROLES = frozenset({"interviewer", "candidate"})
CLOSE_TOO_BIG = 1009
CLOSE_MALFORMED = 1007
CLOSE_POLICY = 1008
CLOSE_SLOW = 1013


def _token(ws: WebSocket) -> str | None:
    token = ws.query_params.get("token")
    auth = ws.headers.get("authorization", "")
    if not token and auth.lower().startswith("bearer "):
        token = auth[7:].strip()
    return token


async def _open(ws: WebSocket) -> tuple[SessionRuntime, str] | None:
    """Authenticate and load the session; closes with the contract's code on failure."""
    state = ws.state.clarify
    session_id = ws.path_params["session_id"]
    try:
        info, role = await state.store.authenticate(session_id, _token(ws))
        if info.ended:
            raise SessionEnded("this session has ended")
        rt = await state.runtimes.get(info)
    except ClarifyError as exc:
        # Accept first: a close before the handshake completes is an HTTP 403 to the
        # client, and the contract promises websocket close codes (4401, 4404, 4409).
        await ws.accept()
        await ws.close(code=exc.close_code, reason=exc.message[:120])
        return None
    await ws.accept()
    return rt, role


class TokenBucket:
    """Per-connection message rate limit: a burst, then a sustained rate."""

    def __init__(self, burst: int, per_second: float) -> None:
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.rate = per_second
        self.last = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


async def doc_endpoint(ws: WebSocket) -> None:
    """``/ws/doc/{session_id}``: the standard y-websocket protocol on the ``code`` text."""
    opened = await _open(ws)
    if opened is None:
        return
    rt, role = opened
    settings = ws.state.clarify.settings
    peer = Peer(
        role=role, actor=f"{role}-{secrets.token_hex(3)}", writable=role in WRITE_ROLES, queue_size=settings.send_queue
    )
    rt.room.join(peer)
    rt.record("join", role, peer.actor, socket="doc")
    close_code = 1000
    try:
        async with anyio.create_task_group() as tg:
            peer.cancel_scope = tg.cancel_scope
            tg.start_soon(_drain, peer, ws.send_bytes, tg.cancel_scope)
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                data = msg.get("bytes")
                if data is None:
                    close_code = CLOSE_MALFORMED
                    break
                if len(data) > settings.max_frame_bytes:
                    close_code = CLOSE_TOO_BIG
                    break
                try:
                    rt.room.receive(peer, data)
                except ClarifyError as exc:
                    log.info("doc socket %s: %s", peer.actor, exc.message)
                    close_code = CLOSE_MALFORMED
                    break
                # Let the send task run between frames: uvicorn hands over buffered frames
                # without yielding, and a burst must not look like a slow reader.
                await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()
    except* (WebSocketDisconnect, OSError):
        pass  # the peer went away, possibly while a frame to it was being sent
    finally:
        rt.room.leave(peer)
        rt.record("leave", role, peer.actor, socket="doc")
        if peer.dropped:
            close_code = CLOSE_SLOW
        with anyio.CancelScope(shield=True):
            await _close_quietly(ws, close_code)


async def _drain(peer: Peer | EventPeer, send: Callable[[Any], Awaitable[None]], scope: anyio.CancelScope) -> None:
    """The connection's sender: drains its bounded queue; None (or a drop) ends the connection."""
    while True:
        message = await peer.queue.get()
        if message is None or peer.dropped:
            scope.cancel()
            return
        await send(message)


async def _close_quietly(ws: WebSocket, code: int) -> None:
    # Bounded: a peer that stopped reading may never take the close frame; returning from
    # the endpoint then lets the server drop the connection.
    with anyio.move_on_after(1.0), contextlib.suppress(Exception):  # already closed by the peer
        await ws.close(code=code)


async def events_endpoint(ws: WebSocket) -> None:
    """``/ws/events/{session_id}``: JSON messages, one object per frame."""
    opened = await _open(ws)
    if opened is None:
        return
    rt, role = opened
    settings = ws.state.clarify.settings
    peer = EventPeer(role=role, actor=f"{role}-{secrets.token_hex(3)}", queue_size=settings.send_queue)
    bucket = TokenBucket(settings.events_burst, settings.events_per_second)
    strikes = 0
    close_code = 1000
    runtimes = ws.state.clarify.runtimes
    async with runtimes.connected(rt, peer):
        peer.send(rt.hello(peer))
        try:
            async with anyio.create_task_group() as tg:
                peer.cancel_scope = tg.cancel_scope
                tg.start_soon(_drain, peer, lambda m: ws.send_text(_dumps(m)), tg.cancel_scope)
                while True:
                    msg = await ws.receive()
                    if msg["type"] == "websocket.disconnect":
                        break
                    raw = msg.get("text") if msg.get("text") is not None else msg.get("bytes")
                    if raw is not None and len(raw) > settings.max_frame_bytes:
                        close_code = CLOSE_TOO_BIG
                        break
                    if not bucket.take():
                        strikes += 1
                        if strikes > settings.events_strikes:
                            close_code = CLOSE_POLICY
                            break
                        peer.send({"type": "error", "message": "too many messages; slow down"})
                        continue
                    try:
                        await _handle_event(rt, peer, raw, runtimes)
                    except ClarifyError as exc:
                        peer.send(
                            {"type": "error", "message": exc.message, **({"field": exc.field} if exc.field else {})}
                        )
                    await anyio.lowlevel.checkpoint()
                tg.cancel_scope.cancel()
        except* (WebSocketDisconnect, OSError):
            pass  # the peer went away, possibly while a frame to it was being sent
        finally:
            if peer.dropped:
                close_code = CLOSE_SLOW
            with anyio.CancelScope(shield=True):
                await _close_quietly(ws, close_code)


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def _parse(raw: str | bytes | None) -> dict[str, Any]:
    if raw is None:
        raise InvalidInput("empty message")
    try:
        msg = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("malformed message: not JSON") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise InvalidInput("malformed message: expected a JSON object with a string 'type'", field="type")
    return msg


CLARIFY_KINDS = frozenset({"ask", "answer", "dismiss", "mark", "reveal", "note", "rate", "mode"})


async def _handle_event(rt: SessionRuntime, peer: EventPeer, raw: str | bytes | None, runtimes: Runtimes) -> None:
    msg = _parse(raw)
    kind = msg["type"]
    if kind in ("run", "interrupt", "restart"):
        if peer.role not in RUN_ROLES:
            raise Forbidden(f"the {peer.role} role cannot {kind}")
        if kind == "run":
            code = msg.get("code")
            if not isinstance(code, str):
                raise InvalidInput("'run' needs a string 'code'", field="code")
            rt.submit(peer.role, peer.actor, code)
        elif kind == "interrupt":
            await rt.interrupt(peer.role, peer.actor)
        else:
            await rt.restart(peer.role, peer.actor)
        return
    if kind in CLARIFY_KINDS:
        if rt.clarify is None:
            raise InvalidInput("this session has no problem, so there is nothing to clarify", field="type")
        rt.clarify.handle(kind, msg, peer.role, peer.actor)
        return
    if kind == "checks":
        if peer.role != "interviewer":
            raise Forbidden(f"the {peer.role} role cannot run hidden checks")
        if rt.clarify is None:
            raise InvalidInput("this session has no problem, so it has no hidden checks", field="type")
        runtimes.spawn(rt.run_checks, peer.actor)
        return
    raise InvalidInput(f"unknown message type {kind!r}", field="type")
