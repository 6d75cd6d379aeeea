# %%
# Supplier contracts -> our `contracts` table.
#
# `client` is already defined: a client for our LLM API (simulated, from the offline kit
# `clarify_kit`; help(llm.SimulatedLLM) shows how to use it). Make LLM calls through `client`.
# The simulated API runs on a sped-up clock: to wait, use client.sleep(seconds), not time.sleep.
import json

from clarify_kit import llm, tokens  # noqa: F401

with open("/data/contracts.jsonl", encoding="utf-8") as f:
    contracts = [json.loads(line) for line in f]
print(len(contracts), "contracts")
print(contracts[0]["text"][:1000])

# %%
# The columns of the `contracts` table.
FIELDS = {
    "supplier_name": "str: the supplier's legal name, e.g. 'Nordhafen Logistics GmbH'",
    "start_date": "str: 'YYYY-MM-DD'",
    "end_date": "str: 'YYYY-MM-DD'",
    "renewal_terms": "'automatic' (renews unless a party gives notice) or 'manual' (ends, or renews only by agreement)",
    "liability_cap": "float: the cap on a party's total liability, a plain number in the contract's currency",
    "governing_law": "str: ISO 3166 country code of the governing law, e.g. 'GB', 'US', 'DE'",
    "payment_days": "int: days the customer has to pay an invoice",
}


def extract(contract_text: str) -> dict:
    """The row for the `contracts` table: one key per field in FIELDS."""
    raise NotImplementedError


# %%
print(extract(contracts[0]["text"]))
