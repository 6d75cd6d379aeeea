"""Calibrated confidence: a small logistic model over match features, shared by all packs.

Every (question, constraint) pair is described by a few pack-independent features (lexical
strength and margin, dense similarity and margin, similarity to questions about nothing hidden,
...; see :mod:`server.clarify.hybrid`). A logistic regression turns them into the probability
that the constraint is what the question is about; being fitted on labelled pairs, that
probability is a calibrated confidence, and the thresholds below are read off it.

The weights are fitted by ``python -m bench.matcher_fit`` on the tuning data only (each pack's
``questions.toml``, leave-one-out, against matchers built from the cues and the other
questions), never on the blind ``eval.toml`` sets, and written here by its ``--write`` (the L2
penalty too, chosen by leave-one-pack-out log-loss); ``bench.matcher_eval`` reports how well they
hold on the blind sets. ``BEFORE_DENSE`` / ``BEFORE_LEXICAL`` freeze the constants of the
matcher before the off-topic work of issue 10, so the bench can still run it side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEXICAL_BASE = ("lex_strength", "lex_share", "lex_margin", "lex_coverage", "pack_coverage", "log_terms")
DENSE_BASE = (*LEXICAL_BASE, "dense_max", "dense_margin", "dense_answer", "offtopic_sim", "dense_over_offtopic")
# Issue 10: question-type cues, and similarity to the cross-pack logistics prototypes.
CUES = ("cue_file", "cue_interface", "cue_logistics")
DENSE_FEATURES = (*DENSE_BASE, *CUES, "logistics_sim", "dense_over_logistics")
LEXICAL_FEATURES = (*LEXICAL_BASE, *CUES)


@dataclass(frozen=True, slots=True)
class LogisticModel:
    """``p = sigmoid(bias + weights · features)`` over named features."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for the rows of ``x`` (columns in ``self.features`` order)."""
        z = self.bias + x @ np.asarray(self.weights)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def fit_logistic(
    features: Sequence[str], x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, iterations: int = 50
) -> LogisticModel:
    """Newton-Raphson logistic regression with an L2 penalty (bias unpenalised)."""
    n, d = x.shape
    xb = np.hstack([np.ones((n, 1)), x])
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + penalty * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return LogisticModel(tuple(features), tuple(round(float(v), 5) for v in w[1:]), round(float(w[0]), 5))


@dataclass(frozen=True, slots=True)
class Calibration:
    """A fitted model with the assisted and auto thresholds read off it."""

    model: LogisticModel
    threshold: float
    auto_threshold: float


# --- fitted by `python -m bench.matcher_fit` on the packs' questions.toml (leave-one-out) ---

DENSE_MODEL = LogisticModel(
    DENSE_FEATURES,
    (
        0.44155,
        0.26468,
        2.81691,
        2.47455,
        -0.09828,
        2.44567,
        -1.19579,
        5.24124,
        3.52431,
        -3.71573,
        2.51994,
        -1.66065,
        -0.8894,
        -0.24746,
        -2.67752,
        1.48173,
    ),
    -6.2955,
)
LEXICAL_MODEL = LogisticModel(
    LEXICAL_FEATURES, (2.92664, 1.57067, 2.45469, 2.56556, 0.51058, 3.28887, -1.83794, -1.39526, -0.98578), -11.67755
)
DENSE_L2 = 0.1
LEXICAL_L2 = 0.3
# Assisted mode proposes the top suggestion at or above THRESHOLD (tuning: best F1 with precision
# >= 0.9, <= 5% off-topic matched); auto mode answers from the pack only at or above
# AUTO_THRESHOLD (tuning: precision >= 0.95, <= 5% off-topic matched, and precision never more than
# one answer short of 0.95 from there up).
DENSE_THRESHOLD, DENSE_AUTO_THRESHOLD = 0.57, 0.76
LEXICAL_THRESHOLD, LEXICAL_AUTO_THRESHOLD = 0.63, 0.77

DENSE = Calibration(DENSE_MODEL, DENSE_THRESHOLD, DENSE_AUTO_THRESHOLD)
LEXICAL = Calibration(LEXICAL_MODEL, LEXICAL_THRESHOLD, LEXICAL_AUTO_THRESHOLD)

# The hybrid matcher as it was before issue 10's off-topic work (11 features, fitted on the
# 40 original questions about nothing hidden), frozen so the bench can run it side by side.
BEFORE_DENSE = Calibration(
    LogisticModel(
        DENSE_BASE,
        (1.11408, 1.03818, 2.35111, 0.89857, 0.44793, 1.14417, 1.2344, 2.7908, 1.152, -0.72869, 1.96309),
        -6.10067,
    ),
    0.66,
    0.82,
)
BEFORE_LEXICAL = Calibration(
    LogisticModel(LEXICAL_BASE, (1.85386, 1.43529, 2.81706, 1.48911, 0.85256, 1.58625), -7.44704), 0.77, 0.82
)
