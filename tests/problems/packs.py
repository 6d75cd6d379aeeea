"""A small valid pack written into a temporary folder, for loader and flow tests."""

from __future__ import annotations

from pathlib import Path

PROBLEM_TOML = """
id = "{id}"
title = "Deduplicate product listings"
specialization = "ml"
level = "mid"
minutes = 45
summary = "Find duplicate listings in a marketplace catalogue."

[[constraint]]
id = "multilingual"
title = "Listings are in three languages"
category = "data"
answer = "About a third of the listings are in German or French."
cues = ["what languages are the listings in?", "is the text all English?"]
weight = 2.0
probe = "How would your approach handle a German and an English listing of the same item?"

[[constraint]]
id = "latency-budget"
title = "Must run in 50 ms per listing"
category = "latency"
answer = "New listings must be checked within 50 ms on one CPU core."
cues = ["how fast does it need to be?", "is there a latency budget?"]
weight = 1.0
probe = "What would you cache?"

[[check]]
id = "finds-duplicates"
constraint = "multilingual"
function = "check_finds_duplicates"
description = "Finds the planted duplicate pair."

[[rubric]]
id = "framing"
title = "Frames the problem"
[rubric.anchors]
1 = "Starts coding at once"
2 = "Asks one question"
3 = "Asks about data"
4 = "Asks about data and budget"
"""

QUESTIONS = "\n".join(
    f'[[question]]\ntext = "{text}"\nconstraint = "{c}"\n'
    for text, c in [
        ("are all listings in English?", "multilingual"),
        ("how fast must it be?", "latency-budget"),
        ("can I use pandas?", ""),
    ]
)


def write_pack(root: Path, pack_id: str = "dedup-listings", **overrides: str) -> Path:
    """Write a valid pack (files overridable by name, e.g. ``setup_py="x ="``)."""
    path = root / pack_id
    (path / "data").mkdir(parents=True)
    (path / "hidden").mkdir()
    files = {
        "problem.toml": PROBLEM_TOML.format(id=pack_id),
        "brief.md": "We have duplicate listings. Find them.\n",
        "starter.py": "# %%\nimport pandas as pd\nlistings = pd.read_csv('/data/listings.csv')\n",
        "setup.py": "import pandas as pd\npd.set_option('display.width', 120)\n",
        "checks.py": (
            "def check_finds_duplicates(ns):\n"
            "    pairs = ns.get('duplicate_pairs')\n"
            "    if pairs is None:\n"
            "        return False, 'duplicate_pairs is not defined'\n"
            "    import pandas as pd\n"
            "    truth = pd.read_csv('/data/_grading/truth.csv')\n"
            "    ok = {(int(a), int(b)) for a, b in truth.itertuples(index=False)} <= set(pairs)\n"
            "    return ok, f'found {len(pairs)} pairs'\n"
        ),
        "reference.py": (
            "import pandas as pd\n"
            "listings = pd.read_csv('/data/listings.csv')\n"
            "# %%\n"
            "norm = listings['title'].str.lower().str.replace(r'[^a-z0-9]', '', regex=True)\n"
            "duplicate_pairs = [(int(a), int(b)) for _, g in listings.groupby(norm) if len(g) > 1\n"
            "                   for a, b in [tuple(sorted(g['id'].tolist()))[:2]]]\n"
        ),
        "questions.toml": QUESTIONS,
        "data/listings.csv": "id,title\n1,Red Kettle 1L\n2,red kettle 1l\n3,Blue Mug\n",
        "hidden/truth.csv": "a,b\n1,2\n",
    }
    for name, text in files.items():
        key = name.replace(".", "_").replace("/", "_")
        (path / name).write_text(overrides.get(key, text))
    return path
