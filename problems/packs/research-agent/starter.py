# %%
from clarify_kit import embeddings, llm, tokens, vectors  # noqa: F401

print(len(store), "documents")  # noqa: F821 - store comes with the session
hits = store.search("EMEA revenue", k=3)  # noqa: F821
for h in hits:
    print(h.id, round(h.score, 3), h.metadata["title"])
store.get(hits[0].id)  # noqa: F821


# %%
def research(question: str) -> dict:
    """Answer an analyst's question from the document store.

    Returns {"answer": str, "sources": [doc ids]}.
    """
    raise NotImplementedError
