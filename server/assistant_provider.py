"""Talking to the assistant's model: what context it is given, and one streamed reply.

The context is built here and only here (:func:`build_messages`) from exactly three things:
the brief the candidate sees, the current editor text, and the conversation so far. Nothing
else of the session (hidden constraints, interviewer answers, checks, notes, suggestions) is a
parameter, so nothing else can reach the provider.

:class:`Provider` streams one chat completion through the official ``openai`` client and turns
every way it can fail into a :class:`Failure` with a code and a message a candidate can read.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import openai
from openai import AsyncOpenAI

from server.assistant_config import AssistantSettings

SYSTEM_PROMPT = (
    "You are a coding assistant inside a live technical interview, helping a candidate with their Python "
    "code in a shared editor. Answer briefly and concretely. When code helps, give one short fenced "
    "Python block. You only know the task as the candidate was given it and the code they have written; "
    "if the task leaves something open, say so and suggest the candidate ask their interviewer."
)


class Failure(Exception):
    """The provider did not give a whole reply: a code, a readable message, maybe a retry delay."""

    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts (and a cost, when the provider reports one) of a finished reply."""

    prompt_tokens: int
    completion_tokens: int
    cost: float | None = None


def estimate_tokens(text: str) -> int:
    """A rough token count (about four characters a token) when the provider reports none."""
    return (len(text) + 3) // 4


def build_messages(
    settings: AssistantSettings, brief: str, code: str, history: Sequence[tuple[str, str]], prompt: str
) -> list[dict[str, str]]:
    """The chat messages for one question: the brief, earlier turns, then the code and the question."""
    system = SYSTEM_PROMPT
    if brief.strip():
        system += "\n\nThe task, as the candidate was given it:\n\n" + brief.strip()
    messages = [{"role": "system", "content": system}]
    turns = list(history)[-settings.history_turns :] if settings.history_turns else []
    for asked, replied in turns:
        messages.append({"role": "user", "content": asked})
        messages.append({"role": "assistant", "content": replied})
    limit = settings.max_code_chars
    shown = code if len(code) <= limit else code[:limit] + "\n# … (the rest of the file was cut)"
    user = prompt
    if shown.strip():
        user = f"The code in the editor now:\n\n```python\n{shown}\n```\n\n{prompt}"
    messages.append({"role": "user", "content": user})
    return messages


def retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _status_failure(exc: openai.APIStatusError) -> Failure:
    if isinstance(exc, openai.RateLimitError):
        wait = retry_after(exc.response.headers)
        after = f"; try again in {wait:.0f} s" if wait is not None else "; try again shortly"
        return Failure("rate_limited", f"The assistant's provider is rate-limiting requests{after}.", wait)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return Failure("provider_error", "The assistant's provider refused the server's credentials.")
    if isinstance(exc, openai.NotFoundError):
        return Failure("provider_error", "The assistant's provider does not know this model.")
    return Failure("provider_error", f"The assistant's provider answered with an error ({exc.status_code}).")


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, openai.APITimeoutError | TimeoutError) or "Timeout" in type(exc).__name__


class Provider:
    """One OpenAI-compatible endpoint. The session's assistant calls :meth:`stream`, then :meth:`close`."""

    def __init__(self, settings: AssistantSettings) -> None:
        self.settings = settings
        key = settings.api_key.get_secret_value() if settings.api_key else "unset"
        self._client = AsyncOpenAI(base_url=settings.base_url, api_key=key, max_retries=0, timeout=settings.timeout_s)

    async def stream(self, model: str, messages: list[dict[str, str]], max_tokens: int) -> AsyncIterator[str | Usage]:
        """Yield the reply's text as it arrives, then its :class:`Usage` if the provider sends one.

        The reply limit goes in the field the settings name (``token_param``): older servers
        and most self-hosted ones read ``max_tokens``; newer OpenAI models refuse it and want
        ``max_completion_tokens``.

        Raises :class:`Failure`: before the first chunk (rate limit, timeout, status error,
        unreachable) or after it (the stream was cut, stalled or ended without finishing).
        """
        try:
            stream = await self._client.chat.completions.create(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
                **{self.settings.token_param: max_tokens},  # type: ignore[arg-type]
            )
        except openai.APIStatusError as exc:
            raise _status_failure(exc) from None
        except openai.APITimeoutError:
            raise Failure("timeout", "The assistant's provider did not answer in time.") from None
        except openai.APIConnectionError:
            raise Failure("unreachable", "The assistant's provider could not be reached.") from None
        finished = False
        try:
            async with stream:
                async for chunk in stream:
                    usage = getattr(chunk, "usage", None)
                    if usage is not None:
                        cost = getattr(usage, "cost", None)
                        yield Usage(
                            int(usage.prompt_tokens or 0),
                            int(usage.completion_tokens or 0),
                            float(cost) if isinstance(cost, int | float) else None,
                        )
                    for choice in chunk.choices:
                        content = choice.delta.content if choice.delta is not None else None
                        if content:
                            yield content
                        if choice.finish_reason:
                            finished = True
        except Exception as exc:  # noqa: BLE001 - the stream broke part-way, whatever the transport raised
            if _is_timeout(exc):
                raise Failure("timeout", "The assistant stopped answering part-way (timed out).") from None
            raise Failure("interrupted", "The assistant's reply was cut off part-way; ask again.") from None
        if not finished:
            raise Failure("interrupted", "The assistant's reply was cut off part-way; ask again.")

    async def close(self) -> None:
        await self._client.close()
