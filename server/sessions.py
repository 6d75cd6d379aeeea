"""Sessions and their role tokens, kept in Redis (the only shared state).

Role tokens are random 256-bit values shown once at creation; only their SHA-256 hashes are
stored, on the session they belong to, and a presented token is compared against each role's
hash in constant time. Candidate and observer tokens stop working when the session ends;
reviewer (and interviewer) tokens keep working for replay and the scorecard.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from server.errors import NotFound, SessionEnded, Unauthorized
from server.recording import session_key
from server.tokens import CANDIDATE, OBSERVER, ROLES

_MARK_STARTED = (
    "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) end return 0"
)
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
    host: str = ""  # the member (or "admin") who created it
    host_name: str = ""
    candidate_expires_ms: int | None = None  # None: until the session ends (plus the grace)
    # Hand-off and retention (issue 12): the ATS's ids, the candidate's email, a legal hold.
    external_ids: dict[str, str] = field(default_factory=dict)
    candidate_email: str = ""
    legal_hold: bool = False
    started_ms: int | None = None  # the candidate's first join
    scheduled_ms: int | None = None  # when the interview is planned (epoch ms), if scheduled
    # The level the candidate is interviewed at (issue 14); "" for sessions made before levels,
    # which are held to their pack's level.
    level: str = ""

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
            host=d.get("host", ""),
            host_name=d.get("host_name", ""),
            candidate_expires_ms=int(d["cand_expires_ms"]) if d.get("cand_expires_ms") else None,
            external_ids=json.loads(d["external_ids"]) if d.get("external_ids") else {},
            candidate_email=d.get("candidate_email", ""),
            legal_hold=d.get("legal_hold") == "1",
            started_ms=int(d["started_ms"]) if d.get("started_ms") else None,
            scheduled_ms=int(d["scheduled_ms"]) if d.get("scheduled_ms") else None,
            level=d.get("level", ""),
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
            "host": self.host or None,
            "host_name": self.host_name or None,
            "candidate_link": {"expires_ms": self.candidate_expires_ms},
            "legal_hold": self.legal_hold,
            "scheduled_ms": self.scheduled_ms,
            "started_ms": self.started_ms,
            "level": self.level or None,
        }

    def upcoming(self, now: int) -> bool:
        """Scheduled for later (or within the last hour) and the candidate has not joined yet."""
        return (
            self.scheduled_ms is not None
            and not self.ended
            and self.started_ms is None
            and self.scheduled_ms >= now - 3_600_000
        )

    def staff_json(self) -> dict[str, Any]:
        """:meth:`to_json` plus what only staff see: the ATS ids and the candidate's email."""
        return {**self.to_json(), "external_ids": self.external_ids, "candidate_email": self.candidate_email or None}


class SessionStore:
    """Create, find, end and authenticate sessions."""

    def __init__(self, redis: aioredis.Redis, *, candidate_grace_ms: int = 3_600_000) -> None:
        self.redis = redis
        self.candidate_grace_ms = candidate_grace_ms

    async def create(
        self,
        problem: str,
        candidate: str,
        *,
        host: str = "",
        host_name: str = "",
        candidate_valid_s: int | None = None,
        external_ids: dict[str, str] | None = None,
        candidate_email: str = "",
        base_url: str = "",
        scheduled_ms: int | None = None,
        level: str = "",
    ) -> tuple[SessionInfo, dict[str, str]]:
        """A new live session and its role tokens (shown once). ``candidate_valid_s`` bounds
        the candidate link's validity; without it the link lasts until the session ends.
        ``level``: the level the candidate is interviewed at (the caller resolves the default)."""
        session_id = secrets.token_hex(8)
        tokens = {role: secrets.token_urlsafe(32) for role in ROLES}
        created = now_ms()
        expires = created + candidate_valid_s * 1000 if candidate_valid_s else None
        mapping = {
            "id": session_id,
            "problem": problem,
            "candidate": candidate,
            "created_ms": str(created),
            "status": "live",
            "host": host,
            "host_name": host_name,
            "cand_expires_ms": str(expires or ""),
            "external_ids": json.dumps(external_ids or {}, separators=(",", ":")),
            "candidate_email": candidate_email,
            "base_url": base_url,
            "scheduled_ms": str(scheduled_ms or ""),
            "level": level,
            **{f"tok:{role}": _hash(tok) for role, tok in tokens.items()},
        }
        pipe = self.redis.pipeline()
        pipe.hset(session_key(session_id), mapping=mapping)
        pipe.zadd(INDEX_KEY, {session_id: created})
        await pipe.execute()
        return await self.get(session_id), tokens

    async def reissue_candidate(self, session_id: str, valid_s: int | None = None) -> tuple[SessionInfo, str]:
        """A new candidate token (shown once); the old one stops working at once."""
        info = await self.get(session_id)
        if info.ended:
            raise SessionEnded("this session has ended")
        token = secrets.token_urlsafe(32)
        expires = now_ms() + valid_s * 1000 if valid_s else None
        await self.redis.hset(
            session_key(session_id), mapping={f"tok:{CANDIDATE}": _hash(token), "cand_expires_ms": str(expires or "")}
        )
        return await self.get(session_id), token

    async def revoke_candidate(self, session_id: str) -> SessionInfo:
        """The candidate link stops working (reissue to hand out a new one)."""
        await self.get(session_id)
        await self.redis.hset(session_key(session_id), f"tok:{CANDIDATE}", "")
        return await self.get(session_id)

    async def mark_started(self, session_id: str) -> bool:
        """Note the candidate's first join; True only the first time (and if the session exists)."""
        # One step, so an erasure in between cannot leave a hash holding only this field.
        return bool(await self.redis.eval(_MARK_STARTED, 1, session_key(session_id), "started_ms", str(now_ms())))

    async def set_legal_hold(self, session_id: str, hold: bool) -> SessionInfo:
        """A session under legal hold is never erased by the retention sweep."""
        await self.get(session_id)
        await self.redis.hset(session_key(session_id), "legal_hold", "1" if hold else "0")
        return await self.get(session_id)

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
        if role == CANDIDATE:
            now = now_ms()
            if info.candidate_expires_ms is not None and now > info.candidate_expires_ms:
                raise Unauthorized("this candidate link has expired; ask the interviewer for a new one")
            if info.ended and info.ended_ms is not None and now > info.ended_ms + self.candidate_grace_ms:
                raise Unauthorized("this candidate link has expired (the session ended)")
        if info.ended and role in ENDS_WITH_SESSION:
            raise SessionEnded("this session has ended")
        return info, role
