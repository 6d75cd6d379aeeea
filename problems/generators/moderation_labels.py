"""Deterministic annotation data for the ``moderation-labels`` pack.

Writes into the pack folder:

* ``data/items.csv`` - ``item_id, text``: short user posts queued for moderation labelling;
* ``data/labels.csv`` - one row per label an annotator gave: ``item_id, annotator_id, label,
  labelled_at, guideline_version, prefilled, suggested_label``;
* ``data/gold.csv`` - ``item_id, gold_label``: the gold questions, items an expert labelled that
  were mixed into every annotator's queue;
* ``hidden/truth.csv`` - every item's true label and the trap slices it belongs to (grading only).

Standard library only, fixed seed: running it twice gives byte-identical files.

    python -m problems.generators.moderation_labels [PACK_DIR]

What the data really exhibits (one line per hidden constraint of the pack):

* random-annotator - ``A07`` labels uniformly at random: about 25% agreement with the gold
  questions (chance), against 80-95% for everyone else's unaided labels.
* guideline-split - until 2026-10-05 (guideline v1) harassment and hate were one label,
  ``abuse``; v2 split it. Items labelled only under v1 have no usable harassment/hate label.
* gold-questions - 120 expert-labelled items, each labelled by 3-4 annotators, so every
  annotator's accuracy can be measured (each labelled 28 to 56 of them).
* prefill-bias - on about a third of the labels the suggestion model's label was pre-filled; the
  annotator kept it unread 80% of the time (91% of pre-filled labels equal the suggestion), and
  the model is right 60% of the time, so pre-filled labels are right about two times in three
  against 90% for the rest.
* relabel-budget - nothing in the data: the reviewers' capacity is a product constraint.
* duplicate-texts - 60 posts were reposted (2-3 copies under different item ids), each copy
  labelled on its own, so copies of one text often carry different labels.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

SEED = 140141
PACK_DIR = Path(__file__).resolve().parents[1] / "packs" / "moderation-labels"

LABELS = ("ok", "spam", "harassment", "hate", "violence")  # guideline v2, from CHANGE on
LABELS_V1 = ("ok", "spam", "abuse", "violence")  # guideline v1: harassment and hate were "abuse"
SHARE = (0.45, 0.20, 0.15, 0.10, 0.10)
START = datetime(2026, 9, 21, 8, 0)
CHANGE = datetime(2026, 10, 5, 0, 0)
DAYS = 28
N_BASE = 1410  # distinct posts
N_GOLD = 120
N_REPOSTED = 60  # posts that appear under 2-3 item ids
RANDOM_ANNOTATOR = "A07"
ANNOTATORS = {  # id: (accuracy when labelling unaided, share of the queue)
    "A01": (0.93, 1.0),
    "A02": (0.90, 1.0),
    "A03": (0.88, 1.0),
    "A04": (0.95, 0.8),
    "A05": (0.86, 1.0),
    "A06": (0.91, 1.0),
    RANDOM_ANNOTATOR: (0.0, 1.4),  # labels at random
    "A08": (0.89, 1.0),
    "A09": (0.92, 0.9),
    "A10": (0.87, 1.0),
}
PREFILL_RATE = 0.35  # share of labels shown with the model's suggestion pre-filled
SUGGESTION_ACCURACY = 0.6
KEEP_SUGGESTION = 0.8  # how often an annotator keeps a pre-filled suggestion, right or wrong
# The mistakes people (and the suggestion model) make: the label most confused with each one.
CONFUSED = {"ok": "spam", "spam": "ok", "harassment": "hate", "hate": "harassment", "violence": "harassment"}

_USERS = ["dan_k", "mia", "tomr", "jess88", "the_real_sam", "kat", "omar_b", "lily", "ben", "zoe_p", "raj", "nina"]
_THINGS = [
    "new cafe",
    "match",
    "concert",
    "park run",
    "bike lane",
    "library",
    "market",
    "film",
    "food festival",
    "bakery",
    "quiz night",
    "pool",
]
_GROUPS = ["newcomers", "northerners", "cyclists", "tourists", "students", "gamers", "renters", "vegans"]
_TEMPLATES = {
    "ok": [
        "loved the {thing} today, thanks for sharing",
        "does anyone know when the {thing} opens?",
        "great {thing}, see you all next week",
        "the {thing} was busy but worth it",
        "can someone recommend a good {thing} nearby?",
        "happy birthday {user}! enjoy the {thing}",
        "not sure about the {thing}, the old one was better",
        "who else is going to the {thing} on {day}?",
    ],
    "spam": [
        "win a free {prize} now, click {link}",
        "cheap {prize} for sale, dm me {link}",
        "earn {n} a day from home, details at {link}",
        "limited offer: {prize} 90% off {link}",
        "follow {link} for free {prize} giveaways",
        "crypto tip: {n} profit guaranteed {link}",
    ],
    "harassment": [
        "@{user} you are pathetic, just log off",
        "nobody likes you @{user}, stop posting",
        "@{user} shut up, you embarrass yourself every {day}",
        "@{user} everyone laughs at you behind your back",
        "you again @{user}? delete your account",
        "@{user} you are the worst person on this {thing} thread",
    ],
    "hate": [
        "{group} are ruining this town, keep them out",
        "all {group} are the same, they don't belong here",
        "get rid of the {group}, this place was better without them",
        "{group} should go back where they came from",
        "never trust {group}, every single one of them",
    ],
    "violence": [
        "someone should smash up the {thing} on {day}",
        "bring bats to the {thing} on {day}, we settle it there",
        "i will hurt the next person who parks at the {thing}",
        "let's burn the {thing} down {day} night",
        "going to beat whoever runs the {thing}",
    ],
}
_DAYS = ["monday", "tuesday", "friday", "saturday", "sunday"]
_OPENERS = ["", "", "", "lol ", "honestly ", "ok so ", "wow ", "ugh ", "fyi ", "seriously "]
_CLOSERS = ["", "", "", "!", " :)", " tbh", "...", " #local", " !!", " imo"]
_PRIZES = ["iphone", "gift card", "laptop", "watch", "holiday"]
_LINKS = ["bit.ly/x{n}", "tinyurl.com/q{n}", "win-now.biz/{n}", "deals{n}.shop"]


def _text(rng: random.Random, label: str) -> str:
    template = rng.choice(_TEMPLATES[label])
    n = rng.randint(10, 999)
    text = template.format(
        user=rng.choice(_USERS),
        thing=rng.choice(_THINGS),
        group=rng.choice(_GROUPS),
        day=rng.choice(_DAYS),
        prize=rng.choice(_PRIZES),
        link=rng.choice(_LINKS).format(n=n),
        n=f"${n}",
    )
    return rng.choice(_OPENERS) + text + rng.choice(_CLOSERS)


def _as_of(label: str, when: datetime) -> str:
    """The label as the guideline in force at ``when`` names it."""
    if when < CHANGE and label in ("harassment", "hate"):
        return "abuse"
    return label


def _wrong(rng: random.Random, truth: str) -> str:
    """A plausible mistake: mostly the label most confused with the truth."""
    if rng.random() < 0.7:
        return CONFUSED[truth]
    return rng.choice([lab for lab in LABELS if lab != truth])


def _annotate(rng: random.Random, annotator: str, truth: str, when: datetime) -> tuple[str, int, str]:
    """One label: (label, prefilled, suggested_label), in the vocabulary of the guideline at ``when``."""
    version_labels = LABELS_V1 if when < CHANGE else LABELS
    if annotator == RANDOM_ANNOTATOR:
        return rng.choice(version_labels), 0, ""
    accuracy = ANNOTATORS[annotator][0]
    prefilled = rng.random() < PREFILL_RATE
    suggestion = truth if rng.random() < SUGGESTION_ACCURACY else _wrong(rng, truth)
    if prefilled and rng.random() < KEEP_SUGGESTION:
        label = suggestion
    else:
        label = truth if rng.random() < accuracy else _wrong(rng, truth)
    if not prefilled:
        return _as_of(label, when), 0, ""
    return _as_of(label, when), 1, _as_of(suggestion, when)


def generate(rng: random.Random) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """Items, labels, gold questions and the hidden truth."""
    texts: list[tuple[str, str]] = []  # (text, truth), distinct texts
    seen: set[str] = set()
    while len(texts) < N_BASE:
        truth = rng.choices(LABELS, weights=SHARE)[0]
        text = _text(rng, truth)
        if text not in seen:
            seen.add(text)
            texts.append((text, truth))
    reposted = set(rng.sample(range(N_GOLD, N_BASE), N_REPOSTED))  # gold items are never reposted
    posts = list(range(N_BASE)) + [i for i in sorted(reposted) for _ in range(rng.choice((1, 1, 2)))]
    rng.shuffle(posts)  # reposts and gold questions land anywhere in the queue
    annotators = list(ANNOTATORS)
    queue_weights = [ANNOTATORS[a][1] for a in annotators]

    items, labels, gold, truth_rows = [], [], [], []
    for n, base in enumerate(posts):
        text, truth = texts[base]
        item_id = f"m{n + 1:04d}"
        items.append({"item_id": item_id, "text": text})
        is_gold = base < N_GOLD
        if is_gold:
            gold.append({"item_id": item_id, "gold_label": truth})
        k = rng.choice((3, 4)) if is_gold else rng.choices((1, 2, 3), weights=(0.12, 0.68, 0.20))[0]
        who: list[str] = []
        while len(who) < k:
            a = rng.choices(annotators, weights=queue_weights)[0]
            if a not in who:
                who.append(a)
        day = START + timedelta(days=rng.uniform(0, DAYS - 1))
        item_labels = []
        for a in who:
            when = day + timedelta(minutes=rng.randint(0, 3 * 24 * 60))
            when = when.replace(second=0, microsecond=0)
            label, prefilled, suggested = _annotate(rng, a, truth, when)
            item_labels.append(
                {
                    "item_id": item_id,
                    "annotator_id": a,
                    "label": label,
                    "labelled_at": when.strftime("%Y-%m-%d %H:%M"),
                    "guideline_version": "v1" if when < CHANGE else "v2",
                    "prefilled": prefilled,
                    "suggested_label": suggested,
                }
            )
        labels.extend(item_labels)
        truth_rows.append(
            {
                "item_id": item_id,
                "true_label": truth,
                "gold": int(is_gold),
                "dup_group": f"d{base:04d}" if base in reposted else "",
                "random_slice": int(
                    any(r["annotator_id"] == RANDOM_ANNOTATOR and r["label"] != truth for r in item_labels)
                ),
                "guideline_slice": int(
                    truth in ("harassment", "hate") and any(r["label"] == "abuse" for r in item_labels)
                ),
                "prefill_slice": int(any(r["prefilled"] and r["suggested_label"] != truth for r in item_labels)),
            }
        )
    labels.sort(key=lambda r: (r["labelled_at"], r["item_id"], r["annotator_id"]))
    gold.sort(key=lambda r: r["item_id"])
    return items, labels, gold, truth_rows


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write(pack: Path = PACK_DIR) -> None:
    """Write every generated file into ``pack``."""
    items, labels, gold, truth = generate(random.Random(SEED))
    (pack / "data").mkdir(parents=True, exist_ok=True)
    (pack / "hidden").mkdir(parents=True, exist_ok=True)
    (pack / "data" / "items.csv").write_text(_csv(items), encoding="utf-8")
    (pack / "data" / "labels.csv").write_text(_csv(labels), encoding="utf-8")
    (pack / "data" / "gold.csv").write_text(_csv(gold), encoding="utf-8")
    (pack / "hidden" / "truth.csv").write_text(_csv(truth), encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else PACK_DIR)
