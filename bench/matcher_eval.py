"""Precision and recall of the clarifying-question matcher on the packs' labelled questions.

Each pack's questions are split by a stable hash of their text: about 60% tune the threshold
(the lowest threshold whose tuning precision is at least 0.9, which maximises recall), the
rest are held out and only measured. Usage: python -m bench.matcher_eval [--packs DIR] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from problems import PACKS_DIR, load_packs
from server.clarify.matcher import LexicalMatcher, evaluate

TARGET_PRECISION, TARGET_RECALL = 0.9, 0.8


def held_out(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 10 < 4


def split(problem) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    tune, test = [], []
    for q in problem.questions:
        (test if held_out(q.text) else tune).append((q.text, q.constraint))
    return tune, test


def pooled(matchers_and_sets, threshold: float) -> dict[str, float]:
    predicted = correct = positives = 0
    for matcher, labelled in matchers_and_sets:
        matcher.threshold = threshold
        stats = evaluate(matcher, labelled)
        predicted += stats["predicted"]
        positives += stats["positives"]
        correct += round(stats["precision"] * stats["predicted"])
    return {
        "precision": correct / predicted if predicted else 1.0,
        "recall": correct / positives if positives else 1.0,
        "questions": sum(len(s) for _, s in matchers_and_sets),
    }


def calibrate(packs_dir: Path) -> dict[str, object]:
    problems, issues = load_packs(packs_dir)
    # Built from the constraints and the tuning questions only: held-out questions never reach it.
    matchers = {pid: LexicalMatcher(p.meta.constraint, examples=split(p)[0]) for pid, p in problems.items()}
    # Tuning precision is measured leave-one-out: each tuning question against a matcher built
    # without it, so the threshold is not fitted to questions the matcher has memorised.
    tune = []
    for p in problems.values():
        examples = split(p)[0]
        for i, labelled in enumerate(examples):
            rest = examples[:i] + examples[i + 1 :]
            tune.append((LexicalMatcher(p.meta.constraint, examples=rest), [labelled]))
    test = [(matchers[pid], split(p)[1]) for pid, p in problems.items()]
    grid = [round(0.05 * i, 2) for i in range(1, 20)]

    # The threshold with the best F1 on the tuning questions (ties: the higher, more cautious one).
    def f1(t: float) -> tuple[float, float]:
        s = pooled(tune, t)
        p, r = s["precision"], s["recall"]
        return (round(2 * p * r / (p + r), 4) if p + r else 0.0, t)

    chosen = max(grid, key=f1)
    result = {
        "packs": sorted(problems),
        "threshold": chosen,
        "tuning": pooled(tune, chosen),
        "held_out": pooled(test, chosen),
        "per_pack_held_out": {pid: pooled([(matchers[pid], split(p)[1])], chosen) for pid, p in problems.items()},
        "curve_held_out": {t: pooled(test, t) for t in grid},
        "load_issues": [str(i) for i in issues],
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packs", type=Path, default=PACKS_DIR)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    r = calibrate(args.packs)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"packs: {', '.join(r['packs'])}")
    print(f"threshold (best leave-one-out F1 on the tuning questions): {r['threshold']}")
    for name in ("tuning", "held_out"):
        s = r[name]
        print(f"{name:9} precision {s['precision']:.3f}  recall {s['recall']:.3f}  ({s['questions']} questions)")
    print("held-out by pack:")
    for pid, s in r["per_pack_held_out"].items():
        print(f"  {pid:28} precision {s['precision']:.3f}  recall {s['recall']:.3f}  ({s['questions']})")
    print("held-out precision/recall by threshold:")
    for t, s in r["curve_held_out"].items():
        print(f"  {t:4}  {s['precision']:.3f}  {s['recall']:.3f}")
    ok = r["held_out"]["precision"] >= TARGET_PRECISION and r["held_out"]["recall"] >= TARGET_RECALL
    print(
        f"target precision >= {TARGET_PRECISION} at recall >= {TARGET_RECALL} on held-out: {'met' if ok else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
