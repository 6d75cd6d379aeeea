"""Levels that change the bar (issue 14): the levels file, a problem at a level, and scoring.

Pure domain tests: no server, no kernel.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from problems import PACKS_DIR, load_pack, load_packs
from server.clarify.ledger import Ledger
from server.clarify.levels import LEVELS_FILE, LevelsError, at_level, bar_line, load_levels, parse_levels
from server.clarify.scoring import ScoringConfig, level_config, scorecard
from tests.problems.packs import PROBLEM_TOML, write_pack

COST = """
[[constraint]]
id = "token-bill"
title = "The model bill is capped at $200 a day"
category = "cost"
answer = "Finance caps the model bill at $200 a day across all traffic."
cues = ["what can we spend on the model?", "is there a cost budget?"]
weight = 1.0
probe = "What would you cut first if the bill doubled?"
"""
BY_LEVEL = """
[rubric.anchors_by_level.staff]
3 = "STAFF-3: asks about data, budget and who runs it"
4 = "STAFF-4: frames the rollout before the model"
"""


@pytest.fixture
def problem(tmp_path: Path):
    return load_pack(write_pack(tmp_path))


def _levels_text(**replace: str) -> str:
    text = LEVELS_FILE.read_text()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


# -- the levels file -------------------------------------------------------------------------


def test_the_shipped_levels_file_sets_a_higher_bar_for_senior_and_staff() -> None:
    levels = load_levels()
    assert set(levels.level) == {"junior", "mid", "senior", "staff"}
    starts = {name: dict((n, t) for t, n in bar.bands) for name, bar in levels.level.items()}
    assert starts["mid"] == {"strong yes": 80, "yes": 65, "lean no": 45, "no": 0}  # the original bar
    for band in ("strong yes", "yes", "lean no"):
        assert starts["junior"][band] < starts["mid"][band] < starts["senior"][band] < starts["staff"][band]
    assert [d.id for d in levels.level["staff"].dimension] == ["scope-and-triage", "design-discussion"]
    assert levels.level["staff"].discovery == {"cost": 1.5, "scale": 1.5, "product": 1.5}
    assert levels.level["mid"].discovery == {}  # mid weighs constraints exactly as the pack does
    anchors = {name: bar.dimension[0].anchors["4"] for name, bar in levels.level.items()}
    assert len(set(anchors.values())) == 4  # each level phrases the shared dimension its own way


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        ({"[level.staff]": "[level.staff"}, "not valid TOML"),
        ({"[level.junior]": "[level.intern]"}, "level.intern"),
        ({'[[72, "strong yes"], [57, "yes"]': '[[57, "strong yes"], [72, "yes"]'}, "level.junior.bands"),
        ({'[[72, "strong yes"], [57, "yes"]': '[[72, "hire"], [57, "yes"]'}, "must name the bands"),
        ({'[35, "lean no"], [0, "no"]': '[35, "lean no"], [5, "no"]'}, "the last band must start at 0"),
        ({"cost = 1.5, scale = 1.5": "cost = 1.5, vibes = 1.5"}, "level.staff.discovery.vibes"),
        ({"cost = 1.5, scale = 1.5": "cost = 0, scale = 1.5"}, "multipliers must be above 0"),
        ({'id = "design-discussion"': 'id = "scope-and-triage"'}, "dimension ids must be unique"),
        ({'why = "Each band starts 5': 'colour = "blue"\nwhy = "Each band starts 5'}, "level.senior.colour"),
    ],
)
def test_a_bad_levels_file_is_a_clear_error_naming_the_field(
    tmp_path: Path, replace: dict[str, str], expected: str
) -> None:
    path = tmp_path / "levels.toml"
    path.write_text(_levels_text(**replace))
    with pytest.raises(LevelsError) as err:
        load_levels(path)
    assert expected in str(err.value)
    assert str(path) in str(err.value)  # which file


def test_a_missing_level_or_a_missing_file_is_named(tmp_path: Path) -> None:
    text = LEVELS_FILE.read_text()
    without_junior = text[: text.index("[level.junior]")] + text[text.index("[level.mid]") :]
    with pytest.raises(LevelsError, match="missing: junior"):
        parse_levels(without_junior)
    with pytest.raises(LevelsError, match="cannot be read"):
        load_levels(tmp_path / "nope.toml")


# -- a problem at a level ----------------------------------------------------------------------


def test_a_problem_at_staff_gains_the_design_discussion_and_its_anchors(tmp_path: Path) -> None:
    pack = load_pack(write_pack(tmp_path, problem_toml=PROBLEM_TOML.format(id="dedup-listings") + BY_LEVEL))
    assert pack.level == "mid" and [d.id for d in pack.meta.rubric] == ["framing"]
    staff = at_level(pack, "staff")
    assert staff.level == "staff" and staff.summary()["level"] == "staff" and staff.meta.level == "mid"
    dims = {d.id: d for d in staff.meta.rubric}
    assert list(dims) == ["framing", "scope-and-triage", "design-discussion"]
    assert dims["framing"].anchors["4"].startswith("STAFF-4")
    assert dims["framing"].anchors["1"] == "Starts coding at once"
    assert "rollout" in dims["scope-and-triage"].anchors["3"].lower()
    mid = at_level(pack, None)  # the pack's level
    assert mid.level == "mid" and [d.id for d in mid.meta.rubric] == ["framing", "scope-and-triage"]
    assert {d.id: d for d in mid.meta.rubric}["framing"].anchors["4"] == "Asks about data and budget"
    assert at_level(staff, "staff") is staff
    with pytest.raises(ValueError, match="already set to level 'staff'"):
        at_level(staff, "junior")
    with pytest.raises(ValueError, match="unknown level 'principal'"):
        at_level(pack, "principal")


def test_anchors_by_level_is_validated_and_every_shipped_pack_still_loads(tmp_path: Path) -> None:
    bad = PROBLEM_TOML.format(id="dedup-listings") + "\n[rubric.anchors_by_level.principal]\n3 = 'x'\n"
    with pytest.raises(ValueError, match=r"rubric\[0\]\.anchors_by_level\.principal"):
        load_pack(write_pack(tmp_path / "bad", problem_toml=bad))
    problems, _ = load_packs(PACKS_DIR)
    assert len(problems) >= 8
    for p in problems.values():
        assert at_level(p, "staff").meta.rubric[-1].id == "design-discussion"


# -- scoring at a level --------------------------------------------------------------------------


def _ledger(how: str = "typed") -> Ledger:
    ledger = Ledger(["multilingual", "latency-budget"])
    ledger.discover("multilingual", how, 0, 1)
    ledger.discover("latency-budget", how, 0, 2)
    return ledger


def test_the_same_evidence_gets_a_lower_band_at_staff(problem) -> None:
    ratings = {"framing": {"score": 3, "event": 5, "t": 60_000}}
    levels = ("junior", "mid", "staff")
    cards = {level: scorecard(at_level(problem, level), _ledger(), None, ratings) for level in levels}
    overall = {card["overall"] for card in cards.values()}
    assert overall == {88.9}  # (50% x 100 + 25% x 66.7) / 75%: no level multiplier applies here
    assert {level: card["band"] for level, card in cards.items()} == {
        "junior": "strong yes",
        "mid": "strong yes",
        "staff": "yes",
    }
    staff = cards["staff"]
    assert staff["level"] == "staff" and staff["bar"]["level"] == "staff" and staff["bar"]["source"] == "session"
    assert staff["bar"]["bands"][0] == {"from": 90, "name": "strong yes"}
    assert [d["id"] for d in staff["bar"]["extra_dimensions"]] == ["scope-and-triage", "design-discussion"]
    assert bar_line(staff["bar"]).startswith("Bar applied: staff (chosen for this session) \u2014 rollout")
    # A pack problem scored as it is: its own level's bar, said to come from the pack.
    plain = scorecard(problem, _ledger(), None, ratings)
    assert (plain["level"], plain["band"], plain["bar"]["source"]) == ("mid", "strong yes", "pack")
    assert bar_line(plain["bar"]).startswith("Bar applied: mid (the problem's level)")


def test_a_constraint_found_through_a_failing_run_scores_like_asking(problem) -> None:
    credits = {}
    for how in ("check", "aloud", "typed"):
        ledger = Ledger(["multilingual", "latency-budget"])
        ledger.note_run(30_000)
        ledger.discover("multilingual", how, 600_000, 4)
        row = next(r for r in scorecard(problem, ledger)["discovery"] if r["constraint"] == "multilingual")
        credits[how] = row["credit"]
    assert credits["check"] == credits["aloud"] == credits["typed"]
    # still after the first run (70%) and 10 of 45 minutes in
    assert credits["check"] == pytest.approx(round(0.7 * (1 - 600_000 / 2_700_000), 3))
    assert ScoringConfig().check_factor == 1.0


def test_staff_weighs_cost_constraints_more(tmp_path: Path) -> None:
    pack = load_pack(write_pack(tmp_path, problem_toml=PROBLEM_TOML.format(id="dedup-listings") + COST))
    ledger = Ledger(["multilingual", "latency-budget", "token-bill"])
    ledger.discover("token-bill", "typed", 0, 1)
    mid = scorecard(at_level(pack, "mid"), ledger)
    staff = scorecard(at_level(pack, "staff"), ledger)
    junior = scorecard(at_level(pack, "junior"), ledger)
    assert mid["parts"]["discovery"] == 25.0  # weight 1 of 4
    assert staff["parts"]["discovery"] == pytest.approx(round(100 * 1.5 / 4.5, 1))  # 1.5 of 4.5
    assert junior["parts"]["discovery"] < mid["parts"]["discovery"] < staff["parts"]["discovery"]
    row = next(r for r in staff["discovery"] if r["constraint"] == "token-bill")
    assert (row["weight"], row["level_weight"]) == (1.0, 1.5)


def test_level_config_and_an_explicit_config_win_over_the_level(problem) -> None:
    assert level_config("senior").bands[0] == (85, "strong yes")
    ratings = {"framing": {"score": 3, "event": 5, "t": 60_000}}
    card = scorecard(at_level(problem, "staff"), _ledger(), None, ratings, ScoringConfig())
    assert card["band"] == "strong yes" and card["bar"]["bands"][0] == {"from": 80, "name": "strong yes"}
    assert card["bar"]["discovery_weights"] == {} and card["bar"]["level"] == "staff"  # the knobs used, said
