# %%
# Last weekend's LLM bill. `client` is our LLM vendor (simulated, from the offline kit
# `clarify_kit`; help(llm.SimulatedLLM) shows how to use it) and `backup` our second vendor
# (help(backup)). The simulated API runs on a sped-up clock: to wait, use client.sleep(seconds),
# not time.sleep. `BudgetExceeded` is the error the gateway raises when it refuses a call.
import pandas as pd
from clarify_kit import llm, tokens  # noqa: F401

weekend = pd.read_json("/data/usage_weekend.jsonl", lines=True)
daily = pd.read_csv("/data/usage_daily.csv", parse_dates=["date"])
with open("/data/system_prompt.txt", encoding="utf-8") as f:
    SYSTEM_PROMPT = f.read()
print(len(weekend), "requests logged over the weekend;", len(daily), "daily rows")
weekend.head()


# %%
# The shared calling code every agent uses today.
def _http_call(messages, max_tokens=256):
    """Our HTTP helper."""
    for attempt in range(3):
        try:
            return client.chat(messages, max_tokens=max_tokens)  # noqa: F821 - client comes with the session
        except llm.LLMError:
            if attempt == 2:
                raise


def sdk_call(messages, max_tokens=256) -> str:
    """The SDK wrapper: retries, then fails over to the backup vendor."""
    for _attempt in range(3):
        try:
            return _http_call(messages, max_tokens).text
        except llm.LLMError:
            pass
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    prompt = "\n".join(m["content"] for m in messages if m["role"] != "system")
    return backup.generate(system, prompt, max_tokens)["output"]  # noqa: F821 - backup comes with the session


def agent_call(messages, max_tokens=256) -> str:
    """The agent framework's call."""
    for attempt in range(3):
        try:
            return sdk_call(messages, max_tokens)
        except llm.LLMError:
            if attempt == 2:
                raise


# %%
# From now on every agent calls the gateway instead:
#     gateway = make_gateway(budgets_usd)  # {team: USD for the day}
#     text = gateway.chat(team, agent, task_id, messages, max_tokens=256)
def make_gateway(budgets_usd: dict[str, float]):
    """The one entry point for every team's LLM calls.

    Returns an object with `chat(team, agent, task_id, messages, max_tokens=256) -> str` (the reply
    text) that raises `BudgetExceeded` when a call must not go ahead. `budgets_usd` maps each team
    to what it may spend over the gateway's lifetime (one gateway per day).
    """
    raise NotImplementedError


# What each team's agents cost per day at today's usage (USD); finance sizes the budgets from it.
TEAM_DAILY_COST_USD: dict[str, float] = {}
