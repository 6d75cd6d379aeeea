"""Small helpers of the sign-in tests: signed-in websockets and session creation."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from tests.server.harness import ADMIN


def cookie_header(client: httpx.Client) -> str:
    return f"clarify_session={client.cookies.get('clarify_session')}"


def member_socket(ws_base: str, session_id: str, client: httpx.Client, origin: str, kind: str = "events"):
    """A websocket authenticated by a member's browser-session cookie (``async with``)."""
    return websockets.connect(
        f"{ws_base}/ws/{kind}/{session_id}",
        additional_headers={"Cookie": cookie_header(client)},
        origin=origin,
        max_size=None,
    )


async def first(ws, pred, timeout: float = 20.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            msg = json.loads(await ws.recv())
            if pred(msg):
                return msg


async def closed_with(ws, timeout: float = 20.0) -> int | None:
    """Read until the server closes the socket; its close code."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None
    return None


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


def create_as(client: httpx.Client, base: str, candidate: str = "Ada", problem: str = "", **extra: Any) -> dict:
    r = client.post(f"{base}/api/sessions", json={"problem": problem, "candidate": candidate, **extra})
    assert r.status_code == 201, r.text
    return r.json()
