# %%
# Reference solution for research-agent. Re-index the store's current documents (the search
# index predates ~10% of the edits), retrieve once, drop instruction-like sentences, resolve
# disagreements in favour of the newest document (and say so), refuse when the question's named
# entity isn't in the best document, one small-model call to phrase the answer, cite only the
# document the answer comes from. Two calls per question (one search, one LLM call).
import json
import math
import re

from clarify_kit import embeddings, llm, vectors

MAX_LLM_ATTEMPTS = 2
IDK_ANSWER = "I couldn't find this in the document store."
_INJECTION = re.compile(
    r"^\s*(?:(?:the\s+)?assistant\s+must|(?:ignore|disregard)\b.{0,40}\b(?:instructions|above|prior)"
    r"|system\s*:|new\s+instructions\s*:)",
    re.IGNORECASE,
)
_STOP = set(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "at",
        "by",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "do",
        "does",
        "did",
        "how",
        "what",
        "which",
        "who",
        "when",
        "where",
        "why",
        "this",
        "that",
        "it",
        "its",
        "per",
        "much",
        "many",
        "long",
        "our",
        "we",
        "you",
        "i",
    ]
)

with open("/data/docs.jsonl") as _f:
    DOCS = {d["id"]: d for d in map(json.loads, _f)}
FRESH_INDEX = vectors.VectorIndex(dim=256)
FRESH_INDEX.add(list(DOCS), embeddings.embed([f"{d['title']}. {d['text']}" for d in DOCS.values()]))


def _words(text):
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in re.findall(r"[a-z0-9]+", text.lower())} - _STOP


def _sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+(?=\S)", text) if s and not _INJECTION.match(s)]


def _entities(question):
    """Capitalised words after the first one: the names a supporting document must mention."""
    return [w for w in re.findall(r"[A-Za-z][\w&-]*", question)[1:] if w[0].isupper()]


def _ask_llm(context, question):
    prompt = (
        "Answer the question using only the context. If the answer is not in the context, say I don't know.\n"
        f"Context:\n{context}\nQuestion: {question}"
    )
    for _ in range(MAX_LLM_ATTEMPTS):
        try:
            return llm_client.complete(prompt, max_tokens=80, timeout_s=5).text  # noqa: F821 - from setup
        except llm.LLMError as exc:
            if not getattr(exc, "retryable", False):
                break
    return None


def research(question: str) -> dict:
    qwords = _words(question)
    hits = FRESH_INDEX.search(embeddings.embed(question), k=10)
    scored = []
    for h in hits:
        doc = DOCS[h.id]
        for s in _sentences(doc["text"]):
            scored.append((len(qwords & _words(s)), doc["updated_at"], doc["id"], s))
    best = max((s[0] for s in scored), default=0)
    if best < max(2, math.ceil(len(qwords) / 2)):
        return {"answer": IDK_ANSWER, "sources": []}
    top = sorted((s for s in scored if s[0] == best), key=lambda s: s[1], reverse=True)
    _, updated, doc_id, sentence = top[0]
    text = DOCS[doc_id]["title"] + ". " + DOCS[doc_id]["text"]
    missing = [e for e in _entities(question) if e.lower() not in text.lower()]
    if missing:
        return {"answer": f"{IDK_ANSWER} No document mentions {' '.join(missing)}.", "sources": []}
    context = "\n".join(_sentences(DOCS[doc_id]["text"]))
    answer = _ask_llm(context, question)
    if not answer or "don't know" in answer.lower() or not (_words(answer) & _words(sentence)):
        answer = sentence
    older = sorted({s[2] for s in top[1:] if s[2] != doc_id and s[3] != sentence})
    if older:
        answer += (
            f" Note: {', '.join(older)} disagree{'s' if len(older) == 1 else ''}; I used {doc_id}, "
            f"the most recently updated source ({updated[:10]})."
        )
    return {"answer": answer, "sources": [doc_id]}
