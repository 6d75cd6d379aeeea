"""Webhooks to an applicant tracking system, following the Standard Webhooks specification.

Events: ``session.created``, ``session.started`` (the candidate's first join), ``session.ended``,
``scorecard.ready`` (the hidden checks finished: the scorecard JSON and links) and
``candidate.erased``. Each carries the session's ``external_ids`` (the ATS's candidate and
application ids given at creation), so a receiver can file it without a lookup.

An event becomes one delivery per interested endpoint, persisted in Redis *before* the first
attempt (:mod:`server.webhooks_store`). :class:`Webhooks` (``async with``, entered in the app's
lifespan) owns the dispatcher: it claims due deliveries, POSTs them signed with the
``standardwebhooks`` package (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``),
and on anything but a 2xx answer retries with exponential backoff and jitter until the retry
window (default 24 h) has passed; then the delivery is ``failed`` until an admin redelivers it.
Every attempt of one event carries the same ``webhook-id``, so a receiver deduplicates by it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import httpx
import redis.asyncio as aioredis
from redis.exceptions import RedisError, WatchError
from standardwebhooks import Webhook

from problems import Problem
from server.recording import Recorder, session_key
from server.scorecard import session_scorecard
from server.sessions import SessionInfo
from server.webhooks_store import DUE_KEY, FAILED, PENDING, SUCCEEDED, Delivery, Endpoint, WebhookStore, new_secret

if TYPE_CHECKING:
    from server.settings import Settings

log = logging.getLogger(__name__)

SESSION_CREATED = "session.created"
SESSION_STARTED = "session.started"
SESSION_ENDED = "session.ended"
SCORECARD_READY = "scorecard.ready"
CANDIDATE_ERASED = "candidate.erased"
EVENT_TYPES = (SESSION_CREATED, SESSION_STARTED, SESSION_ENDED, SCORECARD_READY, CANDIDATE_ERASED)

USER_AGENT = "Clarify-Webhooks/1"
MAX_ERROR = 200


class Notifier(Protocol):
    """Told when something an ATS cares about happens to a session.

    Called by the API (``session.created``), the session runtimes (``session.started``,
    ``session.ended``, ``scorecard.ready``) and erasure (``candidate.erased``, with ``data``
    saying what was erased, as the session no longer exists). Never raises, and returns once
    the event is persisted (or known to interest no endpoint).
    """

    async def emit(self, event_type: str, session_id: str, data: dict[str, Any] | None = None) -> None: ...


class NullNotifier:
    """The default: nobody is told."""

    async def emit(self, event_type: str, session_id: str, data: dict[str, Any] | None = None) -> None:
        return None


ScorecardSource = Callable[[SessionInfo], Awaitable[dict[str, Any] | None]]


def recorded_scorecard(recorder: Recorder, problems: Mapping[str, Problem]) -> ScorecardSource:
    """The scorecard of a session as its recording stands (what ``scorecard.ready`` carries)."""

    async def card(info: SessionInfo) -> dict[str, Any] | None:
        problem = problems.get(info.problem)
        if problem is None:
            return None
        await recorder.flush(timeout=5.0)
        return session_scorecard(problem, await recorder.read(info.id), info.to_json())

    return card


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, for ``window_s`` after the event (or a redelivery)."""

    base_s: float = 5.0
    max_interval_s: float = 7200.0
    window_s: float = 24 * 3600.0

    def delay_s(self, attempts: int, rng: random.Random | None = None) -> float:
        """The wait after the ``attempts``-th failed attempt: half fixed, half random."""
        ceiling = min(self.max_interval_s, self.base_s * 2 ** max(0, attempts - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class WebhookConfig:
    """How the dispatcher behaves (from the settings)."""

    base_url: str = "http://127.0.0.1:8000"
    public_url: str | None = None
    timeout_s: float = 10.0
    retry: RetryPolicy = RetryPolicy()
    concurrency: int = 8
    poll_s: float = 1.0


def webhook_config(settings: Settings) -> WebhookConfig:
    """The dispatcher's settings (``CLARIFY_WEBHOOK_*``, ``CLARIFY_PUBLIC_URL``)."""
    return WebhookConfig(
        base_url=f"http://{settings.host}:{settings.port}",
        public_url=settings.public_url,
        timeout_s=settings.webhook_timeout_s,
        retry=RetryPolicy(
            base_s=settings.webhook_backoff_base_s,
            max_interval_s=settings.webhook_backoff_max_s,
            window_s=settings.webhook_retry_hours * 3600,
        ),
        concurrency=settings.webhook_concurrency,
    )


def sign_headers(secret: str, event_id: str, body: str, now_s: float) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt (signed at the time of sending)."""
    stamp = datetime.fromtimestamp(int(now_s), tz=UTC)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now_s)),
        "webhook-signature": Webhook(secret).sign(event_id, stamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def session_data(h: dict[bytes, bytes]) -> dict[str, Any]:
    """What an event says about its session (from the session's Redis hash)."""
    d = {k.decode(): v.decode() for k, v in h.items()}

    def opt_int(name: str) -> int | None:
        return int(d[name]) if d.get(name) else None

    return {
        "id": d["id"],
        "problem": d.get("problem") or None,
        "candidate": d.get("candidate", ""),
        "candidate_email": d.get("candidate_email") or None,
        "status": d.get("status", "live"),
        "created_ms": opt_int("created_ms"),
        "started_ms": opt_int("started_ms"),
        "ended_ms": opt_int("ended_ms"),
    }


class Webhooks:
    """Webhook endpoints, event fan-out and the delivery dispatcher (``async with``)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        config: WebhookConfig | None = None,
        *,
        scorecard: ScorecardSource | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.redis = redis
        self.store = WebhookStore(redis)
        self.config = config or WebhookConfig()
        self.scorecard = scorecard
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._wake = anyio.Event()
        self._stack = contextlib.AsyncExitStack()

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Webhooks:
        self._client = await self._stack.enter_async_context(
            httpx.AsyncClient(timeout=self.config.timeout_s, follow_redirects=False, transport=self._transport)
        )
        tg = await self._stack.enter_async_context(anyio.create_task_group())
        self._stack.callback(tg.cancel_scope.cancel)  # runs before the group exits
        tg.start_soon(self._dispatch)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    # -- endpoints ------------------------------------------------------------------------

    async def add_endpoint(
        self, url: str, *, events: tuple[str, ...] = (), description: str = "", enabled: bool = True
    ) -> Endpoint:
        """A new endpoint with a fresh secret (the caller shows it once)."""
        endpoint = Endpoint(
            id="ep_" + secrets.token_hex(8),
            url=url,
            secret=new_secret(),
            events=events,
            enabled=enabled,
            description=description,
            created_ms=_now_ms(),
        )
        await self.store.create_endpoint(endpoint)
        return endpoint

    async def redeliver(self, delivery_id: str) -> Delivery | None:
        """Send a delivery again now (same ``webhook-id``), with a fresh retry window."""
        delivery = await self.store.delivery(delivery_id)
        if delivery is None:
            return None
        now = _now_ms()
        delivery.status = PENDING
        delivery.window_start_ms = now
        delivery.next_attempt_ms = now
        await self.store.save(delivery)
        self._wake.set()
        return delivery

    # -- events ---------------------------------------------------------------------------

    async def emit(self, event_type: str, session_id: str, data: dict[str, Any] | None = None) -> None:
        """Persist one delivery per interested endpoint (see :class:`Notifier`)."""
        try:
            await self._emit(event_type, session_id, data or {})
        except Exception:  # an ATS hand-off never fails the session that caused it
            log.exception("webhooks: could not queue %s for session %s", event_type, session_id)

    async def _emit(self, event_type: str, session_id: str, data: dict[str, Any]) -> None:
        endpoints = [e for e in await self.store.endpoints() if e.wants(event_type)]
        if not endpoints:
            return
        if event_type == CANDIDATE_ERASED:
            # The session is gone: the event says only what the caller passes (no personal data).
            body = _body(event_type, data)
            await self._queue(endpoints, event_type, "", body)
            return
        extra = dict(data)
        key = session_key(session_id)
        if event_type == SCORECARD_READY and self.scorecard is not None and "scorecard" not in extra:
            h = await self.redis.hgetall(key)
            if not h:
                return
            extra["scorecard"] = await self.scorecard(SessionInfo.from_hash(h))
        # Written only if the session still exists and did not change meanwhile: an erasure
        # that runs concurrently never leaves an event with the candidate's data behind.
        for _ in range(5):
            async with self.redis.pipeline(transaction=True) as pipe:
                await pipe.watch(key)
                h = await pipe.hgetall(key)
                if not h:
                    return
                body = _body(event_type, self._event_data(h, extra))
                pipe.multi()
                deliveries = self._deliveries(endpoints, event_type, session_id, body)
                for delivery in deliveries:
                    self.store.queue(pipe, delivery)
                try:
                    await pipe.execute()
                except WatchError:
                    continue
                self._wake.set()
                return
        log.warning("webhooks: session %s kept changing; %s not queued", session_id, event_type)

    async def _queue(self, endpoints: list[Endpoint], event_type: str, session_id: str, body: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for delivery in self._deliveries(endpoints, event_type, session_id, body):
            self.store.queue(pipe, delivery)
        await pipe.execute()
        self._wake.set()

    def _deliveries(self, endpoints: list[Endpoint], event_type: str, session_id: str, body: str) -> list[Delivery]:
        now = _now_ms()
        event_id = "msg_" + secrets.token_hex(12)
        return [
            Delivery(
                id="dlv_" + secrets.token_hex(10),
                event_id=event_id,
                endpoint=e.id,
                type=event_type,
                session=session_id,
                body=body,
                created_ms=now,
                next_attempt_ms=now,
                window_start_ms=now,
            )
            for e in endpoints
        ]

    def _event_data(self, h: dict[bytes, bytes], extra: dict[str, Any]) -> dict[str, Any]:
        session = session_data(h)
        raw_ids = h.get(b"external_ids", b"")
        external_ids = json.loads(raw_ids) if raw_ids else {}
        base = self.link_base(h)
        sid = session["id"]
        links = {
            "session": f"{base}/api/sessions/{sid}",
            "scorecard": f"{base}/api/sessions/{sid}/scorecard",
            "replay": f"{base}/replay/{sid}",
        }
        return {"session": session, "external_ids": external_ids, "links": links, **extra}

    def link_base(self, h: dict[bytes, bytes] | None = None) -> str:
        """Absolute links: the public URL, else the base the session was created through."""
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        stored = (h or {}).get(b"base_url", b"").decode()
        return (stored or self.config.base_url).rstrip("/")

    # -- dispatcher -----------------------------------------------------------------------

    async def _dispatch(self) -> None:
        slots = anyio.Semaphore(self.config.concurrency)
        lease_ms = int((self.config.timeout_s + 30) * 1000)
        async with anyio.create_task_group() as tg:
            while True:
                wait = self.config.poll_s
                try:
                    for delivery_id in await self.store.due(_now_ms(), 100):
                        await slots.acquire()
                        try:
                            claimed = await self.store.claim(delivery_id, _now_ms(), lease_ms)
                        except BaseException:
                            slots.release()
                            raise
                        if claimed:
                            tg.start_soon(self._attempt_then_release, delivery_id, slots)
                        else:
                            slots.release()
                    next_ms = await self.store.next_due_ms()
                    if next_ms is not None:
                        wait = min(wait, max(0.01, (next_ms - _now_ms()) / 1000))
                except (RedisError, OSError) as exc:
                    log.warning("webhooks: Redis unavailable (%s); retrying", exc)
                with anyio.move_on_after(wait):
                    await self._wake.wait()
                self._wake = anyio.Event()

    async def _attempt_then_release(self, delivery_id: str, slots: anyio.Semaphore) -> None:
        try:
            await self.attempt(delivery_id)
        except Exception:  # the delivery stays due; its lease runs out and it is tried again
            log.exception("webhooks: attempt of %s failed", delivery_id)
        finally:
            slots.release()

    async def attempt(self, delivery_id: str) -> Delivery | None:
        """One attempt of one delivery; records the outcome and when to try again."""
        delivery = await self.store.delivery(delivery_id)
        if delivery is None or delivery.status != PENDING:
            await self.redis.zrem(DUE_KEY, delivery_id)
            return delivery
        endpoint = await self.store.endpoint(delivery.endpoint)
        if endpoint is None:
            await self.store.delete_deliveries([delivery_id])
            return None
        now_s = time.time()
        code: int | None = None
        error = ""
        if not endpoint.enabled:
            error = "the endpoint is disabled"
        else:
            assert self._client is not None
            headers = sign_headers(endpoint.secret, delivery.event_id, delivery.body, now_s)
            try:
                response = await self._client.post(endpoint.url, content=delivery.body.encode(), headers=headers)
                code = response.status_code
                if not 200 <= code < 300:
                    error = f"HTTP {code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        delivery.attempts += 1
        delivery.last_attempt_ms = int(now_s * 1000)
        delivery.response_code = code
        delivery.last_error = error
        if not error:
            delivery.status = SUCCEEDED
            delivery.delivered_ms = delivery.last_attempt_ms
        else:
            deadline = delivery.window_start_ms + int(self.config.retry.window_s * 1000)
            if delivery.last_attempt_ms >= deadline or not endpoint.enabled:
                delivery.status = FAILED
                log.warning("webhooks: %s to %s failed for good: %s", delivery.type, endpoint.id, error)
            else:
                delay_ms = int(self.config.retry.delay_s(delivery.attempts) * 1000)
                delivery.next_attempt_ms = min(delivery.last_attempt_ms + delay_ms, deadline)
        await self.store.save(delivery)
        return delivery


def _body(event_type: str, data: dict[str, Any]) -> str:
    """The Standard Webhooks payload shape: type, timestamp, data."""
    stamp = datetime.now(tz=UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": stamp, "data": data}, separators=(",", ":"))


def _now_ms() -> int:
    return int(time.time() * 1000)
