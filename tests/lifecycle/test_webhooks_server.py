"""Webhooks from a real `clarify serve` to a real receiver that goes down, fails, comes back,
and a server SIGKILLed between two attempts of a delivery.

From the receiver's point of view (deduplicating by ``webhook-id``, verifying every signature
with ``standardwebhooks``) every event arrives exactly once, with the ATS ids it was created
with; ``scorecard.ready`` carries the scorecard and absolute links.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from websockets.sync.client import connect

from sandbox import SandboxConfig
from tests.lifecycle.receiver import Receiver
from tests.server.harness import ADMIN, ROOT, RedisProcess, ServerProcess

PROBLEM = "ticket-escalation"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
FAST_RETRIES = {
    "CLARIFY_WEBHOOK_BACKOFF_BASE_S": "0.1",
    "CLARIFY_WEBHOOK_BACKOFF_MAX_S": "0.5",
    "CLARIFY_WEBHOOK_TIMEOUT_S": "1",
    "CLARIFY_WEBHOOK_RETRY_HOURS": "1",
}


@pytest.fixture
def hook_server(
    tmp_path: Path, kernel_image: str, kernel_dir: Path, sandbox_config: SandboxConfig
) -> Iterator[Callable[[], ServerProcess]]:
    """A server on its own Redis (which outlives a SIGKILL of the server)."""
    redis = RedisProcess(tmp_path / "redis")
    redis.start()
    label = f"{sandbox_config.server_id}-hooks"
    server = ServerProcess(
        tmp_path / "data",
        image=kernel_image,
        kernel_dir=kernel_dir,
        redis_url=redis.url,
        server_id=label,
        extra_env=FAST_RETRIES,
    )
    server.start()
    yield lambda: server
    server.stop()
    redis.stop()
    client = docker.from_env()
    for c in client.containers.list(all=True, filters={"label": f"clarify.server={label}"}):
        c.remove(force=True)
    client.close()


def api(server: ServerProcess, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{server.base}{path}", headers=AUTH, timeout=30, **kw)


def add_endpoint(server: ServerProcess, receiver: Receiver) -> dict[str, Any]:
    r = api(server, "POST", "/api/webhooks", json={"url": receiver.url, "description": "Greenhouse"})
    assert r.status_code == 201, r.text
    endpoint = r.json()
    receiver.secret = endpoint["secret"]
    listed = api(server, "GET", "/api/webhooks").json()
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]  # shown once
    return endpoint


def deliveries(server: ServerProcess, endpoint_id: str) -> list[dict[str, Any]]:
    r = api(server, "GET", f"/api/webhooks/{endpoint_id}/deliveries")
    assert r.status_code == 200, r.text
    return r.json()


def wait_delivery(
    server: ServerProcess, endpoint_id: str, pred: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        seen = deliveries(server, endpoint_id)
        for d in seen:
            if pred(d):
                return d
        time.sleep(0.1)
    raise AssertionError(f"no matching delivery within {timeout}s: {json.dumps(seen)[:2000]}")


def test_every_event_arrives_once_through_an_outage(
    hook_server: Callable[[], ServerProcess], receiver: Receiver
) -> None:
    server = hook_server()
    endpoint = add_endpoint(server, receiver)
    ids = {"candidate_id": "gh-cand-1001", "application_id": "gh-app-2002"}
    r = api(server, "POST", "/api/sessions", json={"problem": PROBLEM, "candidate": "Ada", "external_ids": ids})
    assert r.status_code == 201, r.text
    session = r.json()
    sid = session["id"]
    assert session["external_ids"] == ids
    receiver.wait_for("session.created", sid)

    # The receiver goes down mid-run: the candidate's first join is persisted and retried.
    receiver.stop()
    token = session["tokens"]["candidate"]
    with connect(f"{server.ws_base}/ws/events/{sid}?token={token}") as ws:
        assert json.loads(ws.recv(timeout=30))["type"] == "hello"
        down = wait_delivery(server, endpoint["id"], lambda d: d["type"] == "session.started" and d["attempts"] >= 2)
        assert down["status"] == "pending" and down["response_code"] is None and "Connect" in down["last_error"]
        # It comes back answering 500 for a while, then slowly (past the sender's timeout).
        receiver.mode = "error"
        receiver.start()
        wait_delivery(server, endpoint["id"], lambda d: d["type"] == "session.started" and d["response_code"] == 500)
        r = api(server, "POST", f"/api/sessions/{sid}/end")
        assert r.status_code == 200, r.text
    receiver.mode, receiver.slow_s = "slow", 1.5
    wait_delivery(server, endpoint["id"], lambda d: "Timeout" in (d["last_error"] or ""))
    receiver.mode = "ok"
    card = receiver.wait_for("scorecard.ready", sid, 180)
    for kind in ("session.started", "session.ended"):
        receiver.wait_for(kind, sid)
    # A receiver that answered too slowly already holds that event, but the sender counted the
    # attempt as failed and delivers it again (the receiver dedupes by webhook id): wait until
    # every delivery has settled.
    deadline = time.monotonic() + 120
    while True:
        final = deliveries(server, endpoint["id"])
        if all(d["status"] == "succeeded" for d in final) or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert receiver.rejected == []
    # Exactly once each, from the receiver's point of view; every delivery ended succeeded.
    kinds = sorted(p["type"] for p in receiver.events.values())
    assert kinds == ["scorecard.ready", "session.created", "session.ended", "session.started"]
    assert {d["webhook_id"] for d in final} == set(receiver.events)
    assert all(d["status"] == "succeeded" for d in final)
    assert sum(receiver.attempts.values()) > len(receiver.events)  # there were retries
    for payload in receiver.events.values():
        assert payload["data"]["external_ids"] == ids
        assert payload["data"]["session"]["id"] == sid
    data = card["data"]
    assert data["scorecard"]["session"]["id"] == sid and "overall" in data["scorecard"]
    assert data["scorecard"]["checks_status"] == "done"
    assert data["links"]["scorecard"] == f"{server.base}/api/sessions/{sid}/scorecard"
    assert data["links"]["replay"] == f"{server.base}/replay/{sid}"

    # The documented Greenhouse mapping turns this very event into a Greenhouse scorecard.
    mapped = greenhouse().to_greenhouse(card)
    assert mapped["application_id"] == ids["application_id"] and mapped["candidate_id"] == ids["candidate_id"]
    assert mapped["overall_recommendation"] in {"strong_yes", "yes", "no", "definitely_not"}
    assert {a["name"] for a in mapped["attributes"]} >= {"Clarifying questions", "Hidden checks"}
    assert data["links"]["scorecard"] in mapped["notes"]


def greenhouse() -> Any:
    spec = importlib.util.spec_from_file_location("greenhouse_example", ROOT / "deploy" / "greenhouse_example.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_delivery_survives_a_sigkill_between_attempts(
    hook_server: Callable[[], ServerProcess], receiver: Receiver
) -> None:
    server = hook_server()
    endpoint = add_endpoint(server, receiver)
    receiver.mode = "error"
    r = api(server, "POST", "/api/sessions", json={"candidate": "Grace", "external_ids": {"application_id": "a-1"}})
    session = r.json()
    sid = session["id"]
    pending = wait_delivery(server, endpoint["id"], lambda d: d["session"] == sid and d["attempts"] >= 2)
    assert pending["status"] == "pending" and pending["response_code"] == 500

    server.kill()  # between two attempts: no shutdown, nothing flushed
    receiver.mode = "ok"
    server.start()
    payload = receiver.wait_for("session.created", sid)
    assert payload["data"]["external_ids"] == {"application_id": "a-1"}
    done = wait_delivery(server, endpoint["id"], lambda d: d["id"] == pending["id"] and d["status"] == "succeeded")
    assert done["response_code"] == 204 and done["webhook_id"] == pending["webhook_id"]
    assert list(receiver.events) == [pending["webhook_id"]]

    # An admin redelivers it: the same webhook-id, so the receiver recognises the repeat.
    before = receiver.attempts[pending["webhook_id"]]
    r = api(server, "POST", f"/api/webhooks/deliveries/{pending['id']}/redeliver")
    assert r.status_code == 202, r.text
    wait_delivery(
        server,
        endpoint["id"],
        lambda d: d["id"] == pending["id"] and d["status"] == "succeeded" and d["attempts"] > done["attempts"],
    )
    assert receiver.attempts[pending["webhook_id"]] == before + 1
    assert list(receiver.events) == [pending["webhook_id"]]

    # Admins only: neither nobody nor a session's role token may read or manage webhooks.
    assert httpx.get(f"{server.base}/api/webhooks", timeout=10).status_code == 401
    reviewer = {"Authorization": f"Bearer {session['tokens']['reviewer']}"}
    assert httpx.get(f"{server.base}/api/webhooks", headers=reviewer, timeout=10).status_code == 401
