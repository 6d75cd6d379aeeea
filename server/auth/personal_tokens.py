"""Personal API tokens: a member's own bearer tokens for scripts.

A token reads ``clp_<id>_<secret>``; it is shown once, and only the SHA-256 of the whole
token is stored, under its id, so a presented token is found by its id and compared in
constant time. Its owner lists and revokes it; disabling the owner revokes all of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import redis.asyncio as aioredis

from server.errors import NotFound

PREFIX = "clp_"
KEY = "clarify:ptoken:{}"
MEMBER_TOKENS = "clarify:member:{}:ptokens"
MAX_PER_MEMBER = 50


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_personal(token: str) -> bool:
    return token.startswith(PREFIX)


class PersonalTokens:
    """Create, list, revoke and resolve personal tokens."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def create(self, member_id: str, label: str) -> tuple[str, dict[str, Any]]:
        token_id = secrets.token_hex(6)
        token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        record = {"id": token_id, "member": member_id, "label": label, "created_ms": int(time.time() * 1000)}
        pipe = self.redis.pipeline()
        pipe.set(KEY.format(token_id), json.dumps({**record, "hash": _hash(token)}))
        pipe.sadd(MEMBER_TOKENS.format(member_id), token_id)
        await pipe.execute()
        return token, record

    async def list(self, member_id: str) -> list[dict[str, Any]]:
        out = []
        for token_id in await self.redis.smembers(MEMBER_TOKENS.format(member_id)):
            raw = await self.redis.get(KEY.format(token_id.decode()))
            if raw:
                record = json.loads(raw)
                record.pop("hash", None)
                out.append(record)
        return sorted(out, key=lambda r: r["created_ms"])

    async def count(self, member_id: str) -> int:
        return int(await self.redis.scard(MEMBER_TOKENS.format(member_id)))

    async def revoke(self, member_id: str, token_id: str) -> None:
        raw = await self.redis.get(KEY.format(token_id))
        if not raw or json.loads(raw).get("member") != member_id:
            raise NotFound("no such token")
        pipe = self.redis.pipeline()
        pipe.delete(KEY.format(token_id))
        pipe.srem(MEMBER_TOKENS.format(member_id), token_id)
        await pipe.execute()

    async def revoke_all(self, member_id: str) -> int:
        ids = await self.redis.smembers(MEMBER_TOKENS.format(member_id))
        pipe = self.redis.pipeline()
        for token_id in ids:
            pipe.delete(KEY.format(token_id.decode()))
        pipe.delete(MEMBER_TOKENS.format(member_id))
        await pipe.execute()
        return len(ids)

    async def resolve(self, token: str) -> str | None:
        """The member a token belongs to, or None."""
        body = token[len(PREFIX) :]
        token_id, sep, _ = body.partition("_")
        if not sep or not token_id.isalnum():
            return None
        raw = await self.redis.get(KEY.format(token_id))
        if not raw:
            return None
        record = json.loads(raw)
        if not hmac.compare_digest(str(record.get("hash", "")), _hash(token)):
            return None
        return str(record["member"])
