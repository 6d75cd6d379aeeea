"""The Starlette application and its lifespan (shared resources start and stop here)."""

from __future__ import annotations

import contextlib
import gc
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from problems import PACKS_DIR, Problem, load_packs
from sandbox import DockerLauncher, KernelPool
from server import api, web, ws
from server.errors import ClarifyError
from server.managed_redis import ManagedRedis
from server.recording import Recorder
from server.runtime import Runtimes
from server.sessions import SessionStore
from server.settings import Settings

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
            launcher = DockerLauncher(settings.sandbox_config())
            stack.callback(launcher.close)
            pool = await stack.enter_async_context(KernelPool(launcher))
            recorder = await stack.enter_async_context(Recorder(client))
            problems, issues = load_packs(settings.problems_dir or PACKS_DIR)
            for issue in issues:
                log.error("problem pack not loaded: %s", issue)
            store = SessionStore(client)
            runtimes = await stack.enter_async_context(Runtimes(store, recorder, pool, problems))
            token, _ = load_admin_token(settings)
            # Everything loaded so far lives as long as the server: keep it out of the cyclic
            # GC's full collections, whose pauses otherwise grow with every import and pack.
            gc.collect()
            gc.freeze()
            yield {"clarify": AppState(settings, client, launcher, pool, recorder, store, runtimes, token, problems)}

    routes = [
        Route("/healthz", api.healthz),
        Route("/api/problems", api.list_problems),
        Route("/api/problems/{problem_id}/comparison", api.compare),
        Route("/api/sessions", api.create_session, methods=["POST"]),
        Route("/api/sessions", api.list_sessions, methods=["GET"]),
        Route("/api/recordings", api.import_recording, methods=["POST"]),
        Route("/api/sessions/{session_id}", api.get_session),
        Route("/api/sessions/{session_id}/end", api.end_session, methods=["POST"]),
        Route("/api/sessions/{session_id}/recording", api.recording),
        Route("/api/sessions/{session_id}/document", api.document),
        Route("/api/sessions/{session_id}/scorecard", api.scorecard),
        WebSocketRoute("/ws/doc/{session_id}", ws.doc_endpoint),
        WebSocketRoute("/ws/events/{session_id}", ws.events_endpoint),
        *web.routes(),  # the browser app, once `frontend/` is built
    ]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={ClarifyError: api.handle_error})
