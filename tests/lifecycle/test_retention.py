"""The retention sweep with a clock the test controls (real Redis, no Docker, no server).

Sessions past retention are erased (counted from when they ended, or were created if left
open); a session under legal hold is kept whatever its age; younger ones are kept; finished
webhook deliveries past their own retention are pruned.
"""

from __future__ import annotations

import json
from pathlib import Path

import redis.asyncio as aioredis

from server.audit import STREAM as AUDIT_STREAM
from server.audit import AuditLog
from server.events import SESSION_CREATED, Event
from server.lifecycle import Lifecycle
from server.recording import Recorder, stream_key
from server.runtime import Runtimes
from server.sessions import INDEX_KEY, SessionStore
from server.webhooks_store import SUCCEEDED, Delivery, Endpoint, WebhookStore

DAY_MS = 24 * 3600 * 1000


async def test_the_sweep_erases_what_is_past_retention_except_legal_holds(
    redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    store = SessionStore(redis_client)
    hooks = WebhookStore(redis_client)
    async with Recorder(redis_client) as recorder:
        # pool: this test never loads a session into a runtime, so it never needs a kernel.
        runtimes = Runtimes(store, recorder, pool=None)  # type: ignore[arg-type]
        sweeper = Lifecycle(
            redis_client,
            store,
            recorder,
            runtimes,
            AuditLog(redis_client),
            tmp_path,
            webhooks=hooks,
            retention_days=365,
            sweep_every_s=0,  # no background sweep: the test calls it with its own clock
            keep_deliveries_days=30,
        )
        sessions = {}
        for name in ("ended", "held", "open"):
            info, _ = await store.create("", f"Candidate {name}")
            recorder.append(info.id, Event(0, SESSION_CREATED, "interviewer", "admin", {"candidate": info.candidate}))
            sessions[name] = info.id
        await recorder.flush()
        await store.end(sessions["ended"])
        await store.end(sessions["held"])
        await store.set_legal_hold(sessions["held"], True)
        ended_ms = (await store.get(sessions["ended"])).ended_ms
        assert ended_ms is not None

        await hooks.create_endpoint(Endpoint("ep_1", "http://127.0.0.1:9/", "whsec_AAAA", created_ms=0))
        old = Delivery("dlv_old", "msg_1", "ep_1", "session.ended", "", "{}", created_ms=ended_ms, status=SUCCEEDED)
        pipe = redis_client.pipeline()
        hooks.queue(pipe, old)
        pipe.zrem("clarify:whdue", old.id)
        await pipe.execute()

        # A day short of a year: everything stays.
        assert await sweeper.sweep(now_ms=ended_ms + 364 * DAY_MS) == []
        assert await hooks.delivery("dlv_old") is None  # deliveries have their own (30 days)
        assert await redis_client.zcard(INDEX_KEY) == 3

        # Past a year: the ended and the forgotten open session go; the held one stays.
        erased = await sweeper.sweep(now_ms=ended_ms + 366 * DAY_MS)
        assert sorted(erased) == sorted([sessions["ended"], sessions["open"]])
        assert await redis_client.exists(stream_key(sessions["ended"])) == 0
        remaining = [i.decode() for i in await redis_client.zrange(INDEX_KEY, 0, -1)]
        assert remaining == [sessions["held"]]
        assert (await store.get(sessions["held"])).legal_hold

        # Lifting the hold lets the next sweep take it.
        await store.set_legal_hold(sessions["held"], False)
        assert await sweeper.sweep(now_ms=ended_ms + 366 * DAY_MS) == [sessions["held"]]
        assert await redis_client.zcard(INDEX_KEY) == 0

    entries = [json.loads(f[b"entry"]) for _, f in await redis_client.xrange(AUDIT_STREAM)]
    erasures = [e for e in entries if e["action"] == "session.erase"]
    assert len(erasures) == 3 and {e["reason"] for e in erasures} == {"retention"}
    assert "Candidate" not in json.dumps(entries)  # the audit names ids, never the candidate
