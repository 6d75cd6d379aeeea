"""Presence cannot be spoofed or used to inject CSS (issue 8, finding 7), in process.

The awareness updates are real y-protocols bytes made by pycrdt's own encoder; the room is the
real :class:`server.collab.Room`. What other peers receive is decoded again and checked.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pycrdt import Awareness, Doc, create_awareness_message

from server.collab import MAX_USER_NAME, Peer, Room, _parse_awareness, _read_exact, valid_awareness

HOSTILE_COLOUR = "red;background:url(https://attacker.example/x)"


def update(client_id: int, state: dict[str, Any] | None, *, clock_bump: int = 0) -> bytes:
    """A y-websocket awareness frame for ``client_id`` carrying ``state`` (None: removed)."""
    doc = Doc(client_id=client_id)
    awareness = Awareness(doc)
    for _ in range(clock_bump):
        awareness.set_local_state({"bump": True})
    awareness.set_local_state(state)
    return create_awareness_message(awareness.encode_awareness_update([client_id]))


def relayed(peer: Peer) -> list[tuple[int, int, Any]]:
    """Every awareness entry ``peer`` has been sent so far (its queue drained)."""
    entries = []
    while not peer.queue.empty():
        message = peer.queue.get_nowait()
        assert message is not None
        if message[0] == 1:  # awareness
            entries += _parse_awareness(_read_exact(message, 1))
    return entries


@pytest.fixture
def room() -> tuple[Room, Peer, Peer]:
    room = Room()
    alice = Peer(role="candidate", actor="alice", writable=True)
    bob = Peer(role="interviewer", actor="bob", writable=True)
    room.join(alice)
    room.join(bob)
    relayed(alice), relayed(bob)  # the greetings
    return room, alice, bob


def test_a_connection_speaks_only_for_its_first_client_id(room: tuple[Room, Peer, Peer]) -> None:
    r, alice, bob = room
    r.receive(alice, update(101, {"user": {"name": "Alice", "color": "#30bced"}}))
    assert [(cid, state) for cid, _clock, state in relayed(bob)] == [
        (101, {"user": {"name": "Alice", "color": "#30bced"}})
    ]

    # A second id from the same connection: a fake participant. Dropped, never relayed.
    r.receive(alice, update(102, {"user": {"name": "Ghost", "color": "#000000"}}))
    assert 102 not in r.presence.states
    assert relayed(bob) == []

    # Bob claims Alice's id (with a newer clock), then tries to remove her: both ignored.
    r.receive(bob, update(201, {"user": {"name": "Bob", "color": "#ee6352"}}))
    relayed(alice)
    r.receive(bob, update(101, {"user": {"name": "Alice (spoofed)", "color": "#000000"}}, clock_bump=5))
    r.receive(bob, update(101, None, clock_bump=9))
    assert json.loads(r.presence.states[101][1])["user"]["name"] == "Alice"
    assert relayed(alice) == []

    # Alice may update and remove her own state.
    r.receive(alice, update(101, {"user": {"name": "Alice", "color": "#30bced"}, "cursor": None}, clock_bump=1))
    assert [cid for cid, _c, _s in relayed(bob)] == [101]


def test_an_id_is_free_again_once_its_connection_left(room: tuple[Room, Peer, Peer]) -> None:
    r, alice, bob = room
    r.receive(alice, update(101, {"user": {"name": "Alice", "color": "#30bced"}}))
    r.leave(alice)
    assert 101 not in r.presence.states
    # The same browser reconnecting (same Yjs client id, new connection) is itself again.
    again = Peer(role="candidate", actor="alice-2", writable=True)
    r.join(again)
    relayed(bob)
    r.receive(again, update(101, {"user": {"name": "Alice", "color": "#30bced"}}, clock_bump=3))
    assert json.loads(r.presence.states[101][1])["user"]["name"] == "Alice"
    assert [cid for cid, _c, _s in relayed(bob)] == [101]


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ({"user": {"name": "x" * (MAX_USER_NAME + 1), "color": "#30bced"}}, "name"),
        ({"user": {"name": ["<img>"], "color": "#30bced"}}, "name"),
        ({"user": "Mallory"}, "user"),
        ({"user": {"name": "Mallory"}, "padding": "x" * 3000}, "larger"),
    ],
)
def test_non_conforming_states_are_dropped(room: tuple[Room, Peer, Peer], state: dict[str, Any], reason: str) -> None:
    r, alice, bob = room
    with pytest.raises(ValueError, match=reason):
        valid_awareness(state)
    r.receive(alice, update(101, state))
    assert 101 not in r.presence.states
    assert relayed(bob) == []


def test_a_colour_is_relayed_only_as_a_hex_colour(room: tuple[Room, Peer, Peer]) -> None:
    r, alice, bob = room
    hostile = {"user": {"name": "<img src=x onerror=alert(1)>", "color": HOSTILE_COLOUR, "colorLight": "#30bced33"}}
    r.receive(alice, update(101, hostile))
    [(cid, _clock, state)] = relayed(bob)
    # The name is text (the page shows it as text); the colour never reaches another page.
    assert cid == 101
    assert state == {"user": {"name": "<img src=x onerror=alert(1)>", "colorLight": "#30bced33"}}
    assert "url(" not in r.presence.states[101][1]

    for colour in ("#ABCDEF", "#abcdef80"):
        assert valid_awareness({"user": {"name": "a", "color": colour}}) == {"user": {"name": "a", "color": colour}}
    for colour in ("#abc", "rgb(0,0,0)", "#abcdefg", 123, "#abcdef;x:y"):
        assert valid_awareness({"user": {"name": "a", "color": colour}}) == {"user": {"name": "a"}}


def test_a_new_peer_is_greeted_only_with_validated_states(room: tuple[Room, Peer, Peer]) -> None:
    r, alice, _bob = room
    r.receive(alice, update(101, {"user": {"name": "Alice", "color": HOSTILE_COLOUR}}))
    late = Peer(role="observer", actor="late", writable=False)
    r.join(late)
    [(cid, _clock, state)] = relayed(late)
    assert cid == 101 and state == {"user": {"name": "Alice"}}
