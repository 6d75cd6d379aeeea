"""Signed Jupyter messages over the kernel's ipc sockets.

A thin layer over pyzmq and :class:`jupyter_client.session.Session`: it owns the sockets for
one kernel and knows nothing about containers. Who reads which socket is fixed so that no
background reader is needed: the execution in progress reads ``shell`` and ``iopub``
(:class:`sandbox.kernel.Kernel` allows one at a time), and control requests (interrupt,
shutdown) read ``control`` under their own lock.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.session import Session

from sandbox.errors import KernelProtocolError
from sandbox.messages import check_envelope, parent_id

log = logging.getLogger(__name__)

# Malformed messages logged per client before the log only counts them (a kernel can send
# millions).
_LOG_FIRST = 10
_LOG_EVERY = 1000

_context: zmq.asyncio.Context | None = None


def _shared_context() -> zmq.asyncio.Context:
    global _context
    if _context is None or _context.closed:
        _context = zmq.asyncio.Context()
    return _context


Message = dict[str, Any]


class KernelClient:
    """The host's end of one kernel's shell, iopub and control channels."""

    def __init__(self, connection: dict[str, Any], *, max_message_bytes: int, name: str = "") -> None:
        self._connection = connection
        self._max_message_bytes = max_message_bytes
        self.name = name  # the kernel id, for log lines
        self.malformed = 0  # messages dropped because they were forged, garbled or ill-shaped
        self.session = Session(
            key=connection["key"].encode(),
            signature_scheme=connection["signature_scheme"],
            username="clarify",
        )
        self.shell: zmq.asyncio.Socket | None = None
        self.iopub: zmq.asyncio.Socket | None = None
        self.control: zmq.asyncio.Socket | None = None
        self._control_lock = asyncio.Lock()

    def _url(self, port_name: str) -> str:
        return f"ipc://{self._connection['ip']}-{self._connection[port_name]}"

    def connect(self) -> None:
        """Open the sockets (the caller has verified the socket paths first)."""
        self.close()
        self.shell = self._socket(zmq.DEALER)
        self.control = self._socket(zmq.DEALER)
        self.iopub = self._socket(zmq.SUB)
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.shell.connect(self._url("shell_port"))
        self.control.connect(self._url("control_port"))
        self.iopub.connect(self._url("iopub_port"))

    def reconnect_iopub(self) -> None:
        """A fresh iopub subscription (after zmq dropped it for an oversized message)."""
        if self.iopub is not None:
            self.iopub.close(linger=0)
        self.iopub = self._socket(zmq.SUB)
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.iopub.connect(self._url("iopub_port"))

    def _socket(self, kind: int) -> zmq.asyncio.Socket:
        sock = _shared_context().socket(kind)
        sock.linger = 0
        # A message larger than this drops the connection instead of being buffered in the
        # host's memory: the kernel cannot make us allocate 1 GB.
        sock.setsockopt(zmq.MAXMSGSIZE, self._max_message_bytes)
        return sock

    def close(self) -> None:
        for sock in (self.shell, self.iopub, self.control):
            if sock is not None:
                sock.close(linger=0)
        self.shell = self.iopub = self.control = None

    def send(self, sock: zmq.asyncio.Socket, msg_type: str, content: dict[str, Any]) -> str:
        """Sign and send a request; returns its ``msg_id``."""
        msg = self.session.msg(msg_type, content)
        self.session.send(sock, msg)
        return msg["header"]["msg_id"]

    async def recv(self, sock: zmq.asyncio.Socket, timeout: float) -> Message | None:
        """The next valid message on ``sock``, or None after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            if not await sock.poll(timeout=int(remaining * 1000) + 1):
                return None
            frames = await sock.recv_multipart()
            msg = self._decode(frames)
            if msg is not None:
                return msg

    def decode(self, frames: list[bytes]) -> Message:
        """Verify, parse and check one message; :class:`KernelProtocolError` if it is not a
        signed, well-formed Jupyter message (the envelope; content is checked by its reader)."""
        try:
            _idents, parts = self.session.feed_identities(frames)
            # jupyter_client replaces invalid UTF-8 silently; the spec says UTF-8, so refuse it.
            for part in parts[1:5]:
                bytes(part).decode("utf-8")
            msg = self.session.deserialize(parts)
        except Exception as exc:  # noqa: BLE001 - bad signature, not JSON, not UTF-8, too few frames...
            raise KernelProtocolError(f"undecodable kernel message: {type(exc).__name__}: {str(exc)[:200]}") from None
        return check_envelope(msg)

    def _decode(self, frames: list[bytes]) -> Message | None:
        """:meth:`decode`, with a malformed message dropped (counted and logged), never raised."""
        try:
            return self.decode(frames)
        except KernelProtocolError as exc:
            self.note_malformed(exc.reason)
            return None

    def note_malformed(self, reason: str) -> None:
        """Count (and log, sparingly) one dropped message."""
        self.malformed += 1
        if self.malformed <= _LOG_FIRST or self.malformed % _LOG_EVERY == 0:
            log.info("kernel %s: dropped message %d: %s", self.name or "?", self.malformed, reason)

    async def control_request(self, msg_type: str, content: dict[str, Any], timeout: float) -> Message | None:
        """Send a control request and wait for its reply (None on timeout)."""
        assert self.control is not None, "not connected"
        async with self._control_lock:
            msg_id = self.send(self.control, msg_type, content)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while (remaining := deadline - loop.time()) > 0:
                reply = await self.recv(self.control, remaining)
                if reply is None:
                    return None
                if parent_id(reply) == msg_id:
                    return reply
            return None

    async def shell_request(self, msg_type: str, content: dict[str, Any], timeout: float) -> Message | None:
        """Send a shell request and wait for its reply; only when no execution is running."""
        assert self.shell is not None, "not connected"
        msg_id = self.send(self.shell, msg_type, content)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            reply = await self.recv(self.shell, remaining)
            if reply is None:
                return None
            if parent_id(reply) == msg_id:
                return reply
        return None
