"""Deterministic data for the ``model-upgrade`` pack.

Writes into the pack folder:

* ``data/labelled.jsonl`` - 150 tickets the support leads labelled last spring (id, text, lang,
  label), with the reply the current model gave under prompt v1 and the LLM judge's verdict on it.
* ``data/production_logs.jsonl`` - 240 recent routed tickets, unlabelled: id, ts, text,
  prompt_version (v2 or v3) and the current model's raw reply under that prompt.
* ``data/prompts/v1.txt``, ``v2.txt``, ``v3.txt`` (production) and ``judge.txt``.
* ``hidden/eval.jsonl`` - 160 labelled tickets for the checks: 80 short English (20 of them
  "parcel late, I want my money back"), 40 German, 40 long threads; ``slice`` and ``mixed`` say which.

Standard library only, fixed seed: running it twice gives byte-identical files. The model
replies stored in the data are computed with the pack's own ``setup.py`` logic.

    python -m problems.generators.model_upgrade [PACK_DIR]

What the data really exhibits (one line per hidden constraint of the pack):

* retirement-deadline - nothing in the data; the answer names the 14 days.
* fenced-json - the new model fences about a third of its JSON replies (run it on any ticket).
* slice-regression - 12% German, 10% long threads with quoted history; the new model answers
  German tickets with German category names and routes long threads by their quoted history.
* few-labels - 150 labelled tickets, 240 unlabelled log lines.
* judge-agreement - the stored judge verdicts agree with the labels on ~72% of tickets.
* prompt-drift - labelled replies are v1 (plain words), logs are v2/v3 JSON; under v1/v2 the
  models route "late parcel, money back" tickets to delivery.
"""

# ruff: noqa: E501 - the generator is mostly data: ticket text.

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from types import ModuleType

PACK_DIR = Path(__file__).resolve().parents[1] / "packs" / "model-upgrade"
SEED = 20260914

NAMES = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elif",
    "Finn",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Lukas",
    "Mara",
    "Noah",
    "Olga",
    "Paul",
]
PRODUCTS = [
    "tent",
    "sleeping bag",
    "rain jacket",
    "hiking boots",
    "backpack",
    "trekking poles",
    "camping stove",
    "head torch",
]
PRODUKTE = ["Zelt", "Schlafsack", "Regenjacke", "Wanderschuhe", "Rucksack", "Stirnlampe"]

EN = {
    "billing": [
        "Hi, I was charged twice for my {p} order {o}. Can you check the payment?",
        "The invoice for order {o} shows the wrong VAT number for our company. Please send a corrected invoice.",
        "I need a receipt for the {p} I bought, my employer wants it for expenses.",
        "Why was my card charged 12 EUR more than the price of the {p}? Order {o}.",
    ],
    "delivery": [
        "Where is my {p}? The tracking for order {o} has not changed for five days.",
        "The courier left the parcel with a neighbour I don't know. Order {o}.",
        "My package was shipped to my old address, can you change the delivery address for order {o}?",
        "The {p} arrived but the parcel was crushed and wet.",
    ],
    "refund": [
        "I sent the {p} back two weeks ago. When will I get my refund for order {o}?",
        "You refunded only half of order {o}, the {p} was returned complete.",
        "Please reimburse the return shipping for the {p}, it was faulty.",
        "I cancelled order {o} before it was sent out, still no refund.",
    ],
    "account": [
        "I can't log in, the password reset email never comes. My username is {n}{o}.",
        "Please delete my account and stop the newsletter.",
        "I want to change the email on my account from my old work one.",
        "My account is locked after three wrong password attempts.",
    ],
    "technical": [
        "The GPS on the trail watch I bought shows an error after the firmware update.",
        "Your app crashes when I open my orders.",
        "The website shows an error at checkout when I pick the {p}.",
        "The battery of the head torch drains in one hour, and bluetooth pairing fails.",
    ],
}
DE = {
    "billing": [
        "Hallo, mir wurde die Bestellung {o} zweimal abgebucht. Bitte prüfen Sie die Zahlung.",
        "Die Rechnung für {o} ist auf die falsche Firma ausgestellt, ich brauche eine neue Rechnung.",
        "Ich habe keine Quittung für den {p} bekommen und die Mehrwertsteuer fehlt auf der Rechnung.",
    ],
    "delivery": [
        "Wo ist mein Paket? Die Sendung {o} ist seit einer Woche nicht angekommen.",
        "Der Zusteller hat das Paket einfach vor die Tür gestellt, die Lieferung war nass.",
        "Die Lieferung {o} ist nur halb angekommen, der {p} fehlt im Paket.",
    ],
    "refund": [
        "Ich habe den {p} zurückgeschickt und warte seit drei Wochen auf die Erstattung.",
        "Bitte erstatten Sie mir die Rücksendekosten für die Bestellung {o}, das ist nicht mein Fehler.",
        "Die Rückerstattung für {o} ist nicht vollständig, es fehlen 20 Euro.",
    ],
    "account": [
        "Ich kann mich nicht anmelden, das Passwort wird nicht akzeptiert. Mein Benutzername ist {n}{o}.",
        "Bitte löschen Sie mein Kundenkonto und die Newsletter-Anmeldung.",
        "Mein Konto ist gesperrt, ich habe das Passwort dreimal falsch eingegeben.",
    ],
    "technical": [
        "Die App stürzt ab, wenn ich meine Bestellungen öffne. Bitte helfen Sie mir.",
        "Auf der Webseite kommt eine Fehlermeldung an der Kasse und ich kann nicht bestellen.",
        "Der Akku der Stirnlampe ist nach einer Stunde leer, das ist nicht normal.",
    ],
}
MIXED_EN = [
    "My parcel for order {o} never arrived and the tracking hasn't moved in ten days. I just want my money back now, please refund it.",
    "The courier lost the package with my {p}. Don't send a new one, please refund order {o}.",
    "Order {o} arrived three weeks late, I had to buy another {p} for my trip. I want a refund.",
    "The {p} was shipped to the wrong address and is gone. Refund me, I don't want to wait for a replacement delivery.",
]
MIXED_DE = [
    "Mein Paket {o} ist nie angekommen. Ich möchte keine neue Lieferung, bitte erstatten Sie mir das Geld.",
    "Die Sendung mit dem {p} ist verloren gegangen. Ich bitte um Rückerstattung, nicht um eine neue Lieferung.",
]
QUOTED = {  # the quoted history of a long thread: an older, different problem
    "billing": [
        "I was charged for a second payment on the same day and the invoice shows both charges.",
        "Your support said the second charge would be reversed within five days, but my bank statement still shows the payment.",
        "I also need a corrected invoice with the right VAT for my company, the receipt I got is not valid for expenses.",
    ],
    "delivery": [
        "The tracking said the parcel was with the courier for a week, then the delivery was cancelled.",
        "I called the courier and they said the package was shipped to a depot far away from my town.",
        "In the end the parcel arrived at a neighbour, the delivery note was wrong and the tracking never updated.",
    ],
    "account": [
        "I could not log in to my account for days because the password reset did not work.",
        "Your colleague unlocked the account and asked me to choose a new password and username.",
        "I also asked to stop the newsletter, it still arrives at the old account email.",
    ],
    "technical": [
        "The app crashes every time I open it, and the website shows an error when I log my trips.",
        "The firmware update for the GPS watch failed halfway with an error and the battery drained.",
        "Support told me to reinstall the app and reset the bluetooth pairing, which did not help with the crash.",
    ],
}
LONG_TOP = {  # the newest message of a long thread: short, a different problem than the history
    "billing": "Thanks for sorting that out. One more thing: the invoice for order {o} still has the wrong VAT number. Can you correct it?",
    "delivery": "Thanks for the help last time. Now my new order {o} is missing: the tracking has not moved for a week. Where is the parcel?",
    "refund": "Thanks for the help before. I have now sent the {p} back as you suggested, when do I get my refund for order {o}?",
    "account": "Thanks, all fixed now. Separate question: I want to change the email on my account, how do I do that?",
    "technical": "Thanks for your reply. Different issue now: the head torch from order {o} shows an error light and the battery will not charge.",
}
SUPPORT_REPLY = (
    "Dear {n}, thank you for contacting Fernbahn Outdoor. We are sorry to hear about this and we "
    "have forwarded your message to the responsible team, who will get back to you as soon as possible. "
    "Kind regards, your Fernbahn Outdoor customer service"
)

PROMPT_V1 = (
    "You route customer support tickets for Fernbahn Outdoor.\n"
    "Read the ticket and answer with exactly one category: billing, delivery, refund, account or technical.\n\n"
    "Ticket:\n{ticket}\n"
)
PROMPT_V2 = (
    "You route customer support tickets for Fernbahn Outdoor.\n"
    "Read the ticket and choose exactly one category: billing, delivery, refund, account or technical.\n"
    'Answer in JSON only: {{"category": "<category>"}}\n\n'
    "Ticket:\n{ticket}\n"
)
PROMPT_V3 = (
    "You route customer support tickets for Fernbahn Outdoor.\n"
    "Read the ticket and choose exactly one category: billing, delivery, refund, account or technical.\n"
    "If the customer wants their money back, the category is refund - even when the ticket is about a late or missing parcel.\n"
    'Answer in JSON only: {{"category": "<category>"}}\n\n'
    "Ticket:\n{ticket}\n"
)
PROMPT_JUDGE = (
    "You grade the ticket router of Fernbahn Outdoor. Categories: billing, delivery, refund, account, technical.\n"
    "Decide whether the predicted category is the right team for this ticket.\n\n"
    "Ticket:\n{ticket}\n\n"
    "Predicted category: {category}\n\n"
    "Answer with one word: correct or incorrect.\n"
)
PROMPTS = {"v1": PROMPT_V1, "v2": PROMPT_V2, "v3": PROMPT_V3}


def _model() -> ModuleType:
    """The pack's setup.py logic (without the kit's clients)."""
    mod = ModuleType("model_upgrade_setup")
    exec(compile((PACK_DIR / "setup.py").read_text(), "setup.py", "exec"), mod.__dict__)  # our own pack file
    return mod


def _fill(rng: random.Random, template: str, german: bool) -> str:
    return template.format(
        p=rng.choice(PRODUKTE if german else PRODUCTS),
        o=f"FB-{rng.randint(100000, 999999)}",
        n=rng.choice(NAMES),
    )


def _short(rng: random.Random, label: str, german: bool, mixed: bool) -> str:
    if mixed:
        return _fill(rng, rng.choice(MIXED_DE if german else MIXED_EN), german)
    return _fill(rng, rng.choice((DE if german else EN)[label]), german)


def _long(rng: random.Random, label: str) -> str:
    older = rng.choice([k for k in QUOTED if k != label])
    name = rng.choice(NAMES)
    lines = [_fill(rng, LONG_TOP[label], False), "", f"Best, {name}", ""]
    for day in (12, 9, 6, 3):
        lines.append(f"On {day} May, {'Fernbahn Support' if day % 2 else name} wrote:")
        body = SUPPORT_REPLY.format(n=name) if day % 2 else " ".join(rng.sample(QUOTED[older], 3))
        lines += [f"> {body}", ">"]
    return "\n".join(lines[:-1])


def _ticket(rng: random.Random, kind: str) -> dict:
    """One ticket of slice ``kind`` ('en', 'de', 'long', 'mixed-en', 'mixed-de')."""
    if kind == "long":
        label = rng.choice(list(LONG_TOP))
        return {"text": _long(rng, label), "lang": "en", "label": label, "slice": "long", "mixed": False}
    german = kind in ("de", "mixed-de")
    mixed = kind.startswith("mixed")
    label = "refund" if mixed else rng.choice(list(EN))
    return {
        "text": _short(rng, label, german, mixed),
        "lang": "de" if german else "en",
        "label": label,
        "slice": "de" if german else "en",
        "mixed": mixed,
    }


def _traffic_kind(rng: random.Random) -> str:
    """Production mix: 12% German, 10% long threads, ~12% 'late parcel, money back'."""
    u = rng.random()
    if u < 0.10:
        return "long"
    if u < 0.20:
        return "mixed-de" if rng.random() < 0.15 else "de"
    return "mixed-en" if rng.random() < 0.14 else "en"


def _reply(model: ModuleType, version: str, text: str) -> str:
    prompt = PROMPTS[version].format(ticket=text)
    return model._route_answer("current", [{"role": "user", "content": prompt}])


def _judge(model: ModuleType, text: str, category: str) -> str:
    return model._judge_answer([{"role": "user", "content": PROMPT_JUDGE.format(ticket=text, category=category)}])


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def generate(pack_dir: Path = PACK_DIR) -> None:
    """Write the pack's data/ and hidden/ files (byte-identical on every run)."""
    rng = random.Random(SEED)
    model = _model()
    seen: set[str] = set()

    def fresh(kind: str) -> dict:
        while True:
            t = _ticket(rng, kind)
            if t["text"] not in seen:
                seen.add(t["text"])
                return t

    kinds = ["en"] * 101 + ["mixed-en"] * 16 + ["de"] * 15 + ["mixed-de"] * 3 + ["long"] * 15
    rng.shuffle(kinds)  # the production mix: 12% German, 10% long threads, 13% "parcel late, money back"
    labelled = []
    for i, kind in enumerate(kinds):
        t = fresh(kind)
        reply = _reply(model, "v1", t["text"])
        labelled.append({
            "id": f"L{i + 1:03d}", "text": t["text"], "lang": t["lang"], "label": t["label"],
            "prompt_version": "v1", "current_reply": reply, "judge_verdict": _judge(model, t["text"], reply),
        })  # fmt: skip
    logs = []
    for i in range(240):
        t = fresh(_traffic_kind(rng))
        version = "v2" if i < 90 else "v3"
        logs.append({
            "id": f"P{i + 1:04d}", "ts": f"2026-09-{1 + i // 20:02d}T{8 + i % 10:02d}:{(7 * i) % 60:02d}:00Z",
            "text": t["text"], "prompt_version": version, "reply": _reply(model, version, t["text"]),
        })  # fmt: skip
    hidden = []
    for kind, n in (("en", 60), ("mixed-en", 20), ("de", 34), ("mixed-de", 6), ("long", 40)):
        for _ in range(n):
            t = fresh(kind)
            hidden.append({"id": f"H{len(hidden) + 1:03d}", **t})

    _write_jsonl(pack_dir / "data" / "labelled.jsonl", labelled)
    _write_jsonl(pack_dir / "data" / "production_logs.jsonl", logs)
    _write_jsonl(pack_dir / "hidden" / "eval.jsonl", hidden)
    prompts = pack_dir / "data" / "prompts"
    prompts.mkdir(parents=True, exist_ok=True)
    for version, text in PROMPTS.items():
        (prompts / f"{version}.txt").write_text(text, encoding="utf-8")
    (prompts / "judge.txt").write_text(PROMPT_JUDGE, encoding="utf-8")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else PACK_DIR)
