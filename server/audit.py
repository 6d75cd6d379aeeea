"""The audit log: who did what to which session or member, and when. Append-only.

One Redis stream (``XADD`` only; nothing here trims or edits it). An entry names the actor
(member id and display name, ``admin`` for the admin token), the action, its target and a few
ids; it never holds candidate code, questions, answers or notes: callers pass only ids and
names, and :meth:`AuditLog.append` keeps only short scalar details.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

STREAM = "clarify:audit"
ONCE_KEY = "clarify:audit:once:{}"
MAX_DETAIL = 200

ACTIONS = frozenset(
    {
        "auth.login",
        "auth.login_refused",
        "auth.logout",
        "session.create",
        "session.join",
        "session.end",
        "session.import",
        "replay.view",
        "scorecard.view",
        "comparison.view",
        "candidate_link.reissue",
        "candidate_link.revoke",
        "member.invite",
        "member.role",
        "member.disable",
        "member.enable",
        "token.create",
        "token.revoke",
        "session.erase",
        "candidate.erase",
        "session.export",
        "session.legal_hold",
        "webhook.create",
        "webhook.update",
        "webhook.delete",
        "webhook.redeliver",
        "example.review",
        "discovery.overturn",
    }
)


class AuditLog:
    """Append to and read the audit stream."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def append(
        self,
        action: str,
        *,
        actor: str,
        name: str = "",
        via: str = "",
        target: str = "",
        session: str = "",
        **details: str | int | bool | None,
    ) -> None:
        """Record one action. Never raises: an audit failure is logged, the action stands."""
        assert action in ACTIONS, action
        entry: dict[str, Any] = {
            "time_ms": int(time.time() * 1000),
            "action": action,
            "actor": actor,
            "name": name,
            "via": via,
            "target": target,
            "session": session,
        }
        for key, value in details.items():
            if isinstance(value, bool | int) or value is None:
                entry[key] = value
            else:
                entry[key] = str(value)[:MAX_DETAIL]
        try:
            await self.redis.xadd(STREAM, {"entry": json.dumps(entry, separators=(",", ":"))})
        except RedisError:
            log.exception("audit: could not record %s by %s", action, actor)

    async def append_once(self, action: str, *, every_s: int, actor: str, session: str, **kw: Any) -> None:
        """Like :meth:`append`, at most once per actor, action and session per ``every_s``
        (a replay page reads the recording many times; one view is one entry)."""
        key = ONCE_KEY.format(f"{action}:{actor}:{session}")
        try:
            first = await self.redis.set(key, 1, nx=True, ex=every_s)
        except RedisError:
            first = True
        if first:
            await self.append(action, actor=actor, session=session, **kw)

    async def read(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        session: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Entries, oldest first, filtered; at most ``limit`` (the newest ones)."""
        start = f"{since_ms}-0" if since_ms is not None else "-"
        end = f"{until_ms}-18446744073709551615" if until_ms is not None else "+"
        rows = await self.redis.xrevrange(STREAM, max=end, min=start)
        out: list[dict[str, Any]] = []
        for stream_id, fields in rows:
            entry = json.loads(fields[b"entry"])
            entry["id"] = stream_id.decode()
            if _matches(entry, actor=actor, action=action, session=session):
                out.append(entry)
                if len(out) >= limit:
                    break
        out.reverse()
        return out


def _matches(entry: dict[str, Any], **filters: str | None) -> bool:
    for key, wanted in filters.items():
        if wanted is None:
            continue
        value = str(entry.get(key, ""))
        if key == "action" and wanted.endswith("*"):
            if not value.startswith(wanted[:-1]):
                return False
        elif value != wanted:
            return False
    return True


def ndjson(entries: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries)
