# Runs silently at session start and after every restart.
from clarify_kit import embeddings, llm, tokens, vectors  # noqa: F401

# How the provider's model behaves in this pack (private to the kit; learnt by asking): it invents
# an answer for half the questions its context does not cover even when told to say "I don't
# know", and it obeys instructions planted in articles in every style unless they are fenced off.
llm._configure(hallucination_rate=0.5)
client = llm.SimulatedLLM(seed=7, time_scale=0.05, rate_limit_per_minute=600)
