# Runs silently at session start and after every restart: the vendor's API, three models.
# `current_model`, `new_model` and `judge_model` have the interface of clarify_kit's
# `llm.SimulatedLLM` (chat, complete, usage, reset_usage, sleep, now) and raise its errors:
# each wraps a SimulatedLLM (so latency, rate limits, cost and the grader's metering are the
# kit's) and replaces the reply text with what that model would answer. The grader runs this
# file too and uses `_route_answer` / `_judge_answer` to know what each call returned.
import dataclasses as _dc
import hashlib as _hashlib
import json as _json
import re as _re

try:
    from clarify_kit import llm, tokens
except ImportError:  # outside the kernel image (data generation, tests): no API clients
    llm = tokens = None

_LABELS = ("billing", "delivery", "refund", "account", "technical")
_GERMAN = {
    "billing": "Rechnung",
    "delivery": "Lieferung",
    "refund": "Erstattung",
    "account": "Kundenkonto",
    "technical": "Technik",
}
_KEYWORDS = {
    "billing": {"invoice", "charged", "charge", "payment", "vat", "receipt", "billing", "billed",
                "rechnung", "abgebucht", "zahlung", "mehrwertsteuer", "quittung"},
    "delivery": {"parcel", "package", "delivery", "tracking", "courier", "arrived", "shipped",
                 "paket", "lieferung", "sendung", "zusteller", "angekommen"},
    "refund": {"refund", "reimburse", "refunded", "erstattung", "erstatten", "zurückerstatten",
               "rückerstattung"},
    "account": {"password", "login", "account", "newsletter", "username", "passwort", "anmelden",
                "konto", "kundenkonto", "benutzername"},
    "technical": {"app", "website", "error", "crash", "crashes", "gps", "firmware", "battery",
                  "bluetooth", "fehlermeldung", "absturz", "akku", "webseite", "stürzt"},
}  # fmt: skip
_GERMAN_WORDS = {"ich", "und", "nicht", "bitte", "meine", "mein", "ist", "der", "die", "das", "wurde", "habe"}
_RULE_MARK = "money back"  # what the v3 prompt added: money back means refund
_LONG_TOKENS = 200
_NOISE = {"current": 0.10, "new": 0.03}
_GERMAN_REPLY_RATE = 0.5  # the new model answers in the ticket's language
_LOST_THREAD_RATE = 0.75  # the new model routes a long thread by its quoted history
_FENCE_RATE = 0.35
_SEEDS = {"current": 7101, "new": 7202, "judge": 7303}


def _unit(*parts):
    digest = _hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _words(text):
    return _re.findall(r"[^\W\d_]+", text.lower())


def _prompt_parts(messages):
    """(instructions, ticket): the ticket is what follows the last 'Ticket:' (up to a
    'Predicted category:' line), else the last user message."""
    contents = [str(m.get("content", "")) for m in messages if isinstance(m, dict)]
    whole = "\n".join(contents)
    at = whole.rfind("Ticket:")
    if at >= 0:
        ticket = whole[at + len("Ticket:") :]
        instructions = whole[:at]
        cut = ticket.find("Predicted category:")
        if cut >= 0:
            instructions += ticket[cut:]
            ticket = ticket[:cut]
        return instructions, ticket.strip()
    users = [str(m.get("content", "")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    ticket = users[-1] if users else whole
    return whole.replace(ticket, ""), ticket.strip()


def _split_thread(ticket):
    """(newest message, quoted history): quoted lines start with '>'."""
    top, quoted = [], []
    for line in ticket.splitlines():
        (quoted if line.lstrip().startswith(">") else top).append(line.lstrip("> ").strip())
    return "\n".join(top), "\n".join(quoted)


def _is_german(text):
    return len(set(_words(text)) & _GERMAN_WORDS) >= 2


def _keyword_label(text, money_back_rule):
    found = set(_words(text))
    scores = {label: len(found & kws) for label, kws in _KEYWORDS.items()}
    if scores["refund"] and scores["delivery"]:
        return "refund" if money_back_rule else "delivery"
    best = max(_LABELS, key=lambda label: scores[label])
    return best if scores[best] else "account"


def _route_answer(model, messages, response_format=None):
    """The reply text of the routing model `model` ('current' or 'new') to `messages`."""
    instructions, ticket = _prompt_parts(messages)
    rule = _RULE_MARK in instructions.lower()
    top, quoted = _split_thread(ticket)
    basis = top
    if model == "new" and quoted and _count(ticket) > _LONG_TOKENS and _unit("thread", ticket) < _LOST_THREAD_RATE:
        basis = quoted
    label = _keyword_label(basis, rule)
    if _unit("noise", model, ticket) < _NOISE.get(model, 0.0):
        label = _LABELS[(_LABELS.index(label) + 1 + int(_unit("which", model, ticket) * 4)) % 5]
    word = label
    if model == "new" and _is_german(top) and _unit("german", ticket) < _GERMAN_REPLY_RATE:
        word = _GERMAN[label]
    if response_format == "json" or "json" in instructions.lower():
        body = _json.dumps({"category": word})
        if model == "new" and _unit("fence", ticket) < _FENCE_RATE:
            body = "```json\n" + body + "\n```"
        return body
    return word


def _judge_answer(messages):
    """The judge's verdict ('correct' / 'incorrect'): right 88% of the time on a correct
    prediction, and lenient on wrong ones (calls 42% of them correct)."""
    instructions, ticket = _prompt_parts(messages)
    m = _re.search(r"Predicted category:\s*([^\n]+)", instructions)
    predicted = m.group(1).strip().strip("\"'`").lower() if m else ""
    truth = _keyword_label(_split_thread(ticket)[0], True)
    u = _unit("judge", ticket, predicted)
    says_correct = u < 0.88 if predicted == truth else u < 0.42
    return "correct" if says_correct else "incorrect"


def _count(text):
    return tokens.count(text) if tokens is not None else int(len(text.split()) * 1.3)


class VendorModel:
    """A client for one model of the vendor's API; same interface as `llm.SimulatedLLM`."""

    def __init__(self, name):
        self.name = name
        self._llm = llm.SimulatedLLM(
            seed=_SEEDS[name], time_scale=0.02, rate_limit_per_minute=600, timeout_rate=0.0, malformed_json_rate=0.0
        )
        self._llm.server_error_rate = 0.0

    def chat(self, messages, **kwargs):
        """Send a chat request; returns an `llm.Completion` (raises the kit's `llm.LLMError`s)."""
        done = self._llm.chat(messages, **kwargs)
        if self.name == "judge":
            text = _judge_answer(messages)
        else:
            text = _route_answer(self.name, messages, kwargs.get("response_format"))
        return _dc.replace(done, text=text, model=f"fernbahn-{self.name}")

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
        return f"VendorModel({self.name!r})"


if llm is not None:
    current_model = VendorModel("current")
    new_model = VendorModel("new")
    judge_model = VendorModel("judge")
