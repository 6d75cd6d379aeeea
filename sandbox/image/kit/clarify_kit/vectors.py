"""A small in-memory vector index: exact cosine search with numpy.

Vectors are L2-normalised when added, so the score of a hit is its cosine similarity to the
query (in [-1, 1], higher is better). Adding an id that is already present replaces its
vector and metadata in place. Fine for the few thousand vectors an interview problem needs.

Example::

    >>> from clarify_kit import embeddings, vectors
    >>> docs = {"kb-1": "Refunds are issued within 30 days.", "kb-2": "Shipping takes three days."}
    >>> index = vectors.VectorIndex(dim=256)
    >>> index.add(list(docs), embeddings.embed(list(docs.values())), [{"text": t} for t in docs.values()])
    >>> hits = index.search(embeddings.embed("how long do refunds take"), k=1)
    >>> hits[0].id, hits[0].metadata["text"]
    ('kb-1', 'Refunds are issued within 30 days.')
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Hit", "Record", "VectorIndex"]


@dataclass(frozen=True)
class Hit:
    """One search result: the item's ``id``, its cosine ``score`` and its ``metadata``."""

    id: Hashable
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    """A stored item as returned by :meth:`VectorIndex.get`: ``id``, unit ``vector``, ``metadata``."""

    id: Hashable
    vector: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)


class VectorIndex:
    """An exact cosine-similarity index over ``dim``-dimensional vectors.

    Items are kept in insertion order (a replaced item keeps its place). Ids may be any
    hashable value, usually strings. Metadata is an optional dict per item, returned with
    every hit; the index stores the dicts it is given, so do not mutate them afterwards.
    """

    def __init__(self, dim: int = 256) -> None:
        if not isinstance(dim, int) or dim <= 0:
            raise ValueError(f"dim must be a positive integer, not {dim!r}")
        self.dim = dim
        self._ids: list[Hashable] = []
        self._row: dict[Hashable, int] = {}
        self._matrix = np.zeros((0, dim), dtype=np.float32)
        self._metadata: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, id: object) -> bool:
        return id in self._row

    def __repr__(self) -> str:
        return f"VectorIndex(dim={self.dim}, items={len(self)})"

    def _as_matrix(self, vectors: Any, n: int) -> np.ndarray:
        m = np.asarray(vectors, dtype=np.float32)
        if m.ndim == 1:
            m = m.reshape(1, -1)
        if m.ndim != 2 or m.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (n, {self.dim}), got {np.shape(vectors)}")
        if m.shape[0] != n:
            raise ValueError(f"got {n} ids but {m.shape[0]} vectors")
        if not np.all(np.isfinite(m)):
            raise ValueError("vectors contain NaN or infinity")
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)

    def add(
        self,
        ids: Sequence[Hashable],
        vectors: Any,
        metadata: Sequence[dict[str, Any] | None] | None = None,
    ) -> None:
        """Add (or replace) items: ``ids[i]`` gets row ``vectors[i]`` and ``metadata[i]``.

        ``vectors`` is an array of shape ``(len(ids), dim)`` (a single 1-D vector is accepted for
        a single id). Re-adding an existing id replaces its vector and metadata in place. Raises
        ``ValueError`` on a shape mismatch, non-finite values or the same id twice in one call.
        """
        if isinstance(ids, str | bytes):
            raise TypeError("ids must be a sequence of ids; wrap a single id in a list")
        ids = list(ids)
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate ids in one add() call")
        rows = self._as_matrix(vectors, len(ids))
        if metadata is None:
            metas: list[dict[str, Any]] = [{} for _ in ids]
        else:
            metas = [{} if m is None else m for m in metadata]
            if len(metas) != len(ids):
                raise ValueError(f"got {len(ids)} ids but {len(metas)} metadata entries")
        new_rows = []
        for i, id_ in enumerate(ids):
            if id_ in self._row:
                r = self._row[id_]
                self._matrix[r] = rows[i]
                self._metadata[r] = metas[i]
            else:
                self._row[id_] = len(self._ids) + len(new_rows)
                new_rows.append(i)
        if new_rows:
            for i in new_rows:
                self._ids.append(ids[i])
                self._metadata.append(metas[i])
            self._matrix = np.vstack([self._matrix, rows[new_rows]])

    def remove(self, ids: Sequence[Hashable]) -> int:
        """Remove the given ids; ids that are not present are ignored. Returns how many were removed."""
        if isinstance(ids, str | bytes):
            raise TypeError("ids must be a sequence of ids; wrap a single id in a list")
        doomed = {self._row[i] for i in ids if i in self._row}
        if not doomed:
            return 0
        keep = [r for r in range(len(self._ids)) if r not in doomed]
        self._ids = [self._ids[r] for r in keep]
        self._metadata = [self._metadata[r] for r in keep]
        self._matrix = self._matrix[keep]
        self._row = {id_: r for r, id_ in enumerate(self._ids)}
        return len(doomed)

    def search(self, vector: Any, k: int = 5) -> list[Hit]:
        """Return the ``k`` items most similar to ``vector``, best first (ties in insertion order).

        ``vector`` may have shape ``(dim,)`` or ``(1, dim)`` (what ``embeddings.embed(text)``
        returns). Returns fewer than ``k`` hits when the index is smaller, ``[]`` when empty.
        """
        q = np.asarray(vector, dtype=np.float32)
        if q.size != self.dim or q.ndim > 2:
            raise ValueError(f"expected a query vector of size {self.dim}, got shape {q.shape}")
        q = q.reshape(self.dim)
        if k <= 0 or not self._ids:
            return []
        norm = float(np.linalg.norm(q))
        scores = self._matrix @ (q / norm) if norm > 0 else np.zeros(len(self._ids), dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return [Hit(self._ids[r], float(scores[r]), self._metadata[r]) for r in order]

    def ids(self) -> list[Hashable]:
        """All ids, in insertion order."""
        return list(self._ids)

    def get(self, id: Hashable) -> Record | None:
        """The stored :class:`Record` for ``id`` (unit vector and metadata), or ``None`` if absent."""
        r = self._row.get(id)
        if r is None:
            return None
        return Record(id, self._matrix[r].copy(), self._metadata[r])
