"""The shared editor: one Yjs document per session, spoken over the y-websocket protocol.

Built on pycrdt's own sync primitives. Each connection is a :class:`Peer` with a bounded send
queue: a peer that stops reading is dropped, never allowed to stall the room. Updates from
read-only peers are dropped; every applied update is handed to ``on_update`` (the recorder)
with its author, byte for byte as applied.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
from pycrdt import (
    Doc,
    Text,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)

from server.errors import InvalidInput

log = logging.getLogger(__name__)

TEXT_NAME = "code"
UpdateCallback = Callable[["Peer", bytes], None]


@dataclass(eq=False)
class Peer:
    """One websocket connection to a room."""

    role: str
    actor: str
    writable: bool
    queue_size: int = 256
    queue: asyncio.Queue[bytes | None] = field(init=False)
    awareness_ids: set[int] = field(default_factory=set)
    dropped: bool = False
    cancel_scope: anyio.CancelScope | None = None  # the connection's, cancelled on drop

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.queue_size)

    def send(self, message: bytes) -> bool:
        """Queue a message; False (and the peer marked dropped) when its queue is full."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # A reader this far behind is disconnected now, not when it next reads: its
            # connection's task group is cancelled and the endpoint closes with 1013.
            self.dropped = True
            if self.cancel_scope is not None:
                self.cancel_scope.cancel()
            return False
        return True


class Room:
    """A session's document and the peers editing it."""

    def __init__(self, doc: Doc | None = None, *, on_update: UpdateCallback | None = None) -> None:
        self.doc = doc or Doc()
        self.text = self.doc.get(TEXT_NAME, type=Text)
        self.presence = Presence()
        self.peers: set[Peer] = set()
        self.on_update = on_update
        self.updates_since_checkpoint = 0

    def join(self, peer: Peer) -> None:
        """Add a peer and greet it: sync step 1, then everyone's presence."""
        self.peers.add(peer)
        peer.send(create_sync_message(self.doc))
        if self.presence.states:
            peer.send(create_awareness_message(self.presence.encode(list(self.presence.states))))

    def leave(self, peer: Peer) -> None:
        """Remove a peer and tell the others its cursor is gone."""
        self.peers.discard(peer)
        ids = self.presence.remove(peer.awareness_ids)
        if ids:
            self._broadcast(create_awareness_message(self.presence.encode(ids)), exclude=peer)

    def receive(self, peer: Peer, message: bytes) -> None:
        """Handle one frame from ``peer``; raises :class:`InvalidInput` for a malformed one."""
        if len(message) < 2:
            raise InvalidInput("malformed y-websocket frame (too short)")
        kind = message[0]
        try:
            if kind == YMessageType.SYNC:
                self._receive_sync(peer, message)
            elif kind == YMessageType.AWARENESS:
                self._receive_awareness(peer, message)
            else:
                raise InvalidInput(f"unknown y-websocket message type {kind}")
        except InvalidInput:
            raise
        except Exception as exc:
            raise InvalidInput(f"malformed y-websocket frame: {exc}") from exc

    def _receive_sync(self, peer: Peer, message: bytes) -> None:
        sub = message[1]
        if sub == YSyncMessageType.SYNC_STEP1:
            reply = handle_sync_message(message[1:], self.doc)
            if reply is not None:
                peer.send(reply)
            return
        if sub not in (YSyncMessageType.SYNC_STEP2, YSyncMessageType.SYNC_UPDATE):
            raise InvalidInput(f"unknown sync message type {sub}")
        update = _read_exact(message, 2)
        if not peer.writable or update == b"\x00\x00":
            return  # read-only roles may sync, never write
        self.doc.apply_update(update)
        self.updates_since_checkpoint += 1
        if self.on_update is not None:
            self.on_update(peer, update)
        self._broadcast(create_update_message(update), exclude=peer)

    def seed(self, peer: Peer, text: str) -> None:
        """Insert ``text`` as ``peer`` (the server): applied, recorded and broadcast like an edit."""
        if not text:
            return
        scratch = Doc()
        scratch.get(TEXT_NAME, type=Text).insert(0, text)
        update = scratch.get_update(self.doc.get_state())
        self.doc.apply_update(update)
        if self.on_update is not None:
            self.on_update(peer, update)
        self._broadcast(create_update_message(update))

    def _receive_awareness(self, peer: Peer, message: bytes) -> None:
        entries = _parse_awareness(_read_exact(message, 1))
        changed = self.presence.apply(entries)
        for client_id, _clock, state in entries:
            if state is None:
                peer.awareness_ids.discard(client_id)
            else:
                peer.awareness_ids.add(client_id)
        # Relay the server's own encoding, never the client's bytes: what others receive is
        # always well formed.
        if changed:
            self._broadcast(create_awareness_message(self.presence.encode(changed)), exclude=peer)

    def _broadcast(self, message: bytes, *, exclude: Peer | None = None) -> None:
        for other in list(self.peers):
            if other is not exclude and not other.send(message):
                self.peers.discard(other)
                log.info("dropping a slow %s peer (%s)", other.role, other.actor)


def _read_var_uint(buf: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise InvalidInput("malformed y-websocket frame: truncated number")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise InvalidInput("malformed y-websocket frame: number too long")


def _read_exact(message: bytes, pos: int) -> bytes:
    """The length-prefixed payload at ``pos``, which must end exactly at the frame's end."""
    length, pos = _read_var_uint(message, pos)
    if pos + length != len(message):
        raise InvalidInput("malformed y-websocket frame: length does not match the frame")
    return message[pos:]


def _write_var_uint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _parse_awareness(payload: bytes) -> list[tuple[int, int, object]]:
    """Decode an awareness update strictly: every entry whole, states valid JSON, nothing left."""
    count, pos = _read_var_uint(payload, 0)
    entries = []
    for _ in range(count):
        client_id, pos = _read_var_uint(payload, pos)
        clock, pos = _read_var_uint(payload, pos)
        length, pos = _read_var_uint(payload, pos)
        if pos + length > len(payload):
            raise InvalidInput("malformed awareness update: truncated state")
        try:
            state = json.loads(payload[pos : pos + length].decode("utf-8")) if length else None
        except (UnicodeDecodeError, ValueError):
            raise InvalidInput("malformed awareness update: state is not JSON") from None
        pos += length
        entries.append((client_id, clock, state))
    if pos != len(payload):
        raise InvalidInput("malformed awareness update: trailing bytes")
    return entries


class Presence:
    """The room's awareness states (cursors, names, colours), as the Yjs awareness protocol
    keeps them: per client a clock and a JSON state; a higher clock wins, and a null state
    at the same clock removes the client."""

    def __init__(self) -> None:
        self.states: dict[int, tuple[int, str]] = {}  # client id -> (clock, JSON state)
        self._clocks: dict[int, int] = {}

    def apply(self, entries: list[tuple[int, int, object]]) -> list[int]:
        """Apply decoded entries; returns the client ids whose state changed."""
        changed = []
        for client_id, clock, state in entries:
            current = self._clocks.get(client_id)
            newer = current is None or clock > current or (clock == current and state is None)
            if not newer:
                continue
            self._clocks[client_id] = clock
            if state is None:
                if self.states.pop(client_id, None) is not None or current is not None:
                    changed.append(client_id)
            else:
                encoded = json.dumps(state, separators=(",", ":"))
                if self.states.get(client_id) != (clock, encoded):
                    self.states[client_id] = (clock, encoded)
                    changed.append(client_id)
        return changed

    def remove(self, client_ids: set[int]) -> list[int]:
        """Drop clients (their connection closed); returns the ids to announce as gone."""
        gone = []
        for client_id in client_ids:
            if self.states.pop(client_id, None) is not None:
                self._clocks[client_id] = self._clocks.get(client_id, 0) + 1
                gone.append(client_id)
        return gone

    def encode(self, client_ids: list[int]) -> bytes:
        """An awareness update for ``client_ids`` (removed ones encoded with a null state)."""
        out = bytearray(_write_var_uint(len(client_ids)))
        for client_id in client_ids:
            clock, state = self.states.get(client_id, (self._clocks.get(client_id, 0), "null"))
            data = state.encode()
            out += _write_var_uint(client_id) + _write_var_uint(clock) + _write_var_uint(len(data)) + data
        return bytes(out)
