"""Hidden checks for moderation-labels; they run in the grading kernel only.

Each ``check_*`` takes the candidate's namespace and returns ``(passed, detail)``, or
``("not_exercised", detail)`` when the cleaned labels say nothing (one label for every post).
The grader calls ``clean`` on ``/data/labels.csv`` as the candidate has it, and
``pick_relabel(labels, 150)``, and compares with ``truth.csv``: each post's true label and the
trap slices it belongs to (labelled by A07 and wrong there; a v1 ``abuse`` label on a
harassment/hate post; a pre-filled wrong suggestion; a reposted text). Gold posts are left out of
every accuracy: their label is in the candidate's data.
This file runs in the grader's own process (problems/README.md); every helper name is prefixed
``_ml_`` and imports are local.
"""

_ML_TRUTH = __import__("os").environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading") + "/truth.csv"
_ML_LABELS_CSV = "/data/labels.csv"
_ML_LABELS = ("ok", "spam", "harassment", "hate", "violence")
_ML_BUDGET = 150
# Majority vote as it comes scores 0.68 overall; handling all but one trap scores 0.77-0.86
# overall and fails that trap's slice; handling every trap simply (map abuse by the text, drop A07,
# weight kept suggestions 0.4, pool copies) scores 0.88, the reference 0.885.
_ML_MIN_OVERALL = 0.85
_ML_MIN_GOLD = 0.98  # the expert's label is in gold.csv: keep it
_ML_MIN_RANDOM = 0.80
_ML_MIN_GUIDELINE = 0.85
_ML_MIN_PREFILL = 0.72
_ML_MIN_DUPLICATES = 0.85
_ML_MIN_CONSISTENT = 0.95


def _ml_level(default="junior"):
    """The level the session is interviewed at (``level.json``, written by the server)."""
    import json
    import os

    try:
        with open(os.path.join(os.environ.get("CLARIFY_HIDDEN_DIR", "/data/_grading"), "level.json")) as fh:
            return json.load(fh)["level"]
    except (OSError, ValueError, KeyError, TypeError):
        return default


# How much more often than random picks the re-label picks must find a wrong cleaned label: a
# judgement call. Disagreement alone doubles it; a senior or staff engineer is expected to rank by
# a weighted margin, as the reference does (3.7 times).
_ML_MIN_HIT_RATIO = {"junior": 2.0, "mid": 2.5, "senior": 3.0, "staff": 3.0}.get(_ml_level(), 2.0)
_ML_MIN_HIT_MARGIN = 0.10
NOT_EXERCISED = "not_exercised"
_ml_cache: dict = {}


def _ml_read():
    """(the labels frame the candidate's function gets, the truth frame)."""
    import pandas as pd

    if "data" not in _ml_cache:
        labels = pd.read_csv(_ML_LABELS_CSV, keep_default_na=False)
        truth = pd.read_csv(_ML_TRUTH, keep_default_na=False)
        _ml_cache["data"] = (labels, truth)
    labels, truth = _ml_cache["data"]
    return labels.copy(), truth


def _ml_as_mapping(out) -> dict:
    """The candidate's cleaned labels as {item_id: label}, from a frame, a series or a dict."""
    import pandas as pd

    if isinstance(out, pd.DataFrame):
        if "item_id" in out.columns and "label" in out.columns:
            return {str(i): lab for i, lab in zip(out["item_id"], out["label"], strict=True)}
        if "label" in out.columns:
            return {str(i): lab for i, lab in out["label"].items()}
        raise ValueError(f"clean returned a DataFrame without item_id and label columns: {list(out.columns)[:6]}")
    if isinstance(out, pd.Series):
        return {str(i): lab for i, lab in out.items()}
    if isinstance(out, dict):
        return {str(i): lab for i, lab in out.items()}
    raise TypeError(f"clean returned {type(out).__name__}, not a DataFrame with item_id and label")


def _ml_cleaned(ns):
    """{item_id: label or None} for every post, computed once; raises what the candidate's code raised."""
    if "cleaned" not in _ml_cache:
        try:
            fn = ns.get("clean")
            if fn is None:
                raise LookupError("clean is not defined")
            if not callable(fn):
                raise TypeError(f"clean is not a function (got {type(fn).__name__})")
            labels, truth = _ml_read()
            got = _ml_as_mapping(fn(labels))
            _ml_cache["cleaned"] = ({i: got.get(i) for i in truth["item_id"]}, None)
        except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
            _ml_cache["cleaned"] = (None, exc)
    cleaned, exc = _ml_cache["cleaned"]
    if exc is not None:
        raise exc
    return cleaned


def _ml_error(exc) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _ml_slice(ns, column: str, minimum: float, what: str):
    """Accuracy of the cleaned labels on the non-gold posts flagged in ``column`` of the truth."""
    try:
        cleaned = _ml_cleaned(ns)
    except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
        return False, f"clean(labels) failed: {_ml_error(exc)}"
    _, truth = _ml_read()
    idle = _ml_idle(cleaned, truth)
    flagged = ~truth[column].astype(str).isin(["", "0"]) if column else truth["gold"] == 0
    rows = truth[(truth["gold"] == 0) & flagged]
    hits = [cleaned[i] == t for i, t in zip(rows["item_id"], rows["true_label"], strict=True)]
    acc = sum(hits) / max(1, len(hits))
    detail = f"accuracy {acc:.3f} on the {len(hits)} {what} (needs ≥ {minimum:.2f})"
    invalid = sorted({str(v) for v in cleaned.values() if v not in _ML_LABELS})
    if invalid:
        n = sum(v not in _ML_LABELS for v in cleaned.values())
        detail += f"; {n} posts have no valid label: " + ", ".join(repr(v) for v in invalid[:4])
    if idle and acc < minimum:
        return NOT_EXERCISED, f"{idle}; {detail}"
    return acc >= minimum, detail


def _ml_idle(cleaned: dict, truth) -> str | None:
    """Why the cleaned labels carry no information, or None."""
    values = {str(v) for v in cleaned.values()}
    if len(values) <= 1:
        return f"every post got the same label ({next(iter(values), None)!r}): nothing was cleaned"
    return None


def check_overall_accuracy(ns):
    """Accuracy of the cleaned labels on every non-gold post, and the gold posts keep the expert's label."""
    ok, detail = _ml_slice(ns, "", _ML_MIN_OVERALL, "non-gold posts")
    if ok is NOT_EXERCISED or _ml_cache["cleaned"][0] is None:
        return ok, detail
    cleaned = _ml_cleaned(ns)
    _, truth = _ml_read()
    rows = truth[truth["gold"] == 1]
    acc = sum(cleaned[i] == t for i, t in zip(rows["item_id"], rows["true_label"], strict=True)) / max(1, len(rows))
    detail += (
        f"; {acc:.3f} on the {len(rows)} gold posts, whose expert label is in gold.csv (needs ≥ {_ML_MIN_GOLD:.2f})"
    )
    return bool(ok) and acc >= _ML_MIN_GOLD, detail


def check_random_annotator(ns):
    """Posts on which A07, who labels at random, gave a wrong label still come out right."""
    return _ml_slice(ns, "random_slice", _ML_MIN_RANDOM, "posts where A07's label is wrong")


def check_guideline_split(ns):
    """Harassment and hate posts labelled `abuse` under guideline v1 get the right v2 label."""
    ok, detail = _ml_slice(ns, "guideline_slice", _ML_MIN_GUIDELINE, "harassment/hate posts with a v1 'abuse' label")
    if ok is True:
        cleaned = _ml_cleaned(ns)
        abuse = sum(v == "abuse" for v in cleaned.values())
        if abuse:
            return False, f"{abuse} posts still carry the retired label 'abuse'; {detail}"
    return ok, detail


def check_prefill_bias(ns):
    """Posts shown a wrong pre-filled suggestion get the right label anyway."""
    return _ml_slice(ns, "prefill_slice", _ML_MIN_PREFILL, "posts where a wrong suggestion was pre-filled")


def check_duplicates(ns):
    """Every copy of a reposted text gets one label, and it is right."""
    ok, detail = _ml_slice(ns, "dup_group", _ML_MIN_DUPLICATES, "copies of reposted texts")
    if ok is NOT_EXERCISED or _ml_cache["cleaned"][0] is None:
        return ok, detail
    cleaned = _ml_cleaned(ns)
    _, truth = _ml_read()
    groups = truth[truth["dup_group"] != ""].groupby("dup_group")["item_id"].apply(list)
    consistent = sum(len({str(cleaned[i]) for i in ids}) == 1 for ids in groups)
    share = consistent / max(1, len(groups))
    detail += (
        f"; {consistent} of {len(groups)} reposted texts have one label on every copy"
        f" (needs ≥ {_ML_MIN_CONSISTENT:.0%})"
    )
    return bool(ok) and share >= _ML_MIN_CONSISTENT, detail


def check_relabel_budget(ns):
    """pick_relabel(labels, 150) returns at most 150 known item_ids that find wrong labels far more
    often than random picks would."""
    fn = ns.get("pick_relabel")
    if fn is None:
        return False, "pick_relabel is not defined"
    labels, truth = _ml_read()
    try:
        picks = fn(labels, _ML_BUDGET)
        picks = [str(p) for p in (picks.tolist() if hasattr(picks, "tolist") else list(picks))]
    except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
        return False, f"pick_relabel(labels, {_ML_BUDGET}) failed: {_ml_error(exc)}"
    known = set(truth["item_id"])
    unique = list(dict.fromkeys(picks))
    if len(unique) > _ML_BUDGET:
        return (
            False,
            f"{len(unique)} distinct posts picked for a budget of {_ML_BUDGET}:"
            f" only the first {_ML_BUDGET} get re-labelled",
        )
    if any(p not in known for p in unique):
        bad = [p for p in unique if p not in known][:4]
        return False, f"{sum(p not in known for p in unique)} picks are not item_ids of the batch: {bad}"
    if not unique:
        return NOT_EXERCISED, "no post was picked for re-labelling: there is no choice to judge"
    try:
        cleaned = _ml_cleaned(ns)
    except Exception as exc:  # noqa: BLE001 - the candidate's code can fail in any way
        return (
            False,
            f"{len(unique)} picks within the budget, but clean(labels) failed, so their value cannot be"
            f" judged: {_ml_error(exc)}",
        )
    true = dict(zip(truth["item_id"], truth["true_label"], strict=True))
    is_gold = dict(zip(truth["item_id"], truth["gold"], strict=True))
    pool = [i for i in truth["item_id"] if not is_gold[i]]
    base = sum(cleaned[i] != true[i] for i in pool) / max(1, len(pool))
    hits = sum(cleaned[i] != true[i] for i in unique if not is_gold[i])
    gold_picked = sum(bool(is_gold[i]) for i in unique)
    rate = hits / len(unique)
    needed = min(1.0, max(_ML_MIN_HIT_RATIO * base, base + _ML_MIN_HIT_MARGIN))
    detail = (
        f"{len(unique)} posts picked (budget {_ML_BUDGET}), {gold_picked} of them gold; {hits} picks "
        f"({rate:.0%}) fix a wrong cleaned label, against {base:.0%} for random picks (needs ≥ {needed:.0%})"
    )
    idle = _ml_idle(cleaned, truth)
    if idle and rate < needed:
        return NOT_EXERCISED, f"{idle}; {detail}"
    return rate >= needed, detail
