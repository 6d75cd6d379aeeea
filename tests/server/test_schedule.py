"""Scheduled interviews: the staff home's "upcoming" view (soonest first, until the candidate
joins), against a real `clarify serve`."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.server.harness import ADMIN, events_socket, recv_until


async def test_scheduled_sessions_are_upcoming_until_the_candidate_joins(server_factory) -> None:
    server = server_factory()
    now = int(time.time() * 1000)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=30) as http:

        async def create(name: str, **extra: object) -> dict:
            r = await http.post("/api/sessions", json={"candidate": name, **extra})
            assert r.status_code == 201, r.text
            return r.json()

        later = await create("Later", scheduled_at=now + 2 * 3_600_000)
        soon = await create("Soon", scheduled_at=now + 600_000)
        await create("Unscheduled")
        assert soon["scheduled_ms"] == now + 600_000

        async def upcoming() -> list[str]:
            r = await http.get("/api/sessions", params={"view": "upcoming"})
            assert r.status_code == 200, r.text
            return [s["candidate"] for s in r.json()]

        assert await upcoming() == ["Soon", "Later"]  # soonest first, unscheduled left out

        async with events_socket(server, soon["id"], soon["tokens"]["candidate"]) as ws:
            await recv_until(ws, lambda m: m["type"] == "hello")
        async with asyncio.timeout(10):
            while await upcoming() != ["Later"]:  # the candidate joined: no longer upcoming
                await asyncio.sleep(0.1)

        for bad in (-5, "tomorrow", 10**15):
            r = await http.post("/api/sessions", json={"candidate": "Bad", "scheduled_at": bad})
            assert r.status_code == 422 and "scheduled_at" in r.json()["message"], r.text
    assert later["id"]
