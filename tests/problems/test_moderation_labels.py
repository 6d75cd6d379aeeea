"""The moderation-labels pack's generated data: reproducible, small, and showing every data trap.

The shared pack tests grade the reference and the null solutions in the real grading kernel; these
read the committed data the way a candidate would (with the standard library: the server's
environment has no pandas), so a change to the generator that hides a trap fails here rather
than in an interview.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import anyio
import pytest

from problems import PACKS_DIR, load_pack
from problems.generators import moderation_labels as gen
from server.clarify.levels import at_level
from server.grading import CheckResult, run_checks

PACK = PACKS_DIR / "moderation-labels"
GENERATED = ("data/items.csv", "data/labels.csv", "data/gold.csv", "hidden/truth.csv")


def _rows(name: str) -> list[dict[str, str]]:
    with (PACK / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def labels() -> list[dict[str, str]]:
    return _rows("data/labels.csv")


@pytest.fixture(scope="module")
def gold() -> dict[str, str]:
    return {r["item_id"]: r["gold_label"] for r in _rows("data/gold.csv")}


def test_the_generator_reproduces_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    gen.write(tmp_path)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (PACK / name).read_bytes(), name


def test_the_data_is_small_and_has_the_documented_columns(labels: list[dict[str, str]]) -> None:
    size = sum(p.stat().st_size for d in ("data", "hidden") for p in (PACK / d).iterdir())
    assert size < 300_000
    columns = ["item_id", "annotator_id", "label", "labelled_at", "guideline_version", "prefilled", "suggested_label"]
    assert list(labels[0]) == columns
    items = {r["item_id"] for r in _rows("data/items.csv")}
    assert 1000 <= len(items) <= 3000 and {r["item_id"] for r in labels} == items


def test_one_annotator_agrees_with_gold_at_chance_and_the_others_do_not(
    labels: list[dict[str, str]], gold: dict[str, str]
) -> None:
    right: dict[str, list[bool]] = defaultdict(list)
    for r in labels:  # the labels each annotator chose unaided; v1 "abuse" right for harassment or hate
        if r["item_id"] in gold and r["prefilled"] == "0":
            truth = gold[r["item_id"]]
            right[r["annotator_id"]].append(
                r["label"] in (truth, "abuse" if truth in ("harassment", "hate") else truth)
            )
    accuracy = {a: sum(v) / len(v) for a, v in right.items()}
    assert accuracy.pop(gen.RANDOM_ANNOTATOR) < 0.4
    assert min(accuracy.values()) > 0.75


def test_abuse_exists_only_before_the_guideline_change(labels: list[dict[str, str]]) -> None:
    by_version = defaultdict(Counter)
    for r in labels:
        by_version[r["guideline_version"]][r["label"]] += 1
        assert (r["guideline_version"] == "v1") == (r["labelled_at"] < "2026-10-05")
    assert by_version["v1"]["abuse"] > 200 and not by_version["v1"]["harassment"] and not by_version["v1"]["hate"]
    assert not by_version["v2"]["abuse"] and by_version["v2"]["harassment"] and by_version["v2"]["hate"]


def test_every_annotator_labelled_enough_gold_posts(labels: list[dict[str, str]], gold: dict[str, str]) -> None:
    assert len(gold) == gen.N_GOLD
    seen = Counter(r["annotator_id"] for r in labels if r["item_id"] in gold)
    assert set(seen) == set(gen.ANNOTATORS) and min(seen.values()) >= 25


def test_prefilled_labels_keep_the_suggestion_and_are_less_often_right(
    labels: list[dict[str, str]], gold: dict[str, str]
) -> None:
    pre = [r for r in labels if r["prefilled"] == "1"]
    assert 0.25 < len(pre) / len(labels) < 0.4
    assert sum(r["label"] == r["suggested_label"] for r in pre) / len(pre) > 0.85
    right = defaultdict(list)
    for r in labels:
        if r["item_id"] in gold and r["annotator_id"] != gen.RANDOM_ANNOTATOR and r["label"] != "abuse":
            right[r["prefilled"]].append(r["label"] == gold[r["item_id"]])
    unaided, prefilled = (sum(right[k]) / len(right[k]) for k in ("0", "1"))
    assert unaided - prefilled > 0.15


def test_reposted_texts_carry_conflicting_labels(labels: list[dict[str, str]]) -> None:
    text = {r["item_id"]: r["text"] for r in _rows("data/items.csv")}
    copies = Counter(text.values())
    reposted = {t for t, n in copies.items() if n > 1}
    assert len(reposted) == gen.N_REPOSTED
    seen: dict[str, set[str]] = defaultdict(set)
    for r in labels:
        if text[r["item_id"]] in reposted:
            seen[text[r["item_id"]]].add(r["label"])
    assert sum(len(v) > 1 for v in seen.values()) > gen.N_REPOSTED // 2


# The reference's cleaning with picks ranked by how many different labels the post got (A07's left
# out): 25% of the picks fix a wrong label against 12% at random - over the junior bar (twice
# random), under the staff bar (three times random).
DISAGREEMENT_PICKS = """
# %%
def pick_relabel(labels_df, relabel_budget):
    spread = labels_df[labels_df.annotator_id != "A07"].groupby("item_id").label.nunique()
    spread = spread[~spread.index.isin(GOLD)].sort_values(ascending=False, kind="stable")
    return list(spread.index[:relabel_budget])
"""


@pytest.mark.timeout(600)
async def test_relabel_picks_by_disagreement_pass_at_junior_and_fail_at_staff_where_the_reference_passes(
    make_kernel,
) -> None:
    pack = load_pack(PACK)
    runs = {
        "junior": pack.reference + DISAGREEMENT_PICKS,
        "staff": pack.reference + DISAGREEMENT_PICKS,
        "staff-reference": pack.reference,
    }
    results: dict[str, CheckResult] = {}

    async def grade(name: str) -> None:
        graded = await run_checks(await make_kernel(), at_level(pack, name.split("-")[0]), runs[name])
        results[name] = next(r for r in graded if r.id == "relabel-picks")

    async with anyio.create_task_group() as tg:
        for name in runs:
            tg.start_soon(grade, name)
    assert results["junior"].status == "passed", results["junior"].detail
    assert results["staff"].status == "failed", results["staff"].detail
    assert results["staff-reference"].status == "passed", results["staff-reference"].detail
