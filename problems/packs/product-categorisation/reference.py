# Reference solution for product-categorisation (CI runs the hidden checks against it).
#
# What it does about each constraint:
# - serving-truncation: trains and predicts on what the listing API sends, the title cut to 80
#   characters; descriptions are never used.
# - label-noise: expert labels override seller labels; bulk-imported listings (the import tool
#   files accessories under the device) are relabelled by a model fitted on the hand-filed and
#   expert rows; listings whose seller label the out-of-fold model finds implausible are
#   relabelled; evaluation uses the expert rows only.
# - long-tail / metric-gaming: balanced class weights, judged by macro-F1 rather than accuracy.
# - multilingual: accent-stripped word and character n-grams, so "Kopfhoerer"/"Kopfhörer" and
#   "ecouteurs"/"écouteurs" match and compound words share pieces.
# - unknown-category: "other" is a class (from the expert labels); a low top probability, or a
#   title whose words were mostly never seen in training, also gives "other". Both cut-offs are
#   picked on out-of-fold predictions for the expert rows.
# - latency: TF-IDF + logistic regression, a few ms per listing on one core.

# %%
import re
import time
import unicodedata

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline, make_union

listings = pd.read_csv("/data/listings.csv", dtype=str, keep_default_na=False)
expert = pd.read_csv("/data/expert_labels.csv", dtype=str, keep_default_na=False)
TITLE_LIMIT, OTHER = 80, "other"

data = listings.merge(expert, on="listing_id", how="left").fillna("")
has_expert = data.expert_category != ""
checked = data[has_expert]
print(f"{len(data)} listings, {len(checked)} checked by the catalogue team")
print(f"seller label wrong on {(checked.category != checked.expert_category).mean():.0%} of the checked ones")
print(data.category.value_counts().describe())


# %%
def serving_text(titles: pd.Series) -> pd.Series:
    """What we have when a listing is created: the title, cut to 80 characters."""
    return titles.fillna("").astype(str).str.slice(0, TITLE_LIMIT)


def make_model() -> object:
    features = make_union(
        TfidfVectorizer(strip_accents="unicode", ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(strip_accents="unicode", analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
    )
    return make_pipeline(features, LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000))


x = serving_text(data.title)
labels = data.category.where(~has_expert, data.expert_category)  # the experts win where they looked

# Bulk-imported listings carry the import tool's coarse mapping (accessories under the device):
# a model fitted on what sellers filed by hand plus the expert rows relabels them where it is
# confident the label is wrong.
by_hand = has_expert | (data.source != "bulk-import")
first = make_model().fit(x[by_hand], labels[by_hand])
bulk_proba = first.predict_proba(x[~by_hand])
known = np.isin(labels[~by_hand], first.classes_)
p_label = np.where(
    known,
    bulk_proba[
        np.arange(len(bulk_proba)), np.searchsorted(first.classes_, labels[~by_hand]).clip(max=len(first.classes_) - 1)
    ],
    0.0,
)
relabel = (p_label < 0.3) & (bulk_proba.max(1) > 0.5)
print(f"bulk-import: relabelling {relabel.sum()} of {(~by_hand).sum()} listings")
labels = labels.copy()
labels[~by_hand] = np.where(relabel, first.classes_[bulk_proba.argmax(1)], labels[~by_hand])

# Out-of-fold probabilities: find implausible seller labels, and tune the "other" threshold.
oof = cross_val_predict(
    make_model(), x, labels, cv=StratifiedKFold(3, shuffle=True, random_state=0), method="predict_proba"
)
classes = np.array(sorted(labels.unique()))
p_given = oof[np.arange(len(data)), np.searchsorted(classes, labels)]
suspicious = ~has_expert & (p_given < 0.2) & (oof.max(1) > 0.4)
print(f"relabelling {suspicious.sum()} listings whose seller label looks wrong")
clean = labels.where(~suspicious, pd.Series(classes[oof.argmax(1)], index=labels.index))


def words(title: str) -> list[str]:
    """Accent-free alphabetic words of 3+ letters (model numbers and sizes left out)."""
    plain = unicodedata.normalize("NFKD", title.lower()).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z]{3,}", plain)


def unseen_share(titles: pd.Series, vocabulary: set[str]) -> np.ndarray:
    """Share of a title's words that never occur in the training titles."""
    return np.array([np.mean([w not in vocabulary for w in words(t)] or [0.0]) for t in titles])


# Out-of-fold unseen-word shares, with the same folds as above.
unseen = np.zeros(len(data))
for train_idx, test_idx in StratifiedKFold(3, shuffle=True, random_state=0).split(x, labels):
    vocab = set(CountVectorizer(analyzer=words).fit(x.iloc[train_idx]).vocabulary_)
    unseen[test_idx] = unseen_share(x.iloc[test_idx], vocab)
is_other = labels.to_numpy() == OTHER
print(
    f"unseen-word share, 95th percentile: known categories {np.quantile(unseen[~is_other], 0.95):.2f}, "
    f"expert 'other' {np.quantile(unseen[is_other & has_expert], 0.5):.2f} (median)"
)


def with_other(proba: np.ndarray, unseen: np.ndarray, threshold: float, max_unseen: float) -> np.ndarray:
    low = (proba.max(1) < threshold) | (unseen >= max_unseen)
    return np.where(low, OTHER, classes[proba.argmax(1)])


y_expert = data.expert_category[has_expert].to_numpy()
grid = {
    (t, u): f1_score(y_expert, with_other(oof[has_expert], unseen[has_expert], t, u), average="macro")
    for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
    for u in (0.34, 0.5, 0.67, 1.01)
}
THRESHOLD, MAX_UNSEEN = max(grid, key=grid.get)
naive = (data.category[has_expert] == y_expert).mean()
print(f"on expert rows: seller labels are right {naive:.0%} of the time; out-of-fold macro-F1")
print(f"  no 'other' at all: {f1_score(y_expert, classes[oof[has_expert].argmax(1)], average='macro'):.3f}")
print(f"  best: {grid[THRESHOLD, MAX_UNSEEN]:.3f} with top probability < {THRESHOLD} or unseen share >= {MAX_UNSEEN}")

# %%
MODEL = make_model().fit(x, clean)
VOCAB = set(CountVectorizer(analyzer=words).fit(x).vocabulary_)


def predict_category(df: pd.DataFrame) -> list[str]:
    """One category per listing, or "other"; uses only the title (first 80 characters)."""
    titles = serving_text(df["title"] if "title" in df else pd.Series([""] * len(df), index=df.index))
    proba = MODEL.predict_proba(titles)
    unseen = unseen_share(titles, VOCAB)
    best = MODEL.classes_[proba.argmax(1)]
    low = (proba.max(1) < THRESHOLD) | (unseen >= MAX_UNSEEN)
    return [OTHER if o else str(c) for c, o in zip(best, low, strict=True)]


one = listings[["listing_id", "title"]].iloc[[0]]
start = time.perf_counter()
for _ in range(30):
    predict_category(one)
print(f"{(time.perf_counter() - start) / 30 * 1000:.1f} ms per listing")
