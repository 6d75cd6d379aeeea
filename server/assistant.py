"""The AI assistant in one session: staff turn it on, the candidate asks, the reply streams.

State changes only through :meth:`SessionAssistant.apply`, which takes one recorded event
(``assistant.config``, ``assistant.prompt``, ``assistant.reply``, ``assistant.error``): a
handler records first and then applies, and a restarted server rebuilds the same conversation,
budget and settings from the recording. Only the text of a reply still streaming lives outside
the recording (its final text is recorded when it ends).

The server calls the provider, never the browser, and the context it sends is built by
:func:`server.assistant_provider.build_messages` from the brief, the current code and the
conversation alone. Every reply streams to everyone in the session (``assistant.delta`` then
``assistant.done``); staff read it, only the candidate asks. Every failure is an
``assistant.error`` with a readable message, and the room carries on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from server import events as E
from server.assistant_config import AssistantSettings
from server.assistant_provider import Failure, Provider, Usage, build_messages, estimate_tokens
from server.audience import ALL, Audience
from server.errors import InvalidInput
from server.events import Event
from server.process_signals import DocAttribution

if TYPE_CHECKING:
    from server.runtime import SessionRuntime

log = logging.getLogger(__name__)

MAX_TURNS = 300  # questions one session may record; a flood past it is refused, not stored
MAX_BUDGET = 10_000_000

Record = Callable[..., tuple[int, Event]]  # record(type, role, actor, **payload) -> (index, event)
Broadcast = Callable[[dict[str, Any], Audience], None]
OnPrompt = Callable[[int, int, str, str], None]  # (prompt id, event index, text, actor)


class Refused(InvalidInput):
    """A question the assistant did not take (off, not configured, busy): told to the asker only."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Turn:
    """One question to the assistant and what became of it."""

    id: int
    t: int
    event: int
    prompt: str
    model: str
    by: str
    status: str = "answering"  # answering | done | error | interrupted
    reply: str = ""
    tokens: int = 0
    cost: float | None = None
    latency_ms: int | None = None
    error: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _Msg(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ConfigMsg(_Msg):
    enabled: StrictBool | None = None  # unset: keep it as it is
    model: StrictStr | None = Field(None, max_length=200)
    budget: StrictInt | None = Field(None, ge=0, le=MAX_BUDGET)


class AskMsg(_Msg):
    text: StrictStr = Field(min_length=1)


def _validate(model: type[_Msg], msg: dict[str, Any]) -> Any:
    try:
        return model.model_validate(msg)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or "message"
        raise InvalidInput(f"'{name}': {err['msg']}", field=name) from None


class SessionAssistant:
    """The assistant of one session: its settings, conversation and token budget."""

    def __init__(
        self,
        record: Record,
        broadcast: Broadcast,
        now: Callable[[], int],
        *,
        brief: str = "",
        code: Callable[[], str] = lambda: "",
        on_prompt: OnPrompt | None = None,
        attribute: bool = True,
    ) -> None:
        self.enabled = False
        self.model: str | None = None
        self.budget = 0
        self.used = 0
        self.turns: list[Turn] = []
        self.settings: AssistantSettings | None = None
        self._record = record
        self._broadcast = broadcast
        self._now = now
        self._brief = brief
        self._code = code
        self._on_prompt = on_prompt
        self._provider: Provider | None = None
        self._answering: Turn | None = None
        self._scope: anyio.CancelScope | None = None
        # Which characters of the editor came from an assistant insert (for the scorecard's
        # share of final code). A live session does not need it and skips the cost.
        self.attribution: DocAttribution | None = DocAttribution() if attribute else None

    @classmethod
    def for_runtime(cls, rt: SessionRuntime, events: Iterable[Event]) -> SessionAssistant:
        """The assistant of a live session, rebuilt from its recording."""
        assistant = cls(
            rt.record_event,
            rt.broadcast,
            rt.t,
            brief=rt.problem.brief if rt.problem is not None else "",
            code=lambda: str(rt.room.text),
            on_prompt=rt.clarify.assistant_prompt if rt.clarify is not None else None,
            attribute=False,
        )
        assistant.replay(events)
        return assistant

    def bind(self, settings: AssistantSettings) -> None:
        """The server's assistant settings (given by the events endpoint on each connection)."""
        if self.settings is None:
            self.settings = settings

    # -- the one state transition ---------------------------------------------------------

    def replay(self, events: Iterable[Event]) -> None:
        """Rebuild from a recording; a reply the server was streaming when it stopped is interrupted."""
        for index, ev in enumerate(events):
            self.apply(index, ev)
        for turn in self.turns:
            if turn.status == "answering":
                turn.status = "interrupted"

    def apply(self, index: int, ev: Event) -> None:
        """Apply one recorded event (live right after recording it, or in replay)."""
        p = ev.payload
        if self.attribution is not None and ev.type in (E.DOC_UPDATE, E.DOC_CHECKPOINT, E.PROCESS_SIGNAL):
            self.attribution.apply(index, ev)
            return
        try:
            if ev.type == E.ASSISTANT_CONFIG:
                self.enabled = bool(p["enabled"])
                self.model = p.get("model") or self.model
                self.budget = max(0, int(p["budget"]))
            elif ev.type == E.ASSISTANT_PROMPT:
                self.turns.append(Turn(int(p["id"]), ev.t, index, str(p["text"]), str(p["model"]), ev.actor))
            elif ev.type == E.ASSISTANT_REPLY and (turn := self._turn(p.get("id"))):
                turn.status, turn.reply = "done", str(p["text"])
                turn.tokens = max(0, int(p.get("tokens") or 0))
                turn.cost = p.get("cost")
                turn.latency_ms = p.get("latency_ms")
                self.used += turn.tokens
            elif ev.type == E.ASSISTANT_ERROR:
                tokens = max(0, int(p.get("tokens") or 0))
                self.used += tokens
                if turn := self._turn(p.get("id")):
                    turn.status = "error"
                    turn.reply = str(p.get("partial") or turn.reply)
                    turn.tokens = tokens
                    turn.error = {"code": p["code"], "message": p["message"], "retry_after": p.get("retry_after")}
        except (KeyError, TypeError, ValueError):
            pass  # a damaged event (an old or hand-edited recording) is skipped, never fatal

    def _turn(self, tid: Any) -> Turn | None:
        return next((t for t in self.turns if t.id == tid), None)

    # -- views ----------------------------------------------------------------------------

    def config_view(self) -> dict[str, Any]:
        """On or off, model, budget and spend: everyone in the session may see these."""
        s = self.settings
        return {
            "configured": bool(s and s.configured),
            "models": s.model_choices if s else [],
            "enabled": self.enabled,
            "model": self.model or (s.fallback_model if s else None),
            "budget": self.budget or (s.token_budget if s else 0),
            "used": self.used,
            "answering": self._answering.id if self._answering else None,
        }

    def view(self, role: str) -> dict[str, Any]:
        """The assistant part of ``hello``: the same for every role (nothing in it is hidden)."""
        return {**self.config_view(), "turns": [t.to_json() for t in self.turns]}

    # -- handlers -------------------------------------------------------------------------

    def configure(self, msg: dict[str, Any], role: str, actor: str) -> None:
        """Staff turn the assistant on or off, pick its model, set its budget (interviewer only)."""
        m: ConfigMsg = _validate(ConfigMsg, msg)
        s = self.settings or AssistantSettings()
        enabled = self.enabled if m.enabled is None else m.enabled
        if enabled and not s.configured:
            raise Refused(
                "not_configured",
                "The assistant is not configured on this server (set CLARIFY_ASSISTANT__BASE_URL and "
                "CLARIFY_ASSISTANT__MODELS).",
            )
        model = m.model or self.model or s.fallback_model
        if m.model is not None and m.model not in s.model_choices:
            raise InvalidInput(f"unknown model {m.model!r}; choose one of: {', '.join(s.model_choices)}", field="model")
        budget = m.budget if m.budget is not None else (self.budget or s.token_budget)
        index, ev = self._record(E.ASSISTANT_CONFIG, role, actor, enabled=enabled, model=model, budget=budget)
        self.apply(index, ev)
        self._broadcast({"type": "assistant.config", **self.config_view()}, ALL)

    def ask(self, msg: dict[str, Any], role: str, actor: str) -> tuple[Turn, list[dict[str, str]], int] | None:
        """Record the candidate's question; returns what to send the provider, or None if refused.

        Refusals before anything is asked (off, not configured, busy) raise :class:`Refused`;
        a question past the budget is recorded (it is signal) and answered with an error.
        """
        m: AskMsg = _validate(AskMsg, msg)
        s = self.settings or AssistantSettings()
        text = m.text.strip()
        if not text:
            raise InvalidInput("'text' must be non-empty text", field="text")
        if len(text) > s.max_prompt_chars:
            raise InvalidInput(f"a question to the assistant is at most {s.max_prompt_chars} characters", field="text")
        if not s.configured:
            raise Refused("not_configured", "The assistant is off: no provider is configured on this server.")
        if not self.enabled:
            raise Refused("disabled", "The assistant is off for this session; the interviewer can turn it on.")
        if self._answering is not None:
            raise Refused("busy", "The assistant is still answering the previous question.")
        if len(self.turns) >= MAX_TURNS:
            raise Refused("too_many", f"This session has asked the assistant {MAX_TURNS} questions, the limit.")
        model = self.model or s.fallback_model or ""
        history = [(t.prompt, t.reply) for t in self.turns if t.status == "done"]
        index, ev = self._record(E.ASSISTANT_PROMPT, role, actor, id=len(self.turns) + 1, text=text, model=model)
        self.apply(index, ev)
        turn = self.turns[-1]
        self._broadcast({"type": "assistant.prompt", "turn": turn.to_json()}, ALL)
        if self._on_prompt is not None:
            self._on_prompt(turn.id, index, text, actor)
        remaining = self.budget - self.used
        messages = build_messages(s, self._brief, self._code(), history, text)
        needed = estimate_tokens("".join(m["content"] for m in messages))
        if remaining <= 0:
            used_up = f"This session's assistant budget ({self.budget} tokens) is used up."
            self.fail(turn, Failure("budget_exhausted", used_up))
            return None
        if needed >= remaining:
            self.fail(
                turn,
                Failure(
                    "budget_exhausted",
                    f"This question and its context need about {needed} tokens; {remaining} are left in the budget.",
                ),
            )
            return None
        self._answering = turn
        return turn, messages, min(s.max_reply_tokens, remaining - needed)

    async def answer(self, turn: Turn, messages: list[dict[str, str]], max_tokens: int) -> None:
        """Stream the provider's reply to everyone, then record it (or the failure). Never raises."""
        s = self.settings or AssistantSettings()
        started = time.monotonic()
        first: int | None = None
        usage: Usage | None = None
        self._scope = scope = anyio.CancelScope()
        try:
            with scope, anyio.fail_after(s.timeout_s * 4):
                if self._provider is None:
                    self._provider = Provider(s)
                async for part in self._provider.stream(turn.model, messages, max_tokens):
                    if isinstance(part, Usage):
                        usage = part
                        continue
                    if first is None:
                        first = int((time.monotonic() - started) * 1000)
                    turn.reply += part
                    self._broadcast({"type": "assistant.delta", "id": turn.id, "text": part}, ALL)
        except Failure as exc:
            self.fail(turn, exc, estimate_tokens(turn.reply))
            return
        except TimeoutError:
            self.fail(turn, Failure("timeout", "The assistant took too long to answer."), estimate_tokens(turn.reply))
            return
        except Exception:  # a fault here is this question's, never the session's
            log.exception("assistant: answering question %s failed", turn.id)
            self.fail(turn, Failure("internal", "The assistant could not answer; ask again."), 0)
            return
        finally:
            self._answering = None
            self._scope = None
        if scope.cancelled_caught:
            self.fail(turn, Failure("stopped", "The session ended while the assistant was answering."), 0)
            return
        self._done(turn, messages, usage, int((time.monotonic() - started) * 1000), first)

    def _done(
        self, turn: Turn, messages: list[dict[str, str]], usage: Usage | None, latency: int, first: int | None
    ) -> None:
        s = self.settings or AssistantSettings()
        if usage is None:
            prompt_tokens = estimate_tokens("".join(m["content"] for m in messages))
            completion_tokens, estimated = estimate_tokens(turn.reply), True
        else:
            prompt_tokens, completion_tokens, estimated = usage.prompt_tokens, usage.completion_tokens, False
        cost = usage.cost if usage is not None and usage.cost is not None else s.cost(prompt_tokens, completion_tokens)
        payload = {
            "id": turn.id,
            "text": turn.reply,
            "model": turn.model,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "tokens": prompt_tokens + completion_tokens,
            "estimated": estimated,
            "cost": cost,
            "latency_ms": latency,
            "first_token_ms": first,
        }
        index, ev = self._record(E.ASSISTANT_REPLY, "system", "assistant", **payload)
        self.apply(index, ev)
        self._broadcast({"type": "assistant.done", **payload, "used": self.used, "budget": self.budget}, ALL)

    def fail(self, turn: Turn | None, failure: Failure, tokens: int = 0) -> None:
        """Record a failed question and tell everyone; the room carries on."""
        payload: dict[str, Any] = {
            "id": turn.id if turn else None,
            "code": failure.code,
            "message": failure.message,
            "retry_after": failure.retry_after,
            "tokens": tokens,
            "partial": turn.reply if turn else "",
        }
        index, ev = self._record(E.ASSISTANT_ERROR, "system", "assistant", **payload)
        self.apply(index, ev)
        message = {"type": "assistant.error", **{k: v for k, v in payload.items() if k != "partial"}}
        self._broadcast({**message, "used": self.used, "budget": self.budget}, ALL)

    async def close(self) -> None:
        """Stop a reply in flight and close the provider's connections (the session closes)."""
        if self._scope is not None:
            self._scope.cancel()
        provider, self._provider = self._provider, None
        if provider is not None:
            try:
                await provider.close()
            except Exception:  # closing idle connections must never stop the session's teardown
                log.warning("assistant: closing the provider client failed", exc_info=True)


def summary(assistant: SessionAssistant, asked: list[dict[str, Any]]) -> dict[str, Any]:
    """The scorecard's facts about the assistant: questions, tokens, cost, constraints asked of it,
    and how much of the final code came from it.

    ``final_code_share`` is exact CRDT attribution, not a text match: the characters of the final
    editor text that were inserted by the Yjs update an ``insert`` signal points at, followed
    through every later edit (see :class:`server.process_signals.DocAttribution`). It is None when
    the candidate never inserted assistant code (or the assistant was built without attribution).
    """
    turns = assistant.turns
    share = (
        assistant.attribution.share()
        if assistant.attribution is not None
        else {"final_code_share": None, "final_code_chars_from_assistant": 0, "final_code_chars": None}
    )
    costs = [t.cost for t in turns if isinstance(t.cost, int | float)]
    return {
        "enabled": assistant.enabled or bool(turns),
        "prompts": len(turns),
        "replies": sum(1 for t in turns if t.status == "done"),
        "errors": sum(1 for t in turns if t.status in ("error", "interrupted")),
        "tokens": assistant.used,
        "cost": round(sum(costs), 6) if costs else None,
        "models": sorted({t.model for t in turns if t.model}),
        "constraints_asked": asked,
        "turns": [{"id": t.id, "t": t.t, "event": t.event, "prompt": t.prompt, "status": t.status} for t in turns],
        **share,
    }
