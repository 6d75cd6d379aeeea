"""Deterministic data for the ``drift-monitor`` pack.

Writes into the pack folder:

* ``data/daily_stats.csv`` - 120 days (2025-08-04 .. 2025-12-01) of daily statistics per merchant
  category, as the warehouse job computes them from ~1M scored transactions a day;
* ``data/reference.json`` - feature statistics of the model's training period (Jan-Jun 2025);
* ``data/transactions_sample.csv`` - a 40-a-day random sample of raw scored transactions;
* ``hidden/holdout_daily.csv`` - a fresh 84-day period (2026-01-05 .. 2026-03-29) with planted
  drifts, and ``hidden/truth.json`` with their ground-truth dates.

Standard library only, fixed seed: running it twice gives byte-identical files.

    python -m problems.generators.drift_monitor [PACK_DIR]

What the data really exhibits (one line per hidden constraint of the pack):

* delayed-labels - fraud reports (chargebacks) arrive 30-60 days after the transaction: the label
  columns are complete only for days older than 60 days and grow from 0 between 30 and 60 days.
* seasonality - a weekly pattern (weekend volume, amounts, distances and category mix) and a
  Black-Friday/Cyber-Monday spike (2025-11-27 .. 12-01; in the holdout a Presidents' Day sale,
  2026-02-13 .. 02-16) that moves volume, amounts, velocity and flag rate but is not drift.
* upstream-schema-change - from 2025-09-16 transactions through the new payment gateway (about
  25%) report ``amount`` in cents; in the holdout ``avg_amount_30d`` switches to cents on
  2026-03-03. The precision drop of the story follows from it.
* alert-fatigue - the seasonal days make naive static thresholds page on every weekend and holiday.
* segment-drift - from 2025-10-20 a new-account fraud ring hits ``digital_goods`` (account age
  collapses, velocity up); from 2026-03-12 in the holdout card-testing hits ``electronics``
  (velocity bursts, card-not-present, young accounts). Both are diluted below 3% of all traffic.
* cost-scale - ``n_txn`` shows production volume (~1M a day); only aggregates are available.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import sys
from datetime import date, timedelta
from pathlib import Path

SEED = 20250916
PACK_DIR = Path(__file__).resolve().parents[1] / "packs" / "drift-monitor"

SEGMENTS = [
    "grocery",
    "restaurants",
    "retail",
    "electronics",
    "travel",
    "digital_goods",
    "gas_stations",
    "entertainment",
]
# share of transactions on weekdays / weekends
SHARE = {
    "grocery": (0.22, 0.20),
    "restaurants": (0.16, 0.21),
    "retail": (0.17, 0.19),
    "electronics": (0.06, 0.06),
    "travel": (0.05, 0.06),
    "digital_goods": (0.09, 0.08),
    "gas_stations": (0.15, 0.11),
    "entertainment": (0.10, 0.09),
}
AMOUNT_MEDIAN = {
    "grocery": 42,
    "restaurants": 28,
    "retail": 55,
    "electronics": 170,
    "travel": 240,
    "digital_goods": 14,
    "gas_stations": 38,
    "entertainment": 32,
}
DISTANCE_MEDIAN = {
    "grocery": 4,
    "restaurants": 7,
    "retail": 9,
    "electronics": 12,
    "travel": 380,
    "digital_goods": 6,
    "gas_stations": 10,
    "entertainment": 11,
}
CARD_PRESENT = {
    "grocery": 0.9,
    "restaurants": 0.85,
    "retail": 0.6,
    "electronics": 0.45,
    "travel": 0.3,
    "digital_goods": 0.02,
    "gas_stations": 0.95,
    "entertainment": 0.5,
}
FRAUD_RATE = {
    "grocery": 0.0015,
    "restaurants": 0.002,
    "retail": 0.004,
    "electronics": 0.009,
    "travel": 0.006,
    "digital_goods": 0.008,
    "gas_stations": 0.002,
    "entertainment": 0.004,
}
WEEKDAY_VOLUME = [0.93, 0.95, 0.97, 1.0, 1.12, 1.2, 0.88]  # Mon..Sun
FEATURES = ["amount", "avg_amount_30d", "account_age_days", "txn_count_24h", "distance_km"]
N_LEGIT, N_FRAUD = 1000, 150  # simulated draws per (day, category) cell
FLAG_AT = 0.5  # decision: review/decline when score >= 0.5
LABEL_COLUMNS = ["n_fraud_reported", "n_flagged_fraud_reported"]

VISIBLE_START, VISIBLE_DAYS = date(2025, 8, 4), 120
HOLDOUT_START, HOLDOUT_DAYS = date(2026, 1, 5), 84


def _holiday_visible(d: date) -> dict[str, float]:
    # Thanksgiving, Black Friday .. Cyber Monday 2025
    return {
        date(2025, 11, 27): {"volume": 1.3, "amount": 1.25, "velocity": 1.2},
        date(2025, 11, 28): {"volume": 2.3, "amount": 1.8, "velocity": 1.6},
        date(2025, 11, 29): {"volume": 1.9, "amount": 1.6, "velocity": 1.5},
        date(2025, 11, 30): {"volume": 1.6, "amount": 1.45, "velocity": 1.4},
        date(2025, 12, 1): {"volume": 2.0, "amount": 1.7, "velocity": 1.55},
    }.get(d, {})


def _holiday_holdout(d: date) -> dict[str, float]:
    # Presidents' Day weekend sale 2026
    return {
        date(2026, 2, 13): {"volume": 1.5, "amount": 1.5, "velocity": 1.35},
        date(2026, 2, 14): {"volume": 2.1, "amount": 1.75, "velocity": 1.55},
        date(2026, 2, 15): {"volume": 1.8, "amount": 1.6, "velocity": 1.45},
        date(2026, 2, 16): {"volume": 1.9, "amount": 1.7, "velocity": 1.5},
    }.get(d, {})


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


NOISE = 0.6  # the model's score noise (logit scale) around the part the features explain


def _logit(t: dict[str, float]) -> float:
    """The production model: a logistic score on a few (clipped) engineered features."""
    ratio = max(-2.0, min(3.0, math.log(t["amount"] / t["avg_amount_30d"])))
    return (
        -2.3
        + 0.9 * ratio
        - 0.45 * math.log(t["account_age_days"])
        + 0.32 * min(t["txn_count_24h"], 15)
        + 0.30 * math.log(t["distance_km"])
        - 0.9 * t["card_present"]
    )


def _score(rng: random.Random, t: dict[str, float]) -> float:
    return 1 / (1 + math.exp(-(_logit(t) + rng.gauss(0, NOISE))))


def _p_flag(t: dict[str, float]) -> float:
    """Probability that the score reaches the threshold (0.5 = logit 0): smooth, so the
    simulated per-category flag rates are as stable as production's ~100k transactions."""
    return 0.5 * math.erfc(-_logit(t) / (NOISE * math.sqrt(2)))


def _txn(rng: random.Random, seg: str, ctx: dict[str, object], fraud: bool) -> dict[str, float]:
    """One transaction of category ``seg`` on a day described by ``ctx``."""
    weekend = bool(ctx["weekend"])
    hol: dict[str, float] = ctx["holiday"]  # type: ignore[assignment]
    amt_mult = (1.28 if weekend and seg in ("retail", "restaurants", "entertainment", "electronics") else 1.0) * (
        hol.get("amount", 1.0) ** (1.15 if seg in ("retail", "electronics") else 0.8)
    )
    avg = math.exp(rng.gauss(math.log(AMOUNT_MEDIAN[seg] * 1.1), 0.6))
    vel = 2.5 * (1.15 if weekend else 1.0) * hol.get("velocity", 1.0)
    t = {
        "amount": math.exp(rng.gauss(math.log(AMOUNT_MEDIAN[seg] * amt_mult), 0.9)),
        "avg_amount_30d": avg,
        "account_age_days": max(1.0, math.exp(rng.gauss(math.log(500 if seg == "digital_goods" else 700), 0.9))),
        "txn_count_24h": 1 + _poisson(rng, vel),
        "distance_km": math.exp(rng.gauss(math.log(DISTANCE_MEDIAN[seg] * (1.45 if weekend else 1.0)), 1.1)),
        "card_present": 1.0 if rng.random() < min(0.99, CARD_PRESENT[seg] * (1.05 if weekend else 1.0)) else 0.0,
    }
    if fraud:
        t["amount"] = math.exp(rng.gauss(math.log(AMOUNT_MEDIAN[seg] * 3.5), 0.9))
        t["account_age_days"] = max(1.0, math.exp(rng.gauss(math.log(60), 1.3)))
        t["txn_count_24h"] = 1 + _poisson(rng, 6.0)
        t["distance_km"] = math.exp(rng.gauss(math.log(DISTANCE_MEDIAN[seg] * 8), 1.2))
        t["card_present"] = 1.0 if rng.random() < CARD_PRESENT[seg] * 0.3 else 0.0
    # planted drifts -------------------------------------------------------------------------
    ring = float(ctx.get("ring", 0.0)) if seg == ctx.get("ring_segment") else 0.0
    if ring and not fraud and rng.random() < ring:
        if ctx.get("ring_kind") == "new-accounts":
            t["account_age_days"] = max(1.0, math.exp(rng.gauss(math.log(3), 0.8)))
            t["txn_count_24h"] = 1 + _poisson(rng, 7.0)
            t["distance_km"] = math.exp(rng.gauss(math.log(40), 1.0))
        else:  # card testing
            t["txn_count_24h"] = 1 + _poisson(rng, 16.0)
            t["account_age_days"] = max(1.0, math.exp(rng.gauss(math.log(25), 0.9)))
            t["card_present"] = 0.0
            t["amount"] = math.exp(rng.gauss(math.log(AMOUNT_MEDIAN[seg] * 0.4), 0.7))
    score = _score(rng, t)  # the model sees the raw feed, bugs included:
    cents = ctx.get("cents")
    if cents == "amount" and rng.random() < 0.25:  # new gateway reports cents
        t["amount"] *= 100
        score = _score(rng, t)
    elif cents == "avg_amount_30d":
        t["avg_amount_30d"] *= 100
        score = _score(rng, t)
    t["score"] = score
    return t


def _quantile(sorted_xs: list[float], q: float) -> float:
    pos = q * (len(sorted_xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def _fmt(x: float) -> str:
    if isinstance(x, float) and math.isnan(x):
        return ""
    if isinstance(x, int):
        return str(x)
    return f"{x:.6g}"


def _cell(rng: random.Random, seg: str, ctx: dict[str, object], n_txn: int, age_days: int) -> dict[str, object]:
    legit = [_txn(rng, seg, ctx, False) for _ in range(N_LEGIT)]
    fraud = [_txn(rng, seg, ctx, True) for _ in range(N_FRAUD)]
    row: dict[str, object] = {}
    for f in FEATURES:
        xs = sorted(t[f] for t in legit)
        row[f"{f}_mean"] = sum(xs) / len(xs)
        row[f"{f}_p05"] = _quantile(xs, 0.05)
        row[f"{f}_p50"] = _quantile(xs, 0.5)
        row[f"{f}_p95"] = _quantile(xs, 0.95)
    row["card_present_rate"] = sum(t["card_present"] for t in legit) / N_LEGIT
    scores = sorted(t["score"] for t in legit)
    row["score_mean"] = sum(scores) / len(scores)
    row["score_p95"] = _quantile(scores, 0.95)
    r = FRAUD_RATE[seg] * (1.6 if float(ctx.get("ring", 0.0)) and seg == ctx.get("ring_segment") else 1.0)
    fl_legit = sum(_p_flag(t) for t in legit) / N_LEGIT
    fl_fraud = sum(_p_flag(t) for t in fraud) / N_FRAUD
    flag_rate = (1 - r) * fl_legit + r * fl_fraud
    n_flagged = round(n_txn * flag_rate)
    maturity = min(1.0, max(0.0, (age_days - 30) / 30))
    row["flag_rate"] = n_flagged / n_txn
    row["n_txn"] = n_txn
    row["n_flagged"] = n_flagged
    row["n_fraud_reported"] = round(n_txn * r * maturity * rng.uniform(0.93, 1.07))
    row["n_flagged_fraud_reported"] = round(n_txn * r * fl_fraud * maturity * rng.uniform(0.93, 1.07))
    return row


COLUMNS = (
    ["date", "merchant_category", "n_txn"]
    + [f"{f}_{s}" for f in FEATURES for s in ("mean", "p05", "p50", "p95")]
    + ["card_present_rate", "score_mean", "score_p95", "flag_rate", "n_flagged", *LABEL_COLUMNS]
)


def _period(rng: random.Random, start: date, days: int, drifts: dict[str, object], holiday) -> list[dict[str, object]]:
    snapshot = start + timedelta(days=days)  # the data is pulled the morning after the last day
    rows = []
    for i in range(days):
        d = start + timedelta(days=i)
        weekend = d.weekday() >= 5
        hol = holiday(d)
        ctx: dict[str, object] = {"weekend": weekend, "holiday": hol}
        if d >= drifts["cents_from"]:  # type: ignore[operator]
            ctx["cents"] = drifts["cents_feature"]
        ring_from: date = drifts["ring_from"]  # type: ignore[assignment]
        if d >= ring_from:
            k = (d - ring_from).days
            ctx["ring"] = 0.2 if k == 0 else 0.4
            ctx["ring_segment"] = drifts["ring_segment"]
            ctx["ring_kind"] = drifts["ring_kind"]
        volume = 1_000_000 * WEEKDAY_VOLUME[d.weekday()] * hol.get("volume", 1.0) * (1 + 0.0006 * i)
        for seg in SEGMENTS:
            share = SHARE[seg][1 if weekend else 0]
            if hol and seg in ("retail", "electronics", "digital_goods"):
                share *= 1.35
            n_txn = round(volume * share * rng.uniform(0.97, 1.03))
            row = {"date": d.isoformat(), "merchant_category": seg}
            row.update(_cell(rng, seg, ctx, n_txn, (snapshot - d).days))
            rows.append(row)
    return rows


def _reference(rng: random.Random) -> dict[str, object]:
    """Training-period statistics (no weekly structure: pooled over all days)."""
    segs: dict[str, object] = {}
    pooled: dict[str, list[float]] = {f: [] for f in FEATURES}
    flagged = true_flagged = total = 0.0
    for seg in SEGMENTS:
        txns = []
        share = (5 * SHARE[seg][0] + 2 * SHARE[seg][1]) / 7
        n = round(16000 * share / 0.14)
        for j in range(n):
            ctx = {"weekend": j % 7 >= 5, "holiday": {}}
            txns.append(_txn(rng, seg, ctx, False))
        stats: dict[str, object] = {}
        for f in FEATURES:
            xs = sorted(t[f] for t in txns)
            mean = sum(xs) / len(xs)
            std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
            stats[f] = {
                "mean": round(mean, 4),
                "std": round(std, 4),
                **{f"p{q:02d}": round(_quantile(xs, q / 100), 4) for q in (5, 25, 50, 75, 95)},
            }
            pooled[f].extend(xs)  # n per category is proportional to its share
        cp = sum(t["card_present"] for t in txns) / len(txns)
        sc = [t["score"] for t in txns]
        fr = sum(_p_flag(t) for t in txns) / len(txns)
        ff = sum(_p_flag(_txn(rng, seg, {"weekend": False, "holiday": {}}, True)) for _ in range(1500)) / 1500
        r = FRAUD_RATE[seg]
        flagged += ((1 - r) * fr + r * ff) * share
        true_flagged += r * ff * share
        total += share
        segs[seg] = {
            "share": round(share, 4),
            "features": stats,
            "card_present_rate": round(cp, 4),
            "score_mean": round(sum(sc) / len(sc), 5),
            "flag_rate": round(fr, 5),
            "fraud_rate": FRAUD_RATE[seg],
        }
    overall = {}
    for f in FEATURES:
        xs = sorted(pooled[f])
        mean = sum(xs) / len(xs)
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
        overall[f] = {
            "mean": round(mean, 4),
            "std": round(std, 4),
            **{f"p{q:02d}": round(_quantile(xs, q / 100), 4) for q in (5, 25, 50, 75, 95)},
        }
    return {
        "model": "fraud-gbm-2025-07",
        "training_period": {"start": "2025-01-01", "end": "2025-06-30"},
        "decision_threshold": FLAG_AT,
        "precision_at_threshold": round(true_flagged / flagged, 4),
        "flag_rate": round(flagged / total, 5),
        "features": overall,
        "segments": segs,
        "notes": "Statistics of the training data (legitimate and fraudulent transactions pooled).",
    }


def _sample(rng: random.Random, start: date, days: int, drifts: dict[str, object], holiday) -> list[list[str]]:
    snapshot = start + timedelta(days=days)
    out = []
    n = 0
    for i in range(days):
        d = start + timedelta(days=i)
        weekend = d.weekday() >= 5
        hol = holiday(d)
        weights = [
            SHARE[s][1 if weekend else 0] * (1.35 if hol and s in ("retail", "electronics") else 1) for s in SEGMENTS
        ]
        for _ in range(40):
            seg = rng.choices(SEGMENTS, weights)[0]
            ctx: dict[str, object] = {"weekend": weekend, "holiday": hol}
            if d >= drifts["cents_from"]:  # type: ignore[operator]
                ctx["cents"] = drifts["cents_feature"]
            if d >= drifts["ring_from"]:  # type: ignore[operator]
                ctx.update(ring=0.4, ring_segment=drifts["ring_segment"], ring_kind=drifts["ring_kind"])
            fraud = rng.random() < FRAUD_RATE[seg] * 3  # the sample over-represents flagged traffic a little
            t = _txn(rng, seg, ctx, fraud)
            reported = ""
            if fraud:
                when = d + timedelta(days=rng.randint(30, 60))
                if when < snapshot:
                    reported = when.isoformat()
            n += 1
            hh, mm = rng.randint(0, 23), rng.randint(0, 59)
            decision = "decline" if t["score"] >= 0.8 else "review" if t["score"] >= FLAG_AT else "approve"
            out.append(
                [
                    f"t{n:06d}",
                    f"{d.isoformat()} {hh:02d}:{mm:02d}",
                    seg,
                    f"{t['amount']:.2f}",
                    f"{t['avg_amount_30d']:.2f}",
                    str(round(t["account_age_days"])),
                    str(int(t["txn_count_24h"])),
                    f"{t['distance_km']:.1f}",
                    str(int(t["card_present"])),
                    f"{t['score']:.4f}",
                    decision,
                    reported,
                ]
            )
    return out


def _csv(rows: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([r["date"], r["merchant_category"]] + [_fmt(r[c]) for c in COLUMNS[2:]])  # type: ignore[arg-type]
    return buf.getvalue()


VISIBLE_DRIFTS: dict[str, object] = {
    "cents_from": date(2025, 9, 16),
    "cents_feature": "amount",
    "ring_from": date(2025, 10, 20),
    "ring_segment": "digital_goods",
    "ring_kind": "new-accounts",
}
HOLDOUT_DRIFTS: dict[str, object] = {
    "cents_from": date(2026, 3, 3),
    "cents_feature": "avg_amount_30d",
    "ring_from": date(2026, 3, 12),
    "ring_segment": "electronics",
    "ring_kind": "card-testing",
}


def generate(pack_dir: Path = PACK_DIR) -> None:
    rng = random.Random(SEED)
    data, hidden = pack_dir / "data", pack_dir / "hidden"
    data.mkdir(parents=True, exist_ok=True)
    hidden.mkdir(parents=True, exist_ok=True)

    reference = _reference(rng)
    (data / "reference.json").write_text(json.dumps(reference, indent=1) + "\n")
    visible = _period(rng, VISIBLE_START, VISIBLE_DAYS, VISIBLE_DRIFTS, _holiday_visible)
    (data / "daily_stats.csv").write_text(_csv(visible))

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "txn_id",
            "ts",
            "merchant_category",
            "amount",
            "avg_amount_30d",
            "account_age_days",
            "txn_count_24h",
            "distance_km",
            "card_present",
            "score",
            "decision",
            "fraud_reported_on",
        ]
    )
    w.writerows(_sample(rng, VISIBLE_START, VISIBLE_DAYS, VISIBLE_DRIFTS, _holiday_visible))
    (data / "transactions_sample.csv").write_text(buf.getvalue())

    holdout = _period(rng, HOLDOUT_START, HOLDOUT_DAYS, HOLDOUT_DRIFTS, _holiday_holdout)
    (hidden / "holdout_daily.csv").write_text(_csv(holdout))
    truth = {
        "period": {
            "start": HOLDOUT_START.isoformat(),
            "end": (HOLDOUT_START + timedelta(HOLDOUT_DAYS - 1)).isoformat(),
        },
        "holiday": ["2026-02-13", "2026-02-14", "2026-02-15", "2026-02-16"],
        "drifts": [
            {
                "kind": "upstream-schema-change",
                "feature": "avg_amount_30d",
                "segment": "all",
                "start": HOLDOUT_DRIFTS["cents_from"].isoformat(),  # type: ignore[union-attr]
                "note": "avg_amount_30d switched from dollars to cents",
            },
            {
                "kind": "segment-drift",
                "feature": "txn_count_24h",
                "segment": "electronics",
                "start": HOLDOUT_DRIFTS["ring_from"].isoformat(),  # type: ignore[union-attr]
                "note": "card testing in electronics: velocity bursts, young accounts, card not present",
            },
        ],
        "label_columns": LABEL_COLUMNS,
    }
    (hidden / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else PACK_DIR)
