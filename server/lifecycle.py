"""The end of a candidate's data: erasure (on request, or by the retention sweep) and legal hold.

Erasing a session removes everything stored about it: its recording stream and checkpoint
index, its hash (candidate name and email, token hashes, ATS ids), its entry in the session
index, its webhook deliveries (their bodies quote the session), every other key whose name
holds the session id, and its exports on disk; its live sockets are closed and its kernel is
released (the container and its directory go with it). What remains is an audit entry naming
who erased which session id and why, and a ``candidate.erased`` webhook carrying the session
id and the ATS's ids, never a name, an email, code or answers.

:class:`Lifecycle` (``async with``, entered in the app's lifespan) owns the retention sweep:
every ``retention_sweep_minutes`` it erases sessions whose age (since they ended; since they
were created, for one left open) passes ``retention_days``, except those under legal hold,
and prunes finished webhook deliveries past ``webhook_keep_days``. The sweep takes ``now`` as
an argument, so tests run it with a clock they control.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from server.audit import STREAM as AUDIT_STREAM
from server.audit import AuditLog
from server.clarify.examples import ExampleStore
from server.errors import NotFound
from server.recording import Recorder, checkpoint_index_key, session_key, stream_key
from server.runtime import Runtimes
from server.sessions import INDEX_KEY, SessionInfo, SessionStore
from server.webhooks import CANDIDATE_ERASED, Notifier, NullNotifier
from server.webhooks_store import WebhookStore

log = logging.getLogger(__name__)

DAY_MS = 24 * 3600 * 1000
EXPORTS_DIR = "exports"
SESSIONS_DIR = "sessions"


@dataclass(frozen=True)
class Actor:
    """Who asked for an erasure (for the audit entry)."""

    id: str = "system"
    name: str = ""
    via: str = ""


RETENTION = Actor("retention", "Retention sweep", "system")


def exports_dir(data_dir: Path) -> Path:
    return data_dir / EXPORTS_DIR


class Lifecycle:
    """Erasure, legal hold and the retention sweep (``async with`` runs the sweep)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        store: SessionStore,
        recorder: Recorder,
        runtimes: Runtimes,
        audit: AuditLog,
        data_dir: Path,
        *,
        notifier: Notifier | None = None,
        webhooks: WebhookStore | None = None,
        retention_days: float = 365,
        sweep_every_s: float = 3600,
        keep_deliveries_days: float = 30,
    ) -> None:
        self.redis = redis
        self.store = store
        self.recorder = recorder
        self.runtimes = runtimes
        self.audit = audit
        self.data_dir = data_dir
        self.notifier = notifier or NullNotifier()
        self.webhooks = webhooks
        self.retention_days = retention_days
        self.sweep_every_s = sweep_every_s
        self.keep_deliveries_days = keep_deliveries_days
        self._stack = contextlib.AsyncExitStack()
        self._compact = anyio.Event()

    async def __aenter__(self) -> Lifecycle:
        tg = await self._stack.enter_async_context(anyio.create_task_group())
        self._stack.callback(tg.cancel_scope.cancel)
        tg.start_soon(self._compactor)
        if self.sweep_every_s > 0:
            tg.start_soon(self._sweeper)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    # -- erasure --------------------------------------------------------------------------

    async def erase_session(self, session_id: str, *, by: Actor, reason: str = "request") -> dict[str, Any]:
        """Erase one session and everything stored about it (see the module docstring)."""
        info = await self.store.get(session_id)  # NotFound for an unknown (or erased) session
        await self.runtimes.discard(session_id)
        # What the recorder still buffers for it is written now, so it is deleted below.
        await self.recorder.flush(timeout=5.0)
        deliveries = await self._erase_keys(session_id)
        files = await anyio.to_thread.run_sync(self._erase_files, session_id)
        await self.audit.append(
            "session.erase",
            actor=by.id,
            name=by.name,
            via=by.via,
            session=session_id,
            reason=reason,
            deliveries=deliveries,
            files=files,
        )
        event = {
            "session": {"id": session_id, "problem": info.problem or None},
            "external_ids": info.external_ids,
            "reason": reason,
            "erased_ms": int(time.time() * 1000),
        }
        await self.notifier.emit(CANDIDATE_ERASED, session_id, event)
        log.info("session %s erased (%s)", session_id, reason)
        return {"id": session_id, "erased": True, "reason": reason}

    async def _erase_keys(self, session_id: str) -> int:
        removed = 0
        if self.webhooks is not None:
            removed = await self.webhooks.delete_deliveries(await self.webhooks.session_deliveries(session_id))
        # The interviewers' labelled examples quote the candidate's words (issue 10).
        await ExampleStore(self.redis).delete_session(session_id)
        keys = {stream_key(session_id), checkpoint_index_key(session_id), session_key(session_id)}
        # Anything else filed under the session id (what later features add goes with it).
        async for key in self.redis.scan_iter(match=f"*{_glob_escape(session_id)}*", count=1000):
            name = key.decode()
            if name != AUDIT_STREAM:
                keys.add(name)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(*keys)
        pipe.zrem(INDEX_KEY, session_id)
        await pipe.execute()
        self._compact.set()  # the append-only file holds the deleted values until rewritten
        return removed

    def _erase_files(self, session_id: str) -> int:
        removed = 0
        exports = exports_dir(self.data_dir)
        if exports.is_dir():
            for path in exports.iterdir():
                if path.name.startswith(session_id):
                    path.unlink(missing_ok=True)
                    removed += 1
        per_session = self.data_dir / SESSIONS_DIR / session_id
        if per_session.is_dir() and not per_session.is_symlink():
            shutil.rmtree(per_session, ignore_errors=True)
            removed += 1
        return removed

    async def find_candidate(
        self, *, name: str | None = None, email: str | None = None, external_id: str | None = None
    ) -> list[SessionInfo]:
        """Every session of a candidate: by name or email (case-insensitive, trimmed) or by
        any of the ATS ids given at creation."""
        want_name = _norm(name)
        want_email = _norm(email)
        want_id = (external_id or "").strip()
        found = []
        for info in await self._all_sessions():
            if (
                (want_name and _norm(info.candidate) == want_name)
                or (want_email and _norm(info.candidate_email) == want_email)
                or (want_id and want_id in {str(v) for v in info.external_ids.values()})
            ):
                found.append(info)
        return found

    async def erase_candidate(
        self, *, by: Actor, name: str | None = None, email: str | None = None, external_id: str | None = None
    ) -> list[str]:
        """Erase every session of a candidate; returns the erased session ids."""
        sessions = await self.find_candidate(name=name, email=email, external_id=external_id)
        erased = []
        for info in sessions:
            with contextlib.suppress(NotFound):  # erased meanwhile (the sweep, another request)
                await self.erase_session(info.id, by=by, reason="candidate request")
                erased.append(info.id)
        matched_by = ",".join(k for k, v in (("name", name), ("email", email), ("external_id", external_id)) if v)
        await self.audit.append(
            "candidate.erase",
            actor=by.id,
            name=by.name,
            via=by.via,
            matched_by=matched_by,  # which kind of identifier, never its value
            sessions=len(erased),
            session_ids=",".join(erased),
        )
        return erased

    async def _all_sessions(self) -> list[SessionInfo]:
        out = []
        for raw in await self.redis.zrange(INDEX_KEY, 0, -1):
            h = await self.redis.hgetall(session_key(raw.decode()))
            if h:
                out.append(SessionInfo.from_hash(h))
        return out

    # -- retention ------------------------------------------------------------------------

    async def sweep(self, now_ms: int | None = None) -> list[str]:
        """Erase what is past retention (legal holds excepted); prune old webhook deliveries."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        erased: list[str] = []
        if self.retention_days > 0:
            limit = now_ms - int(self.retention_days * DAY_MS)
            for info in await self._all_sessions():
                since = info.ended_ms or info.created_ms
                if info.legal_hold or since > limit:
                    continue
                with contextlib.suppress(NotFound):
                    await self.erase_session(info.id, by=RETENTION, reason="retention")
                    erased.append(info.id)
        if self.webhooks is not None and self.keep_deliveries_days > 0:
            await self.webhooks.prune(now_ms - int(self.keep_deliveries_days * DAY_MS))
        return erased

    async def _sweeper(self) -> None:
        while True:
            try:
                erased = await self.sweep()
                if erased:
                    log.info("retention: erased %d sessions", len(erased))
            except (RedisError, OSError) as exc:
                log.warning("retention: sweep skipped (%s)", exc)
            except Exception:  # the next sweep tries again
                log.exception("retention: sweep failed")
            await anyio.sleep(self.sweep_every_s)

    async def _compactor(self, poll_s: float = 0.5) -> None:
        """Rewrite Redis's append-only file after erasures, so that the deleted values leave
        the disk too. Erasures in a row share one rewrite; one that starts while a rewrite
        runs gets another after it (a rewrite started earlier may still hold its data)."""
        while True:
            await self._compact.wait()
            self._compact = anyio.Event()
            try:
                while (await self.redis.info("persistence")).get("aof_rewrite_in_progress"):
                    await anyio.sleep(poll_s)
                await self.redis.bgrewriteaof()
            except RedisError as exc:  # no AOF (an external Redis may run without): nothing to do
                log.info("erasure: append-only file not rewritten (%s)", exc)


def _norm(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


__all__ = ["RETENTION", "Actor", "Lifecycle", "exports_dir"]
