# Runs silently at session start and after every restart: the memory store, the support desk,
# the clock and the LLM client. The grader runs this file too and builds fresh instances of
# `MemoryStore`, `SupportDesk` and `Clock` for its replay (bound as the candidate's `memory`,
# `tools` and `clock`), so every memory operation and tool call is logged where checks read it.
import json as _json
from datetime import UTC as _UTC
from datetime import datetime as _datetime
from datetime import timedelta as _timedelta

from clarify_kit import embeddings as _embeddings
from clarify_kit import llm, tokens  # noqa: F401
from clarify_kit import vectors as _vectors


class ToolError(Exception):
    """A support-desk tool refused the call (unknown order, not the customer's order, bad argument)."""


class Clock:
    """Today's date and time for the agent (UTC, ISO 8601)."""

    def __init__(self, now="2026-12-01T09:00:00Z"):
        self._now = _datetime.fromisoformat(now.replace("Z", "+00:00"))

    def now(self):
        """The current time, e.g. '2026-12-01T09:00:00Z'."""
        return self._now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def today(self):
        """The current date, e.g. '2026-12-01'."""
        return self._now.strftime("%Y-%m-%d")

    def set(self, now):
        self._now = _datetime.fromisoformat(now.replace("Z", "+00:00")).astimezone(_UTC)

    def advance(self, days=0.0):
        self._now += _timedelta(days=days)


class MemoryStore:
    """Long-term memory of the support agent (a vector index over the memories' text).

    A memory is a dict: id, customer_id ('' for team-wide records such as digests), kind
    ('message', 'fact', 'summary', 'digest' or anything you choose), text, created_at (ISO),
    conversation_id, sources (ids of the memories it was derived from).

    write(customer_id, text, conversation_id, kind="fact", sources=()) -> id
    read(customer_id, kind=None) -> list of the customer's memories, oldest first
    search(query, k=5, customer_id=None, kind=None) -> best matches first, each with a "score"
    get(memory_id) -> the memory or None
    update(memory_id, text) -> the updated memory
    delete(memory_id) -> True if it existed
    all(kind=None) -> every memory in the store, oldest first
    """

    def __init__(self, clock=None, records=()):
        self._clock = clock or Clock()
        self._records = {}
        self._index = _vectors.VectorIndex(dim=256)
        self._next = 1
        self.log = []  # (operation, customer_id argument, ids returned): read by the grader
        for r in records:
            self._put(dict(r))

    def _put(self, record):
        record.setdefault("sources", [])
        self._records[record["id"]] = record
        self._index.add([record["id"]], _embeddings.embed([record["text"]]), [{"customer_id": record["customer_id"]}])

    def _copy(self, record, score=None):
        out = dict(record, sources=list(record.get("sources") or []))
        if score is not None:
            out["score"] = round(float(score), 4)
        return out

    def write(self, customer_id, text, conversation_id, kind="fact", sources=()):
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text must be a non-empty string")
        rid = f"w-{self._next:05d}"
        self._next += 1
        record = {
            "id": rid,
            "customer_id": str(customer_id or ""),
            "kind": str(kind),
            "text": text,
            "created_at": self._clock.now(),
            "conversation_id": str(conversation_id or ""),
            "sources": [str(s) for s in (sources or ())],
        }
        self._put(record)
        self.log.append(("write", record["customer_id"], [rid]))
        return rid

    def read(self, customer_id, kind=None):
        out = [r for r in self._records.values() if r["customer_id"] == customer_id and kind in (None, r["kind"])]
        out.sort(key=lambda r: (r["created_at"], r["id"]))
        self.log.append(("read", customer_id, [r["id"] for r in out]))
        return [self._copy(r) for r in out]

    def search(self, query, k=5, customer_id=None, kind=None):
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a non-empty string")
        hits = self._index.search(_embeddings.embed([query])[0], k=max(len(self._index), 1))
        out = []
        for h in hits:
            r = self._records.get(h.id)
            if r is None or (customer_id is not None and r["customer_id"] != customer_id):
                continue
            if kind is not None and r["kind"] != kind:
                continue
            out.append(self._copy(r, h.score))
            if len(out) >= int(k):
                break
        self.log.append(("search", customer_id, [r["id"] for r in out]))
        return out

    def get(self, memory_id):
        r = self._records.get(memory_id)
        self.log.append(("get", None, [memory_id] if r else []))
        return self._copy(r) if r else None

    def update(self, memory_id, text):
        if memory_id not in self._records:
            raise KeyError(f"no memory {memory_id!r}")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text must be a non-empty string")
        record = dict(self._records[memory_id], text=text)
        self._put(record)
        self.log.append(("update", record["customer_id"], [memory_id]))
        return self._copy(record)

    def delete(self, memory_id):
        r = self._records.pop(memory_id, None)
        if r is not None:
            self._index.remove([memory_id])
        self.log.append(("delete", r["customer_id"] if r else None, [memory_id] if r else []))
        return r is not None

    def all(self, kind=None):
        out = sorted((r for r in self._records.values() if kind in (None, r["kind"])), key=lambda r: r["created_at"])
        self.log.append(("all", None, [r["id"] for r in out]))
        return [self._copy(r) for r in out]

    def __len__(self):
        return len(self._records)


class SupportDesk:
    """The support desk's tools.

    get_account(customer_id) -> {customer_id, name, email, address, plan}
    list_orders(customer_id) -> [{order_id, item, total, status}]
    get_order(order_id) -> {order_id, customer_id, item, total, status}
    refund(customer_id, order_id, amount=None) -> {refund_id, order_id, amount}  (None: in full)
    change_address(customer_id, address) -> {customer_id, address}
    Raises ToolError for an unknown customer or order, or an order of another customer.
    """

    def __init__(self, customers=()):
        self._accounts, self._orders = {}, {}
        self.log = []  # every call: (tool, args, ok): read by the grader
        for c in customers:
            self._accounts[c["customer_id"]] = {k: c[k] for k in ("customer_id", "name", "email", "address", "plan")}
            for o in c.get("orders", []):
                self._orders[o["order_id"]] = dict(o, customer_id=c["customer_id"])

    def _call(self, tool, args, fn):
        try:
            out = fn()
        except ToolError:
            self.log.append((tool, args, False))
            raise
        self.log.append((tool, args, True))
        return out

    def _account(self, customer_id):
        if customer_id not in self._accounts:
            raise ToolError(f"unknown customer {customer_id!r}")
        return self._accounts[customer_id]

    def _order(self, order_id, customer_id=None):
        o = self._orders.get(order_id)
        if o is None or (customer_id is not None and o["customer_id"] != customer_id):
            raise ToolError(f"no order {order_id!r} for this customer")
        return o

    def get_account(self, customer_id):
        return self._call("get_account", {"customer_id": customer_id}, lambda: dict(self._account(customer_id)))

    def list_orders(self, customer_id):
        def run():
            self._account(customer_id)
            return [
                {k: o[k] for k in ("order_id", "item", "total", "status")}
                for o in self._orders.values()
                if o["customer_id"] == customer_id
            ]

        return self._call("list_orders", {"customer_id": customer_id}, run)

    def get_order(self, order_id):
        return self._call("get_order", {"order_id": order_id}, lambda: dict(self._order(order_id)))

    def refund(self, customer_id, order_id, amount=None):
        def run():
            o = self._order(order_id, customer_id)
            value = o["total"] if amount is None else float(amount)
            if not 0 < value <= o["total"]:
                raise ToolError(f"amount must be between 0 and {o['total']:.2f}")
            o["status"] = "refunded"
            return {"refund_id": f"R-{len(self.log) + 1:04d}", "order_id": order_id, "amount": value}

        return self._call("refund", {"customer_id": customer_id, "order_id": order_id, "amount": amount}, run)

    def change_address(self, customer_id, address):
        def run():
            if not isinstance(address, str) or not address.strip():
                raise ToolError("address must be a non-empty string")
            self._account(customer_id)["address"] = address
            return {"customer_id": customer_id, "address": address}

        return self._call("change_address", {"customer_id": customer_id, "address": address}, run)


def _read_jsonl(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [_json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


clock = Clock()
memory = MemoryStore(clock, _read_jsonl("/data/memories.jsonl"))
tools = SupportDesk(_read_jsonl("/data/customers.jsonl"))
client = llm.SimulatedLLM(seed=11, time_scale=0.02)
