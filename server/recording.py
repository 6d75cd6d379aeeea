"""Recording: every session event, in order, into one Redis Stream per session.

:class:`Recorder` is a single writer fed by an in-memory buffer, so a slow or absent Redis
never blocks editing or running. While Redis is away events wait in the buffer (bounded) and
are written in order when it is back; if the buffer overflows, the dropped events are counted
and a ``recording.gap`` event plus a ``gap`` flag on the session say so, never silently.

Seeking: every ``doc.checkpoint`` written is also indexed (a sorted set per session, score = the
checkpoint's ``t``, member = its stream id), so the document at time t is read from the last
checkpoint at or before t instead of from the start of the stream. The index is a hint, never the
truth: a missing entry (a recording made before the index existed, an index write lost while
Redis went away) only means a seek starts from an earlier checkpoint, and such a read adds the
checkpoints it passes to the index.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable
from types import TracebackType

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from server.events import DOC_CHECKPOINT, RECORDING_GAP, Event

log = logging.getLogger(__name__)


def stream_key(session_id: str) -> str:
    return f"clarify:rec:{session_id}"


def session_key(session_id: str) -> str:
    return f"clarify:session:{session_id}"


def checkpoint_index_key(session_id: str) -> str:
    """The sorted set of a session's checkpoints: score ``t``, member the stream id."""
    return f"clarify:rec:{session_id}:checkpoints"


# A seek reads from a checkpoint in growing chunks: a checkpoint is followed by at most
# ``CHECKPOINT_EVERY`` (200) editor updates plus whatever else happened meanwhile, and a moment
# lies on average halfway; parsing the reply (redis-py without hiredis) is most of a seek's cost.
SEEK_CHUNKS = (100, 250, 1000)
STREAM_CHUNK = 1000


def _json_line(fields: dict[bytes, bytes]) -> str:
    """One event as a JSON line, the payload spliced in as stored (it is already compact JSON)."""
    get = fields.get
    t = int(get(b"t", b"0"))
    kind = json.dumps(get(b"type", b"").decode())
    role = json.dumps(get(b"role", b"").decode())
    actor = json.dumps(get(b"actor", b"").decode())
    payload = get(b"payload", b"{}").decode()
    return f'{{"t":{t},"type":{kind},"role":{role},"actor":{actor},"payload":{payload}}}\n'


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

    def append(self, session_id: str, event: Event) -> int:
        """Queue an event; never blocks. Past the buffer bound the event is counted as a gap.

        Returns the size of the event's payload as recorded (its compact JSON, the same figure as
        :func:`server.runs.size_of`), so callers that budget a recording need not encode it again.
        """
        fields = event.to_fields()
        size = sum(len(v) for v in fields.values())
        if len(self._buffer) >= self.buffer_max or self.buffered_bytes + size > self.buffer_max_bytes:
            dropped, _ = self._gaps.get(session_id, (0, 0))
            self._gaps[session_id] = (dropped + 1, event.t)
            self._wake.set()
            return len(fields["payload"])
        self._buffer.append((session_id, fields, size))
        self.buffered_bytes += size
        self._idle = anyio.Event() if self._idle.is_set() else self._idle
        self._wake.set()
        return len(fields["payload"])

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
                    ids = await pipe.execute()
                    for _ in items:
                        self.buffered_bytes -= self._buffer.popleft()[2]
                    await self._index_checkpoints(items, ids)
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

    async def _index_checkpoints(self, items: list[tuple[str, dict[str, str], int]], ids: list[bytes]) -> None:
        # After the batch is written (its stream ids are known only then). Losing this write
        # is harmless (see the module docstring), so it never fails the writer.
        index: dict[str, dict[bytes, int]] = {}
        for (session_id, fields, _), entry_id in zip(items, ids, strict=True):
            if fields["type"] == DOC_CHECKPOINT:
                index.setdefault(session_id, {})[entry_id] = int(fields["t"])
        if not index:
            return
        try:
            pipe = self.redis.pipeline(transaction=False)
            for session_id, members in index.items():
                pipe.zadd(checkpoint_index_key(session_id), members)
            await pipe.execute()
        except (RedisError, OSError) as exc:
            log.info("recording: checkpoint index not updated (%s); seeks start earlier", exc)

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

    async def read_from_checkpoint(self, session_id: str, at: int | None = None) -> list[Event]:
        """The events from the last checkpoint at or before ``at`` up to ``at`` (or to the end):
        all :func:`server.document.rebuild_doc` needs, at a cost that does not grow with the
        length of the recording. Without an indexed checkpoint it reads from the start."""
        key = stream_key(session_id)
        found = await self.redis.zrevrangebyscore(
            checkpoint_index_key(session_id), "+inf" if at is None else at, "-inf", start=0, num=1
        )
        first = found[0] if found else None
        start = first.decode() if first else "-"
        events: list[Event] = []
        unindexed: dict[bytes, int] = {}
        done = False
        reads = 0
        while not done:
            count = SEEK_CHUNKS[min(reads, len(SEEK_CHUNKS) - 1)]
            reads += 1
            chunk = await self.redis.xrange(key, min=start, count=count)
            for entry_id, fields in chunk:
                ev = Event.from_fields(fields)
                if at is not None and ev.t > at:
                    done = True
                    break
                if ev.type == DOC_CHECKPOINT and entry_id != first:
                    unindexed[entry_id] = ev.t
                events.append(ev)
            if len(chunk) < count:
                break
            start = "(" + chunk[-1][0].decode()
        if unindexed:
            await self.redis.zadd(checkpoint_index_key(session_id), unindexed)
        return events

    async def json_lines(self, session_id: str) -> tuple[int, AsyncIterator[str]]:
        """The recording as JSON lines, streamed in chunks: (the number of events, the chunks).

        The snapshot ends at the last event written when this is called, so a live session's
        recording has a definite length (and a reader can show progress against it)."""
        key = stream_key(session_id)
        pipe = self.redis.pipeline(transaction=False)
        pipe.xlen(key)
        pipe.xrevrange(key, count=1)
        total, last = await pipe.execute()
        end = last[0][0] if last else None

        async def chunks() -> AsyncIterator[str]:
            if end is None:
                return
            start = "-"
            while True:
                chunk = await self.redis.xrange(key, min=start, max=end, count=STREAM_CHUNK)
                if not chunk:
                    return
                yield "".join(_json_line(fields) for _, fields in chunk)
                if chunk[-1][0] == end:
                    return
                start = "(" + chunk[-1][0].decode()

        return int(total), chunks()

    async def import_events(self, session_id: str, events: Iterable[Event]) -> int:
        """Append events read from a JSON-lines export (moving a recording between installs)."""
        fields = [ev.to_fields() for ev in events]
        pipe = self.redis.pipeline(transaction=False)
        for f in fields:
            pipe.xadd(stream_key(session_id), f)
        ids = await pipe.execute()
        checkpoints = {i: int(f["t"]) for f, i in zip(fields, ids, strict=True) if f["type"] == DOC_CHECKPOINT}
        if checkpoints:
            await self.redis.zadd(checkpoint_index_key(session_id), checkpoints)
        return len(fields)
