# %%
# Reference solution for refund-agent. A deterministic policy engine around the tools: no LLM
# calls (routine requests don't need one), bounded retries with backoff, idempotency keys on every
# side effect, fresh reads (a record older than the request is re-read), a step budget with a
# reserve for the email, escalation when in doubt, a dry-run mode and an audit trail.
import random
import re
import time
from datetime import datetime, timedelta

from clarify_kit import tools

REFUND_LIMIT_USD = 200.0
MAX_AGE = timedelta(days=30)
STEP_LIMIT = 20
EMAIL_RESERVE = 3  # steps kept back so the customer still hears from us
RETRYABLE = (tools.ToolError, tools.ToolTimeout)  # ToolTimeout is a ToolError; listed for clarity


class OutOfSteps(Exception):
    pass


class Unavailable(Exception):
    pass


def _ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


class Run:
    """One request's tool use: step budget, retries, audit trail."""

    def __init__(self, env, request, dry_run):
        self.env, self.request, self.dry_run = env, request, dry_run
        self.steps, self.audit = 0, []

    def note(self, tool, reason, **extra):
        self.audit.append({"step": self.steps, "tool": tool, "reason": reason, **extra})

    def call(self, name, reason, *, reserve=EMAIL_RESERVE, attempts=4, **args):
        for attempt in range(attempts):
            if self.steps >= STEP_LIMIT - reserve:
                self.note(name, f"skipped: step budget ({self.steps}/{STEP_LIMIT}) exhausted", args=args)
                raise OutOfSteps(name)
            self.steps += 1
            try:
                result = self.env.call(name, **args)
            except tools.StepLimitExceeded as exc:
                self.note(name, reason, args=args, result=f"step limit: {exc}")
                raise OutOfSteps(name) from exc
            except RETRYABLE as exc:
                self.note(name, reason, args=args, result=f"{type(exc).__name__}: {exc}", attempt=attempt + 1)
                if not getattr(exc, "retryable", True):  # bad arguments: retrying cannot help
                    raise Unavailable(str(exc)) from exc
                time.sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + random.random()))
                continue
            self.note(name, reason, args=args, result="ok" if result.ok else result.value, attempt=attempt + 1)
            return result
        raise Unavailable(f"{name} failed {attempts} times")

    def fresh_order(self, order_id):
        """The order, re-read while the record is older than the request (a stale cache read)."""
        received = _ts(self.request["received_at"])
        for _ in range(4):
            res = self.call("get_order", "read the order before deciding", order_id=order_id)
            if not res.ok:
                return None
            if _ts(res.value["as_of"]) >= received:
                return res.value
        raise Unavailable(f"order {order_id}: only stale reads")


def _outcome(run, action, amount, reason, order=None):
    run.note("decision", reason, action=action, amount=amount)
    return {
        "request_id": run.request.get("request_id"),
        "order_id": order["order_id"] if order else None,
        "action": action,
        "amount": round(float(amount), 2),
        "reason": reason,
        "dry_run": run.dry_run,
        "audit": run.audit,
    }


def _find_order_id(run):
    req = run.request
    if req.get("order_id"):
        return req["order_id"]
    m = re.search(r"\bO-\d{5}\b", req.get("message", ""))
    if m:
        return m.group(0)
    res = run.call("list_orders", "no order id in the request: find the customer's latest order",
                   customer_id=req["customer_id"])  # fmt: skip
    if not res.ok or not res.value:
        return None
    return max(res.value, key=lambda o: o["placed_at"])["order_id"]


def _decide(run):
    req = run.request
    order_id = _find_order_id(run)
    if order_id is None:
        return _outcome(run, "deny", 0, "no order found for this customer"), None
    order = run.fresh_order(order_id)
    if order is None:
        return _outcome(run, "deny", 0, f"order {order_id} does not exist"), None
    if order["customer_id"] != req["customer_id"]:
        return _outcome(run, "deny", 0, f"order {order_id} belongs to another customer"), None
    left = round(order["total"] - order["refunded_total"], 2)
    if left <= 0.005:
        return _outcome(run, "deny", 0, f"order {order_id} was already refunded", order), order
    age = _ts(req["received_at"]) - _ts(order["delivered_at"])
    if left > REFUND_LIMIT_USD:
        why = f"policy: ${left:.2f} is over the ${REFUND_LIMIT_USD:.0f} agent limit, needs a lead's approval"
        return _outcome(run, "escalate", left, why, order), order
    if age > MAX_AGE:
        why = f"policy: delivered {age.days} days ago, over the 30-day window, needs a lead's approval"
        return _outcome(run, "escalate", left, why, order), order
    return _outcome(run, "refund", left, f"eligible: ${left:.2f}, delivered {age.days} days ago", order), order


def _refund(run, order, outcome):
    key = f"refund:{order['order_id']}:{order['refunded_total']:.2f}"
    try:
        res = run.call("refund", "eligible refund under policy", reserve=EMAIL_RESERVE - 1,
                       order_id=order["order_id"], amount=outcome["amount"], idempotency_key=key)  # fmt: skip
        outcome["refund_id"] = res.value.get("refund_id")
        return outcome
    except (OutOfSteps, Unavailable) as exc:
        # the refund may or may not have gone through: never guess, hand it to a person
        outcome.update(action="escalate", reason=f"refund could not be confirmed ({exc}); needs a person")
        run.note("decision", outcome["reason"], action="escalate", amount=outcome["amount"])
        return outcome


def _email(run, order, outcome):
    action, amount = outcome["action"], outcome["amount"]
    if action == "refund":
        subject, body = "Your refund is on its way", f"We've refunded ${amount:.2f} for order {order['order_id']}."
    elif action == "escalate":
        subject, body = "We're looking into your request", "A support lead will review your request within a day."
    else:
        subject, body = "About your refund request", "This order has already been refunded in full."
    try:
        run.call("send_email", f"tell the customer the outcome ({action})", reserve=0, to=order["customer_email"],
                 subject=subject, body=body, idempotency_key=f"email:{run.request.get('request_id')}")  # fmt: skip
    except (OutOfSteps, Unavailable) as exc:
        run.note("send_email", f"not sent ({exc}); the outcome stands")


def handle_request(request: dict, env, dry_run: bool = False) -> dict:
    run = Run(env, request, dry_run)
    try:
        outcome, order = _decide(run)
    except (OutOfSteps, Unavailable) as exc:
        return _outcome(run, "escalate", 0, f"could not check the order safely ({exc}); needs a person")
    if dry_run or order is None:
        return outcome
    if outcome["action"] == "refund":
        outcome = _refund(run, order, outcome)
    _email(run, order, outcome)
    return outcome
