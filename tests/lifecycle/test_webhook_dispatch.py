"""The webhook dispatcher against a real Redis and a real receiver, in-process (no Docker).

Retries follow the policy, a receiver that times out or answers 500 loses nothing, a delivery
that stays undeliverable past its window ends ``failed`` and an admin's redelivery sends it
with the same ``webhook-id``.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import anyio
import redis.asyncio as aioredis

from server.sessions import SessionStore
from server.webhooks import CANDIDATE_ERASED, SESSION_CREATED, RetryPolicy, WebhookConfig, Webhooks
from server.webhooks_store import FAILED, PENDING, SUCCEEDED, Delivery
from tests.lifecycle.receiver import Receiver

FAST = RetryPolicy(base_s=0.05, max_interval_s=0.2, window_s=3600)


async def until(pred: Callable[[], Awaitable[bool]], timeout: float = 30.0, what: str = "") -> None:
    with anyio.fail_after(timeout):
        while not await pred():
            await anyio.sleep(0.05)


async def only_delivery(webhooks: Webhooks, endpoint_id: str) -> Delivery:
    [delivery] = await webhooks.store.deliveries(endpoint_id)
    return delivery


def test_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    policy = RetryPolicy(base_s=5, max_interval_s=7200, window_s=24 * 3600)
    rng = random.Random(7)
    for attempts in range(1, 20):
        ceiling = min(7200, 5 * 2 ** (attempts - 1))
        delays = {policy.delay_s(attempts, rng) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered, so receivers coming back are not hit all at once


async def test_a_slow_or_failing_receiver_loses_nothing_and_sees_each_event_once(
    redis_client: aioredis.Redis, receiver: Receiver
) -> None:
    store = SessionStore(redis_client)
    info, _ = await store.create("", "Ada Lovelace", external_ids={"application_id": "app-42"})
    config = WebhookConfig(timeout_s=0.3, retry=FAST, poll_s=0.2)
    async with Webhooks(redis_client, config) as webhooks:
        endpoint = await webhooks.add_endpoint(receiver.url)
        receiver.secret = endpoint.secret
        receiver.mode, receiver.slow_s = "slow", 1.0
        await webhooks.emit(SESSION_CREATED, info.id)

        async def timed_out_twice() -> bool:
            d = await only_delivery(webhooks, endpoint.id)
            return d.attempts >= 2 and "Timeout" in d.last_error

        await until(timed_out_twice)
        receiver.mode = "error"

        async def answered_500() -> bool:
            return (await only_delivery(webhooks, endpoint.id)).response_code == 500

        await until(answered_500)
        receiver.mode = "ok"

        async def delivered() -> bool:
            return (await only_delivery(webhooks, endpoint.id)).status == SUCCEEDED

        await until(delivered)
    delivery = await only_delivery(webhooks, endpoint.id)
    assert delivery.response_code == 204 and delivery.attempts >= 4
    assert receiver.rejected == []
    # The receiver processed the event once (the timed-out attempts were repeats of one id).
    [payload] = receiver.of_type(SESSION_CREATED, info.id)
    assert list(receiver.events) == [delivery.event_id]
    assert receiver.attempts[delivery.event_id] == delivery.attempts
    assert payload["data"]["external_ids"] == {"application_id": "app-42"}
    assert payload["data"]["session"]["candidate"] == "Ada Lovelace"


async def test_undeliverable_ends_failed_and_an_admin_redelivers_it(
    redis_client: aioredis.Redis, receiver: Receiver
) -> None:
    store = SessionStore(redis_client)
    info, _ = await store.create("", "Grace Hopper")
    window = RetryPolicy(base_s=0.05, max_interval_s=0.2, window_s=1.0)
    async with Webhooks(redis_client, WebhookConfig(timeout_s=1, retry=window, poll_s=0.2)) as webhooks:
        endpoint = await webhooks.add_endpoint(receiver.url)
        receiver.secret = endpoint.secret
        receiver.mode = "error"
        await webhooks.emit(SESSION_CREATED, info.id)

        async def failed() -> bool:
            return (await only_delivery(webhooks, endpoint.id)).status == FAILED

        await until(failed)
        delivery = await only_delivery(webhooks, endpoint.id)
        # Retried until the whole window had passed, then given up on, visibly.
        assert delivery.attempts >= 3
        assert delivery.last_attempt_ms is not None and delivery.last_attempt_ms - delivery.created_ms >= 1000
        assert delivery.response_code == 500 and delivery.last_error == "HTTP 500"
        assert delivery.to_json()["next_attempt_ms"] is None
        assert receiver.events == {}

        receiver.mode = "ok"
        again = await webhooks.redeliver(delivery.id)
        assert again is not None and again.status == PENDING

        async def delivered() -> bool:
            return (await only_delivery(webhooks, endpoint.id)).status == SUCCEEDED

        await until(delivered)
    assert list(receiver.events) == [delivery.event_id]  # the same webhook-id as every attempt


async def test_event_filters_and_the_erased_event_carry_no_personal_data(
    redis_client: aioredis.Redis, receiver: Receiver
) -> None:
    store = SessionStore(redis_client)
    info, _ = await store.create("", "Katherine Johnson", external_ids={"candidate_id": "c-7"})
    async with Webhooks(redis_client, WebhookConfig(retry=FAST, poll_s=0.2)) as webhooks:
        only_erasures = await webhooks.add_endpoint(receiver.url, events=(CANDIDATE_ERASED,))
        receiver.secret = only_erasures.secret
        await webhooks.emit(SESSION_CREATED, info.id)  # filtered out: no delivery at all
        assert await webhooks.store.deliveries(only_erasures.id) == []
        data = {"session": {"id": info.id, "problem": None}, "external_ids": {"candidate_id": "c-7"}}
        await webhooks.emit(CANDIDATE_ERASED, info.id, data)
        payload = await anyio.to_thread.run_sync(receiver.wait_for, CANDIDATE_ERASED, info.id)
    assert payload["data"] == data
    assert "Katherine" not in str(payload)
