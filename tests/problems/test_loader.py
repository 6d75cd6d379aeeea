"""Pack validation: pure, no servers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from problems import PACKS_DIR, PackError, load_pack, load_packs
from tests.problems.packs import write_pack


def issues_of(path: Path) -> list[str]:
    with pytest.raises(PackError) as exc:
        load_pack(path)
    return [str(i) for i in exc.value.issues]


def test_a_valid_pack_loads(tmp_path: Path) -> None:
    problem = load_pack(write_pack(tmp_path))
    assert problem.id == "dedup-listings"
    assert [c.id for c in problem.meta.constraint] == ["multilingual", "latency-budget"]
    assert problem.data_dir == tmp_path / "dedup-listings" / "data"
    assert problem.summary()["minutes"] == 45


def test_missing_files_are_named(tmp_path: Path) -> None:
    path = write_pack(tmp_path)
    (path / "checks.py").unlink()
    (path / "brief.md").unlink()
    found = issues_of(path)
    assert "dedup-listings/checks.py: missing" in found and "dedup-listings/brief.md: missing" in found


def test_bad_fields_are_reported_with_file_and_field(tmp_path: Path) -> None:
    toml = (write_pack(tmp_path) / "problem.toml").read_text()
    toml = toml.replace('specialization = "ml"', 'specialization = "robotics"').replace("weight = 1.0", "weight = -1")
    (tmp_path / "dedup-listings" / "problem.toml").write_text(toml)
    found = issues_of(tmp_path / "dedup-listings")
    assert any(f.startswith("dedup-listings/problem.toml: specialization:") for f in found)
    assert any(f.startswith("dedup-listings/problem.toml: constraint[1].weight:") for f in found)


def test_checks_must_name_real_constraints_and_functions(tmp_path: Path) -> None:
    path = write_pack(tmp_path)
    toml = (path / "problem.toml").read_text()
    toml = toml.replace(
        'constraint = "multilingual"\nfunction = "check_finds_duplicates"',
        'constraint = "pii"\nfunction = "check_nothing"',
    )
    (path / "problem.toml").write_text(toml)
    found = issues_of(path)
    assert any("check[0].constraint" in f and "'pii' is not a constraint" in f for f in found)
    assert any("check[0].function" in f and "no function 'check_nothing'" in f for f in found)


def test_duplicate_ids_code_that_does_not_compile_and_bad_questions(tmp_path: Path) -> None:
    path = write_pack(
        tmp_path,
        setup_py="def broken(:\n",
        questions_toml='[[question]]\ntext = "what is this?"\nconstraint = "nope"\n',
    )
    toml = (path / "problem.toml").read_text().replace('id = "latency-budget"', 'id = "multilingual"')
    (path / "problem.toml").write_text(toml)
    found = issues_of(path)
    assert any(f.startswith("dedup-listings/setup.py: line 1: does not compile") for f in found)
    assert any("id 'multilingual' is used 2 times" in f for f in found)
    assert any("questions.toml: question[0].constraint" in f for f in found)


def test_invalid_toml_and_folder_mismatch(tmp_path: Path) -> None:
    path = write_pack(tmp_path, problem_toml='id = "x"\ntitle = [unclosed\n')
    assert any("problem.toml: not valid TOML" in f for f in issues_of(path))
    other = write_pack(tmp_path, pack_id="other-name")
    (other / "problem.toml").write_text(
        (other / "problem.toml").read_text().replace('id = "other-name"', 'id = "elsewhere"')
    )
    assert any("problem.toml: id: is 'elsewhere' but the folder is 'other-name'" in f for f in issues_of(other))


def test_a_symlink_in_a_pack_is_refused(tmp_path: Path) -> None:
    path = write_pack(tmp_path)
    (path / "data" / "passwd.csv").symlink_to("/etc/passwd")
    assert any("symbolic links are not allowed" in f for f in issues_of(path))


def test_a_broken_pack_never_takes_the_others_down(tmp_path: Path) -> None:
    write_pack(tmp_path, "good-one")
    write_pack(tmp_path, "bad-one", starter_py="x = (\n")
    problems, issues = load_packs(tmp_path)
    assert list(problems) == ["good-one"]
    assert issues and all(i.pack == "bad-one" for i in issues)


def test_cli_check_exits_non_zero_and_names_the_problem(tmp_path: Path) -> None:
    write_pack(tmp_path, "bad-one", starter_py="x = (\n")
    out = subprocess.run(
        [sys.executable, "-m", "server.cli", "problems", "check", str(tmp_path)], capture_output=True, text=True
    )
    assert out.returncode == 1
    assert "bad-one/starter.py: line 1: does not compile" in out.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "server.cli", "problems", "check", str(write_pack(tmp_path / "g"))],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "ok: dedup-listings" in ok.stdout


def test_shipped_packs_are_valid() -> None:
    problems, issues = load_packs(PACKS_DIR)
    assert issues == []
    for problem in problems.values():
        assert len(problem.meta.constraint) >= 5, problem.id
        assert len(problem.questions) >= 15, problem.id
        assert sum(1 for q in problem.questions if not q.constraint) >= 1, problem.id
