"""Deterministic hashing embeddings: lexical similarity with no model download.

Each text is lower-cased and turned into features: word unigrams, word bigrams and the
character trigrams of every word (padded, fastText-style); common function words ("the",
"how", "is", ... see ``STOPWORDS``) count a fifth as much as other words. Every feature is hashed (CRC-32,
stable across runs and machines) to one of ``dim`` buckets with a sign, the weighted counts
are summed and the vector is L2-normalised. Texts that share words and word parts get similar
vectors; there is no notion of synonyms, so "car" and "automobile" are unrelated. The same text
always gives the same vector.

Example::

    >>> from clarify_kit import embeddings
    >>> v = embeddings.embed(["refund policy for damaged items", "our refund policy", "weather today"])
    >>> v.shape, v.dtype
    ((3, 256), dtype('float32'))
    >>> embeddings.cosine(v[0], v[1]) > embeddings.cosine(v[0], v[2])
    True
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Iterable

import numpy as np

__all__ = ["cosine", "embed"]

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_UNIGRAM_WEIGHT = 1.0
_BIGRAM_WEIGHT = 0.5
_TRIGRAM_WEIGHT = 0.5
_STOPWORD_WEIGHT = 0.2
# Function words carry little meaning; down-weighting them keeps "how do I ..." questions from
# looking alike just because they share their grammar.
_STOPWORDS_TEXT = (
    "a an the and or but of to in on for with at by from as is are was were be been being do does did "
    "how what which who whom when where why i you he she we they it its my your our their me us them "
    "this that these those can could should would will shall may might must get has have had not no "
    "so if then than there here please"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def _features(text: str) -> Iterable[tuple[bytes, float]]:
    words = _WORD.findall(text.lower())
    for w in words:
        scale = _STOPWORD_WEIGHT if w in STOPWORDS else 1.0
        yield b"w:" + w.encode(), _UNIGRAM_WEIGHT * scale
        padded = f" {w} "
        for i in range(len(padded) - 2):
            yield b"c:" + padded[i : i + 3].encode(), _TRIGRAM_WEIGHT * scale
    for a, b in itertools.pairwise(words):
        scale = _STOPWORD_WEIGHT if a in STOPWORDS and b in STOPWORDS else 1.0
        yield b"b:" + a.encode() + b" " + b.encode(), _BIGRAM_WEIGHT * scale


def _embed_one(text: str, dim: int) -> np.ndarray:
    vec = np.zeros(dim, dtype=np.float64)
    for feature, weight in _features(text):
        h = zlib.crc32(feature)
        vec[h % dim] += weight if (h >> 31) & 1 else -weight
    norm = float(np.linalg.norm(vec))
    if norm > 0.0:
        vec /= norm
    return vec.astype(np.float32)


def embed(texts: list[str] | str, dim: int = 256) -> np.ndarray:
    """Embed one text or a list of texts; returns a float32 array of shape ``(n, dim)``.

    A single string gives shape ``(1, dim)``. Rows are L2-normalised, so a dot product is a
    cosine similarity; a text with no words (``""``, ``"!!"``) embeds to the zero vector.
    """
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(dim, int) or dim <= 0:
        raise ValueError(f"dim must be a positive integer, not {dim!r}")
    texts = list(texts)
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"embed() expects strings, got {type(t).__name__}")
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    return np.stack([_embed_one(t, dim) for t in texts])


def cosine(a, b) -> float:
    """Cosine similarity of two vectors (anything ``numpy.ravel`` accepts, same size).

    Returns a float in [-1, 1]; 0.0 if either vector is all zeros.
    """
    x = np.ravel(np.asarray(a, dtype=np.float64))
    y = np.ravel(np.asarray(b, dtype=np.float64))
    if x.shape != y.shape:
        raise ValueError(f"cosine() needs vectors of the same size, got {x.size} and {y.size}")
    nx = float(np.linalg.norm(x))
    ny = float(np.linalg.norm(y))
    if nx == 0.0 or ny == 0.0:
        return 0.0
    return float(np.clip(np.dot(x, y) / (nx * ny), -1.0, 1.0))
