"""Durability: the server killed mid-session, and Redis going away mid-session."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from tests.server.harness import RedisProcess, YClient, events_socket, recv_until, staff_get


async def type_tokens(client: YClient, prefix: str, count: int, delay: float = 0.02) -> list[str]:
    tokens = []
    for i in range(count):
        token = f"{prefix}{i:03d} "
        client.send(op="append", text=token)
        tokens.append(token)
        await asyncio.sleep(delay)
    return tokens


def assert_each_once(text: str, tokens: list[str]) -> None:
    for token in tokens:
        assert len(re.findall(re.escape(token), text)) == 1, f"{token!r} appears {text.count(token)} times"


async def test_server_killed_mid_session_rebuilds_the_document_without_loss_or_duplicates(server_factory) -> None:
    server = server_factory()
    s = server.create_session()
    sid, tokens = s["id"], s["tokens"]
    a = await YClient.start(server.ws_base, sid, tokens["interviewer"], "Ines")
    b = await YClient.start(server.ws_base, sid, tokens["candidate"], "Ada")
    try:
        await a.synced()
        await b.synced()
        typing = asyncio.gather(type_tokens(a, "A", 60), type_tokens(b, "B", 60))
        await asyncio.sleep(0.6)  # edits in flight
        server.kill()
        await asyncio.sleep(0.5)  # both keep typing while the server is down
        server.start()  # same port, same data directory
        typed_a, typed_b = await typing
        for client in (a, b):  # each lost the server and reconnected on its own
            await client.wait_for(lambda e: e["event"] == "status" and e["status"] == "disconnected", timeout=30)
            statuses = [e["status"] for e in client.events if e["event"] == "status"]
            async with asyncio.timeout(30):
                while statuses[statuses.index("disconnected") :].count("connected") == 0:
                    await asyncio.sleep(0.1)
                    statuses = [e["status"] for e in client.events if e["event"] == "status"]
        async with asyncio.timeout(30):
            while True:
                ta, tb = await a.text(), await b.text()
                if ta == tb and all(t in ta for t in typed_a + typed_b):
                    final = ta
                    break
                await asyncio.sleep(0.1)
        assert_each_once(final, typed_a + typed_b)
        assert len(final) == sum(len(t) for t in typed_a + typed_b)
        await asyncio.sleep(1.5)  # let the recorder write what the clients re-sent
        doc = (await staff_get(server, f"/api/sessions/{sid}/document")).json()
        assert doc["text"] == final
    finally:
        await a.close()
        await b.close()
    # A fresh client after the restart sees the same text, once.
    c = await YClient.start(server.ws_base, sid, tokens["observer"], "Late")
    try:
        await c.synced()
        assert await c.text() == final
    finally:
        await c.close()


async def test_redis_outage_buffers_events_and_writes_them_in_order(server_factory, tmp_path: Path) -> None:
    redis = RedisProcess(tmp_path / "redis")
    redis.start()
    try:
        server = server_factory(redis_url=redis.url)
        s = server.create_session()
        sid, tokens = s["id"], s["tokens"]
        a = await YClient.start(server.ws_base, sid, tokens["candidate"], "Ada")
        b = await YClient.start(server.ws_base, sid, tokens["interviewer"], "Ines")
        try:
            await a.synced()
            await b.synced()
            before = await type_tokens(a, "P", 10)
            await b.wait_text("".join(before))
            async with events_socket(server, sid, tokens["candidate"]) as ev:
                await ev.recv()  # hello
                redis.stop()
                during = await type_tokens(a, "Q", 20)
                await b.wait_text("".join(before + during))  # editing continues
                await ev.send(json.dumps({"type": "run", "code": "print('ran without redis')"}))
                seen = await recv_until(ev, lambda m: m["type"] == "run.done")
                assert any(
                    "ran without redis" in m["output"].get("text", "") for m in seen if m["type"] == "run.output"
                )
                response = await staff_get(server, "/healthz")
                health = response.json()
                # It cannot create sessions without Redis: a load balancer must stop routing to it.
                assert response.status_code == 503 and health["status"] == "unavailable"
                assert "redis" in health["problems"]
                assert health["recording"]["ok"] is False and health["recording"]["pending_events"] > 0
                redis.start()
                async with asyncio.timeout(30):
                    while (await staff_get(server, "/healthz")).json()["status"] != "ok":
                        await asyncio.sleep(0.2)
            after = await type_tokens(a, "R", 5)
            final = "".join(before + during + after)
            await b.wait_text(final)
        finally:
            await a.close()
            await b.close()
        await asyncio.sleep(0.5)
        doc = (await staff_get(server, f"/api/sessions/{sid}/document")).json()
        assert doc["text"] == final
        lines = (await staff_get(server, f"/api/sessions/{sid}/recording")).text.splitlines()
        events = [json.loads(line) for line in lines]
        assert [e["t"] for e in events] == sorted(e["t"] for e in events)
        assert not any(e["type"] == "recording.gap" for e in events)
        types = [e["type"] for e in events]
        assert "run.done" in types
        session = (await staff_get(server, f"/api/sessions/{sid}")).json()
        assert session["recording_gap"] is False
    finally:
        redis.stop()
