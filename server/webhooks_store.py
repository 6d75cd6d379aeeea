"""Webhook endpoints and deliveries, kept in Redis (they survive a restart like everything else).

Keys:

- ``clarify:webhook:{id}`` (hash): an endpoint: URL, secret, event filter, enabled;
  ``clarify:webhooks`` (set): every endpoint id.
- ``clarify:whdelivery:{id}`` (hash): one event for one endpoint: the exact body signed and
  sent, status (``pending`` | ``succeeded`` | ``failed``), attempts, last response code/error.
- ``clarify:whdue`` (sorted set): pending deliveries by the time (ms) of their next attempt.
  A dispatcher claims one by moving its score forward by a lease (atomically, so several
  instances never send the same attempt at once); a claim that dies with its process is simply
  due again when the lease runs out.
- ``clarify:webhook:{id}:deliveries`` (sorted set): an endpoint's deliveries by creation time.
- ``clarify:session:{id}:whdeliveries`` (set): a session's deliveries, so an erasure finds them.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

ENDPOINT_KEY = "clarify:webhook:{}"
ENDPOINTS_KEY = "clarify:webhooks"
ENDPOINT_DELIVERIES_KEY = "clarify:webhook:{}:deliveries"
DELIVERY_KEY = "clarify:whdelivery:{}"
DUE_KEY = "clarify:whdue"
SESSION_DELIVERIES_KEY = "clarify:session:{}:whdeliveries"

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"

# Claim a due delivery: only if it is still due (another instance may have claimed it).
_CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
"""


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Endpoint:
    """Where events are sent. ``events`` empty means every event type."""

    id: str
    url: str
    secret: str
    events: tuple[str, ...] = ()
    enabled: bool = True
    description: str = ""
    created_ms: int = 0

    def wants(self, event_type: str) -> bool:
        return self.enabled and (not self.events or event_type in self.events)

    def to_json(self) -> dict[str, Any]:
        """What admins see after creation (the secret is shown once, by the create call)."""
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "enabled": self.enabled,
            "description": self.description,
            "created_ms": self.created_ms,
        }

    @classmethod
    def from_hash(cls, h: dict[bytes, bytes]) -> Endpoint:
        d = {k.decode(): v.decode() for k, v in h.items()}
        return cls(
            id=d["id"],
            url=d["url"],
            secret=d["secret"],
            events=tuple(json.loads(d.get("events", "[]"))),
            enabled=d.get("enabled", "1") == "1",
            description=d.get("description", ""),
            created_ms=int(d.get("created_ms", 0)),
        )


@dataclass
class Delivery:
    """One event for one endpoint, and what became of it."""

    id: str
    event_id: str  # the ``webhook-id`` header: the same on every attempt and redelivery
    endpoint: str
    type: str
    session: str
    body: str
    created_ms: int
    status: str = PENDING
    attempts: int = 0
    response_code: int | None = None
    last_error: str = ""
    last_attempt_ms: int | None = None
    next_attempt_ms: int | None = None
    window_start_ms: int = 0  # retries last from here (creation, or the last redelivery)
    delivered_ms: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def to_fields(self) -> dict[str, str]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "endpoint": self.endpoint,
            "type": self.type,
            "session": self.session,
            "body": self.body,
            "created_ms": str(self.created_ms),
            "status": self.status,
            "attempts": str(self.attempts),
            "response_code": "" if self.response_code is None else str(self.response_code),
            "last_error": self.last_error,
            "last_attempt_ms": "" if self.last_attempt_ms is None else str(self.last_attempt_ms),
            "next_attempt_ms": "" if self.next_attempt_ms is None else str(self.next_attempt_ms),
            "window_start_ms": str(self.window_start_ms or self.created_ms),
            "delivered_ms": "" if self.delivered_ms is None else str(self.delivered_ms),
        }

    @classmethod
    def from_hash(cls, h: dict[bytes, bytes]) -> Delivery:
        d = {k.decode(): v.decode() for k, v in h.items()}

        def opt(name: str) -> int | None:
            return int(d[name]) if d.get(name) else None

        return cls(
            id=d["id"],
            event_id=d["event_id"],
            endpoint=d["endpoint"],
            type=d["type"],
            session=d.get("session", ""),
            body=d["body"],
            created_ms=int(d["created_ms"]),
            status=d.get("status", PENDING),
            attempts=int(d.get("attempts", 0)),
            response_code=opt("response_code"),
            last_error=d.get("last_error", ""),
            last_attempt_ms=opt("last_attempt_ms"),
            next_attempt_ms=opt("next_attempt_ms"),
            window_start_ms=int(d.get("window_start_ms") or d["created_ms"]),
            delivered_ms=opt("delivered_ms"),
        )

    def to_json(self) -> dict[str, Any]:
        """What admins see (not the body: it may hold a scorecard; they have the session)."""
        return {
            "id": self.id,
            "webhook_id": self.event_id,
            "endpoint": self.endpoint,
            "type": self.type,
            "session": self.session or None,
            "status": self.status,
            "attempts": self.attempts,
            "response_code": self.response_code,
            "last_error": self.last_error or None,
            "created_ms": self.created_ms,
            "last_attempt_ms": self.last_attempt_ms,
            "next_attempt_ms": self.next_attempt_ms if self.status == PENDING else None,
            "delivered_ms": self.delivered_ms,
        }


class WebhookStore:
    """Endpoints and deliveries in Redis."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._claim = redis.register_script(_CLAIM)

    # -- endpoints ------------------------------------------------------------------------

    async def create_endpoint(self, endpoint: Endpoint) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(ENDPOINT_KEY.format(endpoint.id), mapping=_endpoint_fields(endpoint))
        pipe.sadd(ENDPOINTS_KEY, endpoint.id)
        await pipe.execute()

    async def save_endpoint(self, endpoint: Endpoint) -> None:
        await self.redis.hset(ENDPOINT_KEY.format(endpoint.id), mapping=_endpoint_fields(endpoint))

    async def endpoint(self, endpoint_id: str) -> Endpoint | None:
        h = await self.redis.hgetall(ENDPOINT_KEY.format(endpoint_id))
        return Endpoint.from_hash(h) if h else None

    async def endpoints(self) -> list[Endpoint]:
        ids = sorted(i.decode() for i in await self.redis.smembers(ENDPOINTS_KEY))
        out = []
        for endpoint_id in ids:
            found = await self.endpoint(endpoint_id)
            if found is not None:
                out.append(found)
        return sorted(out, key=lambda e: (e.created_ms, e.id))

    async def delete_endpoint(self, endpoint_id: str) -> None:
        """The endpoint and its delivery history; pending deliveries stop."""
        ids = [i.decode() for i in await self.redis.zrange(ENDPOINT_DELIVERIES_KEY.format(endpoint_id), 0, -1)]
        await self.delete_deliveries(ids)
        pipe = self.redis.pipeline()
        pipe.delete(ENDPOINT_KEY.format(endpoint_id), ENDPOINT_DELIVERIES_KEY.format(endpoint_id))
        pipe.srem(ENDPOINTS_KEY, endpoint_id)
        await pipe.execute()

    # -- deliveries -----------------------------------------------------------------------

    def queue(self, pipe: Any, delivery: Delivery) -> None:
        """Add a new delivery to ``pipe`` (persisted, and due at its ``next_attempt_ms``)."""
        pipe.hset(DELIVERY_KEY.format(delivery.id), mapping=delivery.to_fields())
        pipe.zadd(DUE_KEY, {delivery.id: delivery.next_attempt_ms or delivery.created_ms})
        pipe.zadd(ENDPOINT_DELIVERIES_KEY.format(delivery.endpoint), {delivery.id: delivery.created_ms})
        if delivery.session:
            pipe.sadd(SESSION_DELIVERIES_KEY.format(delivery.session), delivery.id)

    async def delivery(self, delivery_id: str) -> Delivery | None:
        h = await self.redis.hgetall(DELIVERY_KEY.format(delivery_id))
        return Delivery.from_hash(h) if h else None

    async def deliveries(self, endpoint_id: str, *, status: str | None = None, limit: int = 100) -> list[Delivery]:
        """An endpoint's deliveries, newest first."""
        ids = await self.redis.zrevrange(ENDPOINT_DELIVERIES_KEY.format(endpoint_id), 0, -1)
        out: list[Delivery] = []
        for raw in ids:
            found = await self.delivery(raw.decode())
            if found is None or (status and found.status != status):
                continue
            out.append(found)
            if len(out) >= limit:
                break
        return out

    async def due(self, now_ms: int, limit: int) -> list[str]:
        return [i.decode() for i in await self.redis.zrangebyscore(DUE_KEY, "-inf", now_ms, start=0, num=limit)]

    async def next_due_ms(self) -> int | None:
        first = await self.redis.zrange(DUE_KEY, 0, 0, withscores=True)
        return int(first[0][1]) if first else None

    async def claim(self, delivery_id: str, now_ms: int, lease_ms: int) -> bool:
        """Take a due delivery for one attempt (until ``now + lease``); False if another has it."""
        return bool(await self._claim(keys=[DUE_KEY], args=[delivery_id, now_ms, now_ms + lease_ms]))

    async def save(self, delivery: Delivery) -> None:
        """Record an attempt's outcome; a pending delivery is due again at ``next_attempt_ms``.

        Only if the delivery still exists (an erasure may have removed it meanwhile)."""
        key = DELIVERY_KEY.format(delivery.id)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(key)
            if not await pipe.exists(key):
                await pipe.reset()
                return
            pipe.multi()
            pipe.hset(key, mapping=delivery.to_fields())
            if delivery.status == PENDING:
                pipe.zadd(DUE_KEY, {delivery.id: delivery.next_attempt_ms or 0})
            else:
                pipe.zrem(DUE_KEY, delivery.id)
            try:
                await pipe.execute()
            except aioredis.WatchError:
                return

    async def delete_deliveries(self, ids: list[str]) -> int:
        """Remove deliveries entirely (their bodies hold what the events said)."""
        if not ids:
            return 0
        found = [d for d in [await self.delivery(i) for i in ids] if d is not None]
        pipe = self.redis.pipeline()
        for d in found:
            pipe.delete(DELIVERY_KEY.format(d.id))
            pipe.zrem(ENDPOINT_DELIVERIES_KEY.format(d.endpoint), d.id)
            if d.session:
                pipe.srem(SESSION_DELIVERIES_KEY.format(d.session), d.id)
        pipe.zrem(DUE_KEY, *ids)
        await pipe.execute()
        return len(found)

    async def session_deliveries(self, session_id: str) -> list[str]:
        return [i.decode() for i in await self.redis.smembers(SESSION_DELIVERIES_KEY.format(session_id))]

    async def prune(self, before_ms: int) -> int:
        """Remove finished deliveries created before ``before_ms`` (pending ones stay)."""
        removed = 0
        for endpoint in await self.endpoints():
            key = ENDPOINT_DELIVERIES_KEY.format(endpoint.id)
            old = [i.decode() for i in await self.redis.zrangebyscore(key, "-inf", before_ms)]
            done = [d.id for d in [await self.delivery(i) for i in old] if d is not None and d.status != PENDING]
            removed += await self.delete_deliveries(done)
        return removed


def _endpoint_fields(endpoint: Endpoint) -> dict[str, str]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "secret": endpoint.secret,
        "events": json.dumps(list(endpoint.events)),
        "enabled": "1" if endpoint.enabled else "0",
        "description": endpoint.description,
        "created_ms": str(endpoint.created_ms),
    }
