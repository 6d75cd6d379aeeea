# %%
# Ledgerly help-centre assistant.
#
# `client` is already defined: a client for our LLM API (simulated, from the offline kit
# `clarify_kit`; help(client) or help(llm) shows how to use it). Make every LLM call through
# `client`. The kit also has `embeddings`, `vectors` and `tokens` (already imported).
import json

with open("/data/articles.jsonl", encoding="utf-8") as f:
    articles = [json.loads(line) for line in f]
with open("/data/sample_questions.jsonl", encoding="utf-8") as f:
    past_questions = [json.loads(line)["question"] for line in f]
print(len(articles), "articles;", len(past_questions), "past questions")
print(articles[0]["title"], "|", articles[0]["updated_at"], "|", articles[0]["locale"])


# %%
def answer(question: str) -> str:
    """The reply the support widget shows the customer for `question`."""
    raise NotImplementedError


# %%
for q in past_questions[:5]:
    print(q, "->", answer(q))
