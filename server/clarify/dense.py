"""Sentence vectors from a small static word-embedding model that ships inside a PyPI wheel.

The model is WordLlama's ``l2_supercat`` at 256 dimensions: a 32,000-token embedding table
(float16, 16 MB) and its tokenizer, both inside the ``wordllama`` wheel, so nothing is
downloaded at run time. A sentence vector is the mean of its tokens' vectors, L2-normalised.

We read the two files ourselves instead of calling ``WordLlama.load``: importing ``wordllama``
configures the root logger (``logging.basicConfig``), and its loader looks for the tokenizer
under ``tokenizer/`` while the wheel ships it under ``tokenizers/``. ``find_spec`` locates the
package without importing it. Loading takes about 0.2 s and happens once per process, on first
use, shared by every session.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PACKAGE = "wordllama"
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
TENSOR = "embedding.weight"


class StaticEmbedder:
    """Mean-pooled, L2-normalised sentence vectors from a token embedding table."""

    def __init__(self, table: np.ndarray, tokenizer: object) -> None:
        self._table = table
        self._tokenizer = tokenizer
        self.dim = int(table.shape[1])
        self._cached = lru_cache(maxsize=8192)(self._embed_one)

    def _embed_one(self, text: str) -> np.ndarray:
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids  # type: ignore[attr-defined]
        if not ids:
            return np.zeros(self.dim, dtype=np.float32)
        v = self._table[np.asarray(ids, dtype=np.int64)].astype(np.float32).mean(axis=0)
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else v

    def embed(self, texts: Sequence[str], *, cache: bool = False) -> np.ndarray:
        """One unit row per text (a zero row for a text with no tokens).

        ``cache`` keeps the vectors of texts that recur (a pack's phrasings, built into a
        matcher per session); a candidate's questions are embedded without it.
        """
        one = self._cached if cache else self._embed_one
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([one(t) for t in texts])


_lock = threading.Lock()
_loaded: dict[str, StaticEmbedder | None] = {}


def package_dir(package: str = PACKAGE) -> Path | None:
    """Where ``package`` is installed, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def load_embedder(package: str = PACKAGE) -> StaticEmbedder | None:
    """The shared embedder, loaded on first call; None (and a logged warning) if it cannot be.

    Callers fall back to lexical matching when this returns None, so a missing or broken
    wheel degrades matching quality but never stops the server.
    """
    with _lock:
        if package in _loaded:
            return _loaded[package]
        embedder: StaticEmbedder | None = None
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            root = package_dir(package)
            if root is None:
                raise FileNotFoundError(f"package {package!r} is not installed")
            table = load_file(str(root / WEIGHTS))[TENSOR]
            embedder = StaticEmbedder(table, Tokenizer.from_file(str(root / TOKENIZER)))
        except Exception as exc:  # noqa: BLE001 - any failure means "no dense model", never a crash
            log.warning("dense matcher model unavailable, falling back to lexical matching: %s", exc)
        _loaded[package] = embedder
        return embedder
