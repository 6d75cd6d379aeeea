"""Browser sessions: a signed cookie naming a server-side session record in Redis.

The cookie holds a random session id and an HMAC of it (the key is generated once and kept in
the data directory, mode 0600). The record holds the member, the sign-in time, the last use
and the CSRF token; idle and absolute expiry are enforced here, on the server, whatever the
browser keeps. Signing out, or disabling the member, deletes the records.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

COOKIE = "clarify_session"
CSRF_HEADER = "x-csrf-token"
KEY = "clarify:websession:{}"
MEMBER_SESSIONS = "clarify:member:{}:websessions"


def load_cookie_secret(data_dir: Path) -> bytes:
    """The cookie-signing key: generated once, stored 0600 in the data directory."""
    path = data_dir / "cookie_secret"
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(secret.hex() + "\n")
    return secret


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser."""

    id_hash: str
    member: str
    csrf: str
    created_ms: int
    seen_ms: int


def _now_ms() -> int:
    return int(time.time() * 1000)


class WebSessions:
    """Create, resolve and end browser sessions."""

    def __init__(self, redis: aioredis.Redis, secret: bytes, *, idle_s: int, absolute_s: int) -> None:
        self.redis = redis
        self.secret = secret
        self.idle_s = idle_s
        self.absolute_s = absolute_s

    def _sign(self, sid: str) -> str:
        return hmac.new(self.secret, sid.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _hash(sid: str) -> str:
        return hashlib.sha256(sid.encode()).hexdigest()

    async def create(self, member_id: str) -> tuple[str, WebSession]:
        """A new session for ``member_id``: the cookie value and the record."""
        sid = secrets.token_urlsafe(32)
        now = _now_ms()
        session = WebSession(self._hash(sid), member_id, secrets.token_urlsafe(24), now, now)
        pipe = self.redis.pipeline()
        pipe.hset(
            KEY.format(session.id_hash),
            mapping={"member": member_id, "csrf": session.csrf, "created_ms": now, "seen_ms": now},
        )
        pipe.expire(KEY.format(session.id_hash), self.idle_s)
        pipe.sadd(MEMBER_SESSIONS.format(member_id), session.id_hash)
        await pipe.execute()
        return f"{sid}.{self._sign(sid)}", session

    def _parse(self, cookie: str | None) -> str | None:
        if not cookie or "." not in cookie:
            return None
        sid, _, signature = cookie.rpartition(".")
        if not sid or not hmac.compare_digest(signature, self._sign(sid)):
            return None
        return sid

    async def resolve(self, cookie: str | None) -> WebSession | None:
        """The live session a cookie names, touched; None when unsigned, unknown or expired."""
        sid = self._parse(cookie)
        if sid is None:
            return None
        key = KEY.format(self._hash(sid))
        raw = await self.redis.hgetall(key)
        if not raw:
            return None
        d = {k.decode(): v.decode() for k, v in raw.items()}
        now = _now_ms()
        created, seen = int(d["created_ms"]), int(d["seen_ms"])
        if now - created > self.absolute_s * 1000 or now - seen > self.idle_s * 1000:
            await self.end_hash(self._hash(sid), d["member"])
            return None
        pipe = self.redis.pipeline()
        pipe.hset(key, "seen_ms", now)
        remaining = self.absolute_s - (now - created) // 1000
        pipe.expire(key, max(1, min(self.idle_s, remaining)))
        await pipe.execute()
        return WebSession(self._hash(sid), d["member"], d["csrf"], created, now)

    async def end(self, cookie: str | None) -> str | None:
        """Sign a browser out; returns the member it belonged to."""
        session = await self.resolve(cookie)
        if session is None:
            return None
        await self.end_hash(session.id_hash, session.member)
        return session.member

    async def end_hash(self, id_hash: str, member_id: str) -> None:
        pipe = self.redis.pipeline()
        pipe.delete(KEY.format(id_hash))
        pipe.srem(MEMBER_SESSIONS.format(member_id), id_hash)
        await pipe.execute()

    async def end_all(self, member_id: str) -> int:
        """Sign every browser of a member out (they were disabled)."""
        hashes = await self.redis.smembers(MEMBER_SESSIONS.format(member_id))
        pipe = self.redis.pipeline()
        for h in hashes:
            pipe.delete(KEY.format(h.decode()))
        pipe.delete(MEMBER_SESSIONS.format(member_id))
        await pipe.execute()
        return len(hashes)
