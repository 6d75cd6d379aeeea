"""``clarify assistant-sim``: a small OpenAI-compatible chat-completions server for tests and demos.

It serves ``POST /v1/chat/completions`` (streamed as server-sent events, or whole) and
``GET /v1/models`` with deterministic replies: a short explanation and a fenced Python snippet
derived from the last question, with token counts in ``usage``. No network, no model weights.

Test controls, by model name or by the ``x-sim-behaviour`` header:

- ``sim-429``: 429 with ``Retry-After`` (seconds);
- ``sim-timeout``: never answers (until the client gives up);
- ``sim-fail-midstream``: streams a few tokens, then cuts the connection;
- ``sim-error``: 500 with an OpenAI-shaped error body;
- ``sim-slow``: streams one token every 200 ms;
- ``sim-new``: answers like ``sim-1`` but, as newer OpenAI models do, refuses a request that
  sets ``max_tokens`` (400: use ``max_completion_tokens``).

Every request body it receives is kept (the newest 1000) and listed by ``GET /_requests``, so a
test can assert what a client did, and did not, send; ``DELETE /_requests`` clears the list.
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODELS = ("sim-1", "sim-2", "sim-429", "sim-timeout", "sim-fail-midstream", "sim-error", "sim-slow", "sim-new")
BEHAVIOURS = {"sim-429": "429", "sim-timeout": "timeout", "sim-fail-midstream": "midstream", "sim-error": "error"}
MAX_KEPT = 1000
HANG_LIMIT_S = 600.0


class SimulatedCut(Exception):
    """Raised inside a streamed reply to cut the connection part-way (``sim-fail-midstream``)."""


def question_of(messages: list[dict[str, Any]]) -> str:
    """The last user message's question (the text after a leading fenced code block, if any)."""
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            text = message["content"]
            if "```" in text:
                text = text.rsplit("```", 1)[-1]
            return " ".join(text.split())
    return ""


def reply_for(question: str) -> str:
    """A deterministic reply: one line of explanation and a Python snippet named after the question."""
    words = re.findall(r"[a-z]+", question.lower())
    name = "_".join(w for w in words if len(w) > 2)[:40].strip("_") or "sketch"
    shown = question[:80] or "your question"
    return (
        f"Here is a small sketch for: {shown}\n\n"
        "```python\n"
        f"def {name}(rows):\n"
        '    """Keep the rows that have a value, in order."""\n'
        "    return [row for row in rows if row is not None]\n"
        "```\n\n"
        "Check it on a small sample before relying on it."
    )


def tokens_of(text: str) -> list[str]:
    """The reply split into streamed tokens (a word with its trailing space)."""
    return re.findall(r"\S+\s*|\s+", text)


def count_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(len(str(m.get("content", "")).split()) for m in messages)


def _error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(delay_s: float = 0.005, retry_after_s: int = 7) -> Starlette:
    """The simulator as an ASGI app (``clarify assistant-sim`` serves it with uvicorn)."""
    received: deque[dict[str, Any]] = deque(maxlen=MAX_KEPT)
    counter = iter(range(1, 1 << 62))

    async def completions(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body is not JSON", "invalid_request_error")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "'messages' must be a list", "invalid_request_error")
        received.append(body)
        model = str(body.get("model") or "sim-1")
        behaviour = request.headers.get("x-sim-behaviour") or BEHAVIOURS.get(model, "ok")
        if behaviour == "429":
            return _error(429, "rate limited (simulated)", "rate_limit_exceeded", {"retry-after": str(retry_after_s)})
        if behaviour == "error":
            return _error(500, "the model crashed (simulated)", "server_error")
        if model == "sim-new" and "max_tokens" in body:
            return _error(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                "invalid_request_error",
            )
        if behaviour == "timeout":
            with anyio.move_on_after(HANG_LIMIT_S):
                while not await request.is_disconnected():
                    await anyio.sleep(0.1)
            return Response(status_code=504)
        messages = body["messages"]
        tokens = tokens_of(reply_for(question_of(messages)))
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if isinstance(limit, int) and 0 < limit < len(tokens):
            tokens, finish = tokens[:limit], "length"
        usage = {
            "prompt_tokens": count_prompt_tokens(messages),
            "completion_tokens": len(tokens),
            "total_tokens": count_prompt_tokens(messages) + len(tokens),
        }
        ident = f"chatcmpl-sim-{next(counter)}"
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": ident,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(tokens)},
                            "finish_reason": finish,
                        }
                    ],
                    "usage": usage,
                }
            )
        options = body.get("stream_options") or {}
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        delay = 0.2 if model == "sim-slow" else delay_s
        cut_after = max(1, len(tokens) // 3) if behaviour == "midstream" else None
        return StreamingResponse(
            _stream(ident, model, tokens, finish, usage if include_usage else None, delay, cut_after),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache"},
        )

    async def models(request: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": m, "object": "model", "created": 0, "owned_by": "clarify"} for m in MODELS],
            }
        )

    async def requests_list(request: Request) -> Response:
        if request.method == "DELETE":
            received.clear()
            return Response(status_code=204)
        return JSONResponse({"requests": list(received)})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/_requests", requests_list, methods=["GET", "DELETE"]),
        ]
    )


async def _stream(
    ident: str,
    model: str,
    tokens: list[str],
    finish: str,
    usage: dict[str, int] | None,
    delay: float,
    cut_after: int | None,
) -> AsyncIterator[str]:
    def event(choices: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> str:
        chunk = {"id": ident, "object": "chat.completion.chunk", "created": 0, "model": model, "choices": choices}
        return f"data: {json.dumps({**chunk, **(extra or {})}, separators=(',', ':'))}\n\n"

    yield event([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    for n, token in enumerate(tokens):
        if cut_after is not None and n == cut_after:
            raise SimulatedCut("the stream is cut here (sim-fail-midstream)")
        await anyio.sleep(delay)
        yield event([{"index": 0, "delta": {"content": token}, "finish_reason": None}])
    yield event([{"index": 0, "delta": {}, "finish_reason": finish}])
    if usage is not None:
        yield event([], {"usage": usage})
    yield "data: [DONE]\n\n"


def serve(host: str, port: int, delay_ms: float) -> None:
    """Run the simulator until interrupted."""
    import uvicorn

    print(f"assistant-sim: OpenAI-compatible API at http://{host}:{port}/v1 (models: {', '.join(MODELS)})")
    uvicorn.run(create_app(delay_s=delay_ms / 1000), host=host, port=port, log_level="warning")
