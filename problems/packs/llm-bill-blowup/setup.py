# Runs silently at session start and after every restart: the LLM vendors and the refusal error.
from clarify_kit import llm, tokens  # noqa: F401


class BudgetExceeded(Exception):
    """Raised by the gateway when a call must not go ahead (a budget or a limit is reached)."""


class BackupVendor:
    """Our secondary LLM vendor, used when the primary fails. Its own API:

    generate(system: str, prompt: str, max_output_tokens: int = 256) -> dict with
    "output" (str), "usage" ({"input_tokens": int, "output_tokens": int}) and "model".
    Raises `llm.LLMError` subclasses like the primary (429 with `retry_after_s`, 500, timeouts).
    """

    def __init__(self, seed: int = 0, time_scale: float = 0.02) -> None:
        self._llm = llm.SimulatedLLM(seed=seed, model="sim-large", time_scale=time_scale)

    def generate(self, system: str, prompt: str, max_output_tokens: int = 256) -> dict:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        reply = self._llm.chat(messages, max_tokens=max_output_tokens)
        return {
            "output": reply.text,
            "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
            "model": "backup-xl",
        }

    def sleep(self, seconds: float) -> None:
        """Wait on the vendor's (scaled) clock, like `client.sleep`."""
        self._llm.sleep(seconds)


client = llm.SimulatedLLM(seed=7, time_scale=0.02, rate_limit_per_minute=60)
backup = BackupVendor(seed=8)
