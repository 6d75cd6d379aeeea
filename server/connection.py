"""One bounded connection: what both websockets (document and events) hold per client.

A connection has a role, an actor id and a bounded send queue. A reader that falls this far
behind is dropped at once (its task group is cancelled and the endpoint closes with 1013):
a slow or stalled client never makes the room or the session wait.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio

T = TypeVar("T")


@dataclass(eq=False)
class Connection(Generic[T]):
    """A client's connection: role, actor and a bounded queue of outgoing messages (None ends it)."""

    role: str
    actor: str
    queue_size: int = 256
    queue: asyncio.Queue[T | None] = field(init=False)
    dropped: bool = False
    cancel_scope: anyio.CancelScope | None = None  # the connection's, cancelled on drop

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.queue_size)

    def send(self, message: T | None) -> bool:
        """Queue a message; False (and the connection marked dropped) when its queue is full."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # Disconnected now, not when it next reads: the endpoint closes with 1013.
            self.dropped = True
            if self.cancel_scope is not None:
                self.cancel_scope.cancel()
            return False
        return True
