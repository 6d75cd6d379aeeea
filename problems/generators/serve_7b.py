"""Deterministic data for the ``serve-7b`` pack.

Writes into the pack folder:

* ``data/load_by_minute.csv`` - requests per minute of a typical weekday for the three tenants
  (minute, chat, code, batch; minute 0 is 00:00).
* ``data/requests_sample.csv`` - about 5,000 requests sampled from that day (ts, tenant,
  prompt_tokens, completion_tokens); the simulator draws request lengths from it.
* ``data/quant_eval.csv`` - the offline eval per precision and slice (precision, slice, n, score),
  with an ``overall`` row per precision.
* ``hidden/load_by_minute.csv`` - the day the grader plans and simulates: the same shape, 6% more
  traffic, other noise, other burst sizes.

Standard library only, fixed seeds: running it twice gives byte-identical files.

    python -m problems.generators.serve_7b [PACK_DIR]

What the data really exhibits (one line per hidden constraint of the pack):

* ttft-slo - nothing in the data says the target; the load peaks at ~20 interactive requests/s at 13:00.
* long-prompts-kv - about 1 chat request in 700 has a 12k-16k-token prompt (a few rows of the sample).
* slow-node-start - the load steps from ~7 to ~17 interactive requests/s at 09:00; nodes in the
  simulator's results show ready_s four minutes after ordered_s.
* int4-hurts-code - int4's overall score is ~1.6 points under fp16, its code slice ~13.
* noisy-tenant - batch submits 1,500-3,200 requests in single minutes at 10:00, 14:00 and 16:30.
* gpu-budget - nothing in the data; a flat fleet for the peak costs far more than 120 GPU-hours.
"""

from __future__ import annotations

import csv
import math
import random
import sys
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parents[1] / "packs" / "serve-7b"
TENANTS = ("chat", "code", "batch")

# Mean requests/s per hour (00:00 first). Interactive = chat + code: ~7 at 08:00, ~17 at 09:00, ~20 at 13:00.
# fmt: off
CHAT = [1.0, 0.8, 0.7, 0.7, 0.8, 1.0, 2.0, 3.5, 5.0, 12.0, 13.0, 13.0,
        12.0, 14.0, 13.0, 12.0, 11.0, 8.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.5]
CODE = [0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 6.0, 6.0,
        5.0, 6.0, 6.0, 6.0, 5.0, 3.0, 1.5, 1.0, 0.8, 0.5, 0.4, 0.3]
# fmt: on
BATCH = [0.2] * 8 + [0.5] * 10 + [0.2] * 6
PUBLIC_BURSTS = {600: 1500, 840: 3000, 990: 2000}  # minute -> batch requests in that minute
HIDDEN_BURSTS = {600: 1800, 840: 3200, 990: 2200}
HIDDEN_GROWTH = 1.06
LONG_SHARE = 1 / 700  # chat requests with a pasted document
SAMPLE_SIZE = 5000

# precision -> slice -> score; n per slice. Only int4's code slice moves by more than a point or two.
QUALITY = {
    "fp16": {"chat-en": 81.2, "chat-de": 77.5, "code": 62.4, "summaries": 74.0},
    "int8": {"chat-en": 80.9, "chat-de": 77.0, "code": 61.8, "summaries": 73.7},
    "int4": {"chat-en": 80.1, "chat-de": 76.3, "code": 49.1, "summaries": 73.1},
}
EVAL_N = {"chat-en": 800, "chat-de": 300, "code": 60, "summaries": 300}


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth for small means, a rounded normal for large ones (deterministic either way)."""
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def load(seed: int, growth: float, bursts: dict[int, int]) -> dict[str, list[int]]:
    """Requests per minute per tenant for one day."""
    rng = random.Random(seed)
    rates = {"chat": CHAT, "code": CODE, "batch": BATCH}
    out = {t: [0] * 1440 for t in TENANTS}
    for m in range(1440):
        for t in TENANTS:
            out[t][m] = _poisson(rng, rates[t][m // 60] * 60 * growth)
    for m, n in bursts.items():
        out["batch"][m] += n
    return out


def _lognormal(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    return int(min(hi, max(lo, round(median * math.exp(rng.gauss(0, sigma))))))


def request(rng: random.Random, tenant: str) -> tuple[int, int]:
    """(prompt_tokens, completion_tokens) of one request."""
    if tenant == "chat":
        if rng.random() < LONG_SHARE:
            return rng.randint(12000, 15800), rng.randint(150, 200)
        return _lognormal(rng, 600, 0.6, 40, 6000), _lognormal(rng, 180, 0.5, 10, 600)
    if tenant == "code":
        return _lognormal(rng, 1200, 0.5, 100, 6000), _lognormal(rng, 60, 0.6, 5, 300)
    return _lognormal(rng, 2500, 0.4, 500, 7000), _lognormal(rng, 250, 0.3, 50, 600)


def sample(day: dict[str, list[int]], seed: int) -> list[tuple[str, str, int, int]]:
    """About SAMPLE_SIZE requests drawn uniformly from the day: (ts, tenant, prompt, completion)."""
    rng = random.Random(seed)
    total = sum(sum(v) for v in day.values())
    keep = SAMPLE_SIZE / total
    rows = []
    for m in range(1440):
        for t in TENANTS:
            for _ in range(day[t][m]):
                if rng.random() < keep:
                    s = m * 60 + rng.randrange(60)
                    prompt, completion = request(rng, t)
                    rows.append((f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}", t, prompt, completion))
    rows.sort()
    return rows


def _write_load(path: Path, day: dict[str, list[int]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["minute", *TENANTS])
        for m in range(1440):
            w.writerow([m, *(day[t][m] for t in TENANTS)])


def generate(pack_dir: Path = PACK_DIR) -> None:
    """Write every generated file of the pack into ``pack_dir``."""
    (pack_dir / "data").mkdir(parents=True, exist_ok=True)
    (pack_dir / "hidden").mkdir(parents=True, exist_ok=True)
    public = load(7, 1.0, PUBLIC_BURSTS)
    _write_load(pack_dir / "data" / "load_by_minute.csv", public)
    _write_load(pack_dir / "hidden" / "load_by_minute.csv", load(1207, HIDDEN_GROWTH, HIDDEN_BURSTS))
    with (pack_dir / "data" / "requests_sample.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["ts", "tenant", "prompt_tokens", "completion_tokens"])
        w.writerows(sample(public, 11))
    with (pack_dir / "data" / "quant_eval.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["precision", "slice", "n", "score"])
        for precision, scores in QUALITY.items():
            n = sum(EVAL_N.values())
            overall = sum(scores[s] * EVAL_N[s] for s in scores) / n
            w.writerow([precision, "overall", n, f"{overall:.1f}"])
            for s, score in scores.items():
                w.writerow([precision, s, EVAL_N[s], f"{score:.1f}"])


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else PACK_DIR)
