# %%
# Reference solution: the LLM reads the contract (in chunks that fit sim-small's context) in
# JSON mode; its replies are parsed defensively and retried; every value is grounded in the
# text and normalised with the drafting supplier's locale; rule-based extraction fills gaps and
# anything not found stays None. Amendments appended after the signatures override the original
# terms (the key-terms table at the top is never updated). Rate limits and transient errors
# are retried with backoff.
import json
import re

from clarify_kit import llm, tokens

FIELDS = ["supplier_name", "start_date", "end_date", "renewal_terms", "liability_cap", "governing_law", "payment_days"]
# Names the model is asked for: the labels contracts actually use, mapped to our columns.
ASK = {
    "supplier_name": "supplier_name",
    "supplier": "supplier_name",
    "start_date": "start_date",
    "commencement_date": "start_date",
    "end_date": "end_date",
    "expiry_date": "end_date",
    "renewal_terms": "renewal_terms",
    "liability_cap": "liability_cap",
    "governing_law": "governing_law",
    "payment_terms": "payment_days",
}
CHUNK_TOKENS = 3000

MONTH_NAMES = [  # English, German, French, Dutch
    "january february march april may june july august september october november december",
    "januar februar märz april mai juni juli august september oktober november dezember",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "januari februari maart april mei juni juli augustus september oktober november december",
]
MONTHS = {name: i for names in MONTH_NAMES for i, name in enumerate(names.split(), 1)}
LAWS = [
    (r"england|wales|english|scotland|scottish|united kingdom", "GB"),
    (r"new york|delaware|california|united states", "US"),
    (r"germany|german", "DE"),
    (r"france|french", "FR"),
    (r"netherlands|dutch", "NL"),
    (r"ireland|irish", "IE"),
]


def call_json(prompt: str, attempts: int = 6) -> dict | None:
    """One JSON-mode call with retries: rate limits wait retry_after, bad JSON is asked again."""
    for _ in range(attempts):
        try:
            reply = client.complete(prompt, response_format="json", max_tokens=300, timeout_s=2.0)  # noqa: F821
        except llm.RateLimitError as exc:
            client.sleep(exc.retry_after_s + 0.05)  # noqa: F821
            continue
        except (llm.TimeoutError, llm.ServerError):
            client.sleep(0.5)  # noqa: F821
            continue
        except llm.LLMError:  # context length and the like: retrying will not help
            return None
        parsed = parse_json(reply.text)
        if parsed is not None:
            return parsed
    return None


def parse_json(text: str) -> dict | None:
    """A JSON object from a reply that may have prose around it, trailing commas or single quotes."""
    start = text.find("{")
    if start < 0:
        return None
    body = text[start : text.rfind("}") + 1] or text[start:]
    for candidate in (body, re.sub(r",\s*}", "}", body), body.replace("'", '"')):
        try:
            obj = json.loads(candidate)
            return obj if isinstance(obj, dict) else None
        except ValueError:
            continue
    return None  # truncated: ask again


EVIDENCE = {
    "supplier_name": r"supplier",
    "start_date": r"commence|start",
    "end_date": r"expir|end date|until",
    "renewal_terms": r"renew",
    "liability_cap": r"liabilit",
    "governing_law": r"govern",
    "payment_days": r"pay",
}


def grounded(field: str, value: str | None, text: str) -> str | None:
    """The model's value, if it appears in the text on a line that is about this field (no inventions)."""
    if not value:
        return None
    for line in text.splitlines():
        if value in line and re.search(EVIDENCE[field], line, re.I):
            return value
    return None


def llm_fields(text: str, country: str) -> dict:
    """Raw values the model finds, chunk by chunk; the first value grounded in the text wins."""
    found: dict = {}
    header = "Extract these fields from the contract below as a JSON object.\nfields: " + ", ".join(ASK) + "\n\n"
    pieces, current = [], []
    for para in text.split("\n\n"):
        if current and tokens.count("\n\n".join([*current, para])) > CHUNK_TOKENS:
            pieces.append("\n\n".join(current))
            current = []
        current.append(para)
    pieces.append("\n\n".join(current))
    for piece in pieces:
        obj = call_json(header + piece) or {}
        for name, column in ASK.items():
            value = grounded(column, None if obj.get(name) in (None, "") else str(obj.get(name)), piece)
            if column not in found and normalise(column, value, country) is not None:
                found[column] = value
    return found


def supplier_country(text: str) -> str:
    head = text.split("(2)")[0].lower()
    for pattern, code in [
        (r"usa\b|inc\.|llc|corp\.", "US"),
        (r"germany|gmbh|\bag\b", "DE"),
        (r"france|\bsas\b|sarl", "FR"),
        (r"netherlands|b\.v\.|n\.v\.", "NL"),
        (r"united kingdom|\bltd\b|limited|plc", "GB"),
    ]:
        if re.search(pattern, head):
            return code
    return "GB"


def parse_date(value: str | None, country: str) -> str | None:
    if not value:
        return None
    v = value.strip().lower()
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})", v)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := re.search(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})", v):
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        mo, d = (a, b) if country == "US" and "/" in m.group() else (b, a)
    elif m := re.search(r"(\d{1,2})(?:st|nd|rd|th|er)?\.?\s+([a-zäéû]+)\s+(\d{4})", v):
        d, mo, y = int(m[1]), MONTHS.get(m[2]), int(m[3])
    elif m := re.search(r"([a-z]+)\s+(\d{1,2}),\s*(\d{4})", v):
        mo, d, y = MONTHS.get(m[1]), int(m[2]), int(m[3])
    else:
        return None
    if not mo or not 1 <= mo <= 12 or not 1 <= d <= 31:
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


AMOUNT = re.compile(r"(?:[$£€]|usd|gbp|eur)\s?\d[\d.,  ]*\d(?:k\b|,-)?|\d[\d.,  ]*\d\s?(?:€|eur\b)", re.IGNORECASE)


def parse_amount(value: str | None) -> float | None:
    if not value:
        return None
    m = AMOUNT.search(value)
    if not m:
        return None
    s = re.sub(r"[^\d.,k]", "", m.group().lower().replace(",-", ""))
    mult = 1000 if s.endswith("k") else 1
    s = s.rstrip("k")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", s):  # 250.000,00
        s = s.replace(".", "").replace(",", ".")
    elif re.search(r",\d{1,2}$", s) and "." not in s:  # 250000,00 (after removing spaces)
        s = s.replace(",", ".")
    else:  # 1,500,000.00
        s = s.replace(",", "")
    try:
        return float(s) * mult
    except ValueError:
        return None


def parse_law(value: str | None) -> str | None:
    if not value:
        return None
    for pattern, code in LAWS:
        if re.search(pattern, value.lower()):
            return code
    return None


def parse_days(value: str | None) -> int | None:
    if not value:
        return None
    m = re.search(r"\b(\d{1,3})\)?\s*days", value.lower())
    return int(m[1]) if m else None


def rules(text: str) -> dict:
    """Clause-level evidence found with patterns, used to check and complete the model's answer."""
    out: dict = {}
    if m := re.search(r"^\(1\)\s*(.+?), whose registered office", text, re.M):
        out["supplier_name"] = m[1].strip()
    if m := re.search(
        r"(?:commences on (?!the Commencement)|^(?:Start date|Commencement Date):)\s*(.+?)(?: and|\.?$)", text, re.M
    ):
        out["start_date"] = m[1]
    if m := re.search(r"(?:remain in force until|^Expiry Date:|^End date:) ?(.+)", text, re.M):
        out["end_date"] = m[1]
    low = text.lower()
    if "automatically renew" in low or "renewal: automatic" in low:
        out["renewal_terms"] = "automatic"
    elif re.search(r"renewed only by written agreement|shall not renew|by written agreement only", low):
        out["renewal_terms"] = "manual"
    if m := re.search(r"liability[^.]*?shall not exceed (.+?)\.(?:\s|$)", text, re.I):
        out["liability_cap"] = m[1]
    if m := re.search(r"governed by ([^.]+)\.", text):
        out["governing_law"] = m[1]
    if m := re.search(r"(?:payable within \d+ days|net \d+ days|within [a-z -]+ \(\d+\) days)", text, re.I):
        out["payment_days"] = m.group()
    return out


def normalise(field: str, value: str | None, country: str):
    """The column value for a raw string, or None when it does not hold one."""
    if value is None:
        return None
    if field == "supplier_name":
        return value.strip() or None
    if field in ("start_date", "end_date"):
        return parse_date(value, country)
    if field == "renewal_terms":
        v = value.lower()
        return "automatic" if "automatic" in v else "manual" if re.search(r"agreement|manual|not renew", v) else None
    if field == "liability_cap":
        return parse_amount(value)
    if field == "governing_law":
        return parse_law(value)
    return parse_days(value)


AMENDMENT = re.compile(r"^AMENDMENT\b.*$", re.M)


def amended_terms(amendments: str, country: str) -> dict:
    """Terms a later amendment changes: it wins over the key-terms table and the original clauses."""
    found = rules(amendments)
    found.pop("supplier_name", None)  # an amendment's signature line is not the parties clause
    return {f: v for f, raw in found.items() if (v := normalise(f, raw, country)) is not None}


def extract(contract_text: str) -> dict:
    country = supplier_country(contract_text)
    # Amendments are appended after the signatures; the key-terms table is never updated.
    body, *amendments = AMENDMENT.split(contract_text, maxsplit=1)
    raw = llm_fields(body, country)
    found = rules(body)
    row: dict = {}
    for field in FIELDS:
        values = (normalise(field, cand, country) for cand in (found.get(field), raw.get(field)))
        row[field] = next((v for v in values if v is not None), None)
    for amendment in amendments:
        row.update(amended_terms(amendment, country))
    return row
