"""Sending a recording to a replay: JSON lines, streamed, gzip-compressed when the client accepts it.

A recording of an hour of typing is a few MiB of JSON lines and compresses several times over,
so the replay page downloads it once, compressed, and shows progress against the number of
events announced in ``X-Clarify-Events``. The server holds one chunk at a time, never the whole
recording, so a replay costs the server about the same memory for a short or a long session.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import anyio
from starlette.responses import StreamingResponse

GZIP_LEVEL = 6
# Larger chunks are compressed in a worker thread (zlib releases the GIL): live sessions on this
# event loop must not wait behind a replay's compression.
THREAD_ABOVE_BYTES = 64 * 1024
EVENTS_HEADER = "X-Clarify-Events"


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` header admits gzip (``gzip;q=0`` refuses it)."""
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() not in ("gzip", "*"):
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


async def _encoded(chunks: AsyncIterator[str]) -> AsyncIterator[bytes]:
    async for text in chunks:
        yield text.encode()


async def _gzipped(chunks: AsyncIterator[str]) -> AsyncIterator[bytes]:
    z = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    async for text in chunks:
        data = text.encode()
        if len(data) > THREAD_ABOVE_BYTES:
            out = await anyio.to_thread.run_sync(z.compress, data)
        else:
            out = z.compress(data)
        if out:
            yield out
    yield z.flush()


def recording_response(total: int, chunks: AsyncIterator[str], accept_encoding: str) -> StreamingResponse:
    """The JSON-lines recording as a streamed response of ``total`` events."""
    headers = {EVENTS_HEADER: str(total), "Vary": "Accept-Encoding", "Cache-Control": "no-store"}
    if accepts_gzip(accept_encoding):
        headers["Content-Encoding"] = "gzip"
        body = _gzipped(chunks)
    else:
        body = _encoded(chunks)
    return StreamingResponse(body, media_type="application/x-ndjson", headers=headers)
