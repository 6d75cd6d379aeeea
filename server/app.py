"""The Starlette application and its lifespan (shared resources start and stop here)."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox import DockerLauncher, KernelPool
from server.managed_redis import ManagedRedis
from server.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class AppState:
    """Shared resources, created by the lifespan."""

    settings: Settings
    redis: aioredis.Redis
    launcher: DockerLauncher
    pool: KernelPool
    admin_token: str


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
            client = aioredis.from_url(redis_url)
            stack.push_async_callback(client.aclose)
            launcher = DockerLauncher(settings.sandbox_config())
            stack.callback(launcher.close)
            pool = await stack.enter_async_context(KernelPool(launcher))
            token, _ = load_admin_token(settings)
            yield {"clarify": AppState(settings, client, launcher, pool, token)}

    return Starlette(routes=[Route("/healthz", healthz)], lifespan=lifespan)


async def healthz(request: Request) -> JSONResponse:
    """State of Redis, Docker and the warm pool (always 200; `status` says ok or degraded)."""
    state: AppState = request.state.clarify
    try:
        redis_ok = bool(await state.redis.ping())
    except Exception:  # noqa: BLE001 - health reports, never raises
        redis_ok = False
    docker_ok = await state.launcher.ping()
    pool = state.pool.stats()
    ok = redis_ok and docker_ok
    body = {
        "status": "ok" if ok else "degraded",
        "redis": {"ok": redis_ok},
        "docker": {"ok": docker_ok, "image": state.launcher.image},
        "pool": pool,
    }
    return JSONResponse(body)
