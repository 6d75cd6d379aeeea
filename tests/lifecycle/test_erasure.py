"""Erasing a candidate from a real `clarify serve`: nothing with their name, email, code,
question or answer remains in Redis (every key and value, type by type, Yjs updates decoded)
or anywhere under the data directory; their live sockets are closed; an ATS receiver is
told ``candidate.erased`` without personal data; an audit entry without it remains.

On the way, the session's export archive is read back by ``POST /api/recordings`` (the copy
carries the ATS ids, so erasing by an ATS id takes it too).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import httpx
import pytest
import redis.asyncio as aioredis
import websockets

from sandbox import SandboxConfig
from tests.lifecycle.receiver import Receiver
from tests.server.harness import ADMIN, RedisProcess, ServerProcess, YClient

PROBLEM = "ticket-escalation"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
NAME = "Zephyrine Quaxworth"
EMAIL = "zephyrine.q@example.org"
IDS = {"candidate_id": "gh-cand-7781", "application_id": "gh-app-8812"}
CODE_MARK = "zq9931_velociraptor"
DOC_MARK = "plan_marmoset_5521"
QUESTION = "Are the ticket ids unique, quokka-ledger-7731?"
ANSWER = "No: wombat-answer-4412, expect duplicates."
MARKERS = [NAME, EMAIL, CODE_MARK, DOC_MARK, "quokka-ledger-7731", "wombat-answer-4412"]
B64 = re.compile(rb"[A-Za-z0-9+/]{16,}={0,2}")


@pytest.fixture
def erasure_server(
    tmp_path: Path, kernel_image: str, kernel_dir: Path, sandbox_config: SandboxConfig
) -> Iterator[tuple[ServerProcess, RedisProcess]]:
    redis = RedisProcess(tmp_path / "redis")
    redis.start()
    label = f"{sandbox_config.server_id}-erase"
    server = ServerProcess(
        tmp_path / "data",
        image=kernel_image,
        kernel_dir=kernel_dir,
        redis_url=redis.url,
        server_id=label,
        extra_env={"CLARIFY_WEBHOOK_BACKOFF_BASE_S": "0.1", "CLARIFY_WEBHOOK_BACKOFF_MAX_S": "0.5"},
    )
    server.start()
    yield server, redis
    server.stop()
    redis.stop()
    client = docker.from_env()
    for c in client.containers.list(all=True, filters={"label": f"clarify.server={label}"}):
        c.remove(force=True)
    client.close()


def expanded(value: bytes) -> list[bytes]:
    """The value, and every base64 run in it decoded (Yjs updates are stored base64)."""
    out = [value]
    for run in B64.findall(value):
        with contextlib.suppress(binascii.Error, ValueError):
            out.append(base64.b64decode(run + b"=" * (-len(run) % 4)))
    return out


async def redis_values(client: aioredis.Redis) -> list[tuple[str, bytes]]:
    """Every key and every value in Redis, read by type."""
    found: list[tuple[str, bytes]] = []
    async for key in client.scan_iter(count=1000):
        kind = (await client.type(key)).decode()
        if kind == "string":
            values = [await client.get(key)]
        elif kind == "hash":
            values = [x for kv in (await client.hgetall(key)).items() for x in kv]
        elif kind == "list":
            values = await client.lrange(key, 0, -1)
        elif kind == "set":
            values = list(await client.smembers(key))
        elif kind == "zset":
            values = [m for m, _ in await client.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            values = [x for _, fields in await client.xrange(key) for kv in fields.items() for x in kv]
        else:
            raise AssertionError(f"{key!r}: a {kind} this test cannot read")
        found += [(key.decode(), key)] + [(key.decode(), v) for v in values if v is not None]
    return found


def hits(items: list[tuple[str, bytes]], markers: list[str]) -> list[tuple[str, str]]:
    """(where, marker) for every marker found, case-insensitively, in the items."""
    out = []
    for where, value in items:
        for text in expanded(value):
            low = text.lower()
            out += [(where, m) for m in markers if m.lower().encode() in low]
    return out


def files_under(root: Path) -> list[tuple[str, bytes]]:
    return [(str(p), p.read_bytes()) for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


async def read_until(ws, pred: Callable[[dict], bool], timeout: float = 60) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            msg = json.loads(await ws.recv())
            if pred(msg):
                return msg


async def test_erasing_a_candidate_leaves_nothing_of_them(
    erasure_server: tuple[ServerProcess, RedisProcess], receiver: Receiver
) -> None:
    server, redis = erasure_server
    async with httpx.AsyncClient(base_url=server.base, headers=AUTH, timeout=60) as http:
        r = await http.post("/api/webhooks", json={"url": receiver.url})
        receiver.secret = r.json()["secret"]
        body = {"problem": PROBLEM, "candidate": NAME, "candidate_email": EMAIL, "external_ids": IDS}
        session = (await http.post("/api/sessions", json=body)).json()
        other = (await http.post("/api/sessions", json={"problem": PROBLEM, "candidate": "Other Person"})).json()
        sid, tokens = session["id"], session["tokens"]
        events = f"{server.ws_base}/ws/events/{sid}?token="

        # The candidate edits, runs code and asks; the interviewer answers.
        doc = await YClient.start(server.ws_base, sid, tokens["candidate"], "cand")
        await doc.wait_for(lambda e: e.get("event") == "sync")
        doc.send(op="append", text=f"\n# {DOC_MARK}\n")
        cand = await websockets.connect(events + tokens["candidate"], max_size=None)
        staff = await websockets.connect(events + tokens["interviewer"], max_size=None)
        await read_until(cand, lambda m: m["type"] == "hello")
        await read_until(staff, lambda m: m["type"] == "hello")
        await cand.send(json.dumps({"type": "run", "code": f"print('{CODE_MARK}')"}))
        await read_until(cand, lambda m: m["type"] == "run.done", 120)
        await cand.send(json.dumps({"type": "ask", "text": QUESTION}))
        question = await read_until(staff, lambda m: m["type"] == "question")
        await staff.send(json.dumps({"type": "answer", "question": question["question"]["id"], "text": ANSWER}))
        await read_until(cand, lambda m: m["type"] == "answer")
        await asyncio.to_thread(receiver.wait_for, "session.started", sid)

        # The export archive, and the existing import reading it back.
        r = await http.get(f"/api/sessions/{sid}/export")
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(r.content))
        assert {"manifest.json", "session.json", "recording.jsonl", "scorecard.json", "scorecard.html"} <= set(
            archive.namelist()
        )
        assert DOC_MARK in archive.read("final_code.py").decode()
        assert json.loads(archive.read("scorecard.json"))["session"]["id"] == sid
        assert NAME in archive.read("scorecard.html").decode()
        r = await http.post("/api/recordings", content=r.content, headers={"content-type": "application/zip"})
        assert r.status_code == 201, r.text
        copy = r.json()
        assert copy["candidate"] == NAME
        assert (await http.get(f"/api/sessions/{copy['id']}")).json()["external_ids"] == IDS
        text = (await http.get(f"/api/sessions/{copy['id']}/document")).json()["text"]
        assert DOC_MARK in text

        client = aioredis.from_url(redis.url)
        try:
            # The scan sees everything before (so its silence afterwards means something).
            before = {m for _, m in hits(await redis_values(client), MARKERS)}
            assert before == set(MARKERS), before

            r = await http.post("/api/erasures", json={"external_id": IDS["application_id"]})
            assert r.status_code == 200, r.text
            assert sorted(r.json()["erased"]) == sorted([sid, copy["id"]])

            # Live connections are closed; a reconnect finds no session.
            with pytest.raises(websockets.ConnectionClosed):
                async with asyncio.timeout(15):
                    while True:
                        await cand.recv()
            async with websockets.connect(events + tokens["candidate"]) as again:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(again.recv(), 15)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
            await doc.wait_for(lambda e: e.get("event") == "close")
            assert (await http.get(f"/api/sessions/{sid}")).status_code == 404
            assert (await http.delete(f"/api/sessions/{sid}")).status_code == 404

            # The ATS hears of it, by its own ids and nothing personal.
            erased = await asyncio.to_thread(receiver.wait_for, "candidate.erased", sid)
            assert erased["data"]["external_ids"] == IDS
            assert not hits([("webhook", json.dumps(erased).encode())], MARKERS)

            # Nothing remains in Redis, its append-only files, or the data directory.
            assert hits(await redis_values(client), MARKERS) == []
            left: list[tuple[str, str]] = []
            for _ in range(150):  # the erasure asked for an AOF rewrite; old AOF parts go with it
                info = await client.info("persistence")
                idle = not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]
                left = hits(files_under(redis.directory), MARKERS)
                if idle and not left:
                    break
                await asyncio.sleep(0.2)
            assert left == [], left
            assert hits(files_under(server.data_dir), MARKERS) == []

            # What remains: an audit entry naming the session, not the person; the other candidate.
            audit = [json.loads(f[b"entry"]) for _, f in await client.xrange("clarify:audit")]
            erasures = [e for e in audit if e["action"] == "session.erase" and e["session"] == sid]
            assert len(erasures) == 1 and erasures[0]["actor"] == "admin"
            assert [e["matched_by"] for e in audit if e["action"] == "candidate.erase"] == ["external_id"]
            assert (await http.get(f"/api/sessions/{other['id']}")).json()["candidate"] == "Other Person"
        finally:
            await client.aclose()
            await staff.close()
            doc.send(op="quit")
