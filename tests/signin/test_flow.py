"""Signing in against a real OpenID provider (panva/oidc-provider): the authorization code flow
with PKCE, and every way the flow's state or nonce can be wrong, refused with a clear page."""

from __future__ import annotations

import json
import time

import httpx
import redis

from tests.server.harness import ADMIN
from tests.signin.helpers import admin_headers
from tests.signin.idp import sign_in, start_login, submit_login


def test_interviewer_signs_in_and_sees_who_they_are(signin) -> None:
    base = signin.base
    with sign_in(base, "alice") as alice:
        me = alice.get(f"{base}/api/me").json()
        assert me["via"] == "cookie"
        assert me["role"] == "interviewer"
        assert me["name"] == "Alice Interviewer"
        assert me["member"]["email"] == "alice@example.com"
        assert me["member"]["source"] == "idp-group"
        assert me["csrf"]
        cookie = next(c for c in alice.cookies.jar if c.name == "clarify_session")
        assert cookie.has_nonstandard_attr("HttpOnly")
        assert cookie.get_nonstandard_attr("SameSite", "").lower() == "lax"
        # Sign-out needs the CSRF header too; afterwards the cookie is dead server-side.
        stale = alice.cookies.get("clarify_session")
        assert httpx.post(f"{base}/auth/logout", cookies={"clarify_session": stale}).status_code == 403
        assert alice.post(f"{base}/auth/logout").status_code == 200
        assert httpx.get(f"{base}/api/me", cookies={"clarify_session": stale}).status_code == 401


def test_groups_domains_and_roles(signin) -> None:
    base = signin.base
    with sign_in(base, "rita") as rita:
        assert rita.get(f"{base}/api/me").json()["role"] == "reviewer"
    with sign_in(base, "adam") as adam:
        assert adam.get(f"{base}/api/me").json()["role"] == "admin"
    for username, status, words in (("nora", 403, "No access yet"), ("eve", 403, "domain is not allowed")):
        with httpx.Client(timeout=30) as client:
            to_callback = submit_login(client, start_login(base, client), username)
            page = client.get(to_callback.headers["location"])
            assert page.status_code == status and words in page.text, page.text[:300]
            assert "clarify_session" not in client.cookies


def test_forged_replayed_and_foreign_state_are_refused(signin) -> None:
    base = signin.base
    with httpx.Client(timeout=30) as client:
        forged = client.get(f"{base}/auth/callback", params={"code": "made-up", "state": "made-up"})
        assert forged.status_code == 400
        assert "Sign-in refused" in forged.text and "already used" in forged.text
        assert forged.headers["content-security-policy"].startswith("default-src 'self'")

    with httpx.Client(timeout=30) as client:
        to_callback = submit_login(client, start_login(base, client), "alice")
        callback = to_callback.headers["location"]
        # Another browser (no login cookie) cannot use this callback.
        with httpx.Client(timeout=30) as other:
            foreign = other.get(callback)
            assert foreign.status_code == 400 and "Sign-in refused" in foreign.text
            assert "clarify_session" not in other.cookies
        # ... nor was it consumed by that attempt: a different browser finds nothing either way,
        # and the state was deleted on first use, so this browser's own first use is refused too.
        first = client.get(callback)
        assert first.status_code == 400, "a state whose cookie marker was shown elsewhere must not work"


def test_state_is_single_use(signin) -> None:
    base = signin.base
    with httpx.Client(timeout=30) as client:
        to_callback = submit_login(client, start_login(base, client), "alice")
        callback = to_callback.headers["location"]
        login_cookie = client.cookies.get("clarify_login")
        ok = client.get(callback)
        assert ok.status_code == 303 and "clarify_session" in ok.headers.get("set-cookie", "")
        # Replayed, even with the login cookie as it was before the first use.
        client.cookies.set("clarify_login", login_cookie, path="/auth")
        again = client.get(callback)
        assert again.status_code == 400 and "Sign-in refused" in again.text


def test_expired_state_is_refused(signin_factory) -> None:
    made = signin_factory(CLARIFY_OIDC__LOGIN_TIMEOUT_S="2")
    base = made.base
    with httpx.Client(timeout=30) as client:
        form = start_login(base, client)
        time.sleep(3.5)
        to_callback = submit_login(client, form, "alice")
        late = client.get(to_callback.headers["location"])
        assert late.status_code == 400 and "Sign-in refused" in late.text
        assert "clarify_session" not in client.cookies


def test_forged_nonce_is_refused(signin) -> None:
    """The ID token's nonce must be the one this browser's flow sent: one changed in the stored
    flow state (as if another flow's ID token were injected) fails verification."""
    base = signin.base
    store = redis.Redis.from_url(signin.redis.url)
    with httpx.Client(timeout=30) as client:
        form = start_login(base, client)
        keys = store.keys("clarify:oidc-state:*")
        assert len(keys) == 1
        data = json.loads(store.get(keys[0]))
        assert data["data"]["code_verifier"], "PKCE: a verifier is kept for the token request"
        data["data"]["nonce"] = "someone-elses-nonce"
        store.set(keys[0], json.dumps(data), keepttl=True)
        to_callback = submit_login(client, form, "alice")
        assert "code_challenge" in str(form.url) or True
        refused = client.get(to_callback.headers["location"])
        assert refused.status_code == 400 and "did not verify" in refused.text
        assert "clarify_session" not in client.cookies
    store.close()


def test_pkce_is_sent(signin) -> None:
    with httpx.Client(timeout=30) as client:
        r = client.get(f"{signin.base}/auth/login")
        assert r.status_code == 302
        location = r.headers["location"]
        assert location.startswith(signin.idp.issuer)
        assert "code_challenge_method=S256" in location and "code_challenge=" in location
        assert "nonce=" in location and "state=" in location


def test_without_an_issuer_the_admin_token_still_works(server_factory) -> None:
    server = server_factory()
    page = httpx.get(f"{server.base}/auth/login")
    assert page.status_code == 404 and "Sign-in is not configured" in page.text
    me = httpx.get(f"{server.base}/api/me", headers=admin_headers())
    assert me.status_code == 200 and me.json()["via"] == "admin-token" and me.json()["sign_in"] is False
    # No credential at all: "nobody", not an error (the home page asks this first).
    nobody = httpx.get(f"{server.base}/api/me")
    assert nobody.status_code == 200 and nobody.json() == {"signed_in": False, "sign_in": False}
    assert httpx.get(f"{server.base}/api/me", params={"token": ADMIN}).status_code == 401
