"""Loading and validating problem packs.

Every problem is reported with its file and field; a broken pack is never half-loaded and
never takes the others down (:func:`load_packs` returns the good ones and the errors).
"""

from __future__ import annotations

import ast
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from problems.model import Problem, ProblemMeta, Question

PACKS_DIR = Path(__file__).parent / "packs"
REQUIRED_FILES = ("problem.toml", "brief.md", "starter.py", "setup.py", "checks.py", "reference.py", "questions.toml")


@dataclass(frozen=True)
class PackIssue:
    """One thing wrong with a pack: where, and what."""

    pack: str
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{self.pack}/{where}: {self.message}"


class PackError(ValueError):
    """A pack failed validation; ``issues`` lists every problem found."""

    def __init__(self, issues: list[PackIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


def _field(loc: tuple[object, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _compile(pack: str, path: Path, issues: list[PackIssue]) -> ast.Module | None:
    try:
        source = path.read_text()
        tree = ast.parse(source, filename=str(path))
        compile(tree, str(path), "exec")
        return tree
    except SyntaxError as exc:
        issues.append(PackIssue(pack, path.name, f"line {exc.lineno}", f"does not compile: {exc.msg}"))
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(PackIssue(pack, path.name, "", f"cannot be read: {exc}"))
    return None


def load_pack(path: Path) -> Problem:
    """Load and validate one pack folder; raises :class:`PackError` with every issue."""
    pack = path.name
    issues: list[PackIssue] = []
    for name in REQUIRED_FILES:
        if not (path / name).is_file():
            issues.append(PackIssue(pack, name, "", "missing"))
    if issues:
        raise PackError(issues)

    meta: ProblemMeta | None = None
    try:
        raw = tomllib.loads((path / "problem.toml").read_text())
        meta = ProblemMeta.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        issues.append(PackIssue(pack, "problem.toml", "", f"not valid TOML: {exc}"))
    except ValidationError as exc:
        for err in exc.errors():
            issues.append(PackIssue(pack, "problem.toml", _field(err["loc"]), err["msg"]))

    questions: list[Question] = []
    try:
        raw_q = tomllib.loads((path / "questions.toml").read_text())
        for i, q in enumerate(raw_q.get("question", [])):
            try:
                questions.append(Question.model_validate(q))
            except ValidationError as exc:
                for err in exc.errors():
                    issues.append(PackIssue(pack, "questions.toml", f"question[{i}].{_field(err['loc'])}", err["msg"]))
    except tomllib.TOMLDecodeError as exc:
        issues.append(PackIssue(pack, "questions.toml", "", f"not valid TOML: {exc}"))

    trees = {
        name: _compile(pack, path / name, issues) for name in ("starter.py", "setup.py", "checks.py", "reference.py")
    }

    if meta is not None:
        if meta.id != pack:
            issues.append(PackIssue(pack, "problem.toml", "id", f"is {meta.id!r} but the folder is {pack!r}"))
        for kind, items in (("constraint", meta.constraint), ("check", meta.check), ("rubric", meta.rubric)):
            for dup, n in Counter(item.id for item in items).items():
                if n > 1:
                    issues.append(PackIssue(pack, "problem.toml", f"{kind}", f"id {dup!r} is used {n} times"))
        constraint_ids = {c.id for c in meta.constraint}
        defined: set[str] = set()
        if trees["checks.py"] is not None:
            defined = {n.name for n in trees["checks.py"].body if isinstance(n, ast.FunctionDef)}
        for i, check in enumerate(meta.check):
            if check.constraint not in constraint_ids:
                issues.append(
                    PackIssue(
                        pack,
                        "problem.toml",
                        f"check[{i}].constraint",
                        f"{check.constraint!r} is not a constraint of this problem",
                    )
                )
            if trees["checks.py"] is not None and check.function not in defined:
                issues.append(
                    PackIssue(
                        pack,
                        "problem.toml",
                        f"check[{i}].function",
                        f"checks.py defines no function {check.function!r}",
                    )
                )
        for i, q in enumerate(questions):
            if q.constraint and q.constraint not in constraint_ids:
                issues.append(
                    PackIssue(
                        pack,
                        "questions.toml",
                        f"question[{i}].constraint",
                        f"{q.constraint!r} is not a constraint of this problem",
                    )
                )
    brief = (path / "brief.md").read_text()
    if not brief.strip():
        issues.append(PackIssue(pack, "brief.md", "", "is empty"))
    if (path / "data").exists() and not (path / "data").is_dir():
        issues.append(PackIssue(pack, "data", "", "must be a directory"))
    for link in path.rglob("*"):
        if link.is_symlink():
            issues.append(PackIssue(pack, str(link.relative_to(path)), "", "symbolic links are not allowed in a pack"))
    if issues:
        raise PackError(issues)
    assert meta is not None
    return Problem(
        meta=meta,
        path=path,
        brief=brief,
        starter=(path / "starter.py").read_text(),
        setup=(path / "setup.py").read_text(),
        checks_code=(path / "checks.py").read_text(),
        reference=(path / "reference.py").read_text(),
        questions=questions,
    )


def load_packs(root: Path = PACKS_DIR) -> tuple[dict[str, Problem], list[PackIssue]]:
    """Every valid pack under ``root``, and the issues of the ones that failed."""
    problems: dict[str, Problem] = {}
    issues: list[PackIssue] = []
    if not root.is_dir():
        return problems, [PackIssue(root.name, "", "", f"{root} is not a directory")]
    for path in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        try:
            problem = load_pack(path)
        except PackError as exc:
            issues.extend(exc.issues)
            continue
        if problem.id in problems:
            issues.append(PackIssue(path.name, "problem.toml", "id", f"{problem.id!r} is already used"))
            continue
        problems[problem.id] = problem
    return problems, issues
