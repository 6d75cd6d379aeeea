"""The clarifying-question matcher before and after, on tuning data and on the blind set.

Side by side: the lexical baseline (:class:`LexicalMatcher` at 0.25, assisted and auto alike);
*before*, the hybrid matcher as it was before issue 10's off-topic work (its frozen constants,
``calibration.BEFORE_DENSE``, built without the questions about nothing hidden added then);
*after*, the hybrid matcher (``build_matcher``) at its calibrated ``threshold`` (assisted) and
``auto_threshold`` (auto), and its lexical fallback (no embedding model).

Tuning figures are leave-one-out on each pack's ``questions.toml`` (for the hybrid matcher also
leave-one-pack-out for the calibration model: see ``bench.matcher_fit``). Blind figures are on
each pack's ``eval.toml``, which no tuning step reads. Reported, pooled over all packs:
precision and recall of the top suggestion, the share of questions about nothing hidden that
get matched, a reliability table (confidence bins against accuracy), and time per question.

Usage: taskset -c 0 python -m bench.matcher_eval [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from bench.matcher_data import Query, added_questions, blind_queries, tuning_queries
from bench.matcher_fit import featurise, leave_pack_out, metrics
from problems import PACKS_DIR, load_packs
from server.clarify import calibration as cal
from server.clarify.dense import load_embedder
from server.clarify.matcher import DEFAULT_THRESHOLD, Matcher, build_matcher

TARGET_PRECISION, TARGET_RECALL, MAX_OFFTOPIC, AUTO_PRECISION = 0.9, 0.8, 0.05, 0.95
Pred = tuple[str, str, float]  # (truth, top suggestion or "", its confidence)


def top(matcher: Matcher, text: str) -> tuple[str, float]:
    s = matcher.suggest(text, k=1)
    return (s[0].constraint, s[0].confidence) if s else ("", 0.0)


def predictions(queries: list[Query], make) -> list[Pred]:
    return [(q.truth, *top(make(q), q.text)) for q in queries]


def reliability(preds: list[Pred], bins: int = 10) -> list[dict[str, float]]:
    """Top-suggestion confidence bins against accuracy (a miss on an off-topic question is any
    suggestion: its right answer is "none")."""
    rows = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(t, g, c) for t, g, c in preds if g and (lo <= c < hi or (b == bins - 1 and c == 1.0))]
        if inside:
            rows.append(
                {
                    "bin": f"{lo:.1f}-{hi:.1f}",
                    "n": len(inside),
                    "confidence": statistics.fmean(c for _, _, c in inside),
                    "accuracy": sum(t == g for t, g, _ in inside) / len(inside),
                }
            )
    return rows


def expected_calibration_error(preds: list[Pred]) -> float:
    rows = reliability(preds)
    n = sum(r["n"] for r in rows)
    return sum(r["n"] * abs(r["confidence"] - r["accuracy"]) for r in rows) / n if n else 0.0


def timing(problems, texts_by_pack: dict[str, list[str]], load_ms: float, repeat: int = 5) -> dict[str, float]:
    """Milliseconds per ``suggest`` call (p50/p95) and per matcher build, with the model load."""
    per_q, builds = [], []
    for pid, texts in texts_by_pack.items():
        t0 = time.perf_counter()
        m = build_matcher(problems[pid])
        builds.append((time.perf_counter() - t0) * 1000)
        for _ in range(repeat):
            for t in texts:
                t0 = time.perf_counter()
                m.suggest(t)
                per_q.append((time.perf_counter() - t0) * 1000)
    per_q.sort()
    return {
        "load_ms": load_ms,
        "build_ms_max": max(builds),
        "suggest_p50_ms": per_q[len(per_q) // 2],
        "suggest_p95_ms": per_q[int(len(per_q) * 0.95)],
        "calls": len(per_q),
    }


# The packs the issue-10 figures were first reported over; packs added later are reported apart.
ORIGINAL_PACKS = (
    "batch-to-realtime",
    "contract-extraction",
    "drift-monitor",
    "product-categorisation",
    "rag-support-assistant",
    "refund-agent",
    "research-agent",
    "ticket-escalation",
)


def row(tune: list[Pred], blind: list[Pred], t: float, ta: float) -> dict[str, object]:
    return {
        "tuning": metrics(tune, t),
        "blind": metrics(blind, t),
        "blind_auto": metrics(blind, ta),
        "threshold": t,
        "auto_threshold": ta,
        "ece_blind": expected_calibration_error(blind),
    }


def run() -> dict[str, object]:
    problems, issues = load_packs(PACKS_DIR)
    t0 = time.perf_counter()
    embedder = load_embedder()  # the first load in this process: what a server's first session pays
    load_ms = (time.perf_counter() - t0) * 1000
    added = added_questions(problems)
    tuning = list(tuning_queries(problems, cues=False))
    tuning_before = [q for q in tuning if q.text not in added]
    blind = list(blind_queries(problems))
    timed = timing(problems, {pid: [q.text for q in blind if q.pack == pid] for pid in problems}, load_ms)

    lexical_tune = predictions(tuning, Query.lexical)
    lexical_blind = predictions(blind, Query.lexical)
    before_tune = leave_pack_out(
        featurise(tuning_before, embedder, lambda q: q.before(embedder, added)), cal.BEFORE_DENSE.model.features, 1.0
    )
    before_blind = predictions(blind, lambda q: q.before(embedder, added))
    after_tune = leave_pack_out(featurise(tuning, embedder), cal.DENSE_FEATURES, cal.DENSE_L2)
    after_blind = predictions(blind, lambda q: q.hybrid(embedder))
    fallback_tune = leave_pack_out(featurise(tuning, None), cal.LEXICAL_FEATURES, cal.LEXICAL_L2)
    fallback_blind = predictions(blind, lambda q: q.hybrid(None))

    b, bd, d, lx = DEFAULT_THRESHOLD, cal.BEFORE_DENSE, cal.DENSE, cal.LEXICAL
    rows = {
        "lexical baseline @0.25": row(lexical_tune, lexical_blind, b, b),
        "before: hybrid (frozen)": row(before_tune, before_blind, bd.threshold, bd.auto_threshold),
        "after: hybrid": row(after_tune, after_blind, d.threshold, d.auto_threshold),
        "after: lexical fallback": row(fallback_tune, fallback_blind, lx.threshold, lx.auto_threshold),
    }
    original = [i for i, q in enumerate(blind) if q.pack in ORIGINAL_PACKS]
    subsets = {
        "8 original packs": {
            "before": metrics([before_blind[i] for i in original], bd.threshold),
            "after": metrics([after_blind[i] for i in original], d.threshold),
            "after_auto": metrics([after_blind[i] for i in original], d.auto_threshold),
        },
        f"all {len(problems)} packs": {
            "before": metrics(before_blind, bd.threshold),
            "after": metrics(after_blind, d.threshold),
            "after_auto": metrics(after_blind, d.auto_threshold),
        },
    }

    def split(key) -> dict[str, dict[str, dict[str, float]]]:
        keys = sorted({key(q) for q in blind})
        return {
            k: {
                "before": metrics([p for q, p in zip(blind, before_blind, strict=True) if key(q) == k], bd.threshold),
                "after": metrics([p for q, p in zip(blind, after_blind, strict=True) if key(q) == k], d.threshold),
            }
            for k in keys
        }

    return {
        "packs": sorted(problems),
        "questions": {
            "tuning": len(tuning),
            "tuning_offtopic": sum(1 for q in tuning if not q.truth),
            "tuning_before": len(tuning_before),
            "blind": len(blind),
            "blind_offtopic": sum(1 for q in blind if not q.truth),
        },
        "dense_model": embedder is not None,
        "rows": rows,
        "blind_subsets": subsets,
        "blind_per_pack": split(lambda q: q.pack),
        "blind_per_style": split(lambda q: q.style),
        "blind_curve": {u / 20: metrics(after_blind, u / 20) for u in range(2, 20)},
        "reliability": {
            "before_blind": reliability(before_blind),
            "after_tuning": reliability(after_tune),
            "after_blind": reliability(after_blind),
        },
        "timing": timed,
        "load_issues": [str(i) for i in issues],
    }


def _fmt(m: dict[str, float]) -> str:
    return f"P {m['precision']:.3f}  R {m['recall']:.3f}  off-topic {m['offtopic']:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    r = run()
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    q = r["questions"]
    print(f"packs: {', '.join(r['packs'])}; dense model loaded: {r['dense_model']}")
    print(
        f"tuning questions {q['tuning']} ({q['tuning_offtopic']} off-topic; the before matcher's "
        f"{q['tuning_before']}), leave-one-out; blind {q['blind']} ({q['blind_offtopic']} off-topic)"
    )
    print(f"{'':26} {'tuning (assisted)':42} {'blind (assisted)':42} blind (auto)")
    for name, rw in r["rows"].items():
        print(
            f"{name:26} {_fmt(rw['tuning']):42} {_fmt(rw['blind']):42} "
            f"P {rw['blind_auto']['precision']:.3f} R {rw['blind_auto']['recall']:.3f} "
            f"off {rw['blind_auto']['offtopic']:.3f}   "
            f"[t={rw['threshold']}, auto={rw['auto_threshold']}, ECE {rw['ece_blind']:.3f}]"
        )
    print("blind, before -> after (assisted), over:")
    for name, m in r["blind_subsets"].items():
        print(f"  {name:26} {_fmt(m['before'])}  ->  {_fmt(m['after'])}  (auto: {_fmt(m['after_auto'])})")
    for title, key in (("pack", "blind_per_pack"), ("style", "blind_per_style")):
        print(f"blind by {title}, before -> after (assisted):")
        for k, m in r[key].items():
            print(f"  {k:26} {_fmt(m['before'])}  ->  {_fmt(m['after'])}  ({m['after']['questions']})")
    print("blind, after, by threshold:")
    for t, m in r["blind_curve"].items():
        print(f"  {t:4.2f}  {_fmt(m)}")
    for name, rows in r["reliability"].items():
        print(f"reliability {name}: bin  n  mean confidence  accuracy")
        for rw in rows:
            print(f"  {rw['bin']}  {rw['n']:4}  {rw['confidence']:.3f}  {rw['accuracy']:.3f}")
    tm = r["timing"]
    print(
        f"timing: model load {tm['load_ms']:.0f} ms; matcher build <= {tm['build_ms_max']:.1f} ms; "
        f"suggest p50 {tm['suggest_p50_ms']:.2f} ms, p95 {tm['suggest_p95_ms']:.2f} ms ({tm['calls']} calls)"
    )
    after = r["rows"]["after: hybrid"]
    ok = (
        after["blind"]["precision"] >= TARGET_PRECISION
        and after["blind"]["recall"] >= TARGET_RECALL
        and after["blind"]["offtopic"] <= MAX_OFFTOPIC
    )
    auto_ok = after["blind_auto"]["precision"] >= AUTO_PRECISION and after["blind_auto"]["offtopic"] <= MAX_OFFTOPIC
    print(
        f"blind target P >= {TARGET_PRECISION} at R >= {TARGET_RECALL}, off-topic <= {MAX_OFFTOPIC}: "
        f"{'met' if ok else 'MISSED'}; auto precision >= {AUTO_PRECISION}, off-topic <= {MAX_OFFTOPIC}: "
        f"{'met' if auto_ok else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
