"""Admin endpoints for the labelled examples the interviewers' judgements made.

``GET /api/problems/{problem_id}/examples`` lists a problem's examples (``?status=``), as JSON or,
with ``Accept: application/x-ndjson``, as JSON lines: the export ``clarify problems learn --from``
reads. ``PATCH /api/examples/{id}`` accepts or rejects one, optionally with the right
constraint; a rejected example stops counting for the matcher at once. Admins only
(``examples.review`` in :mod:`server.auth.policy`); reviews are audit-logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from server.api import json_body, require_team
from server.audit import ndjson
from server.auth.principal import Principal
from server.clarify.examples import BOOK, STATUSES, ExampleStore
from server.errors import InvalidInput, NotFound


class Review(BaseModel):
    """An admin's verdict on one example."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["accepted", "rejected"]
    constraint: str | None = Field(None, max_length=200, description='the right constraint ("" = none)')


async def _admin(request: Request) -> tuple[ExampleStore, Principal]:
    principal = await require_team(request, "examples.review")
    return BOOK.attach(request.state.clarify.redis), principal


async def list_examples(request: Request) -> Response:
    """A problem's examples, oldest first; ``?status=pending|accepted|rejected``."""
    store, _ = await _admin(request)
    problem_id = request.path_params["problem_id"]
    if problem_id not in request.state.clarify.problems:
        raise NotFound(f"no problem {problem_id!r}")
    status = request.query_params.get("status") or None
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status: must be one of {', '.join(STATUSES)}", field="status")
    found = [e.to_json() for e in await store.list(problem_id, status)]
    if "application/x-ndjson" in request.headers.get("accept", ""):
        return PlainTextResponse(ndjson(found), media_type="application/x-ndjson")
    return JSONResponse({"problem": problem_id, "examples": found})


async def review_example(request: Request) -> JSONResponse:
    """Accept or reject an example; ``constraint`` corrects what it is about."""
    store, principal = await _admin(request)
    body = await json_body(request, Review)
    assert isinstance(body, Review)
    example_id = request.path_params["example_id"]
    example = await store.get(example_id)
    if example is None:
        raise NotFound(f"no example {example_id!r}")
    problem = request.state.clarify.problems.get(example.problem)
    if body.constraint and (problem is None or body.constraint not in {c.id for c in problem.meta.constraint}):
        message = f"constraint: {body.constraint!r} is not a constraint of {example.problem}"
        raise InvalidInput(message, field="constraint")
    reviewed = await store.review(example_id, body.status, principal.actor, body.constraint)
    if reviewed is None:  # erased meanwhile
        raise NotFound(f"no example {example_id!r}")
    BOOK.set(reviewed)
    await request.state.clarify.audit.append(
        "example.review",
        actor=principal.actor,
        name=principal.name,
        via=principal.via,
        target=reviewed.id,
        problem=reviewed.problem,
        status=reviewed.status,
        constraint=reviewed.constraint,
    )
    return JSONResponse(reviewed.to_json())


async def preload(redis: aioredis.Redis, problems: Iterable[str]) -> None:
    """At start-up: read every problem's examples, so that the first session's matcher has them."""
    await BOOK.load(redis, problems)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/problems/{problem_id}/examples", list_examples, methods=["GET"]),
        Route("/api/examples/{example_id}", review_example, methods=["PATCH"]),
    ]
