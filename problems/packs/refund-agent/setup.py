# Runs silently at session start and after every restart: the shop's tool environment.
# `ShopEnv` has the same interface as clarify_kit's `tools.ToolEnv` (call, tools, log) and raises
# the kit's exceptions; the shop itself is fixed, so every ShopEnv starts from the same state.
import json as _json
import random as _random
import time as _time
from dataclasses import dataclass as _dataclass
from datetime import UTC as _UTC
from datetime import datetime as _dt
from datetime import timedelta as _td

try:
    from clarify_kit import llm, tools
except ImportError:  # outside the kernel image (data generation): local stand-ins
    import types as _types

    class _LocalToolError(Exception):
        def __init__(self, message, *, retryable=False):
            super().__init__(message)
            self.retryable = retryable

    class _LocalToolTimeout(_LocalToolError):
        def __init__(self, message):
            super().__init__(message, retryable=True)

    tools = _types.SimpleNamespace(
        ToolError=_LocalToolError,
        ToolTimeout=_LocalToolTimeout,
        StepLimitExceeded=type("StepLimitExceeded", (Exception,), {}),
        ToolResult=None,
    )
    llm = None

_ToolError, _ToolTimeout, _StepLimit = tools.ToolError, tools.ToolTimeout, tools.StepLimitExceeded
_SHOP_NOW = _dt(2026, 3, 2, 12, 0, tzinfo=_UTC)


def _iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _build_shop():
    rng = _random.Random(20260302)
    words = [
        "desk",
        "lamp",
        "kettle",
        "blender",
        "headphones",
        "backpack",
        "jacket",
        "boots",
        "monitor",
        "keyboard",
        "mouse",
        "chair",
    ]
    kinds = ["classic", "pro", "mini", "travel", "smart", "studio", "outdoor", "compact"]
    catalog = []
    for i in range(36):
        name = f"{rng.choice(kinds).title()} {rng.choice(words)}"
        catalog.append((f"SKU-{3100 + i}", name, round(rng.uniform(9, 189), 2)))
    firsts = [
        "ana",
        "ben",
        "chloe",
        "dev",
        "elif",
        "farah",
        "gus",
        "hana",
        "ivan",
        "jade",
        "kofi",
        "lena",
        "milo",
        "nia",
        "omar",
        "priya",
        "quinn",
        "rosa",
        "sam",
        "tomas",
    ]
    lasts = [
        "ng",
        "okafor",
        "silva",
        "berg",
        "kowalski",
        "haddad",
        "ito",
        "moreau",
        "dube",
        "larsen",
        "reyes",
        "patel",
        "novak",
        "fischer",
        "kim",
    ]
    orders, used = {}, set()
    for c in range(120):
        cid = f"C-{1001 + c}"
        email = f"{rng.choice(firsts)}.{rng.choice(lasts)}{c % 9 or ''}@example.com"
        n = rng.randint(24, 36) if c % 17 == 7 else rng.choice([1, 1, 2, 2, 3, 4])
        for _ in range(n):
            oid = f"O-{rng.randint(50000, 99999)}"
            while oid in used:
                oid = f"O-{rng.randint(50000, 99999)}"
            used.add(oid)
            items = [
                {"sku": s, "name": nm, "qty": q, "unit_price": p}
                for (s, nm, p), q in zip(
                    rng.sample(catalog, rng.choice([1, 1, 2, 3])), [rng.choice([1, 1, 1, 2])] * 3, strict=False
                )
            ]
            total = round(sum(i["qty"] * i["unit_price"] for i in items), 2)
            placed = _SHOP_NOW - _td(days=rng.uniform(4, 110), minutes=rng.randint(0, 1440))
            delivered = placed + _td(days=rng.uniform(1.5, 4.5))
            refunds = []
            if rng.random() < 0.1:
                ago = _td(hours=rng.uniform(0.4, 3)) if rng.random() < 0.35 else _td(days=rng.uniform(0.5, 3))
                at = max(_SHOP_NOW - ago, delivered + _td(hours=2))
                refunds.append(
                    {"refund_id": f"rf_{rng.randrange(16**10):010x}", "amount": total, "created_at": _iso(at)}
                )
            orders[oid] = {
                "order_id": oid,
                "customer_id": cid,
                "customer_email": email,
                "status": "delivered",
                "placed_at": _iso(placed),
                "delivered_at": _iso(delivered),
                "items": items,
                "total": total,
                "currency": "USD",
                "refunds": refunds,
                "refunded_total": round(sum(r["amount"] for r in refunds), 2),
            }
    stock = {s: rng.randint(0, 80) for s, _, _ in catalog}
    return orders, stock


_SHOP_ORDERS, _SHOP_STOCK = _build_shop()
_SHOP_KB = [
    (
        "KB-101",
        "Refunds: overview",
        "Customers can ask for a refund on delivered orders. Refunds go back to the "
        "original payment method. Larger or late refunds are subject to approval, see the finance approvals matrix.",
    ),
    (
        "KB-102",
        "Refund emails",
        "Confirm the outcome to the customer by email from support@shop.example. Be brief "
        "and never promise a refund before it has been issued.",
    ),
    ("KB-103", "Payments API", "Refunds are paid out to the card immediately and cannot be reversed."),
    ("KB-104", "Shipping times", "Standard shipping takes 2 to 5 business days; express ships next day."),
    ("KB-105", "Damaged items", "Customers do not need to return damaged items under $50."),
    (
        "KB-106",
        "Escalations",
        "Escalated requests go to the support leads' queue and are answered within one business day.",
    ),
    ("KB-107", "Order lookups", "Orders can be looked up by id or listed per customer."),
    ("KB-108", "Account security", "Only email the address on the customer's account."),
]


class _RunawayAgent(BaseException):
    """Stops an agent that keeps calling tools long after the step limit."""


@_dataclass(frozen=True)
class _LocalToolResult:
    ok: bool
    value: object
    latency_ms: float
    step: int


ToolResult = getattr(tools, "ToolResult", None) or _LocalToolResult


_SHOP_TOOLS = [
    {"name": "get_order", "description": "Look up one order by id. `as_of` is when the record was read.",
     "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}},
    {"name": "list_orders", "description": "Summaries of a customer's orders.",
     "parameters": {"type": "object", "properties": {"customer_id": {"type": "string"}}, "required": ["customer_id"]}},
    {"name": "get_inventory", "description": "Stock on hand for a SKU.",
     "parameters": {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}},
    {"name": "refund", "description": "Pay `amount` (USD) back to the order's card. `idempotency_key` (optional): "
     "repeated calls with the same key are paid once.",
     "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"},
                    "idempotency_key": {"type": "string"}}, "required": ["order_id", "amount"]}},
    {"name": "send_email", "description": "Send an email to a customer. `idempotency_key` as for refund.",
     "parameters": {"type": "object", "properties": {"to": {"type": "string"}, "subject": {"type": "string"},
                    "body": {"type": "string"}, "idempotency_key": {"type": "string"}},
                    "required": ["to", "subject", "body"]}},
    {"name": "search_kb", "description": "Search the support knowledge base.",
     "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}},
]  # fmt: skip


class ShopEnv:
    """The shop's tools. `env.call(name, **args) -> ToolResult`; `env.tools()`; `env.log`."""

    def __init__(self, seed=0, *, failure_rate=0.1, timeout_rate=0.05, stale_rate=0.1, max_steps=20, time_scale=1.0):
        self.seed, self.failure_rate, self.timeout_rate = seed, failure_rate, timeout_rate
        self.stale_rate, self.max_steps, self.time_scale = stale_rate, max_steps, time_scale
        self.steps, self.log = 0, []
        self._clock, self._changed, self._keys = _SHOP_NOW, {}, {}
        self._payments, self._emails = [], []

    def tools(self):
        return _json.loads(_json.dumps(_SHOP_TOOLS))

    def _order(self, oid):
        return self._changed.get(oid) or _SHOP_ORDERS.get(oid)

    def _read(self, oid, rng):
        cur = self._order(oid)
        if rng.random() >= self.stale_rate:
            return dict(_json.loads(_json.dumps(cur)), as_of=_iso(self._clock))
        old = dict(cur, refunds=[], refunded_total=0.0) if cur["refunds"] else cur  # the cache before the refund
        first = min((r["created_at"] for r in cur["refunds"]), default=None)
        t = _dt.fromisoformat(first.replace("Z", "+00:00")) if first else self._clock
        return dict(_json.loads(_json.dumps(old)), as_of=_iso(t - _td(hours=rng.uniform(1, 6))))

    def call(self, name, **args):
        entry = {"step": self.steps + 1, "tool": name, "args": dict(args), "at": _iso(self._clock)}
        if self.steps >= self.max_steps:
            self.log.append(dict(entry, step=self.steps, outcome="step_limit"))
            if self.steps >= self.max_steps + 200:
                raise _RunawayAgent(f"{self.steps} tool calls: the agent does not stop at the step limit")
            self.steps += 1
            raise _StepLimit(f"step limit of {self.max_steps} tool calls reached")
        self.steps += 1
        rng = _random.Random(f"{self.seed}|{self.steps}|{name}")
        latency = rng.uniform(40, 400)
        spec = next((t for t in _SHOP_TOOLS if t["name"] == name), None)
        try:
            if spec is None:
                raise _ToolError(f"400 unknown tool {name!r}", retryable=False)
            props, req = spec["parameters"]["properties"], spec["parameters"]["required"]
            bad = [k for k in args if k not in props] + [k for k in req if k not in args]
            if bad:
                raise _ToolError(f"400 bad arguments for {name}: {', '.join(bad)}", retryable=False)
            u = rng.random()
            if u < self.failure_rate:
                raise _ToolError(f"503 {name} unavailable, try again", retryable=True)
            if u < self.failure_rate + self.timeout_rate:
                latency = 5000.0
                if name in ("refund", "send_email") and rng.random() < 0.6:
                    self._do(name, args)  # the request went through; only the response was lost
                raise _ToolTimeout(f"{name} timed out after 5.0 s")
            ok, value = self._do(name, args, rng)
        except Exception as exc:
            entry["outcome"] = "timeout" if isinstance(exc, _ToolTimeout) else "error"
            entry["error"] = str(exc)
            self._tick(latency, entry)
            raise
        entry["outcome"] = "ok" if ok else "not_found"
        self._tick(latency, entry)
        return ToolResult(ok, value, round(latency, 1), self.steps)

    def _tick(self, latency, entry):
        self.log.append(entry)
        self._clock += _td(milliseconds=latency)
        if self.time_scale:
            _time.sleep(latency / 1000 * self.time_scale)

    def _do(self, name, args, rng=None):
        rng = rng or _random.Random(f"{self.seed}|{self.steps}|commit")
        if name in ("get_order", "refund") and self._order(str(args["order_id"])) is None:
            return False, {"error": "not_found", "message": f"no order {args['order_id']!r}"}
        if name == "get_order":
            return True, self._read(str(args["order_id"]), rng)
        if name == "list_orders":
            mine = [o for o in _SHOP_ORDERS if _SHOP_ORDERS[o]["customer_id"] == args["customer_id"]]
            keep = ("order_id", "placed_at", "delivered_at", "status", "total", "refunded_total", "as_of")
            return True, [{k: v for k, v in self._read(o, rng).items() if k in keep} for o in mine]
        if name == "get_inventory":
            if args["sku"] not in _SHOP_STOCK:
                return False, {"error": "not_found", "message": f"no sku {args['sku']!r}"}
            stale = rng.random() < self.stale_rate
            on_hand = max(0, _SHOP_STOCK[args["sku"]] + (rng.randint(-5, 5) if stale else 0))
            t = self._clock - _td(hours=rng.uniform(1, 6)) if stale else self._clock
            return True, {"sku": args["sku"], "on_hand": on_hand, "as_of": _iso(t)}
        if name == "search_kb":
            q = set(str(args["query"]).lower().split())
            ranked = sorted(_SHOP_KB, key=lambda a: -len(q & set((a[1] + " " + a[2]).lower().split())))
            return True, [{"id": i, "title": t, "text": x} for i, t, x in ranked[:3]]
        key = args.get("idempotency_key")
        if key is not None and (name, key) in self._keys:
            return True, self._keys[(name, key)]
        if name == "refund":
            amount = args["amount"]
            order = self._order(args["order_id"])
            if not isinstance(amount, (int, float)) or not 0 < amount <= order["total"] + 1e-9:
                raise _ToolError(
                    f"400 invalid refund amount {amount!r} for order total {order['total']}", retryable=False
                )
            order = _json.loads(_json.dumps(order))
            rid = f"rf_{rng.randrange(16**10):010x}"
            order["refunds"].append(
                {"refund_id": rid, "amount": round(float(amount), 2), "created_at": _iso(self._clock)}
            )
            order["refunded_total"] = round(order["refunded_total"] + float(amount), 2)
            self._changed[order["order_id"]] = order
            self._payments.append({"order_id": order["order_id"], "amount": round(float(amount), 2), "refund_id": rid})
            value = {
                "refund_id": rid,
                "order_id": order["order_id"],
                "amount": round(float(amount), 2),
                "status": "succeeded",
            }
        else:
            if "@" not in str(args["to"]):
                raise _ToolError(f"400 invalid recipient {args['to']!r}", retryable=False)
            mid = f"msg_{rng.randrange(16**10):010x}"
            self._emails.append({"to": args["to"], "subject": args["subject"], "body": args["body"], "message_id": mid})
            value = {"message_id": mid, "status": "queued"}
        if key is not None:
            self._keys[(name, key)] = value
        return True, value


def _load_sample_requests():
    try:
        with open("/data/requests_sample.jsonl") as f:
            return [_json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


sample_requests = _load_sample_requests()
env = ShopEnv(seed=0)
llm_client = llm.SimulatedLLM(seed=0) if llm is not None else None
