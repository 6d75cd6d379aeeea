"""A real OpenID provider for the sign-in tests (panva/oidc-provider in Node, see tests/oidc),
and signing in through it with a plain HTTP client, the way a browser follows the redirects."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.server.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ROOT / "tests" / "oidc" / "provider.mjs"
CLIENT_ID = "clarify-test"
CLIENT_SECRET = "clarify-test-secret-0123456789"

# username -> claims; groups map to team roles through the settings in `oidc_env`.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {"email": "alice@example.com", "name": "Alice Interviewer", "groups": ["hiring-interviewers"]},
    "bob": {"email": "bob@example.com", "name": "Bob Interviewer", "groups": ["hiring-interviewers"]},
    "rita": {"email": "rita@example.com", "name": "Rita Reviewer", "groups": ["hiring-panel"]},
    "adam": {"email": "adam@example.com", "name": "Adam Admin", "groups": ["clarify-admins"]},
    "nora": {"email": "nora@example.com", "name": "Nora Nogroup", "groups": []},
    "eve": {"email": "eve@elsewhere.test", "name": "Eve Outsider", "groups": ["hiring-interviewers"]},
}


class IdentityProvider:
    """`node tests/oidc/provider.mjs` on a free port, with one PKCE client."""

    def __init__(self, redirect_uri: str, accounts: dict[str, dict[str, Any]] | None = None) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.redirect_uri = redirect_uri
        self.accounts = accounts or ACCOUNTS
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        assert (PROVIDER.parent / "node_modules" / "oidc-provider").is_dir(), "run `make node-deps` first"
        config = {
            "port": self.port,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": self.redirect_uri,
            "accounts": self.accounts,
        }
        self.proc = subprocess.Popen(
            ["node", str(PROVIDER), json.dumps(config)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        line = self.proc.stdout.readline()
        if not line.startswith("ready ") or time.monotonic() > deadline:
            self.stop()  # never leave a half-started provider (or its pipe) behind
            raise RuntimeError(f"the OpenID provider did not start: {line!r}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None

    def env(self, **extra: str) -> dict[str, str]:
        """The settings that connect a Clarify to this provider."""
        return {
            "CLARIFY_OIDC__ISSUER": self.issuer,
            "CLARIFY_OIDC__CLIENT_ID": CLIENT_ID,
            "CLARIFY_OIDC__CLIENT_SECRET": CLIENT_SECRET,
            "CLARIFY_OIDC__SCOPES": "openid email profile groups",
            "CLARIFY_OIDC__ALLOWED_DOMAINS": "example.com",
            "CLARIFY_OIDC__ADMIN_GROUPS": "clarify-admins",
            "CLARIFY_OIDC__INTERVIEWER_GROUPS": "hiring-interviewers",
            "CLARIFY_OIDC__REVIEWER_GROUPS": "hiring-panel",
            **extra,
        }


def start_login(base: str, client: httpx.Client) -> httpx.Response:
    """Follow `/auth/login` to the provider's login form."""
    r = client.get(f"{base}/auth/login", follow_redirects=True)
    assert r.status_code == 200 and "/interaction/" in str(r.url), (r.status_code, r.url, r.text[:300])
    return r


def submit_login(client: httpx.Client, form_page: httpx.Response, username: str) -> httpx.Response:
    """Type the username on the provider's form; returns the response that would go back to
    Clarify's callback (not followed), so a test can inspect or replay it."""
    match = re.search(r'action="([^"]+)"', form_page.text)
    assert match, form_page.text[:300]
    action = str(form_page.url.join(match.group(1)))
    r = client.post(action, data={"login": username})
    while r.status_code in (302, 303) and "/auth/callback" not in r.headers["location"]:
        r = client.get(str(r.url.join(r.headers["location"])))
    assert r.status_code in (302, 303), (r.status_code, r.text[:300])
    return r


@contextlib.contextmanager
def sign_in(base: str, username: str) -> Iterator[httpx.Client]:
    """A client holding a Clarify browser session for ``username`` (cookie), CSRF header set."""
    with httpx.Client(timeout=30) as client:
        form = start_login(base, client)
        to_callback = submit_login(client, form, username)
        r = client.get(to_callback.headers["location"])
        assert r.status_code == 303, (r.status_code, r.text[:500])
        me = client.get(f"{base}/api/me")
        assert me.status_code == 200, me.text
        client.headers["X-CSRF-Token"] = me.json()["csrf"]
        yield client
