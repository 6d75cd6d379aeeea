"""The model-upgrade pack's data: what its generator writes is what is committed, and the data
shows the traps its hidden constraints describe to a candidate who looks."""

from __future__ import annotations

import json
from pathlib import Path

from problems import PACKS_DIR
from problems.generators import model_upgrade as gen

PACK = PACKS_DIR / "model-upgrade"


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for sub in ("data", "hidden")
        for p in sorted((root / sub).rglob("*"))
        if p.is_file()
    }


def test_the_generator_reproduces_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    gen.generate(tmp_path)
    written, committed = _files(tmp_path), _files(PACK)
    assert written.keys() == committed.keys()
    for name, data in written.items():
        assert data == committed[name], name
    assert sum(len(b) for b in committed.values()) < 300_000


def test_the_logs_use_newer_prompt_versions_than_the_labels() -> None:
    logs = [json.loads(line) for line in (PACK / "data" / "production_logs.jsonl").read_text().splitlines()]
    versions = {row["prompt_version"] for row in logs}
    assert versions == {"v2", "v3"}  # the labels were made with v1: prompt drift
    assert (PACK / "data" / "prompts" / "v3.txt").read_text() != (PACK / "data" / "prompts" / "v1.txt").read_text()
