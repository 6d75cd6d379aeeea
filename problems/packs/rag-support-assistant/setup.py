# Runs silently at session start and after every restart.
from clarify_kit import embeddings, llm, tokens, vectors  # noqa: F401

client = llm.SimulatedLLM(seed=7, time_scale=0.05, rate_limit_per_minute=600)
