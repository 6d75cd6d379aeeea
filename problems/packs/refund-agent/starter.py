# %%
import json

from clarify_kit import llm, tools  # noqa: F401 - llm_client and the tool errors

for t in env.tools():  # noqa: F821 - env comes with the session
    print(f"{t['name']:<12} {t['description']}")

with open("/data/requests_sample.jsonl") as f:
    requests = [json.loads(line) for line in f]
requests[0]


# %%
def handle_request(request: dict, env) -> dict:
    """Resolve one refund request with env's tools.

    Returns {"action": "refund" | "escalate" | "deny", "amount": float, "reason": str}.
    """
    raise NotImplementedError
