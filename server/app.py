"""The Starlette application and its lifespan (shared resources start and stop here)."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import hmac
import logging
import os
import secrets
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from problems import PACKS_DIR, Problem, load_packs
from sandbox import DockerLauncher, KernelPool
from server import api, examples_api, review_api, transcripts_api, web, webhooks_api, ws
from server.audit import AuditLog
from server.auth import endpoints as auth_endpoints
from server.auth import oidc
from server.auth.personal_tokens import PersonalTokens
from server.auth.principal import Authenticator, origin
from server.auth.websessions import WebSessions, load_cookie_secret
from server.clarify.levels import load_levels
from server.errors import ClarifyError
from server.lifecycle import Lifecycle
from server.managed_redis import ManagedRedis
from server.members import MemberStore
from server.recording import Recorder
from server.runs import Limits
from server.runtime import Runtimes
from server.sessions import SessionStore
from server.settings import Settings
from server.webhooks import Webhooks, recorded_scorecard, webhook_config

log = logging.getLogger(__name__)


@dataclass
class AppState:
    """Shared resources, created by the lifespan."""

    settings: Settings
    redis: aioredis.Redis
    launcher: DockerLauncher
    pool: KernelPool
    recorder: Recorder
    store: SessionStore
    runtimes: Runtimes
    admin_token: str
    problems: dict[str, Problem]
    health: Health = field(default_factory=lambda: Health())
    # The team: who signs in, their browser sessions and tokens, and the audit log.
    members: MemberStore | None = None
    web: WebSessions | None = None
    personal: PersonalTokens | None = None
    audit: AuditLog | None = None
    auth: Authenticator | None = None
    oidc: oidc.OidcClient | None = None
    # Hand-off and lifecycle: ATS webhooks, erasure and the retention sweep.
    webhooks: Webhooks | None = None
    lifecycle: Lifecycle | None = None

    def disconnect_member(self, member_id: str, reason: str) -> int:
        """Close a member's live sockets on this instance at once (they were disabled)."""
        return ws.disconnect_member(self.runtimes, member_id, reason)


# Set when a shared service is gone for good; `clarify serve` then exits non-zero so that its
# supervisor (compose, systemd) restarts it instead of leaving a server that cannot serve.
FATAL: list[str] = []


@dataclass
class Health:
    """What the watchdog last saw of the shared services (read by /healthz)."""

    redis_ok: bool = True
    docker_ok: bool = True
    down_since: float | None = None
    reason: str | None = None


def fatal(reason: str) -> None:
    """Stop the process with a non-zero exit: a shared service is gone for good."""
    if FATAL:
        return
    FATAL.append(reason)
    log.critical("the server cannot serve any more (%s); exiting so that a supervisor restarts it", reason)
    os.kill(os.getpid(), signal.SIGTERM)


async def watchdog(state: AppState, *, every_s: float = 2.0) -> None:
    """Checks Redis and Docker; when either stays down past the setting, the process exits."""
    health = state.health
    while True:
        try:
            health.redis_ok = bool(await state.redis.ping())
        except Exception:  # noqa: BLE001 - a health check reports, never raises
            health.redis_ok = False
        health.docker_ok = await state.launcher.ping()
        down = [name for name, ok in (("Redis", health.redis_ok), ("Docker", health.docker_ok)) if not ok]
        now = time.monotonic()
        if not down:
            health.down_since, health.reason = None, None
        else:
            health.down_since = health.down_since or now
            health.reason = " and ".join(down) + " unreachable"
            limit = state.settings.fatal_after_s
            if limit > 0 and now - health.down_since >= limit:
                fatal(f"{health.reason} for {limit:.0f} s")
        await anyio.sleep(every_s)


def load_admin_token(settings: Settings) -> tuple[str, bool]:
    """The staff token: from the setting, else stored in the data directory (made once)."""
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value(), False
    path = settings.data_dir / "admin_token"
    if path.exists():
        return path.read_text().strip(), False
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(token + "\n")
    return token, True


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the ASGI app; resources start when the server runs its lifespan."""
    settings = settings or Settings()
    cookie_secret = load_cookie_secret(settings.data_dir)
    login_secret = hmac.new(cookie_secret, b"oidc-login", hashlib.sha256).hexdigest()
    https = (settings.public_url or "").startswith("https://")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, AppState]]:
        async with contextlib.AsyncExitStack() as stack:
            redis_url = settings.redis_url
            if redis_url is None:
                managed = await stack.enter_async_context(
                    ManagedRedis(settings.data_dir / "redis", binary=settings.redis_server)
                )
                redis_url = managed.url
            client = aioredis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
            stack.push_async_callback(client.aclose)
            sandbox = settings.sandbox_config()
            where = sandbox.docker_url or os.environ.get("DOCKER_HOST") or "the local Docker socket"
            try:
                launcher = DockerLauncher(sandbox)
            except Exception as exc:
                log.critical("cannot reach Docker at %s (%s); kernels cannot run, so the server stops", where, exc)
                raise
            stack.callback(launcher.close)
            if not await launcher.ping():
                log.critical("Docker at %s does not answer; kernels cannot run, so the server stops", where)
                raise RuntimeError(f"Docker at {where} does not answer")
            pool = await stack.enter_async_context(KernelPool(launcher))
            recorder = await stack.enter_async_context(Recorder(client))
            problems, issues = load_packs(settings.problems_dir or PACKS_DIR)
            for issue in issues:
                log.error("problem pack not loaded: %s", issue)
            load_levels()  # problems/levels.toml: a broken bar stops the start, naming file and field
            await examples_api.preload(client, problems)  # learnt examples, before any matcher
            store = SessionStore(client, candidate_grace_ms=settings.candidate_link_grace_minutes * 60_000)
            limits = Limits(
                max_queued_runs=settings.max_queued_runs,
                hello_runs=settings.hello_runs,
                hello_output_bytes=settings.hello_output_bytes,
                max_recording_bytes=settings.max_recording_bytes,
                max_connections_per_token=settings.max_connections_per_token,
                max_doc_chars=settings.max_doc_bytes,
            )
            webhooks = await stack.enter_async_context(
                Webhooks(client, webhook_config(settings), scorecard=recorded_scorecard(recorder, problems))
            )
            runtimes = await stack.enter_async_context(
                Runtimes(store, recorder, pool, problems, limits, notifier=webhooks)
            )
            token, _ = load_admin_token(settings)
            state = AppState(settings, client, launcher, pool, recorder, store, runtimes, token, problems)
            state.members = MemberStore(client)
            state.web = WebSessions(
                client,
                cookie_secret,
                idle_s=settings.oidc.session_idle_minutes * 60,
                absolute_s=settings.oidc.session_absolute_hours * 3600,
            )
            state.personal = PersonalTokens(client)
            state.audit = AuditLog(client)
            state.webhooks = webhooks
            state.lifecycle = await stack.enter_async_context(
                Lifecycle(
                    client,
                    store,
                    recorder,
                    runtimes,
                    state.audit,
                    settings.data_dir,
                    notifier=webhooks,
                    webhooks=webhooks.store,
                    retention_days=settings.retention_days,
                    sweep_every_s=settings.retention_sweep_minutes * 60,
                    keep_deliveries_days=settings.webhook_keep_days,
                )
            )
            state.auth = Authenticator(
                token, store, state.members, state.web, state.personal, public_origin=origin(settings.public_url)
            )
            state.oidc = oidc.OidcClient(settings.oidc, client) if settings.oidc.enabled else None
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)  # runs before the group exits
            tg.start_soon(watchdog, state)
            # Everything loaded so far lives as long as the server: keep it out of the cyclic
            # GC's full collections, whose pauses otherwise grow with every import and pack.
            gc.collect()
            gc.freeze()
            yield {"clarify": state}

    routes = [
        Route("/healthz", api.healthz),
        Route("/api/problems", api.list_problems),
        Route("/api/problems/{problem_id}/comparison", api.compare),
        Route("/api/sessions", api.create_session, methods=["POST"]),
        Route("/api/sessions", api.list_sessions, methods=["GET"]),
        Route("/api/recordings", api.import_recording, methods=["POST"]),
        Route("/api/sessions/{session_id}", api.get_session, methods=["GET"]),
        Route("/api/sessions/{session_id}", api.patch_session, methods=["PATCH"]),
        Route("/api/sessions/{session_id}", api.delete_session, methods=["DELETE"]),
        Route("/api/sessions/{session_id}/export", api.export_session, methods=["GET"]),
        Route("/api/erasures", api.create_erasure, methods=["POST"]),
        *webhooks_api.routes(),
        *transcripts_api.routes(),
        *review_api.routes(),
        *examples_api.routes(),
        Route("/api/sessions/{session_id}/end", api.end_session, methods=["POST"]),
        Route("/api/sessions/{session_id}/candidate-link", api.reissue_candidate_link, methods=["POST"]),
        Route("/api/sessions/{session_id}/candidate-link", api.revoke_candidate_link, methods=["DELETE"]),
        Route("/api/sessions/{session_id}/recording", api.recording),
        Route("/api/sessions/{session_id}/runs/{run_id:int}", api.run_outputs),
        Route("/api/sessions/{session_id}/document", api.document),
        Route("/api/sessions/{session_id}/scorecard", api.scorecard),
        Route("/api/sessions/{session_id}/scorecard.pdf", api.scorecard),
        *oidc.routes(login_secret, login_timeout_s=settings.oidc.login_timeout_s, https_only=https),
        *auth_endpoints.routes(),
        WebSocketRoute("/ws/doc/{session_id}", ws.doc_endpoint),
        WebSocketRoute("/ws/events/{session_id}", ws.events_endpoint),
        *web.routes(),  # the browser app, once `frontend/` is built
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ClarifyError: api.handle_error,
            RedisError: api.handle_redis_down,
            Exception: api.handle_unexpected,
        },
    )
