"""Members, roles, CSRF, personal tokens, disabling, the websocket Origin check, candidate links
and the audit log: a real server signed in to through a real OpenID provider."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets

from tests.server.harness import ADMIN
from tests.signin.helpers import admin_headers, closed_with, create_as, first, member_socket
from tests.signin.idp import sign_in


def test_csrf_roles_and_hosting(signin) -> None:
    base = signin.base
    with sign_in(base, "alice") as alice, sign_in(base, "rita") as rita:
        csrf = alice.headers.pop("X-CSRF-Token")
        # The cookie alone changes nothing: no session, no member change, no token.
        assert alice.post(f"{base}/api/sessions", json={"candidate": "Ada"}).status_code == 403
        assert alice.post(f"{base}/api/tokens", json={"label": "x"}).status_code == 403
        alice.headers["X-CSRF-Token"] = "not-the-token"
        assert alice.post(f"{base}/api/sessions", json={"candidate": "Ada"}).status_code == 403
        alice.headers["X-CSRF-Token"] = csrf
        listed = httpx.get(f"{base}/api/sessions", headers=admin_headers()).json()
        assert listed == []
        made = create_as(alice, base, "Ada")
        assert made["host"] == alice.get(f"{base}/api/me").json()["id"]
        assert made["host_name"] == "Alice Interviewer"
        assert set(made["tokens"]) >= {"interviewer", "candidate", "observer", "reviewer"}
        # A reviewer reads but never creates, and cannot open the live room.
        denied = rita.post(f"{base}/api/sessions", json={"candidate": "Bo"})
        assert denied.status_code == 403
        assert rita.get(f"{base}/api/sessions").status_code == 200
        assert rita.get(f"{base}/api/sessions/{made['id']}").json()["role"] == "reviewer"
        assert rita.get(f"{base}/api/members").status_code == 403
        assert rita.get(f"{base}/api/audit").status_code == 403

        async def sockets() -> None:
            async with member_socket(signin.server.ws_base, made["id"], rita, base) as ws:
                assert await closed_with(ws) == 4403
            async with member_socket(signin.server.ws_base, made["id"], alice, base) as ws:
                hello = await first(ws, lambda m: m["type"] == "hello")
                assert hello["role"] == "interviewer"
                assert any(p["name"] == "Alice Interviewer" for p in hello["presence"])

        asyncio.run(sockets())

    with sign_in(base, "bob") as bob:
        # Bob did not create the session: he joins it as an observer.
        assert bob.get(f"{base}/api/sessions/{made['id']}").json()["role"] == "observer"
        mine = bob.get(f"{base}/api/sessions", params={"view": "mine"}).json()
        assert mine == []
        team = bob.get(f"{base}/api/sessions", params={"q": "ada"}).json()
        assert [s["id"] for s in team] == [made["id"]]


def test_cross_origin_websocket_with_the_cookie_is_refused(signin) -> None:
    base = signin.base
    with sign_in(base, "alice") as alice:
        made = create_as(alice, base, "Ada")

        async def check() -> None:
            for kind in ("events", "doc"):
                async with member_socket(signin.server.ws_base, made["id"], alice, "http://evil.example", kind) as ws:
                    assert await closed_with(ws) == 4403
            # No Origin at all (not a browser page of ours) is refused too.
            async with websockets.connect(
                f"{signin.server.ws_base}/ws/events/{made['id']}",
                additional_headers={"Cookie": f"clarify_session={alice.cookies.get('clarify_session')}"},
            ) as ws:
                assert await closed_with(ws) == 4403

        asyncio.run(check())


def test_personal_tokens_work_as_bearer_and_die_when_revoked(signin) -> None:
    base = signin.base
    with sign_in(base, "alice") as alice:
        made = alice.post(f"{base}/api/tokens", json={"label": "ci script"})
        assert made.status_code == 201
        token, token_id = made.json()["token"], made.json()["id"]
        listed = alice.get(f"{base}/api/tokens").json()["tokens"]
        assert [t["id"] for t in listed] == [token_id]
        assert token not in json.dumps(listed) and "hash" not in listed[0]
        bearer = {"Authorization": f"Bearer {token}"}
        me = httpx.get(f"{base}/api/me", headers=bearer).json()
        assert me["via"] == "personal-token" and me["name"] == "Alice Interviewer"
        # A bearer request needs no CSRF token; the session names its host.
        created = httpx.post(f"{base}/api/sessions", json={"candidate": "Cy"}, headers=bearer)
        assert created.status_code == 201 and created.json()["host_name"] == "Alice Interviewer"
        # Never from a URL.
        assert httpx.get(f"{base}/api/me", params={"token": token}).status_code == 401
        assert alice.delete(f"{base}/api/tokens/{token_id}").status_code == 200
        assert httpx.get(f"{base}/api/me", headers=bearer).status_code == 401
        assert httpx.post(f"{base}/api/sessions", json={"candidate": "Cy"}, headers=bearer).status_code == 401
    audit = httpx.get(f"{base}/api/audit", headers=admin_headers(), params={"action": "token.*"}).json()["entries"]
    assert [e["action"] for e in audit] == ["token.create", "token.revoke"]
    assert all(token not in json.dumps(e) for e in audit)


def test_disabling_a_member_ends_everything_at_once(signin) -> None:
    base = signin.base
    with sign_in(base, "alice") as alice, sign_in(base, "adam") as adam:
        alice_id = alice.get(f"{base}/api/me").json()["id"]
        token = alice.post(f"{base}/api/tokens", json={"label": "x"}).json()["token"]
        made = create_as(alice, base, "Ada")

        async def check() -> None:
            async with (
                member_socket(signin.server.ws_base, made["id"], alice, base) as events,
                member_socket(signin.server.ws_base, made["id"], alice, base, "doc") as doc,
            ):
                await first(events, lambda m: m["type"] == "hello")
                await doc.recv()
                r = await asyncio.to_thread(adam.patch, f"{base}/api/members/{alice_id}", json={"disabled": True})
                assert r.status_code == 200 and r.json()["disabled"] is True
                assert await closed_with(events, 5) == 4401
                assert await closed_with(doc, 5) == 4401

        asyncio.run(check())
        assert alice.get(f"{base}/api/me").status_code == 401
        assert httpx.get(f"{base}/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        # The session she hosts stays (and its role tokens keep working for scripts).
        assert httpx.get(f"{base}/api/sessions/{made['id']}", params={"token": made["tokens"]["reviewer"]}).is_success
        members = adam.get(f"{base}/api/members").json()["members"]
        assert {m["id"]: m["disabled"] for m in members}[alice_id] is True
        # Role changes by an admin stick over the IdP's groups.
        rita_id = None
        with sign_in(base, "rita") as rita:
            rita_id = rita.get(f"{base}/api/me").json()["id"]
        assert adam.patch(f"{base}/api/members/{rita_id}", json={"role": "interviewer"}).status_code == 200
        with sign_in(base, "rita") as rita:
            me = rita.get(f"{base}/api/me").json()
            assert me["role"] == "interviewer" and me["member"]["source"] == "admin-assigned"
    # A disabled member cannot sign in again.
    with httpx.Client(timeout=30) as client:
        from tests.signin.idp import start_login, submit_login

        to_callback = submit_login(client, start_login(base, client), "alice")
        refused = client.get(to_callback.headers["location"])
        assert refused.status_code == 403 and "removed" in refused.text
    entries = httpx.get(
        f"{base}/api/audit", headers={**admin_headers(), "Accept": "application/x-ndjson"}
    ).text.splitlines()
    actions = [json.loads(line)["action"] for line in entries]
    assert "member.disable" in actions and "member.role" in actions and "session.create" in actions
    assert "auth.login_refused" in actions


def test_candidate_links_expire_are_revoked_and_reissued(signin) -> None:
    base = signin.base
    ws_base = signin.server.ws_base

    async def opens(session_id: str, token: str) -> int | None:
        """None when the candidate socket opens (hello), else its close code."""
        async with websockets.connect(f"{ws_base}/ws/events/{session_id}?token={token}") as ws:
            try:
                async with asyncio.timeout(20):
                    msg = json.loads(await ws.recv())
                    assert msg["type"] == "hello" and msg["role"] == "candidate"
                    return None
            except websockets.ConnectionClosed as exc:
                return exc.rcvd.code if exc.rcvd else -1

    with sign_in(base, "alice") as alice:
        short = create_as(alice, base, "Ada", candidate_link_valid_s=2)
        assert short["candidate_link"]["expires_ms"] is not None
        assert asyncio.run(opens(short["id"], short["tokens"]["candidate"])) is None
        asyncio.run(asyncio.sleep(2.5))
        assert asyncio.run(opens(short["id"], short["tokens"]["candidate"])) == 4401

        made = create_as(alice, base, "Bo")
        old = made["tokens"]["candidate"]
        assert made["candidate_link"]["expires_ms"] is None  # until the session ends (+ grace)
        assert asyncio.run(opens(made["id"], old)) is None
        reissued = alice.post(f"{base}/api/sessions/{made['id']}/candidate-link", json={})
        assert reissued.status_code == 201
        new = reissued.json()["token"]
        assert new != old and reissued.json()["link"].endswith(f"/s/{made['id']}?token={new}")
        assert asyncio.run(opens(made["id"], old)) == 4401
        assert asyncio.run(opens(made["id"], new)) is None
        # The candidate's link is the candidate's: it never reads staff endpoints.
        assert httpx.get(f"{base}/api/sessions/{made['id']}/recording", params={"token": new}).status_code == 403
        assert alice.delete(f"{base}/api/sessions/{made['id']}/candidate-link").status_code == 200
        assert asyncio.run(opens(made["id"], new)) == 4401
        # A candidate cannot reissue their own link; a reviewer cannot either.
        assert httpx.post(f"{base}/api/sessions/{made['id']}/candidate-link", params={"token": new}).status_code in (
            401,
            403,
        )
    with sign_in(base, "rita") as rita:
        assert rita.post(f"{base}/api/sessions/{made['id']}/candidate-link", json={}).status_code == 403
    # Scripts keep the admin token.
    r = httpx.post(f"{base}/api/sessions/{made['id']}/candidate-link", headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status_code == 201
    audit = httpx.get(f"{base}/api/audit", headers=admin_headers(), params={"session": made["id"]}).json()["entries"]
    assert [e["action"] for e in audit if e["action"].startswith("candidate_link")] == [
        "candidate_link.reissue",
        "candidate_link.revoke",
        "candidate_link.reissue",
    ]
    assert all(new not in json.dumps(e) for e in audit)
