# %% [markdown]
# Reference: a daily drift monitor on per-category aggregates.
#
# * compares each category's daily statistics with the same weekday of the previous four weeks
#   (weekly seasonality), falling back to the training reference while history is short;
# * works in log space and only pages on large, scale-free moves (a unit change is 100x, a
#   holiday is under 2x); on traffic-spike days (volume far above the weekday baseline) the bar
#   is raised further;
# * looks per merchant category and rolls a feature up to "all" when most categories move;
# * one alert per (category, feature) a week; label metrics only on days whose labels are mature.

# %%
import numpy as np
import pandas as pd

NUMERIC = ["amount", "avg_amount_30d", "account_age_days", "txn_count_24h", "distance_km"]
STATS = ["p05", "p50", "p95", "mean"]
LABEL_LAG_DAYS = 60  # chargebacks arrive 30-60 days after the transaction
LOG_BAR, LOG_BAR_EVENT = np.log(2.5), np.log(6.0)
RATE_BAR = 0.15  # card-present share, absolute
OUTPUT_BAR, OUTPUT_BAR_EVENT = np.log(4.0), np.log(12.0)  # score mean / flag rate
COOLDOWN_DAYS = 7


def _baseline(s: pd.Series) -> pd.Series:
    """Median of the same weekday over the previous four weeks (needs two of them)."""
    lags = pd.concat([s.shift(7 * k) for k in range(1, 5)], axis=1)
    return lags.median(axis=1).where(lags.notna().sum(axis=1) >= 2)


def _ref_value(reference: dict, seg: str, col: str) -> float:
    segs = reference.get("segments", {})
    info = segs.get(seg, {})
    if col == "card_present_rate":
        return info.get("card_present_rate", np.nan)
    if col == "score_mean":
        return info.get("score_mean", np.nan)
    if col == "flag_rate":
        return info.get("flag_rate", np.nan)
    feat, stat = col.rsplit("_", 1)
    return info.get("features", {}).get(feat, {}).get(stat, np.nan)


def detect_drift(daily: pd.DataFrame, reference: dict) -> list[dict]:
    df = daily.copy()
    df["date"] = pd.to_datetime(df["date"]).dt.normalize()
    days = pd.date_range(df["date"].min(), df["date"].max(), freq="D")
    log_cols = [f"{f}_{s}" for f in NUMERIC for s in STATS] + ["score_mean", "flag_rate"]
    raw: list[tuple[pd.Timestamp, str, str, str, float]] = []  # date, segment, feature, stat, deviation

    # Days whose traffic is far above the usual for that weekday (sales, holidays).
    total = df.groupby("date")["n_txn"].sum().reindex(days)
    event_day = (total / _baseline(total)).fillna(1.0) > 1.4

    for seg, g in df.groupby("merchant_category"):
        g = g.set_index("date").reindex(days)
        for col in [*log_cols, "card_present_rate"]:
            if col not in g:
                continue
            x = g[col].astype(float)
            base = _baseline(x)
            ref = _ref_value(reference, seg, col)
            if col == "card_present_rate":
                dev = x - base.fillna(ref)
                hit = dev.abs() > RATE_BAR
            else:
                floor = 1e-4 if col in ("score_mean", "flag_rate") else 1e-6
                dev = np.log(x.clip(lower=floor)) - np.log(base.fillna(ref).clip(lower=floor))
                output = col in ("score_mean", "flag_rate")  # model outputs amplify feature moves
                bar = pd.Series(OUTPUT_BAR if output else LOG_BAR, index=days)
                # young history: the pooled reference ignores weekdays, so be looser
                bar = bar.where(base.notna(), bar + np.log(2.0 if output else 1.3))
                bar = bar.where(~event_day, np.maximum(bar, OUTPUT_BAR_EVENT if output else LOG_BAR_EVENT))
                hit = dev.abs() > bar
            for d in dev.index[hit.fillna(False)]:
                feat = col if col in ("card_present_rate", "score_mean", "flag_rate") else col.rsplit("_", 1)[0]
                raw.append((d, seg, feat, col, float(dev[d])))

    alerts: list[dict] = []
    n_segments = df["merchant_category"].nunique()
    hits = pd.DataFrame(raw, columns=["date", "segment", "feature", "stat", "dev"])
    last_alert: dict[tuple[str, str], pd.Timestamp] = {}
    for d, day in hits.groupby("date"):
        for feat, fh in day.groupby("feature"):
            segs = sorted(fh["segment"].unique())
            where = ["all"] if len(segs) >= max(4, n_segments // 2) else segs
            for seg in where:
                key = (seg, feat)
                if key in last_alert and (d - last_alert[key]).days < COOLDOWN_DAYS:
                    continue
                last_alert[key] = d
                rows = fh if seg == "all" else fh[fh["segment"] == seg]
                moves = ", ".join(
                    f"{r.stat} {np.exp(r.dev):.2g}x" if r.stat != "card_present_rate" else f"{r.stat} {r.dev:+.2f}"
                    for r in rows.head(4).itertuples()
                )
                scope = f"{len(segs)} categories" if seg == "all" else seg
                alerts.append(
                    {
                        "date": d.date().isoformat(),
                        "feature": feat,
                        "segment": seg,
                        "reason": f"{feat} moved vs same-weekday baseline in {scope}: {moves}",
                    }
                )

    # Lagging confirmation from labels: weekly precision, only once the labels are mature.
    if {"n_flagged", "n_flagged_fraud_reported"} <= set(df.columns):
        by_day = df.groupby("date")[["n_flagged", "n_flagged_fraud_reported"]].sum(min_count=1).reindex(days)
        mature = by_day.index <= days[-1] - pd.Timedelta(days=LABEL_LAG_DAYS)
        weekly = by_day[mature].rolling(7, min_periods=7).sum()
        precision = (weekly["n_flagged_fraud_reported"] / weekly["n_flagged"]).dropna()
        ref_p = reference.get("precision_at_threshold")
        if ref_p:
            low = precision[precision < 0.5 * ref_p]
            if len(low):
                d = low.index[0]
                alerts.append(
                    {
                        "date": (d + pd.Timedelta(days=LABEL_LAG_DAYS)).date().isoformat(),
                        "feature": "precision",
                        "segment": "all",
                        "reason": f"7-day precision ending {d.date()} is {low.iloc[0]:.2f} (training {ref_p:.2f});"
                        " known only once labels matured",
                    }
                )
    return sorted(alerts, key=lambda a: (a["date"], a["segment"], a["feature"]))
