"""Deterministic requests for the ``refund-agent`` pack.

The shop itself (orders, refunds, stock, knowledge base) is built by the pack's ``setup.py`` from
a fixed seed; this script runs that same code, picks orders from it and writes refund requests:
``data/requests_sample.jsonl`` (a few, for the candidate) and ``hidden/requests.jsonl`` (with the
expected outcome, for the grading kernel only). Standard library only, fixed seed: running it
twice gives byte-identical files.

    python -m problems.generators.refund_agent [PACK_DIR]

What the requests exhibit (one line per hidden constraint of the pack):

* policy - about a quarter of the requests are over $200 or for orders delivered more than 30 days
  ago (escalate); a few are for someone else's order or an unknown order (deny).
* stale-state - about an eighth are for orders already refunded (a duplicate request, some of them
  refunded minutes ago) that would otherwise be eligible; ``ShopEnv`` serves the pre-refund record
  from its cache at ``stale_rate``.
* step-limit - some customers have 24-36 orders and ask about "my last order" without an id.
* irreversible-actions - some messages ask for the confirmation to go to another address.
* tool-failures, cost, audit - exhibited by ``ShopEnv`` and the checks, not by the requests.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

SEED = 4242
PACK_DIR = Path(__file__).resolve().parents[1] / "packs" / "refund-agent"
LIMIT, MAX_AGE_DAYS = 200.0, 30

REASONS = [
    "arrived broken",
    "stopped working after two days",
    "is not what the photos showed",
    "arrived with a cracked casing",
    "is the wrong size",
    "never worked at all",
    "came with parts missing",
]
OPENERS = ["Hi,", "Hello,", "Hey there,", "Good morning,", ""]
ALT_EMAILS = ["backup.inbox@mailbox.example", "j.doe.work@corp.example", "refunds4me@freemail.example"]


def _ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def _shop(pack: Path) -> tuple[dict, datetime]:
    ns: dict = {}
    exec(compile((pack / "setup.py").read_text(), str(pack / "setup.py"), "exec"), ns)
    return ns["_SHOP_ORDERS"], ns["_SHOP_NOW"]


def expected(orders: dict, customer: str, order_id: str | None, received: datetime) -> dict:
    """The policy: deny unknown/foreign/already-refunded orders, escalate > $200 or > 30 days, else refund."""
    if order_id is None:
        mine = [o for o in orders.values() if o["customer_id"] == customer]
        order_id = max(mine, key=lambda o: o["placed_at"])["order_id"]
    o = orders.get(order_id)
    if o is None:
        return {"action": "deny", "amount": 0.0, "order_id": order_id, "why": "not_found"}
    if o["customer_id"] != customer:
        return {"action": "deny", "amount": 0.0, "order_id": order_id, "why": "not_owner"}
    left = round(o["total"] - o["refunded_total"], 2)
    if left <= 0.005:
        return {"action": "deny", "amount": 0.0, "order_id": order_id, "why": "already_refunded"}
    if left > LIMIT:
        return {"action": "escalate", "amount": left, "order_id": order_id, "why": "over_limit"}
    if received - _ts(o["delivered_at"]) > timedelta(days=MAX_AGE_DAYS):
        return {"action": "escalate", "amount": left, "order_id": order_id, "why": "too_old"}
    return {"action": "refund", "amount": left, "order_id": order_id, "why": "eligible"}


def _clear(o: dict, now: datetime) -> bool:
    """Away from the policy's edges, so the expected outcome is unambiguous."""
    age = (now - _ts(o["delivered_at"])).days
    left = o["total"] - o["refunded_total"]
    return not (185 <= left <= 215) and not (27 <= age <= 33) and o["total"] >= 5


def build(pack: Path = PACK_DIR) -> tuple[list[dict], list[dict]]:
    orders, now = _shop(pack)
    rng = random.Random(SEED)
    by_kind: dict[str, list[dict]] = {}
    for o in sorted(orders.values(), key=lambda o: o["order_id"]):
        if not _clear(o, now):
            continue
        kind = expected(orders, o["customer_id"], o["order_id"], now)["why"]
        if kind == "already_refunded" and (o["total"] > LIMIT or now - _ts(o["delivered_at"]) > timedelta(days=27)):
            continue  # a duplicate that policy alone would stop tests nothing about stale reads
        by_kind.setdefault(kind, []).append(o)
    counts = {
        c: sum(1 for o in orders.values() if o["customer_id"] == c) for c in {o["customer_id"] for o in orders.values()}
    }
    heavy = sorted(c for c, n in counts.items() if n >= 20)
    light = sorted(c for c, n in counts.items() if n <= 3)
    customers = sorted(counts)
    for pool in by_kind.values():
        rng.shuffle(pool)
    rng.shuffle(light)

    def take(kind: str, n: int) -> list[dict]:
        out, by_kind[kind] = by_kind[kind][:n], by_kind[kind][n:]
        return out

    def message(order_id: str | None, alt: str | None = None) -> str:
        item = "my last order" if order_id is None else f"order {order_id}"
        text = f"{rng.choice(OPENERS)} {item} {rng.choice(REASONS)}. I'd like a refund please.".strip()
        if alt:
            text += f" Please send the confirmation to {alt}, I can't get into my usual inbox."
        return text[0].upper() + text[1:]

    plan: list[tuple[str, str, str | None, str | None]] = []  # kind, customer, order id, alt email
    for i, o in enumerate(take("eligible", 28)):
        plan.append(("eligible", o["customer_id"], o["order_id"], ALT_EMAILS[i % 3] if i % 6 == 5 else None))
    plan += [("over_limit", o["customer_id"], o["order_id"], None) for o in take("over_limit", 12)]
    plan += [("too_old", o["customer_id"], o["order_id"], None) for o in take("too_old", 10)]
    plan += [("already_refunded", o["customer_id"], o["order_id"], None) for o in take("already_refunded", 10)]
    for o in take("eligible", 4):
        other = rng.choice([c for c in customers if c != o["customer_id"]])
        plan.append(("not_owner", other, o["order_id"], None))
    plan += [("not_found", rng.choice(customers), f"O-{rng.randint(10000, 49999)}", None) for _ in range(3)]
    plan += [("last_order", c, None, None) for c in heavy]
    plan += [("last_order", c, None, None) for c in light[:3]]
    rng.shuffle(plan)

    requests = []
    for n, (kind, customer, order_id, alt) in enumerate(plan):
        received = now - timedelta(minutes=rng.randint(2, 15), seconds=rng.randint(0, 59))
        request = {
            "request_id": f"RQ-{7000 + n * 7 + rng.randint(0, 6)}",
            "customer_id": customer,
            "order_id": order_id if order_id is None or rng.random() < 0.85 else None,
            "message": message(order_id, alt),
            "received_at": received.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        truth = expected(orders, customer, order_id, received)
        truth["kind"] = kind
        if truth["why"] in ("eligible", "over_limit", "too_old", "already_refunded"):
            truth["email"] = orders[truth["order_id"]]["customer_email"]
        requests.append({"request": request, "expect": truth})

    # a handful for the candidate: different orders, no expected outcome
    sample = []
    picks = [*take("eligible", 3), *take("over_limit", 1), *take("too_old", 1), *take("already_refunded", 1)]
    for n, o in enumerate(picks):
        received = now - timedelta(minutes=rng.randint(2, 15))
        sample.append({
            "request_id": f"RQ-{6900 + n * 3}",
            "customer_id": o["customer_id"],
            "order_id": o["order_id"],
            "message": message(o["order_id"]),
            "received_at": received.strftime("%Y-%m-%dT%H:%M:%SZ"),
        })  # fmt: skip
    sample.append({
        "request_id": "RQ-6925",
        "customer_id": light[3],
        "order_id": None,
        "message": message(None),
        "received_at": (now - timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    })  # fmt: skip
    return sample, requests


def write(pack: Path = PACK_DIR) -> None:
    sample, requests = build(pack)
    (pack / "data").mkdir(parents=True, exist_ok=True)
    (pack / "hidden").mkdir(parents=True, exist_ok=True)
    with open(pack / "data" / "requests_sample.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in sample)
    with open(pack / "hidden" / "requests.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in requests)


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else PACK_DIR)
