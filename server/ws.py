"""Websocket endpoints: the shared document (y-websocket) and the session events (JSON).

Both sockets share one skeleton (:func:`serve`): authenticate, count the connection against
its link's cap, then one task group per connection: a receive loop with byte and message
budgets and a sender draining the connection's bounded queue. Errors in one frame get an
``error`` reply (events) or close that socket only (document); the room and the recording
carry on, and nothing one connection does reaches another session.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect

from server import tokens
from server.assistant import Refused
from server.auth import policy
from server.auth.principal import Principal
from server.clarify.session import ClarifySession
from server.collab import Peer
from server.errors import (
    BudgetExceeded,
    ClarifyError,
    DocumentTooLarge,
    Forbidden,
    InvalidInput,
    SessionEnded,
    Unauthorized,
)
from server.runtime import RUN_ROLES, EventPeer, Runtimes, SessionRuntime

log = logging.getLogger(__name__)

CLOSE_TOO_BIG = 1009
CLOSE_MALFORMED = 1007
CLOSE_POLICY = 1008
CLOSE_SLOW = 1013


class TokenBucket:
    """A rate limit: a burst, then a sustained rate (messages, or bytes with ``take(n)``)."""

    def __init__(self, burst: float, per_second: float) -> None:
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.rate = per_second
        self.last = time.monotonic()

    def take(self, n: float = 1) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= n:
            self.tokens -= n
            return True
        return False


class Close(Exception):
    """End this connection with a websocket close code (and a reason the client sees)."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


FrameHandler = Callable[[Any], Awaitable[None]]


# Connections a member's removal closed, with the code and reason to close them with.
_kicked: weakref.WeakKeyDictionary[Any, tuple[int, str]] = weakref.WeakKeyDictionary()


def disconnect_member(runtimes: Runtimes, member_id: str, reason: str) -> int:
    """Close every live socket (both kinds) of a member at once, with 4401; returns how many."""
    closed = 0
    for rt in runtimes.live_sessions():
        for peer in [*rt.event_peers, *rt.room.peers]:
            if peer.actor != member_id:
                continue
            _kicked[peer] = (Unauthorized.close_code, reason)
            if peer.cancel_scope is not None:
                peer.cancel_scope.cancel()
            else:
                peer.send(None)
            closed += 1
    return closed


def _actor(principal: Principal, role: str) -> str:
    """Who a connection is in the recording: the member (or the admin token), else the link."""
    return principal.actor or f"{role}-{secrets.token_hex(3)}"


async def _open(ws: WebSocket) -> tuple[SessionRuntime, str, Principal] | None:
    """Authenticate and load the session; closes with the contract's code on failure."""
    state = ws.state.clarify
    session_id = ws.path_params["session_id"]
    try:
        principal = await state.auth.resolve(ws, session_id=session_id)
        if principal is None:
            await state.store.get(session_id)
            raise Unauthorized("a token is required (?token= or Authorization: Bearer), or sign in")
        info = principal.session if principal.session is not None else await state.store.get(session_id)
        role = policy.session_role(principal, info)
        policy.require_live_room(principal, role)
        if info.ended:
            raise SessionEnded("this session has ended")
        rt = await state.runtimes.get(info)
    except RedisError:
        log.warning("session %s: Redis unavailable while opening a socket", session_id)
        await ws.accept()
        await ws.close(code=CLOSE_SLOW, reason="the session store is unavailable; try again shortly")
        return None
    except ClarifyError as exc:
        # Accept first: a close before the handshake completes is an HTTP 403 to the
        # client, and the contract promises websocket close codes (4401, 4404, 4409).
        await ws.accept()
        await ws.close(code=exc.close_code, reason=exc.message[:120])
        return None
    await ws.accept()
    return rt, role, principal


async def _claim_slot(ws: WebSocket, rt: SessionRuntime, role: str) -> contextlib.ExitStack | None:
    """Count this connection against its link's cap; past it, close 1008 and return None."""
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(rt.connection(role))
    except BudgetExceeded as exc:
        await _close_quietly(ws, CLOSE_POLICY, exc.message)
        return None
    return stack


async def serve(
    ws: WebSocket,
    peer: Peer | EventPeer,
    on_frame: FrameHandler,
    send: Callable[[Any], Awaitable[None]],
    frames: TokenBucket,
    volume: TokenBucket | None = None,
) -> None:
    """One connection: a receive loop under budgets and a sender draining ``peer``'s queue."""
    settings = ws.state.clarify.settings
    close_code, reason = 1000, ""
    try:
        async with anyio.create_task_group() as tg:
            peer.cancel_scope = tg.cancel_scope
            tg.start_soon(_drain, peer, send, tg.cancel_scope)
            strikes = 0
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                raw = msg.get("text") if msg.get("text") is not None else msg.get("bytes")
                size = len(raw) if raw is not None else 0
                if size > settings.max_frame_bytes:
                    raise Close(CLOSE_TOO_BIG, "frame too big")
                if volume is not None and not volume.take(size):
                    raise Close(CLOSE_POLICY, "too much data; slow down")
                if not frames.take():
                    strikes += 1
                    if strikes > settings.events_strikes:
                        raise Close(CLOSE_POLICY, "too many messages")
                    if isinstance(peer, EventPeer):
                        peer.send({"type": "error", "code": "rate_limited", "message": "too many messages; slow down"})
                    continue
                await on_frame(raw)
                # Let the send task run between frames: uvicorn hands over buffered frames
                # without yielding, and a burst must not look like a slow reader.
                await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()
    except* Close as group:
        exc = group.exceptions[0]
        assert isinstance(exc, Close)
        close_code, reason = exc.code, exc.reason
    except* (WebSocketDisconnect, OSError):
        pass  # the peer went away, possibly while a frame to it was being sent
    finally:
        if peer.dropped:
            close_code = CLOSE_SLOW
        kicked = _kicked.pop(peer, None)
        if kicked is not None:
            close_code, reason = kicked
        with anyio.CancelScope(shield=True):
            await _close_quietly(ws, close_code, reason)


async def _drain(peer: Peer | EventPeer, send: Callable[[Any], Awaitable[None]], scope: anyio.CancelScope) -> None:
    """The connection's sender: drains its bounded queue; None (or a drop) ends the connection."""
    while True:
        message = await peer.queue.get()
        if message is None or peer.dropped:
            scope.cancel()
            return
        await send(message)


async def _close_quietly(ws: WebSocket, code: int, reason: str = "") -> None:
    # Bounded: a peer that stopped reading may never take the close frame; returning from
    # the endpoint then lets the server drop the connection.
    with anyio.move_on_after(1.0), contextlib.suppress(Exception):  # already closed by the peer
        await ws.close(code=code, reason=reason[:120])


async def doc_endpoint(ws: WebSocket) -> None:
    """``/ws/doc/{session_id}``: the standard y-websocket protocol on the ``code`` text."""
    opened = await _open(ws)
    if opened is None:
        return
    rt, role, principal = opened
    settings = ws.state.clarify.settings
    rt.name_actor(principal.actor, principal.name)
    peer = Peer(
        role=role,
        actor=_actor(principal, role),
        writable=role in tokens.WRITE_ROLES,
        queue_size=settings.send_queue,
    )

    async def on_frame(data: Any) -> None:
        if not isinstance(data, bytes):
            raise Close(CLOSE_MALFORMED, "the document socket takes binary frames")
        try:
            if peer.writable and data[:2] == b"\x00\x02":
                rt.check_edit_budget()
            rt.room.receive(peer, data)
        except DocumentTooLarge as exc:
            rt.record("budget", role, peer.actor, socket="doc", reason=exc.message)
            raise Close(CLOSE_TOO_BIG, "document too large") from None
        except BudgetExceeded as exc:
            raise Close(CLOSE_POLICY, exc.message) from None
        except ClarifyError as exc:
            log.info("doc socket %s: %s", peer.actor, exc.message)
            raise Close(CLOSE_MALFORMED, "malformed frame") from None

    frames = TokenBucket(settings.doc_burst_messages, settings.doc_messages_per_second)
    volume = TokenBucket(settings.doc_burst_bytes, settings.doc_bytes_per_second)
    slot = await _claim_slot(ws, rt, role)
    if slot is None:
        return
    rt.room.join(peer)
    rt.record("join", role, peer.actor, socket="doc")
    try:
        await serve(ws, peer, on_frame, ws.send_bytes, frames, volume)
    finally:
        slot.close()
        rt.room.leave(peer)
        rt.record("leave", role, peer.actor, socket="doc")


async def events_endpoint(ws: WebSocket) -> None:
    """``/ws/events/{session_id}``: JSON messages, one object per frame."""
    opened = await _open(ws)
    if opened is None:
        return
    rt, role, principal = opened
    state = ws.state.clarify
    settings = state.settings
    runtimes: Runtimes = state.runtimes
    rt.name_actor(principal.actor, principal.name)
    rt.assistant.bind(settings.assistant)
    peer = EventPeer(role=role, actor=_actor(principal, role), queue_size=settings.send_queue)
    if principal.via != "role-token":
        await state.audit.append_once(
            "session.join",
            every_s=3600,
            actor=principal.actor,
            name=principal.name,
            via=principal.via,
            session=rt.info.id,
            role=role,
        )

    async def on_frame(raw: Any) -> None:
        try:
            await _handle_event(rt, peer, raw, runtimes)
        except ClarifyError as exc:
            peer.send(_error(exc))
        except Exception:  # one bad message never takes the connection or the room down
            log.exception("session %s: handling a %s message failed", rt.info.id, peer.role)
            peer.send({"type": "error", "code": "internal", "message": "the server could not handle that message"})

    frames = TokenBucket(settings.events_burst, settings.events_per_second)
    volume = TokenBucket(settings.doc_burst_bytes, settings.doc_bytes_per_second)
    slot = await _claim_slot(ws, rt, role)
    if slot is None:
        return
    with slot:
        async with runtimes.connected(rt, peer):
            peer.send(rt.hello(peer))
            await serve(ws, peer, on_frame, lambda m: ws.send_text(_dumps(m)), frames, volume)


def _error(exc: ClarifyError) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message}
    if exc.field:
        message["field"] = exc.field
    return message


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def _parse(raw: str | bytes | None) -> dict[str, Any]:
    if raw is None:
        raise InvalidInput("empty message")
    try:
        msg = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("malformed message: not JSON") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise InvalidInput("malformed message: expected a JSON object with a string 'type'", field="type")
    return msg


# -- events-socket handlers: kind -> handler(rt, peer, msg, runtimes) -----------------------


def _need_run_role(peer: EventPeer, kind: str) -> None:
    if peer.role not in RUN_ROLES:
        raise Forbidden(f"the {peer.role} role cannot {kind}")


async def _on_run(rt: SessionRuntime, peer: EventPeer, msg: dict[str, Any], runtimes: Runtimes) -> None:
    _need_run_role(peer, "run")
    code = msg.get("code")
    if not isinstance(code, str):
        raise InvalidInput("'run' needs a string 'code'", field="code")
    rt.submit(peer.role, peer.actor, code)


async def _on_interrupt(rt: SessionRuntime, peer: EventPeer, msg: dict[str, Any], runtimes: Runtimes) -> None:
    _need_run_role(peer, "interrupt")
    await rt.interrupt(peer.role, peer.actor)


async def _on_restart(rt: SessionRuntime, peer: EventPeer, msg: dict[str, Any], runtimes: Runtimes) -> None:
    _need_run_role(peer, "restart")
    await rt.restart(peer.role, peer.actor)


async def _on_checks(rt: SessionRuntime, peer: EventPeer, msg: dict[str, Any], runtimes: Runtimes) -> None:
    if peer.role != tokens.INTERVIEWER:
        raise Forbidden(f"the {peer.role} role cannot run hidden checks")
    if rt.clarify is None:
        raise InvalidInput("this session has no problem, so it has no hidden checks", field="type")
    runtimes.spawn(rt.info.id, rt.run_checks, peer.actor)


async def _on_clarify(rt: SessionRuntime, peer: EventPeer, msg: dict[str, Any], runtimes: Runtimes) -> None:
    if rt.clarify is None:
        raise InvalidInput("this session has no problem, so there is nothing to clarify", field="type")
    rt.clarify.handle(msg["type"], msg, peer.role, peer.actor)


async def _on_extend(rt: SessionRuntime, peer: EventPeer, msg: dict[str, Any], runtimes: Runtimes) -> None:
    """The interviewer gives the session more time; recorded, and the new limit goes to everyone."""
    if peer.role != tokens.INTERVIEWER:
        raise Forbidden(f"the {peer.role} role cannot extend the session; only the interviewer can")
    if rt.clarify is None:
        raise InvalidInput("this session has no problem, so it has no time limit to extend", field="type")
    rt.clarify.handle("extend", msg, peer.role, peer.actor)


# -- the AI assistant and process signals (issue 13) -----------------------------------------


async def _on_assistant_config(rt: SessionRuntime, peer: EventPeer, msg: dict[str, Any], runtimes: Runtimes) -> None:
    """Staff turn the assistant on or off, pick its model and budget; everyone is told."""
    if peer.role != tokens.INTERVIEWER:
        raise Forbidden(f"the {peer.role} role cannot configure the assistant; only the interviewer can")
    try:
        rt.assistant.configure(msg, peer.role, peer.actor)
    except Refused as exc:
        peer.send({"type": "assistant.error", "code": exc.code, "message": exc.message})


async def _on_assistant_ask(rt: SessionRuntime, peer: EventPeer, msg: dict[str, Any], runtimes: Runtimes) -> None:
    """The candidate asks the assistant; the reply streams from a supervised background job."""
    if peer.role != tokens.CANDIDATE:
        raise Forbidden(f"the {peer.role} role cannot ask the assistant; only the candidate can")
    try:
        job = rt.assistant.ask(msg, peer.role, peer.actor)
    except Refused as exc:
        peer.send({"type": "assistant.error", "code": exc.code, "message": exc.message})
        return
    if job is not None:
        runtimes.spawn(rt.info.id, rt.assistant.answer, *job)


async def _on_signal(rt: SessionRuntime, peer: EventPeer, msg: dict[str, Any], runtimes: Runtimes) -> None:
    """A process signal from the candidate's page (paste, insert, tab hidden or shown)."""
    rt.signals.handle(msg, peer.role, peer.actor, rt.t())


HANDLERS: dict[str, Callable[[SessionRuntime, EventPeer, dict[str, Any], Runtimes], Awaitable[None]]] = {
    "run": _on_run,
    "interrupt": _on_interrupt,
    "restart": _on_restart,
    "checks": _on_checks,
    **dict.fromkeys(ClarifySession.KINDS, _on_clarify),
    "extend": _on_extend,
    "assistant.config": _on_assistant_config,
    "assistant.ask": _on_assistant_ask,
    "signal": _on_signal,
}


async def _handle_event(rt: SessionRuntime, peer: EventPeer, raw: str | bytes | None, runtimes: Runtimes) -> None:
    msg = _parse(raw)
    handler = HANDLERS.get(msg["type"])
    if handler is None:
        raise InvalidInput(f"unknown message type {msg['type']!r}", field="type")
    await handler(rt, peer, msg, runtimes)
