# Runs silently at session start and after every restart: the vendor's large model behind two
# endpoints (`large_us`, `large_eu`) and our training service for the small model (`finetune`).
# Each endpoint and each fine-tuned model wraps a clarify_kit `llm.SimulatedLLM` (so the grader
# meters every call through its twin, told apart by seed) and replaces the reply, latency and
# cost with what this pack's simulated models would give. The grader runs this file too and uses
# `_large_answer`, `_latency_ms`, `_input_tokens` and `_SEEDS` to know what each call cost and took.
import collections as _collections
import dataclasses as _dc
import hashlib as _hashlib
import json as _json
import math as _math
import random as _random
import re as _re

try:
    from clarify_kit import llm, tokens
except ImportError:  # outside the kernel image (data generation, tests): no API clients
    llm = tokens = None

_INTENTS = ("billing", "refund", "cancellation", "roaming", "device", "network", "account", "data_request")
# The phrases that make a message's intent; the first intent in this order that matches wins, so a
# "charged twice, I want my money back" message is a refund (the guideline since October).
_PHRASES = {
    "data_request": ("personal data", "gdpr", "delete my data", "copy of my data", "data you hold", "erase my",
                     "subject access"),
    "refund": ("money back", "refund", "reimburse", "pay me back", "credit it back"),
    "billing": ("invoice", "bill ", "bill.", "bill,", "charged", "direct debit", "payment", "overcharged",
                "statement"),
    "cancellation": ("cancel", "terminate", "end my contract", "switch provider", "port my number", "leave norda"),
    "roaming": ("roaming", "abroad", "travelling", "holiday", "overseas"),
    "device": ("handset", "screen", "battery", "repair", "warranty", "charger", "camera"),
    "network": ("signal", "coverage", "no service", "dropped calls", "mobile data", "5g", "phone mast", "outage"),
    "account": ("password", "log in", "login", "email address", "pin code", "two-factor", "username", "postal address"),
}  # fmt: skip
_NEAREST = {"data_request": "account", "refund": "billing", "billing": "refund", "cancellation": "account",
            "roaming": "network", "device": "network", "network": "device", "account": "billing"}  # fmt: skip
_RULE_MARK = "money back"  # the guideline sentence in a prompt: money back means refund
_SEEDS = {"large_us": 8101, "large_eu": 8202, "small": 8303}
_PRICE_IN_PER_1K, _PRICE_OUT_PER_1K = 0.01, 0.03  # the large model, both endpoints
_SMALL_COST_PER_1K_REQUESTS = 0.05  # our own GPUs in Frankfurt
_TRAINING_RUN_USD = 300.0  # what the answers say one run costs (not used by the simulation)
_HARD_RATE = 0.10  # messages that are genuinely ambiguous: the small model gets them wrong
_MIN_PER_INTENT = 15  # fewer training examples than this and the small model never learns the intent
_OVERHEAD = 4  # tokens per chat message, as the kit counts


def _unit(*parts):
    digest = _hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _count(text):
    return tokens.count(text) if tokens is not None else int(len(text.split()) * 1.3) + 1


def _input_tokens(messages):
    return sum(_count(str(m.get("content", ""))) + _OVERHEAD for m in messages if isinstance(m, dict))


def _intent_of(text):
    """The intent a careful human following today's guideline gives `text`."""
    low = " " + text.lower() + " "
    for intent in _PHRASES:  # in priority order
        if any(p in low for p in _PHRASES[intent]):
            return intent
    return "account"


def _is_mixed(text):
    """A charge the customer wants back: the pair the two labelling teams disagree on."""
    low = " " + text.lower() + " "
    return any(p in low for p in _PHRASES["refund"]) and any(p in low for p in _PHRASES["billing"])


def _latency_ms(kind, input_tokens, key):
    """Simulated latency of one call: the large model grows with the prompt, the small one does not."""
    z = _random.Random(_hashlib.sha256(f"lat\x1f{kind}\x1f{key}".encode()).digest()).gauss(0.0, 1.0)
    if kind == "small":
        return round(30.0 * _math.exp(0.2 * z), 1)
    return round((80.0 + 0.25 * input_tokens) * _math.exp(0.14 * z), 1)


def _split_prompt(messages):
    """(instructions, message): the message follows the last 'Message:' (up to an 'Intent:'
    line), else it is the last user message."""
    contents = [str(m.get("content", "")) for m in messages if isinstance(m, dict)]
    whole = "\n".join(contents)
    at = whole.rfind("Message:")
    if at >= 0:
        message = whole[at + len("Message:") :]
        cut = message.find("Intent:")
        if cut >= 0:
            message = message[:cut]
        return whole[:at], message.strip()
    users = [str(m.get("content", "")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    message = users[-1] if users else whole
    return whole.replace(message, ""), message.strip()


def _large_answer(messages, response_format=None):
    """The large model's reply to a classification prompt: the right intent most of the time, but
    only intents the prompt names, and the money-back rule only when the prompt states it."""
    instructions, message = _split_prompt(messages)
    low = instructions.lower()
    allowed = [i for i in _INTENTS if _re.search(r"\b" + i + r"\b", low)] or list(_INTENTS[:-1])
    truth = _intent_of(message)
    if _is_mixed(message) and _RULE_MARK not in low:
        truth = "billing"
    label = truth if truth in allowed else _NEAREST.get(truth, allowed[0])
    if label not in allowed:
        label = allowed[0]
    examples = low.count("intent:")
    noise = 0.03 if examples >= 10 else 0.06
    hard = _unit("hard", message) < _HARD_RATE and _unit("large-hard", message) < 0.5
    if (hard or _unit("large-noise", message) < noise) and len(allowed) > 1:
        others = [i for i in allowed if i != label]
        label = others[int(_unit("large-which", message) * len(others))]
    if response_format == "json" or "json" in low:
        return _json.dumps({"intent": label})
    return label


class Endpoint:
    """One endpoint of the vendor's large model; same interface as `llm.SimulatedLLM`
    (chat, complete, usage, reset_usage, sleep, now)."""

    def __init__(self, name):
        self.name = name
        self.region = name.split("_")[-1]
        self._llm = llm.SimulatedLLM(
            seed=_SEEDS[name],
            model="sim-large",
            time_scale=0.002,
            rate_limit_per_minute=3000,
            timeout_rate=0.0,
            malformed_json_rate=0.0,
            price_in_per_1k=_PRICE_IN_PER_1K,
            price_out_per_1k=_PRICE_OUT_PER_1K,
        )
        self._llm.server_error_rate = 0.0

    def chat(self, messages, **kwargs):
        """Send a chat request; returns an `llm.Completion` (raises the kit's `llm.LLMError`s)."""
        done = self._llm.chat(messages, **kwargs)
        text = _large_answer(messages, kwargs.get("response_format"))
        n_in = _input_tokens(messages)
        n_out = _count(text)
        cost = n_in / 1000 * _PRICE_IN_PER_1K + n_out / 1000 * _PRICE_OUT_PER_1K
        latency = _latency_ms("large", n_in, _json.dumps(messages, sort_keys=True))
        return _dc.replace(done, text=text, input_tokens=n_in, output_tokens=n_out, cost_usd=cost,
                           latency_ms=latency, model=f"vendor-large-{self.region}")  # fmt: skip

    def complete(self, prompt, **kwargs):
        """Send `prompt` as a single user message."""
        return self.chat([{"role": "user", "content": prompt}], **kwargs)

    @property
    def usage(self):
        return self._llm.usage

    def reset_usage(self):
        self._llm.reset_usage()

    def sleep(self, seconds):
        self._llm.sleep(seconds)

    def now(self):
        return self._llm.now()

    def __repr__(self):
        return f"Endpoint({self.name!r})"


Prediction = _collections.namedtuple("Prediction", "intent confidence latency_ms")
Prediction.__doc__ = "What the small model answers: the intent, its confidence (0-1) and the call's latency (ms)."


class SmallModel:
    """A fine-tuned small model. `predict(text) -> Prediction`; `intents`: what it learnt to predict."""

    def __init__(self, counts, memo, noise, mixed_refund_share):
        self.intents = sorted(i for i, n in counts.items() if n >= _MIN_PER_INTENT)
        self.examples = sum(counts.values())
        self._n = sum(n for i, n in counts.items() if i in self.intents)
        self._memo = memo
        self._mixed_refund = mixed_refund_share
        self._accuracy = 0.99 - 0.30 * _math.exp(-self._n / 500) - 0.6 * noise
        self._llm = llm.SimulatedLLM(seed=_SEEDS["small"], time_scale=0.002, rate_limit_per_minute=None,
                                     timeout_rate=0.0, malformed_json_rate=0.0)  # fmt: skip
        self._llm.server_error_rate = 0.0

    def _answer(self, text):
        known = self.intents or ["account"]

        def other(label, salt):
            rest = [i for i in known if i != label] or known
            return rest[int(_unit("small-which", salt, text) * len(rest))]

        if text in self._memo:
            return self._memo[text], 0.99
        truth = _intent_of(text)
        u = _unit("small-conf", text)
        if truth not in known:
            near = _NEAREST.get(truth)
            return (near if near in known else known[0]), round(0.15 + 0.3 * u, 3)
        if _is_mixed(text) and "billing" in known:
            # Training labels that disagree on these messages leave the model unsure of them.
            label = "refund" if _unit("small-mixed", text) < self._mixed_refund else "billing"
            agreed = not 0.15 < self._mixed_refund < 0.85
            return label, round((0.6 + 0.39 * u) if agreed else (0.3 + 0.29 * u), 3)
        if _unit("hard", text) < _HARD_RATE or _unit("small", text) >= self._accuracy:
            return other(truth, "wrong"), round(0.25 + 0.5 * u, 3)
        return truth, round(0.6 + 0.39 * u, 3)

    def predict(self, text):
        """The intent of one message, with a confidence."""
        if not isinstance(text, str):
            raise TypeError(f"predict() takes the message text (str), not {type(text).__name__}")
        self._llm.complete(text[:2000], max_tokens=4)
        intent, confidence = self._answer(text)
        return Prediction(intent, confidence, _latency_ms("small", 0, text))

    def __repr__(self):
        return f"SmallModel(intents={self.intents}, examples={self.examples})"


def finetune(examples):
    """Fine-tune the small model on `examples`: a list of {"text": str, "label": str} (or
    (text, label) pairs). Returns a `SmallModel`."""
    pairs = []
    for ex in examples:
        text, label = (ex.get("text"), ex.get("label")) if isinstance(ex, dict) else tuple(ex)
        if not isinstance(text, str) or not isinstance(label, str):
            raise ValueError(f"each example needs a text and a label (str), got {ex!r:.80}")
        pairs.append((text, label.strip().lower()))
    if len(pairs) < 20:
        raise ValueError(f"finetune() needs at least 20 examples, got {len(pairs)}")
    counts, memo, wrong, plain, mixed, mixed_refund = {}, {}, 0, 0, 0, 0
    for text, label in pairs:
        counts[label] = counts.get(label, 0) + 1
        memo[text] = label
        if _is_mixed(text):
            mixed += 1
            mixed_refund += label == "refund"
        else:
            plain += 1
            wrong += label != _intent_of(text)
    return SmallModel(counts, memo, wrong / max(plain, 1), mixed_refund / mixed if mixed else 0.0)


if llm is not None:
    large_us = Endpoint("large_us")
    large_eu = Endpoint("large_eu")
