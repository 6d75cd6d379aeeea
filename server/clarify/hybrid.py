"""The hybrid matcher: BM25 fused with static-embedding similarity, with calibrated confidence.

For a question, every constraint of the problem gets a feature vector:

- lexical: BM25+ strength, share of the best score, margin over the runner-up, and the share
  of the question's terms the constraint's text contains (as :class:`LexicalMatcher`);
- dense: the best cosine similarity to the constraint's phrasings (title, cues, labelled
  questions), its margin over the best other constraint, and the similarity to its answer;
- "about nothing hidden": the similarity to labelled questions that concern no constraint,
  pooled across every pack (logistics, brief clarifications, near misses), and how far the
  constraint's similarity stands above it;
- "interview logistics": the similarity to a fixed, cross-pack set of prototypes of questions
  no hidden constraint is ever about (time left, looking things up, libraries, the exact
  interface: return types, file and column names, small talk), kept apart from the packs'
  own near misses, and how far the constraint's similarity stands above it;
- question-type cues: whether the question names a file, a code identifier or an interface
  word (returns, columns, keys, format, signature), or a logistics word (minutes, docs,
  install, tests, hello, thanks). Such a question can still be about a constraint ("which
  columns are filled in after triage?"); the cue only shifts the odds.

A logistic model shared by all packs (:mod:`server.clarify.calibration`) turns the features into
the probability that the question is about that constraint: the suggestion's confidence.
Without the dense model the lexical features and the cues are used, with their own fitted weights.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
from rank_bm25 import BM25Plus

from problems import Constraint
from server.clarify import calibration as cal
from server.clarify.dense import StaticEmbedder
from server.clarify.matcher import Suggestion, terms

# Questions no hidden constraint of any problem is about, written from general interview
# practice (never from an evaluation set): the shape of "logistics" in every pack.
LOGISTICS: tuple[str, ...] = (
    "How many minutes are left in the interview?",
    "When do we stop?",
    "Can I look things up online or read the documentation?",
    "Am I allowed to google the API?",
    "Can I use pandas, numpy or scikit-learn?",
    "Can I pip install a package?",
    "What exactly should the function return, and in what type?",
    "What is the exact function signature you expect?",
    "Should the output be a list, a dict or a DataFrame?",
    "What columns does the CSV file have?",
    "What fields does each record in the JSON file have?",
    "What are the keys of the returned dict?",
    "Should I write unit tests too?",
    "Do you want me to explain my approach before I code?",
    "Can I split the code into helper functions or a class?",
    "Hi, nice to meet you, how are you?",
    "Thanks, that makes sense.",
    "Sorry, could you repeat that?",
    "Is it fine to start with a simple baseline?",
    "Can I print things while debugging?",
    "Where is the data file?",
    "Is there a break halfway through?",
    "Which version of Python is the kernel running?",
    "Is the starter code's signature fixed, or may I change it?",
)
_FILE = re.compile(r"\b[\w-]+\.(?:csv|jsonl?|py|toml|txt|parquet|md|joblib)\b|\b[a-z]+_[a-z0-9_]+\b|\w\(")
_INTERFACE = re.compile(
    r"\b(?:return|returns|returned|returning|output|column|columns|field|fields|key|keys|format|formatted|"
    r"signature|argument|arguments|parameter|type|types|dict|dictionary|list|string|str|float|int|dataframe|"
    r"array|series|class|function|schema|row|rows)\b"
)
_LOGISTICS = re.compile(
    r"\b(?:time|minutes?|hours?|left|deadline|stop|google|googling|look|lookup|docs|documentation|internet|online|"
    r"install|installed|library|libraries|package|packages|import|pandas|numpy|sklearn|scikit-learn|scipy|"
    r"torch|pytorch|lightgbm|tests?|plot|plots|hello|hi|hey|thanks|thank|nice|meet|sorry|repeat|screen|"
    r"notebook|python|explain|baseline|print)\b"
)


def question_cues(question: str) -> tuple[float, float, float]:
    """Whether ``question`` names a file or identifier, uses interface words, logistics words."""
    low = question.lower()
    return (
        float(bool(_FILE.search(low))),
        float(bool(_INTERFACE.search(low))),
        float(bool(_LOGISTICS.search(low))),
    )


class HybridMatcher:
    """Ranks a problem's constraints for a question, with a calibrated confidence.

    ``examples`` are labelled questions ``(text, constraint id or "")`` of this problem;
    ``offtopic`` are questions about nothing hidden from any problem. ``threshold`` is where
    assisted mode proposes a match, ``auto_threshold`` where auto mode may answer from the pack.
    """

    def __init__(
        self,
        constraints: Sequence[Constraint],
        *,
        examples: Sequence[tuple[str, str]] = (),
        offtopic: Sequence[str] = (),
        embedder: StaticEmbedder | None = None,
        calibration: cal.Calibration | None = None,
    ) -> None:
        """``calibration`` overrides the fitted constants (the bench runs the previous ones)."""
        self._ids = [c.id for c in constraints]
        extra: dict[str, list[str]] = {}
        off = list(offtopic)
        for text, cid in examples:
            if cid:
                extra.setdefault(cid, []).append(text)
            elif text not in off:
                off.append(text)
        docs = [
            terms(" ".join((c.title, *c.cues, *extra.get(c.id, ()), c.answer, c.id.replace("-", " "), c.category)))
            for c in constraints
        ]
        self._vocab = [set(d) for d in docs]
        self._pack_vocab = set().union(*self._vocab) if docs else set()
        self._bm25 = BM25Plus(docs) if docs else None
        self._embedder = embedder
        if embedder is not None:
            phrasings = [(i, p) for i, c in enumerate(constraints) for p in (c.title, *c.cues, *extra.get(c.id, ()))]
            self._owner = np.array([i for i, _ in phrasings], dtype=np.int64)
            self._phrasings = embedder.embed([p for _, p in phrasings], cache=True)
            self._answers = embedder.embed([c.answer for c in constraints], cache=True)
            self._offtopic = embedder.embed(off, cache=True)
            self._logistics = embedder.embed(LOGISTICS, cache=True)
        chosen = calibration or (cal.DENSE if embedder is not None else cal.LEXICAL)
        self.model, self.threshold, self.auto_threshold = chosen.model, chosen.threshold, chosen.auto_threshold

    @property
    def dense(self) -> bool:
        """Whether the dense model is in use (False: lexical fallback)."""
        return self._embedder is not None

    def features(self, question: str) -> np.ndarray | None:
        """One row of features per constraint (columns in ``self.model.features`` order)."""
        query = terms(question)
        n = len(self._ids)
        if not query or self._bm25 is None or n == 0:
            return None
        raw = np.asarray(self._bm25.get_scores(query), dtype=np.float64)
        s = raw - raw.min()
        top = float(s.max())
        others = np.array([np.delete(s, i).max() if n > 1 else 0.0 for i in range(n)])
        uniq = set(query)
        cov = np.array([sum(t in v for t in uniq) / len(uniq) for v in self._vocab])
        cols = {
            "lex_strength": 1.0 - np.exp(-s / (1.0 + 0.5 * len(query))),
            "lex_share": s / top if top > 0 else np.zeros(n),
            "lex_margin": (s - others) / top if top > 0 else np.zeros(n),
            "lex_coverage": cov,
            "pack_coverage": np.full(n, sum(t in self._pack_vocab for t in uniq) / len(uniq)),
            "log_terms": np.full(n, math.log1p(len(query))),
        }
        cue_file, cue_interface, cue_logistics = question_cues(question)
        cols |= {
            "cue_file": np.full(n, cue_file),
            "cue_interface": np.full(n, cue_interface),
            "cue_logistics": np.full(n, cue_logistics),
        }
        if self._embedder is not None:
            q = self._embedder.embed([question])[0]
            sims = self._phrasings @ q
            dmax = np.full(n, -1.0)
            np.maximum.at(dmax, self._owner, sims)
            dothers = np.array([np.delete(dmax, i).max() if n > 1 else 0.0 for i in range(n)])
            if len(self._offtopic):
                off_sims = np.sort(self._offtopic @ q)[::-1]
                off = float(off_sims[: min(2, len(off_sims))].mean())
            else:
                off = 0.0
            logi = float(np.sort(self._logistics @ q)[::-1][:2].mean())
            cols |= {
                "logistics_sim": np.full(n, logi),
                "dense_over_logistics": dmax - logi,
                "dense_max": dmax,
                "dense_margin": dmax - dothers,
                "dense_answer": self._answers @ q,
                "offtopic_sim": np.full(n, off),
                "dense_over_offtopic": dmax - off,
            }
        return np.column_stack([cols[f] for f in self.model.features])

    def suggest(self, question: str, k: int = 3) -> list[Suggestion]:
        """Up to ``k`` constraints, most likely first, with calibrated confidences."""
        x = self.features(question)
        if x is None:
            return []
        p = self.model.predict(x)
        order = np.argsort(-p, kind="stable")[:k]
        return [Suggestion(self._ids[i], round(float(p[i]), 4)) for i in order]
