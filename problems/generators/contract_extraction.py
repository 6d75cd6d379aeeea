"""Deterministic data for the ``contract-extraction`` pack.

Writes into the pack folder:

* ``data/contracts.jsonl`` - 200 supplier contracts of "Brightwell Retail" (id, filename, text).
* ``data/labelled_sample.jsonl`` - labels for 25 of them (the interviewer points to it when
  the candidate asks how accuracy will be measured).
* ``hidden/labelled.jsonl`` - 44 further contracts with labels for the checks: 40 representative
  ones (``long`` about as often as in production) and 4 extra long ones (``set = "long"``).

Standard library only, fixed seed: running it twice gives byte-identical files.

    python -m problems.generators.contract_extraction [PACK_DIR]

What the data really exhibits (one line per hidden constraint of the pack):

* date-formats - dates follow the drafting supplier's country: US month-first (03/04/2025,
  March 4, 2025), UK and France day-first (04/03/2025, 4 March 2025, 4 mars 2025), Germany
  04.03.2025 or 4. März 2025, Netherlands 04-03-2025, some ISO; amounts as $1,250,000,
  EUR 250.000,00, 250 000 EUR, GBP 250k; contracts also carry other dates (signature).
* missing-fields - about a quarter lack a field: evergreen contracts (no end date), no fixed
  liability cap (uncapped, or capped by a formula), no payment term, no governing-law clause.
* long-documents - about 1 in 12 run to 4,100-4,500 tokens (over sim-small's 4,096) and carry their
  key-terms table as a schedule at the very end; the others mostly open with one (some have
  only a cover block or only prose clauses).
* amendments - about 30% of contracts (60% of the long ones) carry an amendment after the
  signatures that changes the end date, the liability cap or the payment term; the key-terms
  table is never updated, so it is out of date there. Key-terms tables use varied labels
  (Supplier, Commencement Date, Cap on liability...) and some are pipe tables; about a third of
  the contracts have none (a cover block or prose only).
* evaluation - labels exist only for the 25 contracts in ``labelled_sample``.
"""

# ruff: noqa: E501 - the generator is mostly data: article text and contract clauses.

from __future__ import annotations

import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

SEED = 7311
PACK_DIR = Path(__file__).resolve().parents[1] / "packs" / "contract-extraction"

FIELDS = ["supplier_name", "start_date", "end_date", "renewal_terms", "liability_cap", "governing_law", "payment_days"]

COUNTRIES = {
    # code: (weight, suffixes, address lines, currency styles, date styles, law phrasings)
    "US": (
        0.25,
        ["Inc.", "LLC", "Corp."],
        [
            "1200 Market Street, Suite 400, Philadelphia, PA 19107, USA",
            "88 Harbor Way, Oakland, CA 94607, USA",
            "410 W Erie St, Chicago, IL 60654, USA",
        ],
        ["usd_symbol", "usd_code"],
        ["us_slash", "us_long", "iso"],
        [
            "the laws of the State of New York",
            "the laws of the State of Delaware",
            "the laws of the State of California",
        ],
    ),
    "GB": (
        0.25,
        ["Ltd", "Limited", "plc"],
        [
            "14 Wharf Road, London N1 7GR, United Kingdom",
            "3 Canal Street, Manchester M1 3HE, United Kingdom",
            "27 Quay Street, Bristol BS1 4DJ, United Kingdom",
        ],
        ["gbp_symbol", "gbp_code"],
        ["uk_slash", "uk_long", "uk_ordinal"],
        ["the laws of England and Wales", "English law", "the laws of Scotland"],
    ),
    "DE": (
        0.22,
        ["GmbH", "AG", "GmbH & Co. KG"],
        [
            "Hafenstraße 12, 20457 Hamburg, Germany",
            "Leopoldstraße 88, 80802 München, Germany",
            "Königsallee 30, 40212 Düsseldorf, Germany",
        ],
        ["eur_de", "eur_de_code"],
        ["de_dot", "de_long", "iso"],
        ["the laws of the Federal Republic of Germany", "German law"],
    ),
    "FR": (
        0.16,
        ["SAS", "SARL", "S.A."],
        [
            "18 rue de la République, 69002 Lyon, France",
            "5 quai de la Fosse, 44000 Nantes, France",
            "42 avenue Jean Jaurès, 75019 Paris, France",
        ],
        ["eur_fr", "eur_fr_code"],
        ["fr_slash", "fr_long"],
        ["the laws of France", "French law"],
    ),
    "NL": (
        0.12,
        ["B.V.", "N.V."],
        [
            "Keizersgracht 210, 1016 DX Amsterdam, the Netherlands",
            "Stationsplein 45, 3013 AK Rotterdam, the Netherlands",
        ],
        ["eur_nl"],
        ["nl_dash", "iso"],
        ["the laws of the Netherlands", "Dutch law"],
    ),
}
LAW_CODE_EXTRA = {"the laws of Ireland": "IE"}

NAME_A = [
    "Nordhafen",
    "Bluecrest",
    "Alder",
    "Kestrel",
    "Meridian",
    "Lumière",
    "Vantage",
    "Oakridge",
    "Silverline",
    "Harwood",
    "Blauwater",
    "Rheinfeld",
    "Castell",
    "Pinewood",
    "Solstice",
    "Ironbridge",
    "Cobalt",
    "Maple",
    "Northwind",
    "Granite",
    "Lindqvist",
    "Beaumont",
    "Fairhaven",
    "Elbtal",
    "Riverside",
    "Summit",
    "Brightpath",
    "Zeeland",
    "Montclair",
    "Ashford",
    "Falkenberg",
    "Clearwater",
    "Redwood",
    "Auberge",
    "Tidewater",
    "Westbrook",
]
NAME_B = [
    "Logistics",
    "Packaging",
    "Foods",
    "Textiles",
    "Print",
    "Cold Chain",
    "Facility Services",
    "Software",
    "Freight",
    "Paper",
    "Electronics",
    "Cleaning",
    "Security",
    "Furniture",
    "Labels",
    "Beverages",
    "Data Services",
    "Transport",
    "Displays",
    "Uniforms",
]
SERVICES = [
    "warehousing and distribution services",
    "retail packaging",
    "fresh produce",
    "staff uniforms",
    "point-of-sale printing",
    "refrigerated transport",
    "office cleaning",
    "store security services",
    "shelving and store fittings",
    "shelf-edge labels",
    "inventory software licences",
    "IT support services",
    "bottled beverages",
    "digital signage",
    "waste collection",
]

MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
MONTHS_DE = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]
MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
NUM_WORDS = {
    7: "seven",
    10: "ten",
    14: "fourteen",
    15: "fifteen",
    21: "twenty-one",
    30: "thirty",
    45: "forty-five",
    60: "sixty",
    75: "seventy-five",
    90: "ninety",
    120: "one hundred and twenty",
}


def fmt_date(d: date, style: str) -> str:
    if style == "iso":
        return d.isoformat()
    if style == "us_slash":
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    if style == "us_long":
        return f"{MONTHS_EN[d.month - 1]} {d.day}, {d.year}"
    if style == "uk_slash" or style == "fr_slash":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "uk_long":
        return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"
    if style == "uk_ordinal":
        suffix = "th" if 11 <= d.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
        return f"{d.day}{suffix} {MONTHS_EN[d.month - 1]} {d.year}"
    if style == "de_dot":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    if style == "de_long":
        return f"{d.day}. {MONTHS_DE[d.month - 1]} {d.year}"
    if style == "fr_long":
        return f"{'1er' if d.day == 1 else d.day} {MONTHS_FR[d.month - 1]} {d.year}"
    if style == "nl_dash":
        return f"{d.day:02d}-{d.month:02d}-{d.year}"
    raise ValueError(style)


def _group(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def fmt_amount(n: int, style: str) -> str:
    if style == "usd_symbol":
        return f"${n:,}"
    if style == "usd_code":
        return f"USD {n:,}.00"
    if style == "gbp_symbol":
        return f"£{n:,}" if n % 1000 or n < 10000 else f"£{n // 1000}k"
    if style == "gbp_code":
        return f"GBP {n:,}"
    if style == "eur_de":
        return f"{_group(n, '.')},00 EUR"
    if style == "eur_de_code":
        return f"EUR {_group(n, '.')}"
    if style == "eur_fr":
        return f"{_group(n, ' ')} €"
    if style == "eur_fr_code":
        return f"EUR {_group(n, ' ')},00"
    if style == "eur_nl":
        return f"€ {_group(n, '.')},-"
    raise ValueError(style)


BOILERPLATE = [
    (
        "Definitions",
        "In this Agreement, capitalised terms have the meanings given to them in this clause. References to"
        " clauses and schedules are to the clauses of and schedules to this Agreement. Headings do not affect"
        " interpretation. Words in the singular include the plural and vice versa. A reference to a statute is a"
        " reference to it as amended or re-enacted from time to time.",
    ),
    (
        "Supply of Goods and Services",
        "The Supplier shall supply the Goods and perform the Services in accordance with"
        " the Specification, with reasonable skill and care, and in accordance with good industry practice. The Supplier"
        " shall comply with all reasonable instructions of the Customer and with the Customer's site rules and"
        " policies as notified from time to time.",
    ),
    (
        "Delivery",
        "The Supplier shall deliver the Goods to the delivery location specified in each Order on the"
        " delivery date. Delivery is complete on the completion of unloading at the delivery location. Title and risk"
        " pass to the Customer on completion of delivery. The Customer may reject Goods that do not conform.",
    ),
    (
        "Quality and Service Levels",
        "The Supplier shall meet or exceed the service levels set out in the Service Level"
        " Schedule. Where a service level is missed in any month, the Supplier shall provide a remediation plan within"
        " ten business days and service credits shall apply as described in the schedule.",
    ),
    (
        "Confidentiality",
        "Each party shall keep confidential all information of the other party that it receives in"
        " connection with this Agreement and shall not use it except to perform its obligations. This obligation does"
        " not apply to information that is public knowledge, already known, or required to be disclosed by law.",
    ),
    (
        "Intellectual Property",
        "All intellectual property rights in the Deliverables shall vest in the Customer on"
        " creation. The Supplier grants the Customer a non-exclusive, royalty-free licence to use any pre-existing"
        " materials incorporated into the Deliverables for the purposes of this Agreement.",
    ),
    (
        "Data Protection",
        "Each party shall comply with applicable data protection legislation. Where the Supplier"
        " processes personal data on behalf of the Customer it shall do so only on documented instructions and shall"
        " implement appropriate technical and organisational measures to protect that data.",
    ),
    (
        "Insurance",
        "The Supplier shall maintain in force with a reputable insurance company professional indemnity"
        " insurance, public liability insurance and product liability insurance, and shall produce evidence of cover"
        " on request.",
    ),
    (
        "Force Majeure",
        "Neither party shall be in breach of this Agreement nor liable for delay in performing its"
        " obligations if the delay results from events beyond its reasonable control. If the period of delay continues"
        " for eight weeks, the party not affected may terminate this Agreement by giving written notice.",
    ),
    (
        "Audit",
        "The Supplier shall keep complete and accurate records relating to the Services and shall allow the"
        " Customer and its auditors access to those records on reasonable notice during business hours.",
    ),
    (
        "Subcontracting",
        "The Supplier shall not subcontract any of its obligations without the prior written consent"
        " of the Customer, and remains responsible for all acts and omissions of its subcontractors.",
    ),
    (
        "Anti-bribery",
        "The Supplier shall comply with all applicable laws relating to anti-bribery and anti-corruption"
        " and shall maintain adequate procedures to prevent bribery by persons associated with it.",
    ),
    (
        "Sustainability",
        "The Supplier shall use reasonable endeavours to reduce the environmental impact of the Goods,"
        " including packaging waste and transport emissions, and shall report on progress annually.",
    ),
    (
        "Notices",
        "Any notice given under this Agreement shall be in writing and delivered by hand, by pre-paid post or"
        " by email to the address of the relevant party set out at the head of this Agreement.",
    ),
    (
        "Assignment",
        "Neither party may assign or transfer any of its rights under this Agreement without the prior"
        " written consent of the other party, which shall not be unreasonably withheld.",
    ),
    (
        "Entire Agreement",
        "This Agreement constitutes the entire agreement between the parties and supersedes all"
        " previous agreements, promises and understandings between them relating to its subject matter.",
    ),
    (
        "Variation",
        "No variation of this Agreement shall be effective unless it is in writing and signed by the"
        " parties or their authorised representatives.",
    ),
    (
        "Waiver",
        "A waiver of any right under this Agreement is only effective if given in writing and shall not be"
        " deemed a waiver of any subsequent breach or default.",
    ),
    (
        "Severance",
        "If any provision of this Agreement is found invalid or unenforceable, that provision shall be"
        " deemed modified to the minimum extent necessary and the remaining provisions continue in force.",
    ),
    (
        "Dispute Resolution",
        "The parties shall attempt in good faith to resolve any dispute through their contract"
        " managers, and if unresolved within twenty business days, by escalation to their senior executives.",
    ),
]
SCHEDULE_ROWS = [
    "Order fulfilment rate",
    "On-time delivery",
    "Damaged goods rate",
    "Invoice accuracy",
    "Helpdesk response time",
    "Incident resolution time",
    "Stock availability",
    "Audit findings closed",
]


CAPS = [50_000, 100_000, 150_000, 250_000, 500_000, 750_000, 1_000_000, 1_500_000, 2_000_000, 2_500_000]
# Of contracts with an end date, cap or payment term, the share later amended: long master
# agreements run for years and are amended more often.
AMEND_SHARE = {False: 0.3, True: 0.6}
KEY_TERM_LABELS = {
    "supplier_name": "Supplier name",
    "start_date": "Start date",
    "end_date": "End date",
    "renewal_terms": "Renewal terms",
    "liability_cap": "Liability cap",
    "governing_law": "Governing law",
    "payment_days": "Payment terms",
}
KEY_TERM_VARIANTS = [
    {"supplier_name": "Supplier", "start_date": "Commencement Date", "end_date": "Expiry Date"},
    {"supplier_name": "Contractor", "liability_cap": "Cap on liability", "payment_days": "Payment"},
    {"start_date": "Effective date", "end_date": "Initial term ends", "governing_law": "Applicable law"},
]


def _company(rng: random.Random, country: str, used: set[str]) -> str:
    while True:
        name = f"{rng.choice(NAME_A)} {rng.choice(NAME_B)} {rng.choice(COUNTRIES[country][1])}"
        if name not in used:
            used.add(name)
            return name


def _law_code(phrase: str) -> str:
    for code, spec in COUNTRIES.items():
        if phrase in spec[5]:
            return code
    return LAW_CODE_EXTRA[phrase]


def _amendment(arng: random.Random, labels: dict, start: date, end: date, cap: int, pay: int, long: bool) -> dict:
    """Which terms a later amendment changes, and to what (empty: the contract was never amended)."""
    amendable = [f for f in ("end_date", "liability_cap", "payment_days") if labels[f] is not None]
    if not amendable or arng.random() >= AMEND_SHARE[long]:
        return {}
    changed = arng.sample(amendable, 2 if len(amendable) > 1 and arng.random() < 0.35 else 1)
    out: dict = {"date": start + timedelta(days=arng.randint(60, max(61, (end - start).days - 30)))}
    if "end_date" in changed:
        out["end_date"] = end.replace(year=end.year + arng.choice([1, 1, 2]), day=min(end.day, 28))
    if "liability_cap" in changed:
        out["liability_cap"] = arng.choice([c for c in CAPS if c != cap])
    if "payment_days" in changed:
        out["payment_days"] = arng.choice([d for d in (14, 30, 45, 60, 90) if d != pay])
    return out


def _key_terms_style(arng: random.Random) -> dict[str, str]:
    """How a contract's key-terms table labels its rows: drafters use different templates."""
    style = arng.choices(["plain", "variant", "table"], weights=[50, 30, 20])[0]
    labels = dict(KEY_TERM_LABELS)
    if style == "variant":
        labels.update(arng.choice(KEY_TERM_VARIANTS))
    return {"style": style, **labels}


def _contract(
    rng: random.Random, used: set[str], long: bool, arng: random.Random | None = None
) -> tuple[str, dict, dict]:
    arng = arng or random.Random(0)
    countries = list(COUNTRIES)
    country = rng.choices(countries, weights=[COUNTRIES[c][0] for c in countries])[0]
    _, _, addresses, cur_styles, date_styles, laws = COUNTRIES[country]
    supplier = _company(rng, country, used)
    dstyle = rng.choice(date_styles)
    astyle = rng.choice(cur_styles)
    service = rng.choice(SERVICES)
    start = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 1000))
    if start.day > 12 and rng.random() < 0.6:  # plenty of ambiguous slashed dates
        start = start.replace(day=rng.randint(1, 12))
    term_months = rng.choice([12, 12, 24, 24, 36, 18])
    end = date(start.year + (start.month - 1 + term_months) // 12, (start.month - 1 + term_months) % 12 + 1, 1)
    end = end - timedelta(days=1) if rng.random() < 0.6 else end.replace(day=min(start.day, 28))
    signed = start - timedelta(days=rng.randint(3, 40))
    cap = rng.choice(CAPS)
    pay = rng.choice([14, 30, 30, 30, 45, 60, 60, 90])
    renewal = rng.choice(["automatic", "automatic", "manual"])
    law = (
        rng.choice(laws)
        if rng.random() < 0.85
        else rng.choice([p for c in COUNTRIES for p in COUNTRIES[c][5]] + ["the laws of Ireland"])
    )

    # Missing fields: about a quarter of contracts lack one (rarely two).
    missing: set[str] = set()
    if rng.random() < 0.27:
        missing.add(rng.choice(["end_date", "liability_cap", "liability_cap", "payment_days", "governing_law"]))
        if rng.random() < 0.15:
            missing.add(rng.choice(["liability_cap", "payment_days"]))
    if "end_date" in missing:
        renewal = None  # evergreen: no end date and no renewal language
    labels = {
        "supplier_name": supplier,
        "start_date": start.isoformat(),
        "end_date": None if "end_date" in missing else end.isoformat(),
        "renewal_terms": renewal,
        "liability_cap": None if "liability_cap" in missing else float(cap),
        "governing_law": None if "governing_law" in missing else _law_code(law),
        "payment_days": None if "payment_days" in missing else pay,
    }
    amended = _amendment(arng, labels, start, end, cap, pay, long)
    for key, value in amended.items():
        if key in labels:
            labels[key] = (
                value.isoformat() if isinstance(value, date) else float(value) if key == "liability_cap" else value
            )
    kt = _key_terms_style(arng)
    D = lambda d: fmt_date(d, dstyle)  # noqa: E731
    title = rng.choice(
        [
            "SUPPLY AGREEMENT",
            "MASTER SERVICES AGREEMENT",
            "FRAMEWORK SUPPLY AGREEMENT",
            "SERVICES AGREEMENT",
            "SUPPLIER AGREEMENT",
        ]
    )
    layout = "schedule" if long else rng.choices(["key-terms", "cover", "prose"], weights=[70, 15, 15])[0]
    parts: list[str] = [title, ""]
    parts.append(f"This Agreement is dated {D(signed)}.")
    parts.append("")
    parts.append("PARTIES")
    parts.append(f'(1) {supplier}, whose registered office is at {rng.choice(addresses)} (the "Supplier"); and')
    parts.append('(2) Brightwell Retail Group Ltd, 9 Clifton Street, London EC2A 4LD, United Kingdom (the "Customer").')
    parts.append("")
    parts.append(f"The Supplier agrees to provide {service} to the Customer on the terms below.")
    parts.append("")
    sep = " | " if kt["style"] == "table" else ": "

    def row(key: str, value: str) -> str:
        return f"{kt[key]}{sep}{value}"

    key_terms: list[str] = ["Term | Value"] if kt["style"] == "table" else []
    key_terms += [row("supplier_name", supplier), row("start_date", D(start))]
    if "end_date" not in missing:
        key_terms.append(row("end_date", D(end)))
    elif rng.random() < 0.5:
        key_terms.append(row("end_date", "none (rolling contract)"))
    if renewal is not None:
        key_terms.append(
            row("renewal_terms", "automatic, 12 months" if renewal == "automatic" else "by written agreement only")
        )
    if "liability_cap" not in missing:
        key_terms.append(row("liability_cap", fmt_amount(cap, astyle)))
    else:
        key_terms.append(row("liability_cap", rng.choice(["see clause 4", "unlimited", "not applicable"])))
    if "governing_law" not in missing:
        key_terms.append(row("governing_law", law[0].upper() + law[1:]))
    if "payment_days" not in missing:
        key_terms.append(row("payment_days", rng.choice([f"net {pay} days", f"{pay} days from invoice date"])))
    elif rng.random() < 0.6:
        key_terms.append(row("payment_days", "as set out in Schedule 2"))
    if layout == "key-terms":
        parts.append("KEY TERMS")
        parts.extend(key_terms)
        parts.append("")
    elif layout == "cover":
        parts.append(f"Supplier: {supplier}")
        parts.append(f"Commencement Date: {D(start)}")
        if "end_date" not in missing:
            parts.append(f"Expiry Date: {D(end)}")
        parts.append("")
    clauses: list[tuple[str, str]] = []
    if "end_date" in missing:
        term = (
            f"This Agreement commences on {D(start)} and continues until terminated by either party on"
            f" {rng.choice([3, 6])} months' written notice."
        )
    elif layout == "cover":
        term = "This Agreement commences on the Commencement Date and ends on the Expiry Date."
    else:
        term = f"This Agreement commences on {D(start)} and shall remain in force until {D(end)}."
    if "end_date" not in missing:
        if renewal == "automatic":
            n = rng.choice([30, 60, 90])
            term += (
                f" It shall automatically renew for successive periods of 12 months unless either party gives"
                f" at least {n} days' written notice of non-renewal."
            )
        else:
            term += rng.choice(
                [
                    " It may be renewed only by written agreement of the parties.",
                    " It shall expire at the end of the term and shall not renew automatically.",
                ]
            )
    clauses.append(("Term", term))
    fee = rng.choice([12_000, 48_000, 96_000, 180_000, 320_000, 640_000])
    pay_clause = f"The Customer shall pay the Supplier the fees set out in the Price Schedule, estimated at {fmt_amount(fee, astyle)} per year."
    if "payment_days" not in missing:
        pay_clause += (
            " "
            + rng.choice(
                [
                    f" Invoices are payable within {pay} days of the invoice date.",
                    f" Payment terms: net {pay} days.",
                    f" The Customer shall pay each undisputed invoice within {NUM_WORDS.get(pay, str(pay))} ({pay}) days of receipt.",
                ]
            ).strip()
        )
    else:
        pay_clause += " The Supplier shall invoice monthly in arrears."
    clauses.append(("Fees and Payment", pay_clause))
    if "liability_cap" in missing:
        liab = rng.choice(
            [
                "Neither party limits its liability under this Agreement.",
                "Each party's total liability shall not exceed the fees paid in the 12 months preceding the claim.",
                "Nothing in this Agreement limits liability for death or personal injury caused by negligence, or for"
                " fraud.",
            ]
        )
    else:
        liab = (
            f"Each party's total aggregate liability arising under or in connection with this Agreement shall not"
            f" exceed {fmt_amount(cap, astyle)}. Nothing in this Agreement limits liability for death or personal"
            f" injury caused by negligence, or for fraud."
        )
    law_clause = (
        None
        if "governing_law" in missing
        else (f"This Agreement and any dispute arising out of it shall be governed by {law}.")
    )

    if long:
        body_clauses = list(BOILERPLATE)
        rng.shuffle(body_clauses)
        expanded: list[tuple[str, str]] = []
        for name, text in body_clauses:
            extra = " ".join(rng.sample([b[1] for b in BOILERPLATE], 2))
            expanded.append((name, text + " " + extra))
        ordered = clauses + expanded[:12] + [("Limitation of Liability", liab)] + expanded[12:]
        if law_clause:
            ordered.append(("Governing Law", law_clause))
        schedule = ["SCHEDULE 1 - SERVICE LEVELS"]
        for row in SCHEDULE_ROWS * 3:
            schedule.append(
                f"{row}: target {rng.randint(90, 99)}.{rng.randint(0, 9)}%, measured monthly, reported"
                f" within {rng.randint(3, 15)} business days; service credit {rng.randint(1, 5)}% of"
                " monthly fees per point below target."
            )
    else:
        extras = rng.sample(BOILERPLATE, rng.randint(1, 4))
        ordered = clauses[:1] + extras[:1] + clauses[1:] + [("Limitation of Liability", liab)] + extras[1:]
        if law_clause:
            ordered.append(("Governing Law", law_clause))
        schedule = []
    for i, (name, text) in enumerate(ordered, 1):
        parts.append(f"{i}. {name.upper()}")
        parts.append(f"{i}.1 {text}")
        parts.append("")
    parts.extend(schedule)
    if schedule:
        parts.append("")
    if layout == "schedule":
        parts.append("SCHEDULE 2 - KEY TERMS")
        parts.extend(key_terms)
        parts.append("")
    parts.append(f"Signed for and on behalf of {supplier}: ______________________  Date: {D(signed)}")
    parts.append(f"Signed for and on behalf of Brightwell Retail Group Ltd: ______________________  Date: {D(signed)}")
    if amended:
        # Signed later and appended; the key-terms table above was never updated.
        parts += ["", "AMENDMENT No. 1", f"This amendment is dated {D(amended['date'])}. With effect from that date:"]
        term_no = 1
        if "end_date" in amended:
            parts.append(
                f"Clause {term_no}.1 is amended so that this Agreement shall remain in force until {D(amended['end_date'])}."
            )
        if "liability_cap" in amended:
            parts.append(
                "The limitation of liability clause is amended so that each party's total aggregate liability shall"
                f" not exceed {fmt_amount(amended['liability_cap'], astyle)}."
            )
        if "payment_days" in amended:
            parts.append(f"Invoices are now payable within {amended['payment_days']} days of the invoice date.")
        parts.append("All other terms of the Agreement remain in full force and effect.")
        parts.append(f"Signed for and on behalf of {supplier}: ______________________  Date: {D(amended['date'])}")
    meta = {
        "country": country,
        "date_style": dstyle,
        "amount_style": astyle,
        "long": long,
        "missing": sorted(missing),
        "layout": layout,
        "key_terms_style": kt["style"] if layout in ("key-terms", "schedule") else None,
        "amended": sorted(k for k in amended if k in labels),
    }
    return "\n".join(parts), labels, meta


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def generate(pack_dir: Path = PACK_DIR) -> None:
    rng = random.Random(SEED)
    arng = random.Random(SEED + 1)  # amendments and key-terms templates: their own stream
    used: set[str] = set()
    visible: list[dict] = []
    for i in range(200):
        text, labels, meta = _contract(rng, used, long=rng.random() < 0.06, arng=arng)
        visible.append({"id": f"C-{2401 + i}", "filename": f"contract_{2401 + i}.txt", "text": text, "_labels": labels})
    hidden: list[dict] = []
    for i in range(44):
        long = i in (7, 23) or i >= 40
        text, labels, meta = _contract(rng, used, long=long, arng=arng)
        hidden.append(
            {
                "id": f"H-{501 + i}",
                "set": "long" if i >= 40 else "representative",
                "text": text,
                "labels": labels,
                "meta": meta,
            }
        )
    pick = sorted(rng.sample(range(200), 25))
    labelled = [{"id": visible[i]["id"], **visible[i]["_labels"]} for i in pick]
    data, hid = pack_dir / "data", pack_dir / "hidden"
    data.mkdir(parents=True, exist_ok=True)
    hid.mkdir(parents=True, exist_ok=True)
    _write_jsonl(data / "contracts.jsonl", [{k: v for k, v in r.items() if k != "_labels"} for r in visible])
    _write_jsonl(data / "labelled_sample.jsonl", labelled)
    _write_jsonl(hid / "labelled.jsonl", hidden)


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else PACK_DIR)
