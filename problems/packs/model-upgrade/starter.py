# %%
# Ticket routing: can the new model take over from the current one?
#
# `current_model`, `new_model` and `judge_model` are already defined: clients for our LLM vendor's
# API (simulated, from the offline kit `clarify_kit`; same interface as llm.SimulatedLLM:
# .chat(messages, ...) / .complete(prompt, ...) return a Completion whose .text is the reply).
# The simulated API runs on a sped-up clock: to wait, use new_model.sleep(seconds), not time.sleep.
import json
from pathlib import Path

from clarify_kit import llm, tokens  # noqa: F401

CATEGORIES = ["billing", "delivery", "refund", "account", "technical"]


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


labelled = read_jsonl("/data/labelled.jsonl")
logs = read_jsonl("/data/production_logs.jsonl")
prompts = {p.stem: p.read_text() for p in sorted(Path("/data/prompts").glob("*.txt"))}
print(len(labelled), "labelled tickets,", len(logs), "log lines, prompts:", sorted(prompts))
print(labelled[0])

# %%
# How production calls the router today.
reply = current_model.complete(prompts["v3"].format(ticket=labelled[0]["text"]))  # noqa: F821 - comes with the session
print(reply.text)


# %%
def classify(ticket_text: str) -> str:
    """The category of one ticket, one of CATEGORIES: the router we ship after the switch."""
    raise NotImplementedError


# The accuracy you expect from `classify` on our production traffic (a share, 0 to 1):
# overall, English and German tickets, short and long tickets.
report = {"overall": None, "en": None, "de": None, "short": None, "long": None}
