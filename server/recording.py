"""Recording: every session event, in order, into one Redis Stream per session.

:class:`Recorder` is a single writer fed by an in-memory buffer, so a slow or absent Redis
never blocks editing or running. While Redis is away events wait in the buffer (bounded) and
are written in order when it is back; if the buffer overflows, the dropped events are counted
and a ``recording.gap`` event plus a ``gap`` flag on the session say so, never silently.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Iterable
from types import TracebackType

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from server.events import RECORDING_GAP, Event

log = logging.getLogger(__name__)


def stream_key(session_id: str) -> str:
    return f"clarify:rec:{session_id}"


def session_key(session_id: str) -> str:
    return f"clarify:session:{session_id}"


class Recorder:
    """The single writer of every session's recording; use as ``async with Recorder(redis)``."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        buffer_max: int = 50_000,
        buffer_max_bytes: int = 128 * 1024 * 1024,
        batch: int = 500,
    ) -> None:
        self.redis = redis
        self.buffer_max = buffer_max
        self.buffer_max_bytes = buffer_max_bytes
        self.buffered_bytes = 0
        self.batch = batch
        # Serialised once, at append: (session, stream fields, their size in bytes).
        self._buffer: deque[tuple[str, dict[str, str], int]] = deque()
        self._gaps: dict[str, tuple[int, int]] = {}  # session -> (dropped events, last t)
        self._wake = anyio.Event()
        self._idle = anyio.Event()
        self._idle.set()
        self.healthy = True
        self._stack = contextlib.AsyncExitStack()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def append(self, session_id: str, event: Event) -> None:
        """Queue an event; never blocks. Past the buffer bound the event is counted as a gap."""
        fields = event.to_fields()
        size = sum(len(v) for v in fields.values())
        if len(self._buffer) >= self.buffer_max or self.buffered_bytes + size > self.buffer_max_bytes:
            dropped, _ = self._gaps.get(session_id, (0, 0))
            self._gaps[session_id] = (dropped + 1, event.t)
            self._wake.set()
            return
        self._buffer.append((session_id, fields, size))
        self.buffered_bytes += size
        self._idle = anyio.Event() if self._idle.is_set() else self._idle
        self._wake.set()

    async def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event is written (False if Redis stayed away)."""
        with anyio.move_on_after(timeout):
            while self._buffer or self._gaps:
                await self._idle.wait()
            return True
        return False

    async def __aenter__(self) -> Recorder:
        tg = await self._stack.enter_async_context(anyio.create_task_group())
        tg.start_soon(self._writer)
        self._tg = tg
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with anyio.CancelScope(shield=True):
            await self.flush(timeout=5.0)
        self._tg.cancel_scope.cancel()
        await self._stack.aclose()

    async def _writer(self) -> None:
        backoff = 0.1
        while True:
            if not self._buffer and not self._gaps:
                self._idle.set()
                self._wake = anyio.Event()
                await self._wake.wait()
            try:
                await self._write_gaps()
                items = [self._buffer[i] for i in range(min(self.batch, len(self._buffer)))]
                if items:
                    pipe = self.redis.pipeline(transaction=False)
                    for session_id, fields, _ in items:
                        pipe.xadd(stream_key(session_id), fields)
                    await pipe.execute()
                    for _ in items:
                        self.buffered_bytes -= self._buffer.popleft()[2]
                if not self.healthy:
                    log.info("recording: Redis is back; %d events pending", len(self._buffer))
                self.healthy = True
                backoff = 0.1
            except (RedisError, OSError) as exc:
                if self.healthy:
                    log.warning("recording: Redis unavailable (%s); buffering events", exc)
                self.healthy = False
                await anyio.sleep(backoff)
                backoff = min(2.0, backoff * 2)

    async def _write_gaps(self) -> None:
        # A gap is written where it happened in the order: after what was buffered before it.
        for session_id, (dropped, last_t) in list(self._gaps.items()):
            if any(item[0] == session_id for item in self._buffer):
                continue
            gap = Event(last_t, RECORDING_GAP, "system", "", {"dropped_events": dropped})
            pipe = self.redis.pipeline(transaction=False)
            pipe.xadd(stream_key(session_id), gap.to_fields())
            pipe.hincrby(session_key(session_id), "gap_events", dropped)
            await pipe.execute()
            del self._gaps[session_id]

    async def read(self, session_id: str, *, upto_t: int | None = None) -> list[Event]:
        """The session's recorded events in order (written ones; see :attr:`pending`)."""
        events: list[Event] = []
        start = "-"
        while True:
            chunk = await self.redis.xrange(stream_key(session_id), min=start, count=5000)
            if not chunk:
                break
            for _entry_id, fields in chunk:
                ev = Event.from_fields(fields)
                if upto_t is not None and ev.t > upto_t:
                    return events
                events.append(ev)
            last = chunk[-1][0].decode()
            start = "(" + last
        return events

    async def import_events(self, session_id: str, events: Iterable[Event]) -> int:
        """Append events read from a JSON-lines export (moving a recording between installs)."""
        n = 0
        pipe = self.redis.pipeline(transaction=False)
        for ev in events:
            pipe.xadd(stream_key(session_id), ev.to_fields())
            n += 1
        await pipe.execute()
        return n
