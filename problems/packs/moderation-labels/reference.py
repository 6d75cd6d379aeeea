# Reference solution for moderation-labels (CI runs the hidden checks against it).
#
# What it does about each constraint:
# - gold-questions: each annotator's accuracy is measured on the 120 gold posts, unaided and
#   pre-filled labels apart; the gold posts keep the expert's label.
# - random-annotator: a label's vote weight is the log-odds of its annotator's gold accuracy,
#   so A07 (at chance) gets no say.
# - prefill-bias: pre-filled labels that kept the suggestion are weighted by how often kept
#   suggestions are right on the gold posts (about two in three), and all the kept suggestions
#   on one post count as one vote.
# - guideline-split: v1 `abuse` labels become harassment or hate by a small text model fitted on
#   v2 harassment/hate labels from reliable annotators.
# - duplicate-texts: labels are pooled over every copy of a text, and every copy gets the label.
# - relabel-budget: the texts with the smallest margin between their best two labels, one
#   item_id per text, no gold posts, at most relabel_budget of them.

# %%
import math

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

LABELS = ["ok", "spam", "harassment", "hate", "violence"]

items = pd.read_csv("/data/items.csv")
labels = pd.read_csv("/data/labels.csv", keep_default_na=False)
gold = pd.read_csv("/data/gold.csv")
GOLD = dict(zip(gold.item_id, gold.gold_label, strict=True))
TEXT = dict(zip(items.item_id, items.text, strict=True))
print(labels.groupby("guideline_version").label.value_counts().unstack(fill_value=0))


# %%
def _split_abuse(df: pd.DataFrame) -> pd.Series:
    """Every label in the v2 vocabulary: v1 `abuse` becomes harassment or hate from the text."""
    split = df[df.label.isin(["harassment", "hate"])]
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=1000))
    model.fit(split.text, split.label)
    out = df.label.copy()
    abuse = df.label == "abuse"
    if abuse.any():
        out[abuse] = model.predict(df.loc[abuse, "text"])
    return out


def _log_odds(right: float, n: float) -> float:
    """Vote weight of a label right ``right`` times in ``n`` on gold (smoothed); 0 at chance."""
    acc = (right + 1) / (n + 2)
    return max(0.0, math.log(acc * (len(LABELS) - 1) / max(1e-6, 1 - acc)))


def _prepare(labels_df: pd.DataFrame) -> pd.DataFrame:
    df = labels_df.copy()
    df["text"] = df.item_id.map(TEXT)
    df["prefilled"] = df.prefilled.astype(int)
    df["kept"] = (df.prefilled == 1) & (df.label == df.suggested_label)
    df["label"] = _split_abuse(df)
    # Annotator accuracy on the gold posts: unaided labels per annotator, kept suggestions overall.
    on_gold = df[df.item_id.isin(GOLD)].assign(right=lambda d: d.label == d.item_id.map(GOLD))
    unaided = on_gold[~on_gold.kept].groupby("annotator_id").right.agg(["sum", "size"])
    weight = {a: _log_odds(r["sum"], r["size"]) for a, r in unaided.iterrows()}
    kept = on_gold[on_gold.kept & ~on_gold.annotator_id.isin([a for a, w in weight.items() if w == 0])]
    kept_weight = _log_odds(kept.right.sum(), len(kept))
    df["weight"] = df.annotator_id.map(weight).fillna(0.0)
    # Kept suggestions: worth what a kept suggestion is worth, once per post whoever kept it.
    df.loc[df.kept & (df.weight > 0), "weight"] = kept_weight
    first_kept = ~df[df.kept].duplicated(["item_id", "label"])
    df.loc[first_kept[~first_kept].index, "weight"] = 0.0
    return df


def _scores(labels_df: pd.DataFrame) -> pd.DataFrame:
    """Per text: the weighted votes for each label (copies of a text pooled)."""
    df = _prepare(labels_df)
    votes = df.pivot_table(index="text", columns="label", values="weight", aggfunc="sum", fill_value=0.0)
    return votes.reindex(columns=LABELS, fill_value=0.0)


def clean(labels_df: pd.DataFrame) -> pd.DataFrame:
    """One row per item_id with the label we should train on."""
    votes = _scores(labels_df)
    by_text = votes.idxmax(axis=1)
    by_text[votes.max(axis=1) <= 0] = "ok"
    ids = pd.Series(sorted(labels_df.item_id.unique()))
    out = pd.DataFrame({"item_id": ids, "label": ids.map(TEXT).map(by_text)})
    # The expert's label wins on the gold posts, and on every copy of their text.
    gold_by_text = {TEXT[i]: lab for i, lab in GOLD.items()}
    out["label"] = [gold_by_text.get(TEXT[i], lab) for i, lab in zip(out.item_id, out.label, strict=True)]
    return out


def pick_relabel(labels_df: pd.DataFrame, relabel_budget: int) -> list:
    """One item_id per least certain text (smallest margin between the two best labels)."""
    votes = _scores(labels_df)
    top2 = np.sort(votes.to_numpy(), axis=1)[:, -2:]
    margin = pd.Series(top2[:, 1] - top2[:, 0], index=votes.index)
    gold_texts = {TEXT[i] for i in GOLD}
    margin = margin[~margin.index.isin(gold_texts)].sort_values(kind="stable")
    first_id = items.drop_duplicates("text").set_index("text").item_id
    return [first_id[t] for t in margin.index[: int(relabel_budget)]]


# %%
cleaned = clean(labels)
on_gold = cleaned[cleaned.item_id.isin(GOLD)]
print(cleaned.label.value_counts())
print(len(pick_relabel(labels, 150)), "posts to re-label")
