"""Deterministic data for the ``finetune-or-prompt`` pack.

Writes into the pack folder:

* ``data/prompt_fewshot.txt`` - the production prompt: instructions, the eight intents, the
  money-back guideline and 66 labelled examples (about 2,250 tokens before the message).
* ``data/labelled.jsonl`` - 320 messages with a human label (id, text, region, received,
  annotator, label), from two teams over Q3 and Q4 2026.
* ``data/unlabelled.jsonl`` - 700 messages from Q3 2026 without labels (id, text, region, received).
* ``data/taxonomy.json`` - the intents per quarter, with the two planned for 2027-Q1.
* ``data/production_daily.csv`` - 30 days of production: messages, EU share, input tokens per
  request, p50/p95 latency and cost of today's few-shot path.
* ``hidden/eval.jsonl`` - 300 labelled production-like messages for the checks (``kind`` is
  ``plain``, ``mixed`` - charged and wants the money back - or ``new`` - a ``data_request``).

Standard library only (plus the kit's token counter when it is importable), fixed seed: running
it twice gives byte-identical files. Labels follow the pack's own ``setup.py`` rules.

    python -m problems.generators.finetune_or_prompt [PACK_DIR]

What the data really exhibits (one line per hidden constraint of the pack):

* volume-cost - production_daily.csv: ~2.1M messages a day at ~2,260 input tokens each, ~$50k a day.
* few-labels - 320 labelled messages, 700 unlabelled; a fine-tuned model memorises its training set.
* taxonomy-quarterly - taxonomy.json changes every quarter; ``data_request`` (added in Q4) has 9
  labels and never appears in the Q3 unlabelled sample.
* eu-residency - every message has a region; about 45% are "eu".
* p95-latency - production_daily.csv: p95 of the few-shot path over 800 ms (median ~650 ms).
* label-disagreement - "charged, want my money back" messages: Lisbon labels billing, Dublin refund.
"""

# ruff: noqa: E501 - the generator is mostly data: message text.

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "problems" / "packs" / "finetune-or-prompt"
SEED = 20261213  # a seed whose labelled and hidden sets are equally hard (samples this size vary by ~4 points)

OPENERS = ["Hi,", "Hello,", "Hi there,", "Good morning,", "Hey,", "Dear Norda team,", "", "", "Hallo,", "Bonjour,"]
CLOSERS = [
    "Thanks.",
    "Thank you!",
    "Cheers.",
    "Please help.",
    "Regards, a long-time customer.",
    "",
    "",
    "Kind regards.",
]
EXTRA = [
    "I have been with Norda for six years.",
    "This is the second time I write about it.",
    "My contract number is in my profile.",
    "I'm writing from my partner's phone.",
    "Please get back to me today if you can.",
    "",
    "",
    "",
]
THINGS = {
    "month": ["March", "April", "May", "June", "July", "August", "September", "October", "November"],
    "amount": ["12.99", "24.50", "39.00", "8.75", "60.00", "17.20", "45.90"],
    "country": ["Spain", "Italy", "Canada", "Mexico", "Turkey", "Morocco", "Japan", "Norway"],
    "device": ["Pixel", "iPhone", "Galaxy", "Fairphone", "Moto"],
    "place": ["the city centre", "my village", "the office", "our flat", "the train station", "the new estate"],
}

TEMPLATES = {
    "billing": [
        "My invoice for {month} is higher than my plan, what is the extra {amount}?",
        "Why was I charged {amount} for {month}? I did not add anything.",
        "The direct debit date changed without notice, can you move it to the 1st?",
        "Can I get a paper statement for {month} instead of the app one?",
        "My payment of {amount} failed but I have money on the card, please check.",
        "I don't understand the line 'service fee' on my bill, what is it?",
        "I was overcharged on the {month} invoice, data add-on I never ordered.",
        "Can I pay the invoice by bank transfer instead of card?",
    ],
    "refund": [
        "I returned the {device} within 14 days, when do I get my money back?",
        "You promised a refund for the outage week, it has not arrived.",
        "The shop said I would be reimbursed for the broken case, still waiting.",
        "I cancelled the add-on on day one, please refund the {amount}.",
        "Where is my refund for the returned router?",
        "Please pay me back the deposit for the {device}, I sent it back last week.",
    ],
    "mixed": [
        "I was charged twice for {month}, I want my money back.",
        "You charged {amount} after I cancelled, please refund it.",
        "Overcharged again on my invoice, I want a refund of {amount}.",
        "Double payment taken by direct debit this month, credit it back please.",
        "The {month} bill charged me for roaming I never used, I want my money back.",
        "Why was I charged {amount}? Refund it to my card please.",
    ],
    "cancellation": [
        "I want to cancel my contract at the end of {month}.",
        "How do I terminate my second line? I don't need it anymore.",
        "I'm moving to another country and need to end my contract early.",
        "Please port my number to another operator, what do you need from me?",
        "I want to switch provider, what is my notice period?",
        "Is there a fee if I leave Norda before the 24 months?",
    ],
    "roaming": [
        "Going to {country} next week, does my plan include roaming?",
        "I'm abroad in {country} and calls don't connect.",
        "How much is mobile internet when travelling in {country}?",
        "Can I add a holiday pack for two weeks in {country}?",
        "Will I pay extra for texts while overseas?",
    ],
    "device": [
        "The screen of my {device} cracked, is it covered by the warranty?",
        "My new {device} battery dies by lunchtime, can I get it looked at?",
        "How long does a repair take at your shop?",
        "The charger that came with the {device} stopped working.",
        "The camera on my {device} is blurry since the update.",
    ],
    "network": [
        "No signal at all in {place} since Monday.",
        "Coverage in {place} is terrible, calls keep dropping.",
        "Is there an outage? I have no service in {place}.",
        "My mobile data is very slow in {place} in the evenings.",
        "When will 5G reach {place}?",
        "Dropped calls all day near {place}, is a phone mast down?",
    ],
    "account": [
        "I forgot my password and the reset email never comes.",
        "I can't log in to the app after changing phones.",
        "Please change the email address on my profile.",
        "How do I turn on two-factor for my account?",
        "I need to update my postal address, we moved.",
        "I locked my PIN code, how do I get a new one?",
        "Can I change my username in the app?",
    ],
    "data_request": [
        "Under GDPR I want a copy of my data you hold about me.",
        "Please delete my data, all of it, I am no longer a customer.",
        "I'm making a subject access request for my call records.",
        "What personal data do you keep about me and for how long?",
        "Please erase my details from your marketing lists and all systems.",
    ],
}
# Plain-intent shares of production traffic (mixed and new added on top where each file needs them).
WEIGHTS = {"billing": 20, "refund": 7, "cancellation": 12, "roaming": 10, "device": 12, "network": 16, "account": 13}


def load_setup() -> ModuleType:
    """The pack's setup.py logic (intent rules), with the kit's token counter when available."""
    kit = ROOT / "sandbox" / "image" / "kit"
    if kit.is_dir() and str(kit) not in sys.path:
        sys.path.insert(0, str(kit))
    module = ModuleType("finetune_or_prompt_setup")
    exec(compile((PACK_DIR / "setup.py").read_text(), "setup.py", "exec"), module.__dict__)
    return module


class Writer:
    """Makes unique message texts from the templates."""

    def __init__(self, rng: random.Random, setup: ModuleType) -> None:
        self.rng = rng
        self.setup = setup
        self.seen: set[str] = set()

    def message(self, kind: str) -> str:
        for _ in range(200):
            body = self.rng.choice(TEMPLATES[kind]).format(**{k: self.rng.choice(v) for k, v in THINGS.items()})
            parts = [self.rng.choice(OPENERS), body, self.rng.choice(EXTRA), self.rng.choice(CLOSERS)]
            text = " ".join(p for p in parts if p)
            if text not in self.seen:
                self.seen.add(text)
                want = "refund" if kind == "mixed" else kind
                got = self.setup._intent_of(text)
                assert got == want, (text, got, want)
                assert self.setup._is_mixed(text) == (kind == "mixed"), text
                return text
        raise RuntimeError(f"ran out of distinct {kind} messages")

    def kind(self) -> str:
        kinds, weights = zip(*WEIGHTS.items(), strict=True)
        return self.rng.choices(kinds, weights)[0]


def region(rng: random.Random) -> str:
    return "eu" if rng.random() < 0.45 else "us"


def day(rng: random.Random, start: str, days: int) -> str:
    y, m, d = (int(x) for x in start.split("-"))
    n = rng.randrange(days)
    month_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    d += n
    while d > month_days[m - 1]:
        d -= month_days[m - 1]
        m += 1
    return f"{y:04d}-{m:02d}-{d:02d}"


PROMPT_HEAD = """You sort the messages customers send to Norda Mobile (app chat, email and web form) into
exactly one intent, so that each message reaches the right support queue. Read the whole
message, decide what the customer wants us to do, and answer with the intent name only, in
lower case, with no explanation. If a message touches several topics, choose the intent of
the action the customer asks for. Never invent a new intent; never answer with more than one.

Intents:
- billing: questions about invoices, charges, payments, direct debits and statements.
- refund: the customer wants money paid back to them (a return, a promised credit, a charge
  they dispute and want reversed). Guideline since October 2026: a customer asking for their
  money back is refund, even when the message is about a charge or an invoice.
- cancellation: ending a contract or a line, notice periods, porting a number out.
- roaming: using the phone abroad, roaming prices and travel packs.
- device: handsets and accessories: faults, repairs, warranty, batteries, screens.
- network: signal, coverage, outages, slow mobile data, 5G availability.
- account: logging in, passwords, PIN codes, profile details, two-factor, addresses.
- data_request: requests about the personal data we hold: copies, deletion, GDPR requests.

Examples:
"""


def prompt(rng: random.Random, writer: Writer) -> str:
    lines = [PROMPT_HEAD]
    order = [*WEIGHTS, "mixed", "data_request"]
    for i in range(66):
        kind = order[i % len(order)]
        text = writer.message(kind)
        lines.append(f"Message: {text}\nIntent: {'refund' if kind == 'mixed' else kind}\n")
    lines.append("Message: {message}\nIntent:")
    return "\n".join(lines)


def main(pack_dir: Path = PACK_DIR) -> None:
    rng = random.Random(SEED)
    setup = load_setup()
    writer = Writer(rng, setup)
    data, hidden = pack_dir / "data", pack_dir / "hidden"
    data.mkdir(parents=True, exist_ok=True)
    hidden.mkdir(parents=True, exist_ok=True)

    few_shot = prompt(rng, writer)
    (data / "prompt_fewshot.txt").write_text(few_shot, encoding="utf-8")

    labelled = []
    for i in range(320):
        q4 = i >= 200  # 200 labels from Q3, 120 from Q4 (after data_request was added)
        r = rng.random()
        if q4 and i % 13 == 0:
            kind = "data_request"
        elif r < 0.09:
            kind = "mixed"
        else:
            kind = writer.kind()
        annotator = "lisbon" if rng.random() < 0.5 else "dublin"
        label = "refund" if kind == "mixed" else kind
        if kind == "mixed" and annotator == "lisbon" and not (q4 and rng.random() < 0.2):
            label = "billing"  # the Lisbon team's reading, from before the guideline
        labelled.append(
            {
                "id": f"L{i + 1:04d}",
                "text": writer.message(kind),
                "region": region(rng),
                "received": day(rng, "2026-10-01" if q4 else "2026-07-01", 70 if q4 else 92),
                "annotator": annotator,
                "label": label,
            }
        )
    rng.shuffle(labelled)
    unlabelled = []
    for i in range(700):
        kind = "mixed" if rng.random() < 0.08 else writer.kind()
        unlabelled.append(
            {
                "id": f"U{i + 1:04d}",
                "text": writer.message(kind),
                "region": region(rng),
                "received": day(rng, "2026-07-01", 92),
            }
        )
    evaluation = []
    for i in range(300):
        r = rng.random()
        kind = "data_request" if i % 15 == 0 else ("mixed" if r < 0.10 else writer.kind())
        evaluation.append(
            {
                "id": f"E{i + 1:04d}",
                "text": writer.message(kind),
                "region": region(rng),
                "received": day(rng, "2026-12-01", 7),
                "label": "refund" if kind == "mixed" else kind,
                "kind": "new" if kind == "data_request" else ("mixed" if kind == "mixed" else "plain"),
            }
        )

    def jsonl(path: Path, rows: list[dict]) -> None:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")

    jsonl(data / "labelled.jsonl", labelled)
    jsonl(data / "unlabelled.jsonl", unlabelled)
    jsonl(hidden / "eval.jsonl", evaluation)

    base = [i for i in setup._INTENTS if i not in ("refund", "data_request")]
    taxonomy = {
        "2026-Q2": {"intents": base, "note": "refunds handled as billing"},
        "2026-Q3": {"intents": [*base[:1], "refund", *base[1:]], "note": "refund split from billing"},
        "2026-Q4": {"intents": list(setup._INTENTS), "note": "data_request added (GDPR requests)"},
        "2027-Q1 (planned)": {
            "intents": [*setup._INTENTS, "esim", "fraud_report"],
            "note": "esim split from device; fraud_report added",
        },
    }
    (data / "taxonomy.json").write_text(json.dumps(taxonomy, indent=2) + "\n", encoding="utf-8")

    head = setup._count(few_shot.replace("{message}", ""))
    rows = ["date,messages,eu_share,input_tokens_per_request,p50_ms,p95_ms,cost_usd"]
    for d in range(30):
        n = int(2_100_000 * (0.9 if d % 7 in (5, 6) else 1.03) * (1 + rng.uniform(-0.03, 0.03)))
        tokens_in = head + 4 + rng.randint(22, 28)
        lat = [setup._latency_ms("large", tokens_in, f"day{d}-{k}") for k in range(400)]
        lat.sort()
        cost = n * (tokens_in * setup._PRICE_IN_PER_1K + 2 * setup._PRICE_OUT_PER_1K) / 1000
        rows.append(
            f"2026-11-{d + 1:02d},{n},{0.45 + rng.uniform(-0.02, 0.02):.3f},{tokens_in},{lat[200]:.0f},{lat[380]:.0f},{cost:.0f}"
        )
    (data / "production_daily.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else PACK_DIR)
