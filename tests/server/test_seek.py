"""Seeking in a recording by its checkpoint index, against a real redis-server (and, at the end,
a real `clarify serve` with a stock Yjs client): every seek gives the text a full scan gives."""

from __future__ import annotations

import asyncio
import gzip
import json
import random
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from pycrdt import Doc, Text

from server.document import checkpoint_event, text_at
from server.events import DOC_CHECKPOINT, Event
from server.recording import Recorder, checkpoint_index_key, stream_key
from server.replay_stream import accepts_gzip
from tests.server.harness import ADMIN, RedisProcess, YClient

EVERY = 50  # a checkpoint every EVERY updates, as the runtime does every 200


def typed_session(keystrokes: int, seed: int = 7) -> list[Event]:
    """A recording of someone typing (and now and then deleting), with checkpoints."""
    rng = random.Random(seed)
    doc = Doc()
    text = doc.get("code", type=Text)
    updates: list[bytes] = []
    doc.observe(lambda ev: updates.append(ev.update))
    events: list[Event] = [Event(0, "session.created", payload={"candidate": "Ada"})]
    t = 0
    for i in range(keystrokes):
        t += rng.choice((0, 40, 90, 150))
        if len(text) > 5 and rng.random() < 0.1:
            del text[len(text) - 1]
        else:
            text += rng.choice("abcdefgh ()=:\n")
        events.append(Event.doc_update(t, "candidate", "candidate-ab12", updates.pop()))
        if (i + 1) % EVERY == 0:
            events.append(checkpoint_event(t, doc))
        if i % 97 == 0:
            events.append(Event(t, "run.queued", "candidate", "candidate-ab12", {"run": i, "code": "print(1)"}))
    return events


@pytest.fixture
async def redis_client(tmp_path: Path):
    server = RedisProcess(tmp_path / "r")
    server.start()
    client = aioredis.from_url(server.url)
    try:
        yield client
    finally:
        await client.aclose()
        server.stop()


async def full_scan_text(rec: Recorder, session_id: str, at: int | None) -> str:
    return text_at(await rec.read(session_id, upto_t=at))


async def test_a_seek_reads_from_the_last_checkpoint_and_matches_a_full_scan(redis_client) -> None:
    events = typed_session(1200)
    async with Recorder(redis_client, batch=64) as rec:
        for ev in events:
            rec.append("s1", ev)
        assert await rec.flush()
        checkpoints = [ev for ev in events if ev.type == DOC_CHECKPOINT]
        assert await redis_client.zcard(checkpoint_index_key("s1")) == len(checkpoints)

        end = events[-1].t
        moments = [0, 1, end, end + 10_000, None, *random.Random(1).sample(range(end), 25)]
        moments += [cp.t for cp in checkpoints[:5]] + [cp.t - 1 for cp in checkpoints[:5]]
        for at in moments:
            read = await rec.read_from_checkpoint("s1", at)
            assert text_at(read) == await full_scan_text(rec, "s1", at), at
            assert all(at is None or ev.t <= at for ev in read)
            # Bounded: one checkpoint interval, not the recording so far.
            assert sum(ev.type == "doc.update" for ev in read) <= EVERY, at


async def test_a_recording_without_an_index_is_still_right_and_gets_indexed(redis_client) -> None:
    events = typed_session(600)
    async with Recorder(redis_client) as rec:
        for ev in events:
            rec.append("old", ev)
        assert await rec.flush()
        await redis_client.delete(checkpoint_index_key("old"))  # as recorded before the index existed
        end = events[-1].t
        assert text_at(await rec.read_from_checkpoint("old", end)) == await full_scan_text(rec, "old", end)
        # That read passed every checkpoint, and indexed them.
        expected = sum(ev.type == DOC_CHECKPOINT for ev in events)
        assert await redis_client.zcard(checkpoint_index_key("old")) == expected
        at = end // 2
        read = await rec.read_from_checkpoint("old", at)
        assert read[0].type == DOC_CHECKPOINT
        assert text_at(read) == await full_scan_text(rec, "old", at)


async def test_an_imported_recording_is_indexed(redis_client) -> None:
    events = typed_session(300)
    async with Recorder(redis_client) as rec:
        assert await rec.import_events("imp", events) == len(events)
        assert await redis_client.zcard(checkpoint_index_key("imp")) == sum(e.type == DOC_CHECKPOINT for e in events)
        at = events[-1].t - 1
        assert text_at(await rec.read_from_checkpoint("imp", at)) == await full_scan_text(rec, "imp", at)


async def test_json_lines_are_the_events_in_order_as_before(redis_client) -> None:
    events = typed_session(400)
    events.append(Event(99_999, "clarify.ask", "candidate", 'quote" and \\', {"id": 1, "text": 'naïve ✓ "q"'}))
    async with Recorder(redis_client) as rec:
        await rec.import_events("j", events)
        total, chunks = await rec.json_lines("j")
        # Written after the snapshot was taken: not part of it.
        await redis_client.xadd(stream_key("j"), Event(100_000, "late").to_fields())
        body = "".join([c async for c in chunks])
        assert total == len(events)
        stored = await rec.read("j")
        expected = "".join(json.dumps(ev.to_json(), separators=(",", ":")) + "\n" for ev in stored[: len(events)])
        assert body == expected
        empty_total, empty = await rec.json_lines("nothing")
        assert empty_total == 0 and [c async for c in empty] == []


def test_accept_encoding_parsing() -> None:
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("br;q=1.0, gzip;q=0.8")
    assert accepts_gzip("*")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("")


async def test_document_and_recording_endpoints_on_a_real_server(server_factory) -> None:
    server = server_factory(CLARIFY_DOC_MESSAGES_PER_SECOND="5000", CLARIFY_DOC_BURST_MESSAGES="20000")
    created = server.create_session("Ada")
    sid, token = created["id"], created["tokens"]["candidate"]
    reviewer = created["tokens"]["reviewer"]
    client = await YClient.start(server.ws_base, sid, token, "Ada")
    try:
        await client.synced()
        before = await client.text()
        typed = ""
        for i in range(450):  # past two checkpoints of the runtime (every 200 updates)
            ch = "x" if i % 40 else "\n"
            client.send(op="append", text=ch)
            typed += ch
        await client.wait_text(before + typed)
        await asyncio.sleep(0.5)  # the server has applied and recorded the last of them
    finally:
        await client.close()
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
        auth = {"Authorization": f"Bearer {ADMIN}"}
        raw = await http.get(f"/api/sessions/{sid}/recording", headers={**auth, "Accept-Encoding": "identity"})
        assert raw.status_code == 200 and "content-encoding" not in raw.headers
        assert raw.headers["content-type"].startswith("application/x-ndjson")
        lines = raw.text.splitlines()
        assert int(raw.headers["x-clarify-events"]) == len(lines)
        events = [Event.from_json(json.loads(line)) for line in lines]
        assert sum(e.type == DOC_CHECKPOINT for e in events) >= 2

        # Compressed when asked (the reviewer's link token works too).
        zipped = await http.get(
            f"/api/sessions/{sid}/recording", params={"token": reviewer}, headers={"Accept-Encoding": "gzip"}
        )
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.text == raw.text
        async with http.stream(
            "GET", f"/api/sessions/{sid}/recording", headers={**auth, "Accept-Encoding": "gzip"}
        ) as streamed:
            wire = b"".join([chunk async for chunk in streamed.aiter_raw()])
        assert gzip.decompress(wire).decode() == raw.text and len(wire) < len(raw.content)

        times = sorted({e.t for e in events})
        for at in [0, *times[:: max(1, len(times) // 25)], times[-1] + 1]:
            got = (await http.get(f"/api/sessions/{sid}/document", params={"at": at}, headers=auth)).json()
            assert got["text"] == text_at(events, at), at
        assert (await http.get(f"/api/sessions/{sid}/document", params={"at": "x"}, headers=auth)).status_code == 422
