# %%
# Reference solution for llm-bill-blowup.
import json
import threading

import pandas as pd
from clarify_kit import llm, tokens

weekend = pd.read_json("/data/usage_weekend.jsonl", lines=True)
daily = pd.read_csv("/data/usage_daily.csv", parse_dates=["date"])
with open("/data/system_prompt.txt", encoding="utf-8") as f:
    SYSTEM_PROMPT = f.read()

# %%
# What happened: cost by task and vendor, retry chains, repeats, prompt size over time.
print(weekend.groupby("task_id")["cost_usd"].sum().sort_values(ascending=False).head(3))
print(weekend.groupby(["vendor", "status"]).size())
first = weekend[weekend["retry_of"].isna()]
print("exact repeats:", round(first["prompt_hash"].duplicated().mean(), 2))
print(daily.groupby(daily["date"].dt.to_period("M"))["prompt_tokens_mean"].mean().round())

# %%
# Prices per 1k tokens (in, out): the primary's from the client, the backup's from its bills.
PRICES = {
    "primary": (client.price_in_per_1k, client.price_out_per_1k),  # noqa: F821 - client comes with the session
    "backup": (0.005, 0.015),
}
MAX_STEPS_PER_TASK = 30  # the longest legitimate task takes about 20 calls
RATE_LIMIT_RETRIES = 6  # waits of retry_after, one layer only
ERROR_RETRIES = 2  # 500s and timeouts on the primary before failing over
BREAKER_FAILURES, BREAKER_OPEN_S = 3, 60.0  # stop calling a vendor that is down
OVERHEAD = 4  # tokens per message


class Gateway:
    """Budgets per team, a step limit per task, an exact-prompt cache, one retry layer with
    backoff, and a failover whose spend counts against the same budgets."""

    def __init__(self, budgets_usd):
        self.budgets = {team: float(usd) for team, usd in budgets_usd.items()}
        self.spent = dict.fromkeys(self.budgets, 0.0)
        self.steps: dict[str, int] = {}
        self.cache: dict[str, str] = {}
        self.failures = 0
        self.open_until = -1.0
        self.lock = threading.Lock()

    def _estimate(self, vendor, messages, max_tokens):
        """The most a call can cost, from the current prompt's real size."""
        n_in = sum(tokens.count(m["content"]) + OVERHEAD for m in messages)
        p_in, p_out = PRICES[vendor]
        return (n_in * p_in + max_tokens * p_out) / 1000

    def _admit(self, team, cost):
        if team not in self.budgets:
            raise BudgetExceeded(f"team {team!r} has no budget")  # noqa: F821 - from the session
        if self.spent[team] + cost > self.budgets[team]:
            raise BudgetExceeded(  # noqa: F821
                f"team {team!r} would exceed its ${self.budgets[team]:.4f} budget (spent ${self.spent[team]:.4f})"
            )

    def chat(self, team, agent, task_id, messages, max_tokens=256):
        key = json.dumps([messages, max_tokens], sort_keys=True)
        with self.lock:
            step = self.steps.get(task_id, 0) + 1
            self.steps[task_id] = step
            if step > MAX_STEPS_PER_TASK:
                raise BudgetExceeded(f"task {task_id!r} ran {MAX_STEPS_PER_TASK} steps: stopped as a runaway loop")  # noqa: F821
            if key in self.cache:
                return self.cache[key]
        text = self._primary(team, messages, max_tokens)
        if text is None:
            text = self._backup(team, messages, max_tokens)
        with self.lock:
            self.cache[key] = text
        return text

    def _primary(self, team, messages, max_tokens):
        """The reply from the primary, or None to fail over (it is down or keeps failing)."""
        if client.now() < self.open_until:  # noqa: F821
            return None
        errors = limited = 0
        while True:
            self._admit(team, self._estimate("primary", messages, max_tokens))
            try:
                reply = client.chat(messages, max_tokens=max_tokens)  # noqa: F821
            except llm.RateLimitError as exc:
                limited += 1
                if limited > RATE_LIMIT_RETRIES:
                    raise BudgetExceeded("the primary kept rate limiting: try later") from exc  # noqa: F821
                client.sleep(exc.retry_after_s)  # noqa: F821
                continue
            except llm.ContextLengthError:
                return None  # the backup has a larger context
            except llm.LLMError:
                errors += 1
                self.failures += 1
                if self.failures >= BREAKER_FAILURES:
                    self.open_until = client.now() + BREAKER_OPEN_S  # noqa: F821
                    return None
                if errors > ERROR_RETRIES:
                    return None
                client.sleep(0.5 * 2**errors)  # noqa: F821
                continue
            self.failures = 0
            with self.lock:
                self.spent[team] += reply.cost_usd
            return reply.text

    def _backup(self, team, messages, max_tokens):
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        prompt = "\n".join(m["content"] for m in messages if m["role"] != "system")
        for attempt in range(3):
            self._admit(team, self._estimate("backup", messages, max_tokens))
            try:
                reply = backup.generate(system, prompt, max_tokens)  # noqa: F821 - backup comes with the session
            except llm.RateLimitError as exc:
                backup.sleep(exc.retry_after_s)  # noqa: F821
                continue
            except llm.LLMError as exc:
                if attempt == 2:
                    raise BudgetExceeded(f"both vendors failed: {exc}") from exc  # noqa: F821
                backup.sleep(2.0**attempt)  # noqa: F821
                continue
            usage = reply["usage"]
            p_in, p_out = PRICES["backup"]
            with self.lock:
                self.spent[team] += (usage["input_tokens"] * p_in + usage["output_tokens"] * p_out) / 1000
            return reply["output"]
        raise BudgetExceeded("the backup vendor kept rate limiting")  # noqa: F821


def make_gateway(budgets_usd):
    return Gateway(budgets_usd)


# %%
# Today's cost per team: the last two weeks only (the prompt has tripled since June, so a
# six-month average is far too low). Finance adds headroom on top for the budgets.
recent = daily[daily["date"] > daily["date"].max() - pd.Timedelta(days=14)]
TEAM_DAILY_COST_USD = recent.groupby("team")["cost_usd"].mean().round(4).to_dict()
print(TEAM_DAILY_COST_USD)
