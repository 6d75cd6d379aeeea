# Runs silently at session start and after every restart.
from clarify_kit import llm, tokens  # noqa: F401

client = llm.SimulatedLLM(seed=11, time_scale=0.05, malformed_json_rate=0.2)
