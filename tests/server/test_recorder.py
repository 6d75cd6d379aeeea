"""The recorder against a real redis-server: order, buffering while Redis is away, gaps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.asyncio as aioredis

from server.document import checkpoint_event, rebuild_doc, text_at
from server.events import Event
from server.recording import Recorder, session_key
from server.runs import size_of
from tests.server.harness import RedisProcess


async def test_events_are_written_in_order(tmp_path: Path) -> None:
    redis = RedisProcess(tmp_path / "r")
    redis.start()
    client = aioredis.from_url(redis.url)
    try:
        async with Recorder(client) as rec:
            for i in range(1200):
                payload = {"i": i, "text": "größe ✓" * (i % 3)}
                # The size it returns is what the runtime budgets: the payload's compact JSON.
                assert rec.append("s1", Event(i, "tick", "candidate", "a", payload)) == size_of(payload)
            assert await rec.flush()
            events = await rec.read("s1")
            assert [e.payload["i"] for e in events] == list(range(1200))
            assert [e.t for e in await rec.read("s1", upto_t=9)] == list(range(10))
    finally:
        await client.aclose()
        redis.stop()


async def test_overflow_while_redis_is_away_is_marked_as_a_gap(tmp_path: Path) -> None:
    redis = RedisProcess(tmp_path / "r")
    redis.start()
    client = aioredis.from_url(redis.url, socket_connect_timeout=0.5, socket_timeout=1)
    try:
        async with Recorder(client, buffer_max=10) as rec:
            await client.hset(session_key("s1"), mapping={"id": "s1", "created_ms": "0", "status": "live"})
            rec.append("s1", Event(0, "before"))
            assert await rec.flush()
            redis.stop()
            for i in range(1, 26):
                rec.append("s1", Event(i, "during", payload={"i": i}))
            await asyncio.sleep(0.5)
            assert rec.healthy is False
            assert rec.pending == 10
            redis.start()
            assert await rec.flush(timeout=20)
            assert rec.healthy is True
            events = await rec.read("s1")
        types = [e.type for e in events]
        assert types == ["before"] + ["during"] * 10 + ["recording.gap"]
        assert [e.payload["i"] for e in events if e.type == "during"] == list(range(1, 11))
        gap = events[-1]
        assert gap.payload == {"dropped_events": 15} and gap.t == 25
        assert await client.hget(session_key("s1"), "gap_events") == b"15"
    finally:
        await client.aclose()
        redis.stop()


async def test_the_buffer_is_bounded_in_bytes_not_only_in_events(tmp_path: Path) -> None:
    redis = RedisProcess(tmp_path / "r")
    redis.start()
    client = aioredis.from_url(redis.url, socket_connect_timeout=0.5, socket_timeout=1)
    try:
        async with Recorder(client, buffer_max=10_000, buffer_max_bytes=100_000) as rec:
            await client.hset(session_key("s1"), mapping={"id": "s1", "created_ms": "0", "status": "live"})
            redis.stop()
            big = "x" * 30_000
            for i in range(6):  # 6 x ~30 kB: only 3 fit in 100 kB
                rec.append("s1", Event(i, "big", payload={"i": i, "text": big}))
            assert rec.pending == 3 and rec.buffered_bytes <= 100_000
            redis.start()
            assert await rec.flush(timeout=20)
            assert rec.buffered_bytes == 0
            events = await rec.read("s1")
        assert [e.type for e in events] == ["big"] * 3 + ["recording.gap"]
        assert events[-1].payload == {"dropped_events": 3}
    finally:
        await client.aclose()
        redis.stop()


def test_document_at_a_time_uses_checkpoints_and_matches_replaying_every_update() -> None:
    from pycrdt import Doc, Text

    doc = Doc()
    text = doc.get("code", type=Text)
    events: list[Event] = []
    updates: list[bytes] = []
    doc.observe(lambda e: updates.append(e.update))
    for i in range(500):
        text += f"line {i}\n"
        events.append(Event.doc_update(i * 10, "candidate", "a", updates[-1]))
        if i % 200 == 199:
            events.append(checkpoint_event(i * 10, doc))
    assert text_at(events) == str(text)
    assert text_at(events, upto_t=0) == "line 0\n"
    at = text_at(events, upto_t=2995)
    assert at == "".join(f"line {i}\n" for i in range(300))
    # A checkpoint rebuilds the same CRDT items: applying the remaining updates is idempotent.
    rebuilt = rebuild_doc(events)
    for u in updates:
        rebuilt.apply_update(u)
    assert str(rebuilt.get("code", type=Text)) == str(text)
