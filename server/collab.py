"""The shared editor: one Yjs document per session, spoken over the y-websocket protocol.

Built on pycrdt's own sync primitives. Each connection is a :class:`Peer` with a bounded send
queue: a peer that stops reading is dropped, never allowed to stall the room. Updates from
read-only peers are dropped; every applied update is handed to ``on_update`` (the recorder)
with its author, byte for byte as applied.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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

from server.connection import Connection
from server.errors import DocumentTooLarge, InvalidInput

log = logging.getLogger(__name__)

TEXT_NAME = "code"
UpdateCallback = Callable[["Peer", bytes], None]


@dataclass(eq=False)
class Peer(Connection[bytes]):
    """One document-socket connection: may it write, and which awareness ids it speaks for."""

    writable: bool = False
    awareness_ids: set[int] = field(default_factory=set)
    awareness_id: int | None = None  # the awareness client id this connection speaks for


class Room:
    """A session's document and the peers editing it."""

    def __init__(
        self, doc: Doc | None = None, *, on_update: UpdateCallback | None = None, max_chars: int | None = None
    ) -> None:
        self.doc = doc or Doc()
        self.max_chars = max_chars  # the document size cap (characters of the text)
        self.text = self.doc.get(TEXT_NAME, type=Text)
        self.presence = Presence()
        self.peers: set[Peer] = set()
        self._awareness_owners: dict[int, Peer] = {}  # client id -> the connection that set it
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
        if peer.awareness_id is not None and self._awareness_owners.get(peer.awareness_id) is peer:
            del self._awareness_owners[peer.awareness_id]
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
        except (InvalidInput, DocumentTooLarge):
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
        self._check_size(update)
        self.doc.apply_update(update)
        self.updates_since_checkpoint += 1
        if self.on_update is not None:
            self.on_update(peer, update)
        self._broadcast(create_update_message(update), exclude=peer)

    def _check_size(self, update: bytes) -> None:
        """Refuse an update that would grow the text past the cap (nothing is applied).

        An update carries its inserted text, so current length + update size bounds the result;
        only near the cap is the update tried on a copy to learn the exact length.
        """
        if self.max_chars is None or len(self.text) + len(update) <= self.max_chars:
            return
        trial = Doc()
        trial.apply_update(self.doc.get_update())
        trial.apply_update(update)
        size = len(trial.get(TEXT_NAME, type=Text))
        if size > self.max_chars:
            raise DocumentTooLarge(f"the document would grow to {size} characters; the limit is {self.max_chars}")

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
        accepted = []
        for client_id, clock, state in entries:
            if not self._owns(peer, client_id):
                # Stock y-websocket clients echo every state they receive, so other clients'
                # ids arrive all the time; only a state that differs from ours is worth a line.
                if self.presence.would_change(client_id, clock, state):
                    log.info("awareness from %s for client %d it does not own: dropped", peer.actor, client_id)
                continue
            try:
                checked = valid_awareness(state)
            except ValueError as exc:
                log.info("awareness from %s dropped: %s", peer.actor, exc)
                continue
            accepted.append((client_id, clock, checked))
        changed = self.presence.apply(accepted)
        for client_id, _clock, state in accepted:
            if state is None:
                peer.awareness_ids.discard(client_id)
            else:
                peer.awareness_ids.add(client_id)
        # Relay the server's own encoding, never the client's bytes: what others receive is
        # always well formed.
        if changed:
            self._broadcast(create_awareness_message(self.presence.encode(changed)), exclude=peer)

    def _owns(self, peer: Peer, client_id: int) -> bool:
        """Whether ``peer`` may set ``client_id``'s presence: a connection's id is the first one
        it announces that no other connection holds, and it may set no other."""
        owner = self._awareness_owners.get(client_id)
        if peer.awareness_id is None and owner is None:
            peer.awareness_id = client_id
            self._awareness_owners[client_id] = peer
            return True
        return peer.awareness_id == client_id and owner is peer

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


MAX_AWARENESS_STATE = 2048  # bytes of one client's JSON state
MAX_USER_NAME = 64
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?")
COLOUR_FIELDS = ("color", "colorLight")


def valid_awareness(state: object) -> dict[str, Any] | None:
    """An awareness state as the room may keep and relay it; :class:`ValueError` says why not.

    ``None`` (the client left) passes; otherwise a JSON object of at most 2 KiB whose ``user``,
    if any, is an object with a string ``name`` of at most 64 characters. A colour that is not
    ``#rrggbb`` or ``#rrggbbaa`` is removed rather than relayed: y-codemirror.next writes it into
    a ``style`` attribute, so nothing else may reach another person's page.
    """
    if state is None:
        return None
    if not isinstance(state, dict):
        raise ValueError("the state is not a JSON object")
    if len(json.dumps(state, separators=(",", ":")).encode()) > MAX_AWARENESS_STATE:
        raise ValueError(f"the state is larger than {MAX_AWARENESS_STATE} bytes")
    user = state.get("user")
    if user is None:
        return state
    if not isinstance(user, dict):
        raise ValueError("user is not an object")
    name = user.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_USER_NAME):
        raise ValueError(f"user.name is not a string of at most {MAX_USER_NAME} characters")
    bad = [k for k in COLOUR_FIELDS if k in user and not (isinstance(user[k], str) and _COLOUR.fullmatch(user[k]))]
    if not bad:
        return state
    log.info("awareness colour dropped (%s)", ", ".join(bad))
    return {**state, "user": {k: v for k, v in user.items() if k not in bad}}


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

    def would_change(self, client_id: int, clock: int, state: object) -> bool:
        """Whether applying this entry would change what the room holds (an echo or a stale
        entry would not)."""
        current = self._clocks.get(client_id)
        if current is not None and clock < current:
            return False
        held = self.states.get(client_id)
        if state is None:
            return held is not None
        return held != (clock, json.dumps(state, separators=(",", ":")))

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
