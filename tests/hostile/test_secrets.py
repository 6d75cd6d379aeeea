"""Secrets stay out of URLs and logs (issue 8, findings 4 and 8), against a real `clarify serve`.

The admin token is refused wherever it is put in the query string; role tokens, which the
session links carry, still work there; the server's own access log keeps every request line,
with each token masked, and no token ever reaches the captured output.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import websockets

from server.logredact import redact
from tests.hostile.conftest import ModuleServerFactory
from tests.server.harness import ADMIN, ServerProcess

PROBLEM = "batch-to-realtime"


@pytest.fixture(scope="module")
def server(module_server_factory: ModuleServerFactory) -> ServerProcess:
    return module_server_factory()


@pytest.fixture(scope="module")
def session(server: ServerProcess) -> dict:
    r = httpx.post(
        f"{server.base}/api/sessions",
        json={"problem": PROBLEM, "candidate": "Ada"},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return r.json()


def staff_requests(sid: str) -> list[tuple[str, str]]:
    return [
        ("GET", "/api/problems"),
        ("GET", "/api/sessions"),
        ("POST", "/api/sessions"),
        ("POST", "/api/recordings"),
        ("GET", f"/api/problems/{PROBLEM}/comparison"),
        ("GET", f"/api/sessions/{sid}"),
        ("GET", f"/api/sessions/{sid}/recording"),
        ("GET", f"/api/sessions/{sid}/document"),
        ("GET", f"/api/sessions/{sid}/scorecard"),
        ("POST", f"/api/sessions/{sid}/end"),
    ]


async def test_the_admin_token_is_refused_in_the_query_string(server: ServerProcess, session: dict) -> None:
    sid = session["id"]
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
        for method, path in staff_requests(sid):
            r = await http.request(method, path, params={"token": ADMIN}, json={"candidate": "Eve"})
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            assert r.json()["error"] == "unauthorized"
        # The same token in the header works (the end of the session is left for last).
        for method, path in staff_requests(sid)[:-1]:
            if method == "POST":
                continue
            r = await http.request(method, path, headers={"Authorization": f"Bearer {ADMIN}"})
            assert r.status_code == 200, (method, path, r.status_code, r.text)
        # The refusal says where the token belongs.
        r = await http.get("/api/sessions", params={"token": ADMIN})
        assert "Authorization header" in r.json()["message"]
        # A role token in the query, as the session's links carry it, still opens the session.
        r = await http.get(f"/api/sessions/{sid}", params={"token": session["tokens"]["reviewer"]})
        assert r.status_code == 200 and r.json()["role"] == "reviewer"
        # The header wins over the query: one parser, one order.
        r = await http.get(
            f"/api/sessions/{sid}",
            params={"token": session["tokens"]["candidate"]},
            headers={"Authorization": f"Bearer {session['tokens']['reviewer']}"},
        )
        assert r.status_code == 200 and r.json()["role"] == "reviewer"


async def test_access_log_keeps_token_lines_with_the_token_masked(server: ServerProcess, session: dict) -> None:
    sid = session["id"]
    tokens = session["tokens"]
    marker = f"/api/sessions/{sid}"
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
        ok = await http.get(marker, params={"token": tokens["candidate"], "probe": "ok"})
        assert ok.status_code == 200
        refused = await http.get("/api/sessions", params={"token": ADMIN, "probe": "admin"})
        assert refused.status_code == 401
        bearer = await http.get(
            marker, params={"probe": "bearer"}, headers={"Authorization": f"Bearer {tokens['reviewer']}"}
        )
        assert bearer.status_code == 200
    # A websocket handshake with its token in the URL is logged too.
    async with websockets.connect(f"{server.ws_base}/ws/events/{sid}?token={tokens['observer']}&probe=ws") as ws:
        await ws.recv()

    deadline = time.monotonic() + 10
    expected = [
        f'"GET {marker}?token=***&probe=ok HTTP/1.1" 200',
        '"GET /api/sessions?token=***&probe=admin HTTP/1.1" 401',
        f'"GET {marker}?probe=bearer HTTP/1.1" 200',
    ]
    while True:
        log = server.log.read_text(errors="replace")
        if all(line in log for line in expected) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    for line in expected:
        assert line in log, f"no access line {line!r} in the server's output:\n{log[-3000:]}"
    assert "token=***&probe=ws" in log, log[-3000:]
    for secret in (ADMIN, *tokens.values()):
        assert secret not in log, "a token reached the server's output"
    assert "--- Logging error ---" not in log, "a log record failed to format"


def test_redact_masks_query_tokens_and_bearer_credentials() -> None:
    assert redact("GET /s/abc?token=s3cr3t-_x HTTP/1.1") == "GET /s/abc?token=*** HTTP/1.1"
    assert redact("/x?a=1&token=t&b=2") == "/x?a=1&token=***&b=2"
    assert redact("/x?access_token=t") == "/x?access_token=***"
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    assert redact("nothing to see") == "nothing to see"
