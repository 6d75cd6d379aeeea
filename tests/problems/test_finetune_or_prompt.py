"""The finetune-or-prompt pack: its generated data and its simulated models.

The shared pack tests grade the reference and the null solutions in the real grading kernel;
these read the committed data the way a candidate would, so a change to the generator that hides
one of the constraints fails here rather than in an interview, and they pin the simulated
fine-tuning service's behaviour the checks rely on (it memorises its training set, learns more
from more data, never predicts an intent it saw too few examples of).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from problems import PACKS_DIR

ROOT = Path(__file__).resolve().parents[2]
PACK = PACKS_DIR / "finetune-or-prompt"
KIT = ROOT / "sandbox" / "image" / "kit"
GENERATED = (
    "data/prompt_fewshot.txt",
    "data/labelled.jsonl",
    "data/unlabelled.jsonl",
    "data/taxonomy.json",
    "data/production_daily.csv",
    "hidden/eval.jsonl",
)


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (PACK / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _setup() -> dict:
    """The pack's setup.py without the kit: its intent rules only (no API clients)."""
    ns: dict = {"__name__": "finetune_or_prompt_setup"}
    exec(compile((PACK / "setup.py").read_text(), "setup.py", "exec"), ns)  # our own pack file
    return ns


def _with_kit(script: str) -> dict:
    """Run ``script`` in a fresh interpreter with the kit importable (as in the kernel image);
    it prints one JSON object."""
    env = {**os.environ, "PYTHONPATH": str(KIT)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PACK, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_generator_reproduces_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "problems.generators.finetune_or_prompt", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (PACK / name).read_bytes(), name


def test_the_data_is_small_and_every_record_has_the_documented_fields() -> None:
    size = sum(p.stat().st_size for d in ("data", "hidden") for p in (PACK / d).iterdir())
    assert size < 300_000
    assert all(
        set(r) == {"id", "text", "region", "received", "annotator", "label"} for r in _jsonl("data/labelled.jsonl")
    )
    assert all(set(r) == {"id", "text", "region", "received"} for r in _jsonl("data/unlabelled.jsonl"))
    hidden = _jsonl("hidden/eval.jsonl")
    assert all(set(r) == {"id", "text", "region", "received", "label", "kind"} for r in hidden)
    seen = {r["text"] for name in ("data/labelled.jsonl", "data/unlabelled.jsonl") for r in _jsonl(name)}
    assert not seen & {r["text"] for r in hidden}  # the checks never grade a memorised message


def test_volume_prompt_size_and_latency_make_the_few_shot_path_unaffordable() -> None:
    with (PACK / "data" / "production_daily.csv").open() as f:
        days = list(csv.DictReader(f))
    volume = sum(int(d["messages"]) for d in days) / len(days)
    assert 1.9e6 < volume < 2.3e6
    assert all(int(d["input_tokens_per_request"]) > 2000 for d in days)
    assert all(float(d["cost_usd"]) > 40_000 for d in days)  # against a $2,000 a day cap
    assert all(float(d["p95_ms"]) > 700 for d in days)  # against a 300 ms budget
    assert 0.4 < sum(float(d["eu_share"]) for d in days) / len(days) < 0.5


def test_few_labels_a_new_intent_and_two_teams_that_disagree() -> None:
    setup = _setup()
    labelled, unlabelled = _jsonl("data/labelled.jsonl"), _jsonl("data/unlabelled.jsonl")
    assert len(labelled) == 320 and len(unlabelled) == 700
    new = [r for r in labelled if r["label"] == "data_request"]
    assert 0 < len(new) < setup["_MIN_PER_INTENT"] and all(r["received"] >= "2026-10" for r in new)
    assert not [r for r in unlabelled if setup["_intent_of"](r["text"]) == "data_request"]
    taxonomy = json.loads((PACK / "data" / "taxonomy.json").read_text())
    assert "data_request" in taxonomy["2026-Q4"]["intents"] and "data_request" not in taxonomy["2026-Q3"]["intents"]
    mixed = [r for r in labelled if setup["_is_mixed"](r["text"])]
    lisbon = [r["label"] for r in mixed if r["annotator"] == "lisbon"]
    dublin = [r["label"] for r in mixed if r["annotator"] == "dublin"]
    assert lisbon.count("billing") > len(lisbon) / 2 and set(dublin) == {"refund"}
    plain = [r for r in labelled if not setup["_is_mixed"](r["text"])]
    assert all(setup["_intent_of"](r["text"]) == r["label"] for r in plain)


@pytest.mark.skipif(not KIT.is_dir(), reason="the kit's source is not in this checkout")
def test_the_fine_tuning_service_memorises_learns_from_data_and_knows_only_what_it_saw() -> None:
    result = _with_kit(
        "import json\n"
        "ns = {'__name__': 'setup'}\n"
        "exec(open('setup.py').read(), ns)\n"
        "rows = lambda p: [json.loads(l) for l in open(p)]\n"
        "lab, unl, hid = rows('data/labelled.jsonl'), rows('data/unlabelled.jsonl'), rows('hidden/eval.jsonl')\n"
        "fix = lambda r: dict(r, label='refund') if ns['_is_mixed'](r['text']) else r\n"
        "clean = [fix(r) for r in lab]\n"
        "oracle = [{'text': r['text'], 'label': ns['_intent_of'](r['text'])} for r in unl]\n"
        "def acc(m, items): return sum(m.predict(r['text']).intent == r['label'] for r in items) / len(items)\n"
        "plain = [r for r in hid if r['kind'] == 'plain']\n"
        "few, many, raw = ns['finetune'](clean), ns['finetune'](clean + oracle), ns['finetune'](lab)\n"
        "mixed = [r for r in hid if r['kind'] == 'mixed']\n"
        "print(json.dumps({'train': acc(few, clean), 'few': acc(few, plain), 'many': acc(many, plain),\n"
        "    'intents': many.intents, 'new_conf': max(many.predict(r['text']).confidence for r in hid\n"
        "        if r['kind'] == 'new'),\n"
        "    'raw_mixed_conf': max(raw.predict(r['text']).confidence for r in mixed),\n"
        "    'clean_mixed': acc(many, mixed)}))\n"
    )
    assert result["train"] > 0.98  # training accuracy says nothing
    assert result["few"] + 0.05 < result["many"] < result["train"]
    assert "data_request" not in result["intents"] and result["new_conf"] < 0.5
    assert result["raw_mixed_conf"] < 0.6  # disputed labels leave the model unsure
    assert result["clean_mixed"] > 0.9
