"""Fit the hybrid matcher's calibration model and thresholds on the tuning data only.

Features come from leave-one-out tuning queries (``bench.matcher_data``: cues and labelled
questions); the blind ``eval.toml`` sets are never read here. Tuning figures are
leave-one-pack-out: each pack's questions scored by a model fitted on the other packs.
Prints the constants for ``server/clarify/calibration.py``; ``--write`` puts them there (between
its "fitted by" line and the thresholds' comment; run ``ruff format`` on it afterwards).

The L2 penalty is the one of ``L2_GRID`` with the best leave-one-pack-out log-loss.

Usage: python -m bench.matcher_fit [--cues] [--l2 X] [--write]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.matcher_data import Query, tuning_queries
from problems import PACKS_DIR, load_packs
from server.clarify import calibration as cal
from server.clarify.dense import StaticEmbedder, load_embedder

# The tuning data's questions about nothing hidden mix deliberate near misses written beside the
# cues with logistics, interface and small-talk questions written from each brief; assisted and
# auto mode alike may match at most 5% of them.
TARGET_PRECISION, ASSISTED_OFFTOPIC, AUTO_PRECISION, AUTO_OFFTOPIC = 0.9, 0.05, 0.95, 0.05


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


def featurise(queries: list[Query], embedder: StaticEmbedder | None, make=None) -> list[Scored]:
    """Feature rows of every query, from ``make(query)`` (default: the current hybrid matcher)."""
    out = []
    for q in queries:
        m = make(q) if make is not None else q.hybrid(embedder)
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
    """Assisted: the best F1 among thresholds with precision >= 0.9 and at most 5% of off-topic
    questions matched. Auto: the lowest threshold with precision >= 0.95 and at most 5% of
    off-topic questions matched, from which precision never falls more than one answer short
    of 0.95."""
    grid = [round(0.01 * i, 2) for i in range(5, 100)]

    def f1(t: float) -> float:
        m = metrics(preds, t)
        return 2 * m["precision"] * m["recall"] / (m["precision"] + m["recall"] or 1)

    at = {t: metrics(preds, t) for t in grid}
    ok = [t for t in grid if at[t]["precision"] >= TARGET_PRECISION and at[t]["offtopic"] <= ASSISTED_OFFTOPIC]
    assisted = max(ok or grid, key=lambda t: (round(f1(t), 3), t))

    def holds(u: float) -> bool:
        # Precision >= 0.95, or short of it by at most one wrong answer: high up the curve a
        # few dozen answers remain and a single miss would otherwise move the threshold by 0.1.
        m = at[u]
        return m["precision"] >= AUTO_PRECISION - 1 / max(m["predicted"], 1)

    auto = next(
        (
            t
            for t in grid
            if at[t]["precision"] >= AUTO_PRECISION
            and at[t]["offtopic"] <= AUTO_OFFTOPIC
            and all(holds(u) for u in grid if u >= t)
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


L2_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)


def pack_out_log_loss(scored: list[Scored], features: tuple[str, ...], l2: float) -> float:
    """Mean log-loss of every (question, constraint) pair under a model fitted without its pack."""
    total, n = 0.0, 0
    for pack in sorted({s.query.pack for s in scored}):
        model = fit([s for s in scored if s.query.pack != pack], features, l2)
        x, y = rows([s for s in scored if s.query.pack == pack and s.query.source == "question"])
        p = np.clip(model.predict(x), 1e-6, 1 - 1e-6)
        total += float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).sum())
        n += len(y)
    return total / n


def choose_l2(scored: list[Scored], features: tuple[str, ...]) -> float:
    """The L2 penalty with the best leave-one-pack-out log-loss (ties: the stronger penalty)."""
    return min(L2_GRID, key=lambda l2: (round(pack_out_log_loss(scored, features, l2), 4), -l2))


def run(use_cues: bool, l2: float | None) -> dict[str, object]:
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
        penalty = l2 if l2 is not None else choose_l2(scored, features)
        preds = leave_pack_out(scored, features, penalty)
        assisted, auto = choose_thresholds(preds)
        model = fit(scored, features, penalty)
        out[name] = {
            "model": model,
            "l2": penalty,
            "threshold": assisted,
            "auto_threshold": auto,
            "tuning": metrics(preds, assisted),
            "tuning_auto": metrics(preds, auto),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cues", action="store_true", help="also fit on the cues (worse calibrated)")
    parser.add_argument("--l2", type=float, default=None, help="L2 penalty (default: best pack-out log-loss)")
    parser.add_argument("--write", action="store_true", help="write the constants into calibration.py")
    args = parser.parse_args()
    r = run(args.cues, args.l2)
    for name, v in r.items():
        print(f"# {name}: L2 {v['l2']}; leave-one-pack-out tuning at {v['threshold']}: {v['tuning']}")
        print(f"# {name}: at auto {v['auto_threshold']}: {v['tuning_auto']}")
    lines = [f"{n}_MODEL = LogisticModel({n}_FEATURES, {v['model'].weights}, {v['model'].bias})" for n, v in r.items()]
    lines += [f"{n}_L2 = {v['l2']}" for n, v in r.items()]
    lines += [f"{n}_THRESHOLD, {n}_AUTO_THRESHOLD = {v['threshold']}, {v['auto_threshold']}" for n, v in r.items()]
    print("\n".join(lines))
    if args.write:
        write_constants(lines)
    return 0


FITTED_START = "# --- fitted by"
FITTED_END = "# Assisted mode proposes"


def write_constants(lines: list[str]) -> None:
    """Replace the model lines of ``calibration.py`` and its threshold lines with ``lines``."""
    path = Path(cal.__file__)
    text = path.read_text()
    start = text.index("\n", text.index(FITTED_START)) + 1
    end = text.index(FITTED_END)
    models = [ln for ln in lines if "_MODEL =" in ln or "_L2 =" in ln]
    thresholds = [ln for ln in lines if "_THRESHOLD," in ln]
    text = text[:start] + "\n" + "\n".join(models) + "\n" + text[end:]
    comment_end = text.index("\n", text.index("one answer short of 0.95", start)) + 1
    tail_end = text.index("\n\n", comment_end)
    text = text[:comment_end] + "\n".join(thresholds) + text[tail_end:]
    path.write_text(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
