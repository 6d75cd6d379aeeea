# Runs silently at session start and after every restart: the document store and its search index.
# The index was built from `/data/search_index.jsonl`; `store.get` reads `/data/docs.jsonl`.
import json as _json

from clarify_kit import embeddings, llm, vectors


def _read_jsonl(path):
    with open(path) as f:
        return [_json.loads(line) for line in f if line.strip()]


class DocStore:
    """The analysts' document store: `search(query, k)` over the search index, `get(doc_id)` for a document."""

    def __init__(self, docs, index):
        self._docs = {d["id"]: d for d in docs}
        self._index = index

    def search(self, query, k=5):
        """The `k` best hits for `query`: `vectors.Hit(id, score, metadata)` with title, text and indexed_at."""
        return self._index.search(embeddings.embed(str(query)), k=k)

    def get(self, doc_id):
        """The document `doc_id` as stored now (id, title, team, updated_at, text), or None."""
        doc = self._docs.get(doc_id)
        return dict(doc) if doc is not None else None

    def __len__(self):
        return len(self._docs)


def _build_store():
    snapshot = _read_jsonl("/data/search_index.jsonl")
    index = vectors.VectorIndex(dim=256)
    index.add(
        [r["id"] for r in snapshot],
        embeddings.embed([f"{r['title']}. {r['text']}" for r in snapshot]),
        metadata=[{"title": r["title"], "text": r["text"], "indexed_at": r["indexed_at"]} for r in snapshot],
    )
    return DocStore(_read_jsonl("/data/docs.jsonl"), index)


store = _build_store()
# The provider's model in this pack (private to the kit; learnt by asking): it invents an answer
# for half the questions its context does not cover, even when told to say "I don't know".
llm._configure(hallucination_rate=0.5)
llm_client = llm.SimulatedLLM(seed=0)
