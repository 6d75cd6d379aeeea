# %%
# Intent sorting at Norda Mobile: keep the large model's few-shot prompt, or fine-tune a small model?
#
# `large_us` and `large_eu` are the vendor's large model behind its two endpoints (simulated, from
# the offline kit `clarify_kit`; same interface as llm.SimulatedLLM: .chat(messages, ...) /
# .complete(prompt, ...) return a Completion with .text, .input_tokens, .output_tokens,
# .latency_ms and .cost_usd). `finetune(examples)` trains the small model on a list of
# {"text": ..., "label": ...} and returns a model whose .predict(text) gives a Prediction
# (intent, confidence, latency_ms). The simulated API runs on a sped-up clock.
import json

import pandas as pd
from clarify_kit import llm, tokens  # noqa: F401


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


labelled = read_jsonl("/data/labelled.jsonl")
unlabelled = read_jsonl("/data/unlabelled.jsonl")
with open("/data/prompt_fewshot.txt", encoding="utf-8") as f:
    PROMPT = f.read()
with open("/data/taxonomy.json", encoding="utf-8") as f:
    taxonomy = json.load(f)
daily = pd.read_csv("/data/production_daily.csv")
print(len(labelled), "labelled,", len(unlabelled), "unlabelled messages")
print(labelled[0])

# %%
# How production classifies a message today.
reply = large_us.complete(PROMPT.replace("{message}", labelled[0]["text"]), max_tokens=5)  # noqa: F821
print(reply.text, reply.input_tokens, "tokens in,", f"{reply.latency_ms:.0f} ms, ${reply.cost_usd:.4f}")

# %%
# Training the small model.
small = finetune(labelled[:100])  # noqa: F821 - comes with the session
print(small, small.predict(labelled[100]["text"]))


# %%
def classify(message: dict) -> str:
    """The intent of one customer message ({"id", "text", "region", "received"}): a working
    prototype of the path you recommend."""
    raise NotImplementedError


def recommend() -> dict:
    """Your recommendation and the numbers behind it."""
    return {
        "choice": None,  # "prompt" or "finetune"
        "cost_per_1k_usd": {"prompt": None, "finetune": None},  # USD per 1,000 messages, each path
        "p95_ms": {"prompt": None, "finetune": None},
        "expected_accuracy": None,  # the share of messages classify() gets right in production
        "notes": "",
    }
