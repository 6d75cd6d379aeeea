"""Fit the hybrid matcher's calibration model and thresholds on the tuning data only.

Features come from leave-one-out tuning queries (``bench.matcher_data``: cues and labelled
questions); the blind ``eval.toml`` sets are never read here. Tuning figures are
leave-one-pack-out: each pack's questions scored by a model fitted on the other packs.
Prints the constants to paste into ``server/clarify/calibration.py``.

Usage: python -m bench.matcher_fit [--cues] [--l2 1.0]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from bench.matcher_data import Query, tuning_queries
from problems import PACKS_DIR, load_packs
from server.clarify import calibration as cal
from server.clarify.dense import StaticEmbedder, load_embedder

# The tuning data's questions about nothing hidden are deliberate near misses written beside the
# cues, harder than most; assisted mode allows 10% of them, auto mode 5%.
TARGET_PRECISION, ASSISTED_OFFTOPIC, AUTO_PRECISION, AUTO_OFFTOPIC = 0.9, 0.10, 0.95, 0.05


@dataclass
class Scored:
    """A query with its feature rows (one per constraint) and the constraint ids."""

    query: Query
    ids: list[str]
    x: np.ndarray | None

    def top(self, model: cal.LogisticModel) -> tuple[str, float]:
        if self.x is None:
            return "", 0.0
        p = model.predict(self.x)
        i = int(np.argmax(p))
        return self.ids[i], float(p[i])


def featurise(queries: list[Query], embedder: StaticEmbedder | None) -> list[Scored]:
    out = []
    for q in queries:
        m = q.hybrid(embedder)
        out.append(Scored(q, [c.id for c in q.constraints], m.features(q.text)))
    return out


def rows(scored: list[Scored]) -> tuple[np.ndarray, np.ndarray]:
    xs = [s.x for s in scored if s.x is not None]
    ys = [np.array([cid == s.query.truth for cid in s.ids], dtype=float) for s in scored if s.x is not None]
    return np.vstack(xs), np.concatenate(ys)


def metrics(preds: list[tuple[str, str, float]], t: float) -> dict[str, float]:
    """Precision, recall and off-topic match rate of ``(truth, guess, confidence)`` at ``t``."""
    made = [(truth, guess) for truth, guess, conf in preds if guess and conf >= t]
    correct = sum(truth == guess for truth, guess in made)
    on = sum(1 for truth, _, _ in preds if truth)
    off = [(truth, guess, conf) for truth, guess, conf in preds if not truth]
    off_hit = sum(1 for _, guess, conf in off if guess and conf >= t)
    return {
        "precision": correct / len(made) if made else 1.0,
        "recall": correct / on if on else 1.0,
        "offtopic": off_hit / len(off) if off else 0.0,
        "predicted": len(made),
        "questions": len(preds),
    }


def choose_thresholds(preds: list[tuple[str, str, float]]) -> tuple[float, float]:
    """Assisted: the best F1 among thresholds with precision >= 0.9 and at most 10% of off-topic
    questions matched. Auto: the lowest threshold from which precision stays >= 0.95 and at
    most 5% of off-topic questions are matched."""
    grid = [round(0.01 * i, 2) for i in range(5, 100)]

    def f1(t: float) -> float:
        m = metrics(preds, t)
        return 2 * m["precision"] * m["recall"] / (m["precision"] + m["recall"] or 1)

    at = {t: metrics(preds, t) for t in grid}
    ok = [t for t in grid if at[t]["precision"] >= TARGET_PRECISION and at[t]["offtopic"] <= ASSISTED_OFFTOPIC]
    assisted = max(ok or grid, key=lambda t: (round(f1(t), 3), t))
    auto = next(
        (
            t
            for t in grid
            if all(at[u]["precision"] >= AUTO_PRECISION for u in grid if u >= t) and at[t]["offtopic"] <= AUTO_OFFTOPIC
        ),
        grid[-1],
    )
    return assisted, max(auto, assisted)


def fit(scored: list[Scored], features: tuple[str, ...], l2: float) -> cal.LogisticModel:
    x, y = rows(scored)
    return cal.fit_logistic(features, x, y, l2=l2)


def leave_pack_out(scored: list[Scored], features: tuple[str, ...], l2: float) -> list[tuple[str, str, float]]:
    """``(truth, guess, confidence)`` for every labelled question, each from a model fitted
    without its pack."""
    preds = []
    for pack in sorted({s.query.pack for s in scored}):
        model = fit([s for s in scored if s.query.pack != pack], features, l2)
        for s in scored:
            if s.query.pack == pack and s.query.source == "question":
                guess, conf = s.top(model)
                preds.append((s.query.truth, guess, conf))
    return preds


def run(use_cues: bool, l2: float) -> dict[str, object]:
    problems, _ = load_packs(PACKS_DIR)
    queries = list(tuning_queries(problems, cues=use_cues))
    out: dict[str, object] = {}
    for name, embedder, features in (
        ("DENSE", load_embedder(), cal.DENSE_FEATURES),
        ("LEXICAL", None, cal.LEXICAL_FEATURES),
    ):
        if name == "DENSE" and embedder is None:
            raise SystemExit("the dense model is not installed: pip install wordllama")
        scored = featurise(queries, embedder)
        preds = leave_pack_out(scored, features, l2)
        assisted, auto = choose_thresholds(preds)
        model = fit(scored, features, l2)
        out[name] = {
            "model": model,
            "threshold": assisted,
            "auto_threshold": auto,
            "tuning": metrics(preds, assisted),
            "tuning_auto": metrics(preds, auto),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cues", action="store_true", help="also fit on the cues (worse calibrated)")
    parser.add_argument("--l2", type=float, default=1.0)
    args = parser.parse_args()
    r = run(args.cues, args.l2)
    for name, v in r.items():
        print(f"# {name}: leave-one-pack-out tuning at {v['threshold']}: {v['tuning']}")
        print(f"# {name}: at auto {v['auto_threshold']}: {v['tuning_auto']}")
    for name, v in r.items():
        m = v["model"]
        print(f"{name}_MODEL = LogisticModel({name}_FEATURES, {m.weights}, {m.bias})")
    for name, v in r.items():
        print(f"{name}_THRESHOLD, {name}_AUTO_THRESHOLD = {v['threshold']}, {v['auto_threshold']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
