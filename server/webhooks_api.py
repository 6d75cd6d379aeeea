"""Admin endpoints for webhooks: ``/api/webhooks`` and their deliveries.

Admins only (``webhooks.manage`` in :mod:`server.auth.policy`; the admin token counts).
A new endpoint's secret is in the creation reply and nowhere else, ever again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from server.api import json_body, require_team
from server.auth.principal import Principal
from server.errors import InvalidInput, NotFound
from server.webhooks import EVENT_TYPES, Webhooks
from server.webhooks_store import FAILED, PENDING, SUCCEEDED


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return url


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"unknown event types {unknown}; known: {list(EVENT_TYPES)}")
    return events


class CreateEndpoint(BaseModel):
    url: str = Field(..., min_length=1, max_length=2000)
    events: list[str] = Field(default_factory=list, max_length=len(EVENT_TYPES))
    description: str = Field("", max_length=200)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        return _check_url(url)

    @field_validator("events")
    @classmethod
    def _events(cls, events: list[str]) -> list[str]:
        return _check_events(events)


class UpdateEndpoint(BaseModel):
    url: str | None = Field(None, min_length=1, max_length=2000)
    events: list[str] | None = Field(None, max_length=len(EVENT_TYPES))
    description: str | None = Field(None, max_length=200)
    enabled: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        return None if url is None else _check_url(url)

    @field_validator("events")
    @classmethod
    def _events(cls, events: list[str] | None) -> list[str] | None:
        return None if events is None else _check_events(events)


async def _admin(request: Request) -> tuple[Webhooks, Principal]:
    principal = await require_team(request, "webhooks.manage")
    return request.state.clarify.webhooks, principal


async def _audit(request: Request, principal: Principal, action: str, **details: Any) -> None:
    await request.state.clarify.audit.append(
        action, actor=principal.actor, name=principal.name, via=principal.via, **details
    )


async def _endpoint_or_404(webhooks: Webhooks, endpoint_id: str) -> Any:
    endpoint = await webhooks.store.endpoint(endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook {endpoint_id!r}")
    return endpoint


async def list_webhooks(request: Request) -> JSONResponse:
    """Every endpoint (without its secret)."""
    webhooks, _ = await _admin(request)
    return JSONResponse([e.to_json() for e in await webhooks.store.endpoints()])


async def create_webhook(request: Request) -> JSONResponse:
    """A new endpoint; the reply carries its signing secret, shown this once."""
    webhooks, principal = await _admin(request)
    body = await json_body(request, CreateEndpoint)
    assert isinstance(body, CreateEndpoint)
    endpoint = await webhooks.add_endpoint(
        body.url, events=tuple(body.events), description=body.description, enabled=body.enabled
    )
    await _audit(request, principal, "webhook.create", target=endpoint.id)
    return JSONResponse({**endpoint.to_json(), "secret": endpoint.secret}, status_code=201)


async def update_webhook(request: Request) -> JSONResponse:
    """Change an endpoint's URL, event filter, description or enabled flag."""
    webhooks, principal = await _admin(request)
    body = await json_body(request, UpdateEndpoint)
    assert isinstance(body, UpdateEndpoint)
    endpoint = await _endpoint_or_404(webhooks, request.path_params["webhook_id"])
    changes: dict[str, Any] = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    if "events" in changes:
        changes["events"] = tuple(changes["events"])
    endpoint = replace(endpoint, **changes)
    await webhooks.store.save_endpoint(endpoint)
    await _audit(request, principal, "webhook.update", target=endpoint.id)
    return JSONResponse(endpoint.to_json())


async def delete_webhook(request: Request) -> Response:
    """Remove an endpoint and its delivery history."""
    webhooks, principal = await _admin(request)
    endpoint = await _endpoint_or_404(webhooks, request.path_params["webhook_id"])
    await webhooks.store.delete_endpoint(endpoint.id)
    await _audit(request, principal, "webhook.delete", target=endpoint.id)
    return Response(status_code=204)


async def list_deliveries(request: Request) -> JSONResponse:
    """An endpoint's deliveries, newest first; ``?status=pending|succeeded|failed``."""
    webhooks, _ = await _admin(request)
    endpoint = await _endpoint_or_404(webhooks, request.path_params["webhook_id"])
    status = request.query_params.get("status") or None
    if status not in (None, PENDING, SUCCEEDED, FAILED):
        raise InvalidInput("status: must be pending, succeeded or failed", field="status")
    try:
        limit = max(1, min(1000, int(request.query_params.get("limit", "100"))))
    except ValueError:
        raise InvalidInput("limit: must be an integer", field="limit") from None
    deliveries = await webhooks.store.deliveries(endpoint.id, status=status, limit=limit)
    return JSONResponse([d.to_json() for d in deliveries])


async def redeliver(request: Request) -> JSONResponse:
    """Send a delivery again now (same ``webhook-id``: a receiver that has it ignores it)."""
    webhooks, principal = await _admin(request)
    delivery = await webhooks.redeliver(request.path_params["delivery_id"])
    if delivery is None:
        raise NotFound("no such delivery")
    await _audit(request, principal, "webhook.redeliver", target=delivery.endpoint, delivery=delivery.id)
    return JSONResponse(delivery.to_json(), status_code=202)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/webhooks", list_webhooks, methods=["GET"]),
        Route("/api/webhooks", create_webhook, methods=["POST"]),
        Route("/api/webhooks/{webhook_id}", update_webhook, methods=["PATCH"]),
        Route("/api/webhooks/{webhook_id}", delete_webhook, methods=["DELETE"]),
        Route("/api/webhooks/{webhook_id}/deliveries", list_deliveries, methods=["GET"]),
        Route("/api/webhooks/deliveries/{delivery_id}/redeliver", redeliver, methods=["POST"]),
    ]
