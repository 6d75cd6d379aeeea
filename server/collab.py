"""The shared editor: one Yjs document per session, spoken over the y-websocket protocol.

Built on pycrdt's own sync primitives. Each connection is a :class:`Peer` with a bounded send
queue: a peer that stops reading is dropped, never allowed to stall the room. Updates from
read-only peers are dropped; every applied update is handed to ``on_update`` (the recorder)
with its author, byte for byte as applied.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from pycrdt import (
    Awareness,
    Decoder,
    Doc,
    Text,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    read_message,
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

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.queue_size)

    def send(self, message: bytes) -> bool:
        """Queue a message; False (and the peer marked dropped) when its queue is full."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped = True
            return False
        return True


class Room:
    """A session's document and the peers editing it."""

    def __init__(self, doc: Doc | None = None, *, on_update: UpdateCallback | None = None) -> None:
        self.doc = doc or Doc()
        self.text = self.doc.get(TEXT_NAME, type=Text)
        self.awareness = Awareness(self.doc)
        self.peers: set[Peer] = set()
        self.on_update = on_update
        self.updates_since_checkpoint = 0

    def join(self, peer: Peer) -> None:
        """Add a peer and greet it: sync step 1, then everyone's presence."""
        self.peers.add(peer)
        peer.send(create_sync_message(self.doc))
        others = [cid for cid in self.awareness.states if cid != self.awareness.client_id]
        if others:
            peer.send(create_awareness_message(self.awareness.encode_awareness_update(others)))

    def leave(self, peer: Peer) -> None:
        """Remove a peer and tell the others its cursor is gone."""
        self.peers.discard(peer)
        ids = [cid for cid in peer.awareness_ids if cid in self.awareness.states]
        if ids:
            self.awareness.remove_awareness_states(ids, origin=peer)
            self._broadcast(create_awareness_message(self.awareness.encode_awareness_update(ids)), exclude=peer)

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
        update = read_message(message[2:])
        if not peer.writable or update == b"\x00\x00":
            return  # read-only roles may sync, never write
        self.doc.apply_update(update)
        self.updates_since_checkpoint += 1
        if self.on_update is not None:
            self.on_update(peer, update)
        self._broadcast(create_update_message(update), exclude=peer)

    def _receive_awareness(self, peer: Peer, message: bytes) -> None:
        payload = read_message(message[1:])
        decoder = Decoder(payload)
        for _ in range(decoder.read_var_uint()):
            client_id = decoder.read_var_uint()
            decoder.read_var_uint()  # clock
            state = decoder.read_var_string()
            if state and state != "null":
                peer.awareness_ids.add(client_id)
            else:
                peer.awareness_ids.discard(client_id)
        self.awareness.apply_awareness_update(payload, origin=peer)
        self._broadcast(message, exclude=peer)

    def _broadcast(self, message: bytes, *, exclude: Peer | None = None) -> None:
        for other in list(self.peers):
            if other is not exclude and not other.send(message):
                log.info("dropping a slow %s peer", other.role)
