"""Sessions and their role tokens, kept in Redis (the only shared state).

Role tokens are random 256-bit values shown once at creation; only their SHA-256 hashes are
stored, on the session they belong to, and a presented token is compared against each role's
hash in constant time. Candidate and observer tokens stop working when the session ends;
reviewer (and interviewer) tokens keep working for replay and the scorecard.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from server.errors import NotFound, SessionEnded, Unauthorized
from server.recording import session_key
from server.tokens import CANDIDATE, OBSERVER, ROLES

ENDS_WITH_SESSION = frozenset({CANDIDATE, OBSERVER})
INDEX_KEY = "clarify:sessions"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class SessionInfo:
    """What Redis knows about a session."""

    id: str
    problem: str
    candidate: str
    created_ms: int
    status: str
    ended_ms: int | None = None
    gap_events: int = 0

    @classmethod
    def from_hash(cls, h: dict[bytes, bytes]) -> SessionInfo:
        d = {k.decode(): v.decode() for k, v in h.items()}
        return cls(
            id=d["id"],
            problem=d.get("problem", ""),
            candidate=d.get("candidate", ""),
            created_ms=int(d["created_ms"]),
            status=d.get("status", "live"),
            ended_ms=int(d["ended_ms"]) if d.get("ended_ms") else None,
            gap_events=int(d.get("gap_events", 0)),
        )

    @property
    def ended(self) -> bool:
        return self.status == "ended"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "problem": self.problem or None,
            "candidate": self.candidate,
            "created_ms": self.created_ms,
            "status": self.status,
            "ended_ms": self.ended_ms,
            "recording_gap": self.gap_events > 0,
            "recording_gap_events": self.gap_events,
        }


class SessionStore:
    """Create, find, end and authenticate sessions."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def create(self, problem: str, candidate: str) -> tuple[SessionInfo, dict[str, str]]:
        session_id = secrets.token_hex(8)
        tokens = {role: secrets.token_urlsafe(32) for role in ROLES}
        created = now_ms()
        mapping = {
            "id": session_id,
            "problem": problem,
            "candidate": candidate,
            "created_ms": str(created),
            "status": "live",
            **{f"tok:{role}": _hash(tok) for role, tok in tokens.items()},
        }
        pipe = self.redis.pipeline()
        pipe.hset(session_key(session_id), mapping=mapping)
        pipe.zadd(INDEX_KEY, {session_id: created})
        await pipe.execute()
        return SessionInfo(session_id, problem, candidate, created, "live"), tokens

    async def get(self, session_id: str) -> SessionInfo:
        h = await self.redis.hgetall(session_key(session_id))
        if not h:
            raise NotFound(f"no session {session_id!r}")
        return SessionInfo.from_hash(h)

    async def list(self, limit: int = 200) -> list[SessionInfo]:
        ids = await self.redis.zrevrange(INDEX_KEY, 0, limit - 1)
        out = []
        for sid in ids:
            h = await self.redis.hgetall(session_key(sid.decode()))
            if h:
                out.append(SessionInfo.from_hash(h))
        return out

    async def end(self, session_id: str) -> SessionInfo:
        info = await self.get(session_id)
        if not info.ended:
            await self.redis.hset(session_key(session_id), mapping={"status": "ended", "ended_ms": str(now_ms())})
        return await self.get(session_id)

    async def authenticate(self, session_id: str, token: str | None) -> tuple[SessionInfo, str]:
        """The session and the token's role; raises 4404/4401/4409 errors."""
        h = await self.redis.hgetall(session_key(session_id))
        if not h:
            raise NotFound(f"no session {session_id!r}")
        if not token:
            raise Unauthorized("a token is required (?token= or Authorization: Bearer)")
        digest = _hash(token).encode()
        role = None
        for candidate_role in ROLES:
            stored = h.get(f"tok:{candidate_role}".encode(), b"")
            if hmac.compare_digest(stored, digest):
                role = candidate_role
        if role is None:
            raise Unauthorized("invalid token for this session")
        info = SessionInfo.from_hash(h)
        if info.ended and role in ENDS_WITH_SESSION:
            raise SessionEnded("this session has ended")
        return info, role
