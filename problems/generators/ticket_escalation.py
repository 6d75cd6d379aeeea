"""Deterministic data for the ``ticket-escalation`` pack.

Writes ``data/tickets.csv`` (Jan-Nov 2025, what the candidate sees) and ``hidden/holdout.csv``
(Dec 2025-Jan 2026, for the grading kernel only) into the pack folder. Standard library only,
fixed seed: running it twice gives byte-identical files.

    python -m problems.generators.ticket_escalation [PACK_DIR]

What the data really exhibits (one line per hidden constraint of the pack):

* class-imbalance - about 6.5% of the training tickets escalate (5% before the launch, 10.5% after,
  re-sends included).
* leakage - ``agent_tier`` and ``resolution_hours`` are filled after triage and almost determine
  the label; the holdout has neither column.
* temporal-drift - on 2025-10-01 "Instant Payouts" launched: a new ``payouts`` product area, new
  phrasing ("since the update", "the new payouts page") and a higher escalation rate. The holdout
  comes from after the end of the data and looks like the post-launch period.
* near-duplicates - about 13% of tickets are a customer re-sending an earlier ticket with a small
  edit (same order numbers, emails, label); an issue that escalates is re-sent four times as
  often (37% of the escalated rows are copies), so a random split puts copies of many
  escalations on both sides and the recall it measures is optimistic (a raw-text TF-IDF model:
  0.62 on a 75/25 random split, 0.51 on the holdout; split after dropping re-sends: 0.43).
* pii - texts carry emails, phone numbers, names and order/invoice numbers.
"""

from __future__ import annotations

import csv
import io
import math
import random
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

SEED = 20251001
PACK_DIR = Path(__file__).resolve().parents[1] / "packs" / "ticket-escalation"
LAUNCH = datetime(2025, 10, 1)

TRAIN_START, TRAIN_END = datetime(2025, 1, 1), datetime(2025, 12, 1)
HOLDOUT_START, HOLDOUT_END = datetime(2025, 12, 1), datetime(2026, 2, 1)
PRE_PER_DAY, POST_PER_DAY = 7.9, 12.9  # volume grows with the launch
DUP_SHARE = 0.13
RESEND_WEIGHT_ESCALATED = 4.0  # an issue nobody has solved yet gets re-sent
# Target escalation rates (mean probability) per period; the draw adds sampling noise.
RATE_PRE, RATE_POST, RATE_HOLDOUT = 0.041, 0.088, 0.088

COLUMNS = [
    "ticket_id",
    "created_at",
    "channel",
    "plan",
    "product_area",
    "text",
    "agent_tier",
    "resolution_hours",
    "escalated",
]

FIRST = [
    "Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
    "Liam", "Maya", "Nils", "Olga", "Pedro", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
    "Wei", "Yusuf", "Zoe", "Priya", "Marco", "Lena", "Tom", "Aisha",
]  # fmt: skip
LAST = [
    "Novak", "Schmidt", "Okafor", "Lopez", "Tanaka", "Brennan", "Haddad", "Kowalski", "Murphy",
    "Silva", "Chen", "Andersen", "Rossi", "Patel", "Dubois", "Kim", "Larsen", "Moreau", "Ivanova",
    "Fischer", "Nakamura", "Ortega", "Walsh", "Berg",
]  # fmt: skip
COMPANY = [
    "Brightleaf", "Northwind", "Copperline", "Bluefin Bakery", "Alder & Co", "Kitehouse", "Marlow Dental",
    "Pinecrest Legal", "Tidewater Logistics", "Lumen Studio", "Orchard Foods", "Redwood Fitness",
    "Harbor Print", "Quill Books", "Summit Roofing", "Velvet Cafe", "Ironbridge", "Greenway Florists",
    "Nimbus Labs", "Fable Toys",
]  # fmt: skip
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]  # fmt: skip

# Issue templates per product area and severity (0 how-to ... 3 critical).
ISSUES: dict[str, dict[int, list[str]]] = {
    "billing": {
        0: [
            "How do I change the billing address on our invoices?",
            "Can I get a copy of invoice {inv} for our accountant?",
            "Is there a discount if we switch to annual billing?",
            "Where do I update the card on file?",
            "Can you add our VAT number to future invoices?",
        ],
        1: [
            "We were billed for {n} seats but only have {m} users.",
            "Invoice {inv} shows the wrong company name.",
            "I'd like a refund for the unused part of our subscription.",
            "The price on invoice {inv} doesn't match the quote we got.",
        ],
        2: [
            "We were charged twice this month, invoice {inv} and {inv2} are identical.",
            "You charged our card {amt} after we cancelled on {date}.",
            "Our account was downgraded even though the payment of {amt} went through.",
            "We got a billing error and were charged {amt} instead of {amt2}.",
        ],
        3: [
            "Your system has charged us {amt} every day since {date}.",
            "We've been double billed for three months and nobody has fixed it.",
        ],
    },
    "account-access": {
        0: [
            "How do I add a new user to our workspace?",
            "Can I change the login email on my account?",
            "How do I turn on two-factor authentication for everyone?",
            "How do I remove a user who left the company?",
        ],
        1: [
            "I'm not getting the password reset email.",
            "A colleague is locked out after too many attempts.",
            "The 2FA codes from the authenticator app are rejected.",
        ],
        2: [
            "Nobody on our team can log in since this morning.",
            "SSO stopped working for our whole organisation.",
            "Our admin account is locked and we can't reach billing or settings.",
        ],
        3: [
            "Someone logged into our admin account from another country and changed our settings.",
            "I think our account was hacked, there are users in it we don't recognise.",
        ],
    },
    "integrations": {
        0: [
            "Does the Slack integration support private channels?",
            "How do I connect our Salesforce account?",
            "Is there a Zapier integration?",
            "Can the Shopify sync run every hour instead of daily?",
        ],
        1: [
            "The Salesforce sync is skipping some contacts.",
            "Webhooks arrive a few minutes late.",
            "The Xero integration keeps asking us to reconnect.",
        ],
        2: [
            "The Shopify sync stopped completely on {date}.",
            "Webhooks have been failing with 500 errors for {h} hours.",
            "The HubSpot sync is creating duplicate contacts by the hundreds.",
        ],
        3: [
            "The sync overwrote {n} of our customer records with blank values.",
            "The integration deleted our contacts in HubSpot and we have no backup.",
        ],
    },
    "reporting": {
        0: [
            "Can I export the monthly report to Excel?",
            "How do I schedule a weekly report by email?",
            "Is it possible to add a custom field to the sales report?",
        ],
        1: [
            "The revenue chart doesn't match the numbers in the export.",
            "The dashboard takes over a minute to load.",
            "The scheduled report arrived without the attachment.",
        ],
        2: [
            "All our reports show zero since {date}.",
            "The quarterly report we send to our board has the wrong totals.",
            "The tax report is missing every transaction from {month}.",
        ],
        3: [
            "All historical data before {date} has disappeared from every report.",
            "We filed our taxes using your report and the numbers were wrong.",
        ],
    },
    "mobile-app": {
        0: [
            "Is there a dark mode in the iOS app?",
            "How do I log out of the Android app?",
            "Can I use the app on a tablet?",
        ],
        1: [
            "The app crashes when I open the settings screen.",
            "Push notifications stopped working on my phone.",
            "The app is very slow after the last update from the store.",
        ],
        2: [
            "The app crashes on launch for our whole field team.",
            "Photos uploaded from the app don't show up on the web.",
        ],
        3: [
            "Entries our staff made offline in the app never synced and are gone.",
            "The app wiped a week of timesheets for {n} employees.",
        ],
    },
    "api": {
        0: [
            "What's the rate limit on the API?",
            "Is there a sandbox environment for testing?",
            "Do you have a Python client for the API?",
        ],
        1: [
            "We get occasional 429 errors well under the documented limit.",
            "The /invoices endpoint is missing a field that's in the docs.",
            "Pagination on /customers returns the same page twice.",
        ],
        2: [
            "The API has returned 503 for the last {h} hours and our checkout is down.",
            "Our API keys stopped working and every call returns 401.",
        ],
        3: [
            "The API returned another customer's data in our response.",
            "A bug in the API created {n} duplicate charges for our customers.",
        ],
    },
    "payouts": {
        0: [
            "How long do Instant Payouts take to arrive?",
            "Can I change the bank account for payouts?",
            "What's the fee for an Instant Payout?",
            "Where do I see the payout schedule on the new payouts page?",
        ],
        1: [
            "A payout has been pending longer than usual.",
            "The payout amount is a bit lower than I expected.",
            "The new payouts page doesn't show the fee breakdown.",
        ],
        2: [
            "Our instant payout of {amt} never arrived in our bank account.",
            "Payouts have been stuck in processing since {date}.",
            "The payout went to our old bank account.",
            "An instant payout of {amt} was reversed without any explanation.",
        ],
        3: [
            "We paid our staff based on a payout that was then reversed and we are now {amt} overdrawn.",
            "Payouts to {n} of our vendors failed and they're threatening to stop supplying us.",
        ],
    },
}

AREA_MIX_PRE = {
    "billing": 0.27,
    "account-access": 0.2,
    "integrations": 0.16,
    "reporting": 0.14,
    "mobile-app": 0.12,
    "api": 0.11,
}
AREA_MIX_POST = {
    "payouts": 0.3,
    "billing": 0.22,
    "account-access": 0.14,
    "integrations": 0.11,
    "reporting": 0.09,
    "mobile-app": 0.08,
    "api": 0.06,
}
AREA_EFFECT = {
    "billing": 0.2,
    "account-access": 0.0,
    "integrations": 0.0,
    "reporting": -0.2,
    "mobile-app": -0.3,
    "api": 0.1,
    "payouts": 1.0,
}
SEVERITY_MIX = [0.38, 0.34, 0.2, 0.08]

GREETINGS = ["Hi,", "Hello,", "Hi team,", "Hello support,", "Hey,", "Good morning,", "", "", "", ""]
REPEAT = [
    "This is the third time I'm writing about this.",
    "I already opened a ticket about this last week and nobody replied.",
    "Still not fixed.",
    "Second time asking.",
    "Following up again, no answer so far.",
    "Your colleague said it was fixed but it isn't.",
]
ANGER = [
    "This is unacceptable.",
    "Honestly very frustrated.",
    "We pay for this and this is the service we get?",
    "If this isn't sorted today we will cancel.",
    "Really disappointed.",
    "Please escalate this.",
]
LEGAL = [
    "Our legal team is asking about this.",
    "This may be a breach of our contract.",
    "We'll have to involve our lawyers.",
    "We need this for a GDPR request.",
    "We may have to report this to the regulator.",
]
IMPACT = [
    "Our whole team is blocked.",
    "Our customers are complaining.",
    "We're losing sales every hour.",
    "Payroll is due tomorrow.",
    "This is holding up our month-end close.",
]
POLITE = ["Thanks!", "No rush.", "Thanks in advance.", "Cheers.", "Appreciate the help.", "Have a nice day."]
POST_PHRASES = [
    "since the update",
    "since the new version",
    "after the launch last week",
    "ever since the redesign",
    "with the new dashboard",
]
CONTEXT = [
    "This is for {company}.",
    "Account: {company}.",
    "We're {company}.",
    "Writing on behalf of {company}.",
]
CONTACT = [
    "You can reach me at {email}.",
    "Call me on {phone}.",
    "My account email is {email}.",
    "Best number is {phone}.",
    "Reply to {email} please.",
]


@dataclass
class Ticket:
    created_at: datetime
    channel: str
    plan: str
    area: str
    text: str
    logit: float
    post: bool
    escalated: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _fill(rng: random.Random, template: str, when: datetime, person: dict[str, str]) -> str:
    past = when - timedelta(days=rng.randint(1, 20))
    values = {
        "inv": f"INV-{rng.randint(10000, 99999)}",
        "inv2": f"INV-{rng.randint(10000, 99999)}",
        "amt": f"${rng.choice([49, 99, 129, 240, 480, 950, 1200, 2400, 4800, 12500]):,}",
        "amt2": f"${rng.choice([29, 49, 99, 199]):,}",
        "n": str(rng.randint(3, 400)),
        "m": str(rng.randint(2, 12)),
        "h": str(rng.randint(2, 30)),
        "date": f"{MONTHS[past.month - 1]} {past.day}",
        "month": MONTHS[past.month - 1],
        "email": person["email"],
        "phone": person["phone"],
    }
    return template.format(**values)


def _person(rng: random.Random) -> dict[str, str]:
    first, last, company = rng.choice(FIRST), rng.choice(LAST), rng.choice(COMPANY)
    domain = company.lower().replace(" & ", "").replace(" ", "") + rng.choice([".com", ".co.uk", ".io", ".de"])
    email = rng.choice([f"{first}.{last}", f"{first[0]}{last}", first]).lower() + "@" + domain
    if rng.random() < 0.5:
        phone = f"+1 {rng.randint(201, 989)}-555-{rng.randint(100, 199):04d}"
    else:
        phone = f"+44 7700 900{rng.randint(0, 999):03d}"
    return {"first": first, "email": email, "phone": phone, "company": company}


def _ticket(rng: random.Random, when: datetime) -> Ticket:
    post = when >= LAUNCH
    channel = _pick(rng, {"email": 0.52, "chat": 0.37, "phone": 0.11})
    plan = _pick(rng, {"free": 0.48, "pro": 0.37, "enterprise": 0.15})
    area = _pick(rng, AREA_MIX_POST if post else AREA_MIX_PRE)
    sev = rng.choices(range(4), weights=SEVERITY_MIX)[0]
    if area == "payouts":  # money that did not arrive is serious more often
        sev = max(sev, rng.choices(range(4), weights=[0.3, 0.3, 0.28, 0.12])[0])
    repeat = rng.random() < 0.05 + 0.05 * sev
    anger = rng.random() < 0.06 + 0.08 * sev + (0.1 if repeat else 0.0)
    legal = rng.random() < 0.008 + 0.02 * sev + (0.03 if plan == "enterprise" else 0.0)
    impact = rng.random() < 0.03 + 0.09 * sev
    polite = rng.random() < 0.35 - 0.08 * sev
    # Regressions from the launch ("since the update") escalate more often.
    regression = post and area != "payouts" and sev >= 1 and rng.random() < 0.45
    hidden = rng.gauss(0.0, 0.5)  # what the text does not say: the customer's history, the agent's day
    logit = (
        1.45 * sev
        + 1.5 * repeat
        + 0.8 * anger
        + 2.0 * legal
        + 0.7 * impact
        - 0.5 * polite
        + {"free": -0.5, "pro": 0.1, "enterprise": 0.8}[plan]
        + {"email": 0.0, "chat": -0.15, "phone": 0.5}[channel]
        + AREA_EFFECT[area]
        + 1.2 * regression
        # After the launch, money that did not arrive goes straight to seniors, while app crashes
        # went to a new dedicated mobile team and stopped escalating.
        + (0.9 * (area == "payouts" and sev >= 2) - 1.3 * (area == "mobile-app") if post else 0.0)
        + hidden
    )

    person = _person(rng)
    template = rng.choice(ISSUES[area][sev])
    issue = _fill(rng, template, when, person)
    if regression:
        phrase = rng.choice(POST_PHRASES)
        if "{" in template or issue.endswith("?"):  # already says when: lead with the phrase
            head = issue[0].lower() if issue[1:2].islower() else issue[0]
            issue = f"{phrase[0].upper()}{phrase[1:]}, {head}{issue[1:]}"
        else:
            issue = issue.rstrip(".") + " " + phrase + "."
    parts: list[str] = []
    # The text shows most, not all, of what drives escalation.
    if repeat and rng.random() < 0.85:
        parts.append(rng.choice(REPEAT))
    if impact and rng.random() < 0.8:
        parts.append(rng.choice(IMPACT))
    if legal and rng.random() < 0.85:
        parts.append(rng.choice(LEGAL))
    if anger and rng.random() < 0.75:
        parts.append(rng.choice(ANGER))
    rng.shuffle(parts)
    parts = [issue, *parts[:2]]
    if rng.random() < 0.3:
        parts.insert(1, rng.choice(CONTEXT).format(company=person["company"]))
    if rng.random() < 0.22:
        parts.append(_fill(rng, rng.choice(CONTACT), when, person))
    if polite and rng.random() < 0.8:
        parts.append(rng.choice(POLITE))
    if channel == "phone":
        text = " ".join(["Call notes:", *parts])
    else:
        greeting = rng.choice(GREETINGS)
        if greeting and parts[0][1:2].islower():
            parts[0] = parts[0][0].lower() + parts[0][1:]
        sign = f" {person['first']}" if rng.random() < 0.3 else ""
        text = " ".join(p for p in [greeting, *parts] if p) + sign
    return Ticket(when, channel, plan, area, text, logit, post)


def _resend_text(rng: random.Random, text: str) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return "Resending as I haven't heard back. " + text
    if kind == 1:
        return text + " Any update?"
    if kind == 2:
        return text.lower()
    if kind == 3:
        return text.replace(".", "", 1) if "." in text else text + "."
    if kind == 4:
        return "Hi again, " + text
    return text + " Please get back to me."


def _times(rng: random.Random, start: datetime, end: datetime) -> list[datetime]:
    out: list[datetime] = []
    day = start
    while day < end:
        rate = POST_PER_DAY if day >= LAUNCH else PRE_PER_DAY
        if day.weekday() >= 5:
            rate *= 0.45
        else:
            rate *= 1.22
        # Poisson draw by inversion (stdlib only, deterministic).
        k, p, u = 0, math.exp(-rate), rng.random()
        cdf = p
        while u > cdf:
            k += 1
            p *= rate / k
            cdf += p
        for _ in range(k):
            hour = min(23, max(0, int(rng.gauss(13, 3.5))))
            out.append(day + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60)))
        day += timedelta(days=1)
    return sorted(out)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _calibrate(tickets: list[Ticket], target: float) -> float:
    """The intercept that makes the mean escalation probability equal ``target``."""
    lo, hi = -15.0, 5.0
    for _ in range(60):
        mid = (lo + hi) / 2
        mean = sum(_sigmoid(t.logit + mid) for t in tickets) / len(tickets)
        lo, hi = (mid, hi) if mean < target else (lo, mid)
    return (lo + hi) / 2


def _generate(rng: random.Random, start: datetime, end: datetime, rates: dict[bool, float]) -> list[Ticket]:
    tickets = [_ticket(rng, when) for when in _times(rng, start, end)]
    for post, rate in rates.items():
        group = [t for t in tickets if t.post == post]
        if not group:
            continue
        b = _calibrate(group, rate)
        for t in group:
            t.escalated = int(rng.random() < _sigmoid(t.logit + b))
    # Re-sends: the same customer sending (nearly) the same ticket again, hours or days later.
    n_dup = round(len(tickets) * DUP_SHARE / (1 - DUP_SHARE))
    weights = [RESEND_WEIGHT_ESCALATED if t.escalated else 1.0 for t in tickets]
    originals = rng.choices(tickets, weights=weights, k=n_dup)
    dups = []
    for o in originals:
        when = o.created_at + timedelta(minutes=rng.randint(30, 4 * 24 * 60))
        if when >= end:
            when = o.created_at + timedelta(minutes=rng.randint(5, 60))
        channel = o.channel if rng.random() < 0.8 or o.channel == "phone" else rng.choice(["email", "chat"])
        # The same issue, so the same outcome: a copy in training tells the model the answer.
        dups.append(Ticket(when, channel, o.plan, o.area, _resend_text(rng, o.text), o.logit, o.post, o.escalated))
    tickets = sorted(tickets + dups, key=lambda t: t.created_at)
    for t in tickets:
        if t.escalated:
            t.extra["agent_tier"] = "senior" if rng.random() < 0.93 else "L2"
            hours = math.exp(rng.gauss(math.log(46), 0.55))
        else:
            t.extra["agent_tier"] = rng.choices(["L1", "L2", "senior"], weights=[0.8, 0.18, 0.02])[0]
            hours = math.exp(rng.gauss(math.log(4.5), 0.85))
        t.extra["resolution_hours"] = f"{hours:.1f}"
    return tickets


def _csv(tickets: list[Ticket], first_id: int, columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for i, t in enumerate(tickets):
        w.writerow(
            {
                "ticket_id": f"T-{first_id + i}",
                "created_at": t.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                "channel": t.channel,
                "plan": t.plan,
                "product_area": t.area,
                "text": t.text,
                "escalated": t.escalated,
                **t.extra,
            }
        )
    return buf.getvalue()


def generate(pack_dir: Path = PACK_DIR) -> dict[str, int]:
    """Write ``data/tickets.csv`` and ``hidden/holdout.csv``; returns their sizes in bytes."""
    rng = random.Random(SEED)
    train = _generate(rng, TRAIN_START, TRAIN_END, {False: RATE_PRE, True: RATE_POST})
    holdout = _generate(rng, HOLDOUT_START, HOLDOUT_END, {True: RATE_HOLDOUT})
    holdout_cols = [c for c in COLUMNS if c not in ("agent_tier", "resolution_hours")]
    files = {
        "data/tickets.csv": _csv(train, 100001, COLUMNS),
        "hidden/holdout.csv": _csv(holdout, 100001 + len(train), holdout_cols),
    }
    sizes = {}
    for rel, content in files.items():
        path = pack_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        sizes[rel] = len(content.encode())
    return sizes


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else PACK_DIR
    for rel, size in generate(target).items():
        print(f"{rel}: {size:,} bytes")
