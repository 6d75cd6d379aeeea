"""A simulated tool environment for agent problems: a small shop behind unreliable tools.

:class:`ToolEnv` holds a shop (customers, orders, inventory and a knowledge base) generated
from the seed, and exposes six tools through :meth:`ToolEnv.call`. Like real tools they are
slow, sometimes fail, sometimes time out, and ``get_inventory`` can serve a stale cached value.
Every call is logged, and :meth:`ToolEnv.state` gives the ground truth that checks compare to.

Example::

    >>> from clarify_kit import tools
    >>> env = tools.ToolEnv(seed=0, failure_rate=0, timeout_rate=0, stale_rate=0, time_scale=0)
    >>> [t["name"] for t in env.tools()]
    ['get_order', 'list_orders', 'get_inventory', 'refund', 'send_email', 'search_kb']
    >>> order = env.call("get_order", order_id="ORD-1001").value
    >>> order["order_id"], order["status"] in ("processing", "shipped", "delivered")
    ('ORD-1001', True)
    >>> env.call("refund", order_id="ORD-1001", amount=5).ok
    True
    >>> len(env.log), env.steps
    (2, 2)

Outcomes of a call:

* Success returns a :class:`ToolResult` with ``ok=True`` and the ``value``.
* A business-level refusal (unknown order, customer or SKU; a refund larger than what is left
  to refund) returns ``ok=False`` with ``value={"error": "..."}``; nothing changes.
* Bad arguments (unknown tool, missing, unexpected or mistyped parameters) raise
  :class:`ToolError` with ``retryable=False``.
* At ``failure_rate`` a call fails transiently (:class:`ToolError`, ``retryable=True``) and at
  ``timeout_rate`` it times out (:class:`ToolTimeout`, after ``TOOL_TIMEOUT_S`` simulated
  seconds); in both cases nothing changes, so retrying is safe.
* After ``max_steps`` calls every further call raises :class:`StepLimitExceeded`.

Every call, whatever the outcome, consumes a step except the ones refused for the step limit.

Stale reads: the shop has a clock (ISO-8601 UTC strings, starting 2025-01-06T09:00:00.000Z,
advancing by each call's latency). A full refund restocks the order's items. ``get_inventory``
returns ``{"sku", "name", "stock", "as_of"}``; at ``stale_rate`` it returns the value cached
before the SKU's last change instead, flagged only by an ``as_of`` older than that change
(compare it with the ``at`` of your refund).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import math
import random
import re
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["TOOL_TIMEOUT_S", "StepLimitExceeded", "ToolEnv", "ToolError", "ToolResult", "ToolTimeout"]

TOOL_TIMEOUT_S = 5.0
"""Simulated seconds a timed-out tool call hangs before :class:`ToolTimeout` is raised."""
LATENCY_MS = (40.0, 400.0)
"""5th and 95th percentiles of a tool call's log-normal latency."""
_EPOCH = dt.datetime(2025, 1, 6, 9, 0, 0, tzinfo=dt.UTC)


class ToolError(Exception):
    """A tool call failed. ``retryable`` is True for transient failures, False for bad arguments."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ToolTimeout(ToolError, TimeoutError):
    """A tool call timed out (nothing happened; retryable). Also a ``ToolError`` and a ``TimeoutError``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class StepLimitExceeded(Exception):
    """The agent used up ``max_steps`` tool calls; no further call is executed."""


@dataclass(frozen=True)
class ToolResult:
    """The result of :meth:`ToolEnv.call`: ``ok``, ``value``, simulated ``latency_ms`` and the ``step`` number."""

    ok: bool
    value: Any
    latency_ms: float
    step: int


_TOOLS: list[dict[str, Any]] = [
    {
        "name": "get_order",
        "description": "Look up an order by id: customer, items, total, status and amount refunded so far.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string", "description": "e.g. 'ORD-1001'"}},
            "required": ["order_id"],
        },
    },
    {
        "name": "list_orders",
        "description": "List a customer's orders (id, date, total, status), oldest first.",
        "parameters": {
            "type": "object",
            "properties": {"customer_id": {"type": "string", "description": "e.g. 'CUST-01'"}},
            "required": ["customer_id"],
        },
    },
    {
        "name": "get_inventory",
        "description": "Stock level of a product (may be served from a cache; see 'as_of').",
        "parameters": {
            "type": "object",
            "properties": {"sku": {"type": "string", "description": "e.g. 'SKU-101'"}},
            "required": ["sku"],
        },
    },
    {
        "name": "refund",
        "description": "Refund part or all of an order. A full refund restocks the order's items.",
        "parameters": {
            "type": "object",
            "properties": {
                "order_id": {"type": "string"},
                "amount": {"type": "number", "description": "USD, > 0 and at most the amount not yet refunded"},
            },
            "required": ["order_id", "amount"],
        },
    },
    {
        "name": "send_email",
        "description": "Send an email to a customer.",
        "parameters": {
            "type": "object",
            "properties": {
                "to": {"type": "string", "description": "an email address"},
                "subject": {"type": "string"},
                "body": {"type": "string"},
            },
            "required": ["to", "subject", "body"],
        },
    },
    {
        "name": "search_kb",
        "description": "Search the support knowledge base; returns up to 3 articles, best first.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
        },
    },
]

_FIRST = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jonas"]
_LAST = ["Silva", "Okafor", "Martin", "Patel", "Yilmaz", "Adeyemi", "Berg", "Tanaka", "Costa", "Weber"]
_PRODUCTS = [
    ("SKU-101", "X200 Blender", 89.0),
    ("SKU-102", "Chef Knife 20cm", 45.5),
    ("SKU-103", "Cast Iron Pan", 39.99),
    ("SKU-104", "Espresso Machine", 249.0),
    ("SKU-105", "Kettle", 29.95),
    ("SKU-106", "Toaster Z9", 54.0),
    ("SKU-107", "Cutting Board", 19.5),
    ("SKU-108", "Stand Mixer", 319.0),
]
_KB = [
    ("KB-1", "Refund policy", "Orders can be refunded within 30 days of delivery. Refunds over $200 need a manager."),
    ("KB-2", "Damaged items", "If an item arrives damaged, refund it in full and apologise; no return is needed."),
    ("KB-3", "Shipping times", "Orders ship within 2 business days; delivery takes 3 to 5 business days."),
    ("KB-4", "Partial refunds", "A partial refund may be offered for late deliveries: 10% of the order total."),
    ("KB-5", "Warranty", "Appliances carry a two-year warranty covering manufacturing defects."),
    ("KB-6", "Out of stock", "If an item is out of stock, offer a refund or a back-order; never promise a date."),
    ("KB-7", "Contacting customers", "Email the customer after every refund, stating the amount refunded."),
    ("KB-8", "Order status", "Processing orders can be cancelled with a full refund; shipped orders cannot."),
]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _rng(*parts: Any) -> random.Random:
    h = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(h[:8], "big"))


def _iso(seconds: float) -> str:
    t = _EPOCH + dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class ToolEnv:
    """A shop behind six unreliable tools (see the module documentation for the rules).

    Args:
        seed: seeds the shop's data and every random draw; the same seed and calls replay exactly.
        failure_rate: probability a call fails transiently (:class:`ToolError`, retryable).
        timeout_rate: probability a call times out (:class:`ToolTimeout`).
        stale_rate: probability ``get_inventory`` serves the value cached before the last change.
        max_steps: calls allowed before :class:`StepLimitExceeded`.
        time_scale: real seconds slept per simulated second (``0``: never sleep).

    Attributes:
        log: one dict per call, in order: ``step``, ``tool``, ``args``, ``outcome`` (``"ok"``,
            ``"refused"``, ``"error"``, ``"failure"``, ``"timeout"`` or ``"step_limit"``),
            ``value`` or ``error``, ``latency_ms`` and ``at`` (the shop clock).
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        failure_rate: float = 0.1,
        timeout_rate: float = 0.05,
        stale_rate: float = 0.1,
        max_steps: int = 20,
        time_scale: float = 1.0,
    ) -> None:
        self.seed = seed
        self.failure_rate = failure_rate
        self.timeout_rate = timeout_rate
        self.stale_rate = stale_rate
        self.max_steps = max_steps
        self.time_scale = time_scale
        self.log: list[dict[str, Any]] = []
        self._steps = 0
        self._clock_s = 0.0
        self._build_shop()

    def __repr__(self) -> str:
        return f"ToolEnv(seed={self.seed}, steps={self._steps}/{self.max_steps})"

    # -- the shop -----------------------------------------------------------------------------

    def _build_shop(self) -> None:
        rng = _rng("shop", self.seed)
        self._customers: dict[str, dict[str, Any]] = {}
        names = rng.sample([(f, la) for f in _FIRST for la in _LAST], 8)
        for i, (first, last) in enumerate(names, start=1):
            cid = f"CUST-{i:02d}"
            self._customers[cid] = {
                "customer_id": cid,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}@example.com",
            }
        self._inventory: dict[str, dict[str, Any]] = {}
        # Per SKU: [(time_s, stock), ...], the value history that stale reads draw from.
        self._stock_history: dict[str, list[tuple[float, int]]] = {}
        for sku, name, price in _PRODUCTS:
            stock = rng.randint(0, 40)
            self._inventory[sku] = {"sku": sku, "name": name, "price": price, "stock": stock}
            self._stock_history[sku] = [(0.0, stock)]
        self._orders: dict[str, dict[str, Any]] = {}
        day = _EPOCH.date() - dt.timedelta(days=45)
        for i in range(16):
            oid = f"ORD-{1001 + i}"
            cid = f"CUST-{rng.randint(1, len(self._customers)):02d}"
            lines = []
            for sku, _, price in rng.sample(_PRODUCTS, rng.randint(1, 3)):
                lines.append({"sku": sku, "qty": rng.randint(1, 2), "unit_price": price})
            total = round(sum(li["qty"] * li["unit_price"] for li in lines), 2)
            day += dt.timedelta(days=rng.randint(1, 4))
            status = "delivered" if i < 10 else rng.choice(["shipped", "processing"])
            self._orders[oid] = {
                "order_id": oid,
                "customer_id": cid,
                "date": day.isoformat(),
                "items": lines,
                "total": total,
                "refunded": 0.0,
                "status": status,
            }
        self._refunds: list[dict[str, Any]] = []
        self._emails: list[dict[str, Any]] = []

    def state(self) -> dict[str, Any]:
        """The ground truth (a deep copy): customers, orders, inventory, refunds, emails, steps, time."""
        return copy.deepcopy(
            {
                "customers": self._customers,
                "orders": self._orders,
                "inventory": self._inventory,
                "refunds": self._refunds,
                "emails": self._emails,
                "steps": self._steps,
                "time": _iso(self._clock_s),
            }
        )

    @property
    def steps(self) -> int:
        """Steps used so far (calls refused for the step limit do not count)."""
        return self._steps

    def tools(self) -> list[dict[str, Any]]:
        """The tool specifications: ``name``, ``description`` and JSON-schema ``parameters``."""
        return copy.deepcopy(_TOOLS)

    # -- calls ----------------------------------------------------------------------------------

    def _record(
        self, step: int, name: str, args: dict[str, Any], outcome: str, latency_ms: float, **extra: Any
    ) -> None:
        entry = {"step": step, "tool": name, "args": copy.deepcopy(args), "outcome": outcome}
        entry.update(copy.deepcopy(extra))
        entry["latency_ms"] = latency_ms
        entry["at"] = _iso(self._clock_s)
        self.log.append(entry)

    def _pass(self, seconds: float) -> None:
        self._clock_s += seconds
        if self.time_scale > 0 and seconds > 0:
            time.sleep(seconds * self.time_scale)

    def call(self, name: str, **args: Any) -> ToolResult:
        """Call tool ``name`` with keyword arguments; returns a :class:`ToolResult`.

        Raises :class:`ToolError` (bad arguments, or a transient failure), :class:`ToolTimeout`
        and :class:`StepLimitExceeded`; see the module documentation.
        """
        if self._steps >= self.max_steps:
            self._record(self._steps, name, args, "step_limit", 0.0, error=f"step limit of {self.max_steps} reached")
            raise StepLimitExceeded(f"step limit of {self.max_steps} tool calls reached")
        self._steps += 1
        step = self._steps
        rng = _rng("call", self.seed, step)
        fate = rng.random()
        stale = rng.random() < self.stale_rate
        lo, hi = LATENCY_MS
        mu, sigma = (math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) / (2 * 1.645)
        latency_ms = round(min(max(rng.lognormvariate(mu, sigma), lo), hi), 3)

        try:
            self._check_args(name, args)
        except ToolError as exc:
            self._pass(latency_ms / 1000)
            self._record(step, name, args, "error", latency_ms, error=str(exc))
            raise
        if fate < self.failure_rate:
            self._pass(latency_ms / 1000)
            msg = f"{name}: 503 Service Unavailable (transient failure; retry)"
            self._record(step, name, args, "failure", latency_ms, error=msg)
            raise ToolError(msg, retryable=True)
        if fate < self.failure_rate + self.timeout_rate:
            self._pass(TOOL_TIMEOUT_S)
            msg = f"{name}: no response after {TOOL_TIMEOUT_S:.0f}s"
            self._record(step, name, args, "timeout", TOOL_TIMEOUT_S * 1000, error=msg)
            raise ToolTimeout(msg)

        self._pass(latency_ms / 1000)
        ok, value = getattr(self, f"_tool_{name}")(stale=stale, **args)
        self._record(step, name, args, "ok" if ok else "refused", latency_ms, value=value)
        return ToolResult(ok, copy.deepcopy(value), latency_ms, step)

    @staticmethod
    def _check_args(name: str, args: dict[str, Any]) -> None:
        spec = next((t for t in _TOOLS if t["name"] == name), None)
        if spec is None:
            raise ToolError(f"unknown tool {name!r}; available: {', '.join(t['name'] for t in _TOOLS)}")
        params = spec["parameters"]
        missing = [p for p in params["required"] if p not in args]
        if missing:
            raise ToolError(f"{name}: missing argument(s) {', '.join(missing)}")
        extra = [a for a in args if a not in params["properties"]]
        if extra:
            raise ToolError(f"{name}: unexpected argument(s) {', '.join(extra)}")
        for arg, value in args.items():
            kind = params["properties"][arg]["type"]
            if kind == "string" and not isinstance(value, str):
                raise ToolError(f"{name}: {arg} must be a string, got {type(value).__name__}")
            if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ToolError(f"{name}: {arg} must be a number, got {type(value).__name__}")
        if name == "refund" and not (math.isfinite(args["amount"]) and args["amount"] > 0):
            raise ToolError(f"refund: amount must be a positive number, got {args['amount']!r}")
        if name == "send_email" and not _EMAIL.fullmatch(args["to"]):
            raise ToolError(f"send_email: {args['to']!r} is not an email address")

    # -- the tools ------------------------------------------------------------------------------

    def _tool_get_order(self, *, order_id: str, stale: bool) -> tuple[bool, Any]:
        order = self._orders.get(order_id)
        if order is None:
            return False, {"error": f"order {order_id} not found"}
        return True, order

    def _tool_list_orders(self, *, customer_id: str, stale: bool) -> tuple[bool, Any]:
        if customer_id not in self._customers:
            return False, {"error": f"customer {customer_id} not found"}
        return True, [
            {k: o[k] for k in ("order_id", "date", "total", "status")}
            for o in self._orders.values()
            if o["customer_id"] == customer_id
        ]

    def _tool_get_inventory(self, *, sku: str, stale: bool) -> tuple[bool, Any]:
        item = self._inventory.get(sku)
        if item is None:
            return False, {"error": f"sku {sku} not found"}
        history = self._stock_history[sku]
        if stale and len(history) > 1:
            cached_at, stock = history[-2]
            return True, {"sku": sku, "name": item["name"], "stock": stock, "as_of": _iso(cached_at)}
        return True, {"sku": sku, "name": item["name"], "stock": item["stock"], "as_of": _iso(self._clock_s)}

    def _tool_refund(self, *, order_id: str, amount: float, stale: bool) -> tuple[bool, Any]:
        order = self._orders.get(order_id)
        if order is None:
            return False, {"error": f"order {order_id} not found"}
        remaining = round(order["total"] - order["refunded"], 2)
        amount = round(float(amount), 2)
        if amount > remaining + 1e-9:
            return False, {"error": f"amount {amount:.2f} exceeds the refundable {remaining:.2f} of {order_id}"}
        order["refunded"] = round(order["refunded"] + amount, 2)
        full = order["refunded"] >= order["total"] - 1e-9
        order["status"] = "refunded" if full else "partially_refunded"
        if full:
            for line in order["items"]:
                item = self._inventory[line["sku"]]
                item["stock"] += line["qty"]
                self._stock_history[line["sku"]].append((self._clock_s, item["stock"]))
        refund = {
            "refund_id": f"RF-{len(self._refunds) + 1:04d}",
            "order_id": order_id,
            "amount": amount,
            "refunded_total": order["refunded"],
            "status": order["status"],
            "at": _iso(self._clock_s),
        }
        self._refunds.append(refund)
        return True, refund

    def _tool_send_email(self, *, to: str, subject: str, body: str, stale: bool) -> tuple[bool, Any]:
        message = {
            "message_id": f"MSG-{len(self._emails) + 1:04d}",
            "to": to,
            "subject": subject,
            "body": body,
            "at": _iso(self._clock_s),
        }
        self._emails.append(message)
        return True, {"message_id": message["message_id"], "to": to, "status": "queued"}

    def _tool_search_kb(self, *, query: str, stale: bool) -> tuple[bool, Any]:
        from clarify_kit import embeddings

        texts = [f"{title}. {body}" for _, title, body in _KB]
        vecs = embeddings.embed([query, *texts])
        scores = vecs[1:] @ vecs[0]
        order = sorted(range(len(_KB)), key=lambda i: (-float(scores[i]), i))[:3]
        return True, [
            {"id": _KB[i][0], "title": _KB[i][1], "text": _KB[i][2], "score": round(float(scores[i]), 4)}
            for i in order
            if scores[i] > 0
        ]
