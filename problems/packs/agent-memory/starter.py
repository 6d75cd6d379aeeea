# %%
# A support agent with long-term memory. Already defined with the session:
#   memory - the memory store (help(memory): write, read, search, get, update, delete, all)
#   tools  - the support desk (help(tools): get_account, list_orders, get_order, refund, change_address)
#   clock  - today's date and time (clock.now(), clock.today())
#   client - our LLM (simulated, from the offline kit `clarify_kit`; help(llm.SimulatedLLM))
# The simulated API runs on a sped-up clock: to wait, use client.sleep(seconds), not time.sleep.
import json

from clarify_kit import llm, tokens  # noqa: F401


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


transcripts = read_jsonl("/data/transcripts.jsonl")
print(len(memory), "memories;", len(transcripts), "transcript turns")  # noqa: F821 - comes with the session
print(memory.search("delivery address", k=3))  # noqa: F821


# %%
def handle(customer_id: str, message: str, conversation_id: str) -> str:
    """One step of the support agent: the customer's latest message in, the reply out.

    Use the session's `memory`, `tools`, `clock` and `client` (not copies of them): remember what
    matters, recall what helps, call the desk's tools when the customer needs something done.
    """
    raise NotImplementedError
