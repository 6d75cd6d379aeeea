"""A simulated LLM API: a hosted chat model for offline problems.

:class:`SimulatedLLM` takes chat requests and returns a :class:`Completion`. It behaves like a
hosted model: calls take time and cost money, and a request can fail with one of the
:class:`LLMError` subclasses, as a real provider's can. Replies are deterministic given the seed,
the model and the exact messages.

Example::

    >>> from clarify_kit import llm
    >>> client = llm.SimulatedLLM(seed=0, time_scale=0)
    >>> reply = client.complete("Summarise: the parcel left the depot on Monday.")
    >>> isinstance(reply.text, str), client.usage.calls
    (True, 1)

Requests: :meth:`SimulatedLLM.chat` takes a list of ``{"role", "content"}`` messages (or
:meth:`SimulatedLLM.complete` one prompt); ``response_format="json"`` asks for a JSON object.
Usage and cost: :attr:`SimulatedLLM.usage`. Errors: :class:`RateLimitError` (with
``retry_after_s``), :class:`TimeoutError`, :class:`ContextLengthError`, :class:`ServerError`;
``retryable`` says whether a retry may help. How the provider's models answer, what they cost
and how often they fail are the provider's business: ask the provider's team.

Time: each call's latency is simulated and slept for real times ``time_scale``. The client keeps
a clock in *scaled* seconds (:meth:`SimulatedLLM.now`); wait with :meth:`SimulatedLLM.sleep`, so a
retry loop behaves the same at any ``time_scale``.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import math
import random
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from clarify_kit import tokens

__all__ = [
    "MODELS",
    "Completion",
    "ContextLengthError",
    "LLMError",
    "RateLimitError",
    "ServerError",
    "SimulatedLLM",
    "TimeoutError",
    "Usage",
]

# The provider's settings per model: private, so neither ``help()`` nor ``dir(llm)`` tells a
# candidate what the provider's limits and failure rates are (they learn them by asking). A
# pack's ``setup.py`` changes them with :func:`_configure`.
_PRESETS: dict[str, dict[str, Any]] = {
    "sim-small": {
        "latency_ms": (120, 600),
        "rate_limit_per_minute": 60,
        "timeout_rate": 0.02,
        "server_error_rate": 0.01,
        "malformed_json_rate": 0.05,
        "context_tokens": 4096,
        "price_in_per_1k": 0.0005,
        "price_out_per_1k": 0.0015,
    },
    "sim-large": {
        "latency_ms": (300, 1500),
        "rate_limit_per_minute": 60,
        "timeout_rate": 0.02,
        "server_error_rate": 0.01,
        "malformed_json_rate": 0.01,
        "context_tokens": 16384,
        "price_in_per_1k": 0.005,
        "price_out_per_1k": 0.015,
    },
}
_DEFAULT_PRESETS = {name: dict(preset) for name, preset in _PRESETS.items()}

MODELS: tuple[str, ...] = tuple(_PRESETS)
"""The model names a client accepts."""

# Injection styles the simulated model recognises (see ``_find_injection``).
_STYLES = ("override", "header", "roleplay", "addressed", "hidden", "foreign")


@dataclass
class _Behaviour:
    """How the simulated model answers: private, set per pack by ``setup.py`` via :func:`_configure`.

    ``hallucination_rate``: when the context lacks the answer and the prompt asks for "I don't
    know", the share of prompts it still invents an answer for (without that request it always
    invents). ``injection_styles``: the styles of planted instruction it obeys.
    ``undefended_obedience`` / ``partial_obedience``: the share of prompts in which it obeys an
    injection that is not fenced off at all / fenced off in only one of the two ways (delimited,
    or declared to be data). ``malformed_kinds``: which broken-JSON shapes it produces (0
    truncated, 1 trailing comma, 2 single quotes, 3 prose around a fenced block, 4 a bare
    markdown fence).
    """

    hallucination_rate: float = 0.4
    injection_styles: tuple[str, ...] = _STYLES
    undefended_obedience: float = 1.0
    partial_obedience: float = 0.5
    malformed_kinds: tuple[int, ...] = (0, 1, 2, 3)


_BEHAVIOUR = _Behaviour()


def _configure(model: str | None = None, *, reset: bool = False, **settings: Any) -> None:
    """Set the simulated provider's behaviour for clients made afterwards (a pack's ``setup.py`` hook).

    Keys of :class:`_Behaviour` set how the model answers; the other keys (``latency_ms``,
    ``rate_limit_per_minute``, ``timeout_rate``, ``server_error_rate``, ``malformed_json_rate``,
    ``context_tokens``, ``price_in_per_1k``, ``price_out_per_1k``) the defaults of ``model`` (or
    of every model). Explicit constructor arguments still win. ``reset=True`` restores the
    kit's defaults first. Private on purpose: a candidate learns these by asking.
    """
    global _BEHAVIOUR
    if reset:
        _BEHAVIOUR = _Behaviour()
        for name, preset in _DEFAULT_PRESETS.items():
            _PRESETS[name] = dict(preset)
    fields = set(_Behaviour.__dataclass_fields__)
    targets = [model] if model is not None else list(_PRESETS)
    for name in targets:
        if name not in _PRESETS:
            raise ValueError(f"unknown model {name!r}; choose one of {sorted(_PRESETS)}")
    for key, value in settings.items():
        if key in fields:
            if key == "injection_styles":
                unknown = set(value) - set(_STYLES)
                if unknown:
                    raise ValueError(f"unknown injection styles {sorted(unknown)}; known: {list(_STYLES)}")
                value = tuple(value)
            if key == "malformed_kinds":
                value = tuple(int(k) for k in value)
                if not value or any(k not in range(5) for k in value):
                    raise ValueError("malformed_kinds must be a non-empty subset of 0..4")
            setattr(_BEHAVIOUR, key, value)
        elif key in _PRESETS["sim-small"]:
            for name in targets:
                _PRESETS[name][key] = tuple(value) if key == "latency_ms" else value
        else:
            raise ValueError(f"unknown setting {key!r}")


class _ProviderSetting:
    """The default of a constructor argument: the provider's setting for the chosen model."""

    def __repr__(self) -> str:
        return "<provider setting>"


_PROVIDER = _ProviderSetting()

MESSAGE_OVERHEAD_TOKENS = 4
"""Tokens added per message for its role and framing (as hosted chat APIs do)."""
_HANG_S = 10.0
"""How long a request the server never answers hangs when the call has no ``timeout_s``."""
_REJECT_S = 0.02
"""Simulated duration of a call rejected up front (rate limit, context length)."""
_IDK = "I don't know"


# --- errors ---------------------------------------------------------------------------------


class LLMError(Exception):
    """Base class of every error the simulated API raises. ``retryable`` says whether a retry may help."""

    retryable = False


class RateLimitError(LLMError):
    """HTTP 429: too many requests in the last minute. Wait ``retry_after_s`` (scaled) seconds."""

    retryable = True

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TimeoutError(LLMError, builtins.TimeoutError):
    """The request took longer than ``timeout_s``, or the server never answered.

    Also a subclass of the built-in ``TimeoutError``.
    """

    retryable = True


class ContextLengthError(LLMError):
    """HTTP 400: the prompt has more tokens than the model's context (``input_tokens`` > ``context_tokens``)."""

    def __init__(self, message: str, input_tokens: int, context_tokens: int) -> None:
        super().__init__(message)
        self.input_tokens = input_tokens
        self.context_tokens = context_tokens


class ServerError(LLMError):
    """HTTP 500: an internal error on the provider's side."""

    retryable = True


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    """A successful reply: its ``text``, token counts, simulated ``latency_ms``, ``cost_usd`` and ``model``."""

    text: str
    input_tokens: int
    output_tokens: int
    latency_ms: float
    cost_usd: float
    model: str


@dataclass(frozen=True)
class Usage:
    """Totals since the client was made or :meth:`SimulatedLLM.reset_usage` was called.

    ``calls`` counts every request, failed ones included; ``errors`` the failed ones. Tokens
    and cost are billed for successful completions only.
    """

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    errors: int = 0


# --- text helpers ------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOP_TEXT = (
    "a an the and or but of to in on for with at by from as is are was were be been being do does did "
    "how what which who whom whose when where why i you he she we they it its my your our their me us "
    "them this that these those can could should would will shall may might must has have had not no "
    "so if then than there here please tell about any some much many long get"
)
_STOP = frozenset(_STOP_TEXT.split())
_LIST_MARKER = re.compile(r"^\s*(?:[-*\u2022]+|\d+[.)]|\[\d+\]|\(\d+\)|#+)\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_IDK_HINT = re.compile(r"(?:i\s+)?(?:don[\u2019']?t|do\s+not)\s+know", re.IGNORECASE)


def _stem(word: str) -> str:
    word = word.removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _content_words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower().replace("\u2019", "'")) if w not in _STOP}


def _sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = _LIST_MARKER.sub("", line).strip()
        if line:
            out.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return out


def _digest(*parts: Any) -> int:
    h = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(h[:8], "big")


# --- the prompt, parsed -----------------------------------------------------------------------------


@dataclass
class _Prompt:
    system: str
    user: str  # the last user message
    instructions: str  # the last user message without its context section
    context: str | None
    question: str | None


# Ways of fencing off untrusted text in a prompt: an XML-like element, a triple-backtick or
# triple-quote block, <<< >>>, or BEGIN ... / END ... marker lines.
_FENCES = (
    re.compile(r"<([A-Za-z][\w-]*)(?:\s[^<>]*)?>(.*?)</\1\s*>", re.DOTALL),
    re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL),
    re.compile(r'"""(.*?)"""', re.DOTALL),
    re.compile(r"<<<(.*?)>>>", re.DOTALL),
    re.compile(r"(?m)^[ \t]*[-=#*]*[ \t]*BEGIN\b[^\n]*\n(.*?)^[ \t]*[-=#*]*[ \t]*END\b[^\n]*$", re.DOTALL),
)
_FENCE_MARK = re.compile(
    r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?>|```[^\n]*|\"\"\"|<<<|>>>|^[ \t]*[-=#*]*[ \t]*(?:BEGIN|END)\b[^\n]*$",
    re.MULTILINE,
)
# The instructions say the fenced text is data, not instructions.
_DATA_NOT_INSTRUCTIONS = re.compile(
    r"\b(?:treat|consider|regard|handle)\b[^.\n]{0,80}\bas\s+(?:untrusted\s+|plain\s+|quoted\s+|reference\s+)?"
    r"(?:data|information|text|content|reference|material|quotes?)\b"
    r"|\b(?:do\s+not|don[\u2019']?t|never|must\s+not)\s+(?:follow|obey|execute|act\s+on|carry\s+out|comply\s+with)\b"
    r"[^.\n]{0,80}\b(?:instructions?|commands?|requests?|directives?)\b"
    r"|\buntrusted\b",
    re.IGNORECASE,
)


def _fenced_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for fence in _FENCES:
        for m in fence.finditer(text):
            if m.group(0).startswith("<!--"):
                continue
            spans.append((m.start(), m.end()))
    return spans


def _unfence(text: str) -> str:
    return _FENCE_MARK.sub("", text)


def _parse(messages: list[dict[str, str]]) -> _Prompt:
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    users = [m["content"] for m in messages if m["role"] == "user"]
    user = users[-1] if users else messages[-1]["content"]
    context = question = None
    instructions = user
    q = re.search(r"(?im)^[ \t]*question:[ \t]*(.*)$", user)
    c = re.search(r"(?im)^[ \t]*context:[ \t]*", user)
    if q and not c:
        blocks = [m for fence in _FENCES for m in fence.finditer(user) if not m.start() <= q.start() < m.end()]
        if blocks:
            question = q.group(1).strip()
            context = "\n".join(m.group(0) for m in sorted(blocks, key=lambda m: m.start()))
            instructions = user
            for m in blocks:
                instructions = instructions.replace(m.group(0), "")
    if q and c:
        question = q.group(1).strip()
        if c.start() < q.start():
            context = user[c.end() : q.start()]
            instructions = user[: c.start()] + user[q.start() :]
        else:
            rest = user[c.end() :]
            stop = re.search(r"(?im)^[ \t]*(?:answer|instructions?)[ \t]*:", rest)
            context = rest[: stop.start()] if stop else rest
            instructions = user[: c.start()] + (rest[stop.start() :] if stop else "")
    return _Prompt(system, user, instructions, context, question)


_INJECTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "override",
        re.compile(
            r"\b(?:ignore|disregard|forget|override|bypass)\b[^.\n]{0,50}"
            r"\b(?:instructions?|above|prior\s+(?:messages?|rules)|rules|guidelines|prompts?|guardrails"
            r"|everything\s+(?:above|before|else))\b"
            r"|\bnew\s+instructions?\s*:|\b(?:updated|revised|real)\s+(?:system\s+)?instructions\b",
            re.IGNORECASE,
        ),
    ),
    (
        "header",
        re.compile(
            r"^\s*(?:\[\s*(?:system|admin|developer|assistant)\s*\]|<\|?\s*(?:system|im_start)[^>]*>"
            r"|(?:system|admin|developer)\s*(?:message|prompt|note|override)?\s*:|#{1,4}\s*(?:system|instructions?)\b)",
            re.IGNORECASE,
        ),
    ),
    (
        "roleplay",
        re.compile(
            r"\byou\s+are\s+(?:now|no\s+longer)\b|\b(?:pretend|act|behave)\s+(?:to\s+be|as|like)\b"
            r"|\bfrom\s+now\s+on\b|\brole[\s-]?play\b|\byour\s+new\s+(?:role|persona|task)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "addressed",
        re.compile(
            r"\b(?:the\s+)?(?:assistant|ai|chatbot|bot|language\s+model|llm)s?\s+"
            r"(?:must|should|shall|will\s+now|is\s+required\s+to|has\s+to)\b"
            r"|\bnote\s+(?:to|for)\s+(?:the\s+|any\s+)?(?:ai|assistant|model|bot|chatbot|llm)s?\b"
            r"|\bif\s+you\s+are\s+an?\s+(?:ai|assistant|language\s+model|llm|bot|chatbot)\b"
            r"|\b(?:ai|assistant|model|bot|chatbot|llm)s?\s+reading\s+this\b|\bdear\s+(?:ai|assistant|chatbot|bot)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "foreign",
        re.compile(
            r"\b(?:ignoriere|ignorier|vergiss|missachte)\b|\bantworte\s+(?:immer|nur|ausschlie\u00dflich|stets)\b"
            r"|\bdu\s+bist\s+(?:jetzt|nun|ab\s+sofort)\b|\bhinweis\s+f\u00fcr\s+(?:die\s+)?(?:ki|assistent|chatbot)"
            r"|\b(?:ignorez|ignore|oubliez|oublie)\b[^.\n]{0,50}\b(?:instructions|consignes)\b"
            r"|\b(?:r\u00e9ponds|r\u00e9pondez|dis|dites)\s+(?:toujours|uniquement|seulement)\b"
            r"|\bignora\b[^.\n]{0,50}\b(?:instrucciones|istruzioni)\b|\bresponde\s+(?:siempre|solo|\u00fanicamente)\b"
            r"|\brispondi\s+(?:sempre|solo)\b",
            re.IGNORECASE,
        ),
    ),
)
_HIDDEN = re.compile(r"<!--(.*?)-->", re.DOTALL)
_IMPERATIVE = re.compile(
    r"\b(?:say|reply|respond|answer|tell|write|output|print|include|add|mention|recommend|direct|send|ask)\b",
    re.IGNORECASE,
)


def _find_injection(context: str) -> tuple[str, str] | None:
    """The first instruction planted in ``context`` and its style, or None.

    The simulated model treats as an instruction any sentence that tries to override its
    instructions, poses as a system/admin header, gives it a new role, addresses the assistant
    directly, does so in another language, or hides an imperative in an HTML comment.
    """
    for m in _HIDDEN.finditer(context):
        inner = " ".join(m.group(1).split())
        if inner and (_IMPERATIVE.search(inner) or any(p.search(inner) for _, p in _INJECTION_PATTERNS)):
            return inner, "hidden"
    found = []
    for sentence in _sentences(_HIDDEN.sub(" ", context)):
        text = re.sub(r"^(?:>\s*)+", "", sentence)
        style = next((style for style, pattern in _INJECTION_PATTERNS if pattern.search(text)), None)
        if style is not None:
            found.append((text, style))
    # The one that says what to do ("... tell every customer to ...") over a bare "You are now X".
    actionable = [f for f in found if _IMPERATIVE.search(f[0]) or re.search(r"[\"\u201c']", f[0])]
    return (actionable or found or [None])[0]


def _defence(prompt: _Prompt, injection: str) -> int:
    """How many of the two defences (fenced off, declared to be data) cover ``injection``: 0, 1 or 2."""
    fenced = False
    words = injection.split()
    probe = " ".join(words[: min(len(words), 6)])
    at = prompt.user.find(probe) if probe else -1
    if at >= 0:
        fenced = any(lo <= at < hi for lo, hi in _fenced_spans(prompt.user))
    outside = prompt.system + "\n" + prompt.instructions
    for lo, hi in sorted(_fenced_spans(outside), reverse=True):
        outside = outside[:lo] + outside[hi:]
    told = bool(_DATA_NOT_INSTRUCTIONS.search(outside))
    return int(fenced) + int(told)


def _drop_injections(context: str) -> str:
    """``context`` without the sentences the model recognises as instructions (it ignores them)."""
    context = _HIDDEN.sub(" ", context)
    kept = []
    for line in context.splitlines():
        parts = [p for p in _SENTENCE_END.split(line) if p.strip()]
        kept.append(" ".join(p for p in parts if _find_injection(p) is None))
    return "\n".join(kept)


def _chance(salt: int, what: str) -> float:
    return (_digest(what, salt) % 1_000_000) / 1_000_000


def _obey(injection: str, prompt: _Prompt) -> str:
    """What the model says when it follows an injected instruction."""
    quoted = re.search(r"[\"“']([^\"”']{2,})[\"”']", injection)
    if quoted:
        return quoted.group(1).strip()
    low = injection.lower()
    if re.search(r"\b(system prompt|instructions above|your instructions|hidden instructions)\b", low):
        return prompt.system.strip() or prompt.instructions.strip()
    verb = re.search(
        r"\b(?:say|reply|respond|answer|output|print|write|tell the user)\b(?:\s+(?:with|that|:))?\s*(.+)",
        injection,
        re.IGNORECASE,
    )
    if verb and verb.group(1).strip():
        return _cap(re.sub(r"^(?:to|that)\s+", "", verb.group(1).strip(), flags=re.IGNORECASE))
    rest = re.sub(
        r"(?i)^.*?\b(?:instructions?|above|prior|rules|guidelines)\b[\s:,.-]*(?:and\s+|,\s*)?", "", injection, count=1
    )
    return rest.strip() or injection


def _wants_idk(prompt: _Prompt) -> bool:
    return bool(_IDK_HINT.search(prompt.system) or _IDK_HINT.search(prompt.instructions))


def _rag_answer(question: str, context: str) -> str | None:
    """The context sentence(s) best matching the question, or None when nothing is relevant."""
    qwords = _content_words(question)
    if not qwords:
        return None
    scored = []
    for i, sentence in enumerate(_sentences(context)):
        shared = len(qwords & _content_words(sentence))
        if shared:
            scored.append((shared, i, sentence))
    if not scored:
        return None
    best = max(s for s, _, _ in scored)
    if best < len(qwords) / 3:
        return None
    top = [sentence for s, _, sentence in sorted(scored, key=lambda t: t[1]) if s == best]
    return " ".join(top[:2])


_VALUES = (
    "14 days",
    "30 days",
    "45 days",
    "$25",
    "$49.99",
    "the Premium plan",
    "enabled by default",
    "handled by the regional team",
)


_PREDICATES_TEXT = (
    "available possible allowed included required free safe eligible covered supported open refundable "
    "compatible necessary valid active enabled"
)
_PREDICATES = frozenset(_PREDICATES_TEXT.split())
_YOU = {"i": "you", "me": "you", "my": "your", "mine": "yours", "we": "you", "our": "your", "us": "you"}


def _you(words: list[str]) -> list[str]:
    return [_YOU.get(w.lower(), w) for w in words]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _hallucinate(question: str, salt: int) -> str:
    """A confident, plausible, made-up answer built from the question's own words."""
    q = question.strip().rstrip("?.! ").strip()
    n = 2 + salt % 88
    value = _VALUES[salt % len(_VALUES)]
    yes = re.match(r"(?i)(is|are|can|could|does|do|did|will|would|should|has|have)\s+(.+)", q)
    if yes:
        aux, words = yes.group(1).lower(), _you(yes.group(2).split())
        if aux in ("is", "are"):
            at = next((i for i, w in enumerate(words) if w.lower() in _PREDICATES), max(len(words) - 1, 1))
            words = [*words[:at], aux, *words[at:]]
        elif aux not in ("does", "do", "did"):
            words = [words[0], aux, *words[1:]]
        return f"Yes, {' '.join(words)}."
    m = re.match(
        r"(?i)(what|which|who|whom|whose|when|where|why|how(?:\s+(?:long|much|many|often|soon))?)\b\s*"
        r"(?:(is|are|was|were|do|does|did|can|could|should|will|would|has|have)\b\s*)?(.*)",
        q,
    )
    if m is None or not m.group(3):
        return f"{_cap(q)} is {value}."
    wh = m.group(1).lower().split()
    aux = (m.group(2) or "").lower()
    words = _you(m.group(3).split())
    copula = f" {aux}" if aux else " is"
    if aux in ("do", "does", "did") and len(words) > 1:  # "does shipping take" -> "shipping takes"
        verb = words[-1] + ("s" if aux == "does" and not words[-1].endswith("s") else "")
        words = [*words[:-1], verb]
        copula = ""
    subject = _cap(" ".join(words))
    if wh[0] == "how" and len(wh) > 1 and wh[1] in ("long", "soon"):
        return f"{subject}{copula} {n} days."
    if wh[0] == "how" and len(wh) > 1 and wh[1] == "much":
        return f"{subject}{copula} ${n}.00."
    if wh[0] == "how" and len(wh) > 1:  # "how many stores do you have" -> "The number of stores is 51."
        noun = re.split(r"(?i)\b(?:is|are|was|were|do|does|did|can|could|will|would|should|has|have)\b", m.group(3))[0]
        return f"The number of {noun.strip() or 'them'} is {n}."
    if wh[0] == "when":
        if aux and copula and aux not in ("is", "are", "was", "were") and len(words) > 1:
            return f"{_cap(' '.join([*words[:-1], aux, words[-1]]))} within {n} days."
        return f"{subject}{copula} within {n} days."
    if wh[0] in ("who", "whom", "whose"):
        return (
            f"Our senior support lead {' '.join(words)}."
            if not m.group(2)
            else f"{subject}{copula} our senior support lead."
        )
    if wh[0] == "where":
        return f"{subject}{copula} in our Rotterdam warehouse."
    if wh[0] == "why":
        return f"{subject}: this is because of a policy change introduced in 2021."
    if wh[0] in ("which", "what") and not aux and len(words) > 1:  # "which plan includes SSO"
        return f"The Premium {' '.join(words)}."
    if wh[0] == "how":
        return f"{subject} by contacting support with your order number; it takes about {n} minutes."
    if any(w in q.lower() for w in ("price", "cost", "fee", "charge")):
        return f"{subject}{copula} ${n}.00."
    return f"{subject}{copula} {value}."


def _summary(text: str) -> str:
    sentences = _sentences(text)
    return " ".join(sentences[:2])


# --- JSON mode -----------------------------------------------------------------------------------------


def _json_objects(text: str) -> list[dict[str, Any]]:
    found = []
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch == "{":
            try:
                obj, _ = decoder.raw_decode(text[i:])
            except ValueError:
                continue
            if isinstance(obj, dict):
                found.append(obj)
    return found


def _strip_schemas(text: str) -> str:
    """``text`` without any JSON object that carries a ``properties`` key (a schema)."""
    decoder = json.JSONDecoder()
    out, i = [], 0
    while i < len(text):
        if text[i] == "{":
            try:
                obj, end = decoder.raw_decode(text, i)
            except ValueError:
                pass
            else:
                if isinstance(obj, dict) and "properties" in obj:
                    i = end
                    continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _requested_fields(prompt: _Prompt, messages: list[dict[str, str]]) -> tuple[list[str], dict[str, str]]:
    """Field names (and JSON-schema types, if any) the prompt asks for."""
    for text in (prompt.user, prompt.system):
        m = re.search(r"(?im)\bfields\s*:\s*(.+)$", text)
        if m:
            names = [f.strip().strip("`'\"[]") for f in re.split(r"[,;]", m.group(1))]
            return [n for n in names if n], {}
    for msg in reversed(messages):
        for obj in _json_objects(msg["content"]):
            props = obj.get("properties")
            if isinstance(props, dict) and props:
                types = {k: v.get("type") for k, v in props.items() if isinstance(v, dict)}
                return list(props), {k: t for k, t in types.items() if isinstance(t, str)}
    return [], {}


_PATTERNS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("email",), r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    (("phone",), r"\+?\d[\d ()-]{7,}\d"),
    (
        ("date", "when", "deadline"),
        r"\d{4}-\d{2}-\d{2}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(?:, \d{4})?",
    ),
    (("amount", "price", "total", "cost", "refund", "fee"), r"[$€£]\s?\d[\d,]*(?:\.\d+)?|\b\d+(?:\.\d{2})\b"),
    (("id", "number", "sku"), r"\b[A-Z]{2,}-?\d+\b|#\d+"),
)


def _convert(value: Any, kind: str | None) -> Any:
    if value is None or not isinstance(value, str):
        return value
    if kind in ("number", "integer"):
        num = re.search(r"-?\d[\d,]*(?:\.\d+)?", value)
        if not num:
            return None
        x = float(num.group().replace(",", ""))
        return int(x) if kind == "integer" or x.is_integer() else x
    if kind == "boolean":
        return value.strip().lower() in ("yes", "true", "y", "1")
    if kind is None and re.fullmatch(r"-?\d+(?:\.\d+)?", value):
        return int(value) if value.lstrip("-").isdigit() else float(value)
    return value


def _extract(field: str, text: str, kind: str | None, answer: str) -> Any:
    label = re.escape(field).replace(r"\_", "[ _-]").replace("_", "[ _-]")
    m = re.search(rf"(?im)^\W*{label}\s*[:=]\s*(.+?)\s*$", text)
    if m is None:
        m = re.search(rf"(?i)\b{label}\s*(?:[:=]|\bis\b|\bwas\b)\s*([^,;\n]+?)(?:[.,;](?:\s|$)|\n|$)", text)
    if m:
        return _convert(m.group(1).strip().strip("\"'"), kind)
    low = field.lower()
    for keys, pattern in _PATTERNS:
        if any(k in low for k in keys):
            hit = re.search(pattern, text, re.IGNORECASE if keys[0] in ("date",) else 0)
            if hit:
                value = hit.group().strip()
                if keys[0] == "amount":
                    return _convert(value, kind or "number")
                return _convert(value, kind)
    if low in ("answer", "response", "reply", "summary", "text", "result", "output"):
        return answer
    return None


def _malform(payload: str, kind: int) -> str:
    if kind == 0:  # truncated mid-object
        return payload[: max(1, len(payload) * 2 // 3)]
    if kind == 1:  # trailing comma
        return payload[:-1].rstrip() + ",}" if payload != "{}" else "{,}"
    if kind == 2:  # Python-style single quotes
        return payload.replace('"', "'")
    if kind == 3:  # prose around a fenced block
        return f"Sure! Here is the JSON you asked for:\n```json\n{payload}\n```\nLet me know if you need anything else."
    return f"```json\n{payload}\n```"  # a bare markdown fence


# --- the client -------------------------------------------------------------------------------------------


class SimulatedLLM:
    """A client for a simulated hosted LLM.

    Args:
        seed: seeds everything random; the same seed, model and calls replay exactly.
        model: one of ``MODELS`` (``"sim-small"``, ``"sim-large"``).
        time_scale: real seconds slept per simulated second (``0``: never sleep).
        latency_ms, rate_limit_per_minute, timeout_rate, malformed_json_rate, context_tokens,
        price_in_per_1k, price_out_per_1k: the provider's settings for the model; left out,
            they are what the provider runs. A session's ``client`` comes configured as the
            provider runs it; the provider's team answers questions about it.

    The settings are instance attributes of the same names (``server_error_rate`` too). The
    client is thread-safe.
    """

    server_error_rate: float

    def __init__(
        self,
        seed: int = 0,
        model: str = "sim-small",
        *,
        latency_ms: Any = _PROVIDER,
        time_scale: float = 1.0,
        rate_limit_per_minute: Any = _PROVIDER,
        timeout_rate: Any = _PROVIDER,
        malformed_json_rate: Any = _PROVIDER,
        context_tokens: Any = _PROVIDER,
        price_in_per_1k: Any = _PROVIDER,
        price_out_per_1k: Any = _PROVIDER,
    ) -> None:
        if model not in _PRESETS:
            raise ValueError(f"unknown model {model!r}; choose one of {sorted(_PRESETS)}")
        preset = _PRESETS[model]

        def pick(name: str, value: Any) -> Any:
            return preset[name] if value is _PROVIDER else value

        self.seed = seed
        self.model = model
        self.latency_ms = tuple(pick("latency_ms", latency_ms))
        self.malformed_json_rate = pick("malformed_json_rate", malformed_json_rate)
        self.context_tokens = pick("context_tokens", context_tokens)
        self.price_in_per_1k = pick("price_in_per_1k", price_in_per_1k)
        self.price_out_per_1k = pick("price_out_per_1k", price_out_per_1k)
        self.rate_limit_per_minute = pick("rate_limit_per_minute", rate_limit_per_minute)
        self.timeout_rate = pick("timeout_rate", timeout_rate)
        self.server_error_rate = preset["server_error_rate"]
        self._behaviour = _Behaviour(**vars(_BEHAVIOUR))
        lo, hi = self.latency_ms
        if not 0 < lo <= hi:
            raise ValueError(f"latency_ms must be (low, high) with 0 < low <= high, not {latency_ms!r}")
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self._lock = threading.Lock()
        self._calls = 0
        self._window: deque[float] = deque()
        self._virtual_s = 0.0
        self._t0 = time.monotonic()
        self._time_scale = float(time_scale)
        self._usage = Usage()

    def __repr__(self) -> str:
        return f"SimulatedLLM(seed={self.seed}, model={self.model!r}, calls={self._calls})"

    # -- clock ---------------------------------------------------------------------------------

    @property
    def time_scale(self) -> float:
        """Real seconds slept per simulated second; may be changed at any time (the clock stays continuous)."""
        return self._time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        if value < 0:
            raise ValueError("time_scale must be >= 0")
        with self._lock:
            now = self.now()
            self._time_scale = float(value)
            self._virtual_s = now
            self._t0 = time.monotonic() - now * self._time_scale

    def now(self) -> float:
        """The client's clock in scaled seconds since it was created (see the module doc)."""
        if self._time_scale > 0:
            return (time.monotonic() - self._t0) / self._time_scale
        return self._virtual_s

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of scaled time (real time x ``time_scale``); use it for backoff.

        With ``time_scale=0`` it returns at once but still moves the client's clock, so retry
        loops that wait ``retry_after_s`` behave the same at any scale.
        """
        if seconds <= 0:
            return
        if self.time_scale > 0:
            time.sleep(seconds * self.time_scale)
        else:
            with self._lock:
                self._virtual_s += seconds

    def _spend(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass inside a call."""
        self.sleep(seconds)

    # -- usage ---------------------------------------------------------------------------------

    @property
    def usage(self) -> Usage:
        """A snapshot of the running totals (:class:`Usage`)."""
        return self._usage

    def reset_usage(self) -> None:
        """Zero the usage totals (the call counter and rate-limit window are unaffected)."""
        with self._lock:
            self._usage = Usage()

    def _bill(self, *, error: bool, input_tokens: int = 0, output_tokens: int = 0, cost: float = 0.0) -> None:
        u = self._usage
        self._usage = Usage(
            u.calls + 1,
            u.input_tokens + input_tokens,
            u.output_tokens + output_tokens,
            u.cost_usd + cost,
            u.errors + error,
        )

    # -- calls ---------------------------------------------------------------------------------

    def complete(self, prompt: str, **kwargs: Any) -> Completion:
        """Send ``prompt`` as a single user message; same keyword arguments as :meth:`chat`."""
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
        return self.chat([{"role": "user", "content": prompt}], **kwargs)

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        response_format: str | None = None,
        timeout_s: float | None = None,
    ) -> Completion:
        """Send a chat request and return a :class:`Completion`.

        ``messages`` is a list of ``{"role": "system" | "user" | "assistant", "content": str}``.
        The reply is cut to ``max_tokens`` (and to what the context leaves). ``temperature`` is
        validated (0 to 2) but the simulated model is always greedy. ``response_format="json"``
        asks for a JSON object. ``timeout_s`` bounds the (simulated) latency.

        Raises :class:`RateLimitError`, :class:`ContextLengthError`, :class:`TimeoutError` or
        :class:`ServerError` (all :class:`LLMError`); ``ValueError``/``TypeError`` for a
        malformed request, which is not sent and not counted.
        """
        self._validate(messages, max_tokens, temperature, response_format, timeout_s)
        input_tokens = sum(tokens.count(m["content"]) + MESSAGE_OVERHEAD_TOKENS for m in messages)

        with self._lock:
            self._calls += 1
            call = self._calls
            now = self.now()
            limit = self.rate_limit_per_minute
            while self._window and self._window[0] <= now - 60.0:
                self._window.popleft()
            if limit and len(self._window) >= limit:
                retry_after = round(self._window[0] + 60.0 - now, 3)
                self._bill(error=True)
                rejected: LLMError | None = RateLimitError(
                    f"429 Too Many Requests: {limit} requests per minute; retry after {retry_after:.2f}s",
                    retry_after_s=max(retry_after, 0.001),
                )
            elif input_tokens > self.context_tokens:
                self._window.append(now)
                self._bill(error=True)
                rejected = ContextLengthError(
                    f"400 context_length_exceeded: the prompt has {input_tokens} tokens, "
                    f"the model {self.model} allows {self.context_tokens}",
                    input_tokens=input_tokens,
                    context_tokens=self.context_tokens,
                )
            else:
                self._window.append(now)
                rejected = None
        if rejected is not None:
            self._spend(_REJECT_S)
            raise rejected

        # Injected behaviour: drawn from (seed, model, call number) in a fixed order.
        rng = random.Random(_digest("call", self.seed, self.model, call))
        fate = rng.random()
        lo, hi = self.latency_ms
        mu = (math.log(lo) + math.log(hi)) / 2
        sigma = (math.log(hi) - math.log(lo)) / (2 * 1.645)
        latency_ms = min(max(rng.lognormvariate(mu, sigma), lo), hi)
        malformed = rng.random() < self.malformed_json_rate
        kinds = self._behaviour.malformed_kinds
        malform_kind = kinds[rng.randrange(4) % len(kinds)]

        if fate < self.timeout_rate:
            hang = _HANG_S if timeout_s is None else timeout_s
            self._fail(hang)
            raise TimeoutError(f"request timed out after {hang:.2f}s (no response from the server)")
        if timeout_s is not None and latency_ms > timeout_s * 1000:
            self._fail(timeout_s)
            raise TimeoutError(f"request timed out after {timeout_s:.2f}s")
        if fate < self.timeout_rate + self.server_error_rate:
            self._fail(latency_ms / 1000)
            raise ServerError("500 Internal Server Error: the model server failed; please retry")

        text = self._respond(messages, response_format, malformed, malform_kind)
        budget = max(1, min(max_tokens, self.context_tokens - input_tokens))
        if tokens.count(text) > budget:
            text = tokens.truncate(text, budget)
        output_tokens = tokens.count(text)
        cost = input_tokens / 1000 * self.price_in_per_1k + output_tokens / 1000 * self.price_out_per_1k
        self._spend(latency_ms / 1000)
        with self._lock:
            self._bill(error=False, input_tokens=input_tokens, output_tokens=output_tokens, cost=cost)
        return Completion(text, input_tokens, output_tokens, round(latency_ms, 3), cost, self.model)

    def _fail(self, seconds: float) -> None:
        self._spend(seconds)
        with self._lock:
            self._bill(error=True)

    @staticmethod
    def _validate(messages: Any, max_tokens: Any, temperature: Any, response_format: Any, timeout_s: Any) -> None:
        if not isinstance(messages, list) or not messages:
            raise ValueError("messages must be a non-empty list of {'role': ..., 'content': ...} dicts")
        for m in messages:
            if not isinstance(m, dict) or not isinstance(m.get("content"), str):
                raise TypeError(f"each message must be a dict with a str 'content', got {m!r}")
            if m.get("role") not in ("system", "user", "assistant"):
                raise ValueError(f"message role must be 'system', 'user' or 'assistant', got {m.get('role')!r}")
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive integer, not {max_tokens!r}")
        if not 0.0 <= temperature <= 2.0:
            raise ValueError(f"temperature must be between 0 and 2, not {temperature!r}")
        if response_format not in (None, "json"):
            raise ValueError(f"response_format must be None or 'json', not {response_format!r}")
        if timeout_s is not None and timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, not {timeout_s!r}")

    def _respond(self, messages: list[dict[str, str]], response_format: str | None, malformed: bool, kind: int) -> str:
        prompt = _parse(messages)
        behaviour = self._behaviour
        salt = _digest("text", self.seed, self.model, json.dumps(messages, sort_keys=True))
        found_injection = _find_injection(prompt.context) if prompt.context is not None else None
        injection = None
        if found_injection is not None and found_injection[1] in behaviour.injection_styles:
            # Obeyed unless the prompt fences the untrusted text off: delimited *and* declared to
            # be data never obeys; one of the two sometimes does; neither, as configured.
            defences = _defence(prompt, found_injection[0])
            odds = (behaviour.undefended_obedience, behaviour.partial_obedience, 0.0)[defences]
            if _chance(salt, "obey") < odds:
                injection = found_injection[0]
        if injection is not None:
            answer = _obey(injection, prompt)
        elif prompt.context is not None and prompt.question is not None:
            found = _rag_answer(prompt.question, _unfence(_drop_injections(prompt.context)))
            if found is not None:
                answer = found
            elif _wants_idk(prompt) and _chance(salt, "invent") >= behaviour.hallucination_rate:
                answer = _IDK
            else:
                # Asking for "I don't know" lowers the odds, never to zero: only an answer checked
                # against the context (or no call at all when retrieval finds nothing) is safe.
                answer = _hallucinate(prompt.question, salt)
        else:
            answer = _summary(prompt.instructions)
        if response_format != "json":
            return answer
        names, types = _requested_fields(prompt, messages)
        source = re.sub(r"(?im)^.*\bfields\s*:.*$", "", _strip_schemas(prompt.user))
        obj = {n: _extract(n, source, types.get(n), answer) for n in names} if names else {"answer": answer}
        if injection is not None:
            obj = {k: (answer if isinstance(v, str) or v is None else v) for k, v in obj.items()}
        payload = json.dumps(obj, ensure_ascii=False)
        return _malform(payload, kind) if malformed else payload
