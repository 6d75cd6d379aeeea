# Runs silently at session start and after every restart: the serving simulator and its helpers.
# The grader runs its own copy and simulates the candidate's plan on the hidden day with it.
import csv as _csv
import heapq as _heapq
import math as _math
import random as _random
from collections import deque as _deque

TENANTS = ("chat", "code", "batch")
INTERACTIVE = ("chat", "code")
QUANTIZATIONS = ("fp16", "int8", "int4")
LONG_PROMPT = 8000  # what the reports call a long prompt

# The engine as it runs on one 24 GB GPU with the 7B model: KV-cache tokens left after the
# weights, seconds per output token, prompt tokens prefilled per second.
_ENGINE = {
    "fp16": {"kv_tokens": 12000, "tpot_s": 0.030, "prefill_tps": 8000.0},
    "int8": {"kv_tokens": 24000, "tpot_s": 0.024, "prefill_tps": 9000.0},
    "int4": {"kv_tokens": 36000, "tpot_s": 0.020, "prefill_tps": 10000.0},
}
_NODE_START_S = 240.0
_MAX_BATCH = 64


def _hms(seconds):
    s = int(seconds) % 86400
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _seconds(clock):
    """'13:05' or '13:05:30' or seconds since midnight -> seconds since midnight."""
    if isinstance(clock, (int, float)):
        return float(clock)
    parts = [int(p) for p in str(clock).split(":")]
    parts += [0] * (3 - len(parts))
    return float(parts[0] * 3600 + parts[1] * 60 + parts[2])


def read_load(path="/data/load_by_minute.csv"):
    """Requests per minute of the day, per tenant: {tenant: [1440 ints]}."""
    load = {t: [0] * 1440 for t in TENANTS}
    with open(path, encoding="utf-8") as f:
        for row in _csv.DictReader(f):
            m = int(row["minute"])
            for t in TENANTS:
                load[t][m] = int(row[t])
    return load


def read_sample(path="/data/requests_sample.csv"):
    """The request sample: a list of {tenant, prompt_tokens, completion_tokens} (plus its time)."""
    with open(path, encoding="utf-8") as f:
        return [
            {
                "ts": r["ts"],
                "tenant": r["tenant"],
                "prompt_tokens": int(r["prompt_tokens"]),
                "completion_tokens": int(r["completion_tokens"]),
            }
            for r in _csv.DictReader(f)
        ]


def _quantile(values, q):
    v = sorted(values)
    if not v:
        return 0.0
    return float(v[min(len(v) - 1, int(q * len(v)))])


def trace_stats(load, sample):
    """The day's traffic statistics that `plan` receives.

    Returns a dict: "rps_by_hour" {tenant: [24 mean requests/s]}, "peak_rps_by_hour" {tenant:
    [24 busiest-minute requests/s]}, "prompt_tokens" and "completion_tokens" {tenant: {"p50",
    "p95", "p99", "max"}}, and "requests_per_day" {tenant: int}.
    """
    stats = {"rps_by_hour": {}, "peak_rps_by_hour": {}, "prompt_tokens": {}, "completion_tokens": {}}
    stats["requests_per_day"] = {t: int(sum(load[t])) for t in TENANTS}
    for t in TENANTS:
        per_min = load[t]
        stats["rps_by_hour"][t] = [round(sum(per_min[h * 60 : h * 60 + 60]) / 3600, 3) for h in range(24)]
        stats["peak_rps_by_hour"][t] = [round(max(per_min[h * 60 : h * 60 + 60]) / 60, 3) for h in range(24)]
        for key in ("prompt_tokens", "completion_tokens"):
            vals = [r[key] for r in sample if r["tenant"] == t]
            stats[key][t] = {
                "p50": _quantile(vals, 0.5),
                "p95": _quantile(vals, 0.95),
                "p99": _quantile(vals, 0.99),
                "max": float(max(vals) if vals else 0),
            }
    return stats


def make_trace(load, sample, start, minutes, seed=0):
    """Requests arriving from `start` ('HH:MM') for `minutes`: the load's counts per minute, spread
    uniformly within each minute, lengths drawn from the sample's requests of the same tenant.
    A list of {arrival_s, tenant, prompt_tokens, completion_tokens} sorted by arrival."""
    rng = _random.Random(seed)
    by_tenant = {t: [r for r in sample if r["tenant"] == t] for t in TENANTS}
    t0 = int(_seconds(start)) // 60
    out = []
    for m in range(t0, t0 + int(minutes)):
        for t in TENANTS:
            pool = by_tenant[t]
            for _ in range(load[t][m % 1440] if pool else 0):
                r = rng.choice(pool)
                out.append(
                    {
                        "arrival_s": m * 60 + rng.random() * 60,
                        "tenant": t,
                        "prompt_tokens": r["prompt_tokens"],
                        "completion_tokens": r["completion_tokens"],
                    }
                )
    out.sort(key=lambda r: r["arrival_s"])
    return out


def _validate(config):
    """A clean copy of a serving config, or ValueError saying what is wrong with it."""
    if not isinstance(config, dict):
        raise ValueError(f"the config must be a dict, not {type(config).__name__}")
    known = {"quantization", "nodes_by_hour", "max_batch", "scheduling", "tenant_max_inflight"}
    known |= {"long_prompt_tokens", "long_pool_nodes"}
    unknown = set(config) - known
    if unknown:
        raise ValueError(f"unknown config keys: {sorted(unknown)}")
    q = config.get("quantization", "fp16")
    if q not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, not {q!r}")
    nodes = config.get("nodes_by_hour")
    if not isinstance(nodes, (list, tuple)) or len(nodes) != 24:
        raise ValueError("nodes_by_hour must be a list of 24 node counts (one per hour, 00:00 first)")
    try:
        nodes = [int(n) for n in nodes]
    except (TypeError, ValueError):
        raise ValueError("nodes_by_hour must hold 24 integers") from None
    if min(nodes) < 0 or max(nodes) > 200:
        raise ValueError("nodes_by_hour: each hour needs between 0 and 200 nodes")
    max_batch = int(config.get("max_batch", 32))
    if not 1 <= max_batch <= _MAX_BATCH:
        raise ValueError(f"max_batch must be between 1 and {_MAX_BATCH}")
    scheduling = config.get("scheduling", "fifo")
    if scheduling not in ("fifo", "fair"):
        raise ValueError("scheduling must be 'fifo' or 'fair'")
    caps = config.get("tenant_max_inflight") or {}
    if not isinstance(caps, dict) or any(t not in TENANTS for t in caps):
        raise ValueError(f"tenant_max_inflight must map tenants {TENANTS} to ints")
    caps = {t: int(n) for t, n in caps.items()}
    if any(n < 1 for n in caps.values()):
        raise ValueError("tenant_max_inflight: each cap must be at least 1")
    long_tokens = config.get("long_prompt_tokens")
    long_tokens = None if long_tokens is None else int(long_tokens)
    long_nodes = int(config.get("long_pool_nodes", 0))
    if long_nodes < 0 or long_nodes > 50:
        raise ValueError("long_pool_nodes must be between 0 and 50")
    if long_tokens is not None and long_tokens < 1:
        raise ValueError("long_prompt_tokens must be a positive number of tokens (or None)")
    if long_tokens is not None and long_nodes < 1:
        raise ValueError("long_prompt_tokens routes prompts to the long-prompt pool: give it long_pool_nodes >= 1")
    return {
        "quantization": q,
        "nodes_by_hour": nodes,
        "max_batch": max_batch,
        "scheduling": scheduling,
        "tenant_max_inflight": caps,
        "long_prompt_tokens": long_tokens,
        "long_pool_nodes": long_nodes,
    }


class _Pool:
    """Nodes and per-tenant queues of one pool (the main pool, or the long-prompt pool)."""

    def __init__(self, name, fair):
        self.name, self.fair = name, fair
        self.nodes = []  # [ready_at, kv_used, running, draining, id]
        self.queues = {t: _deque() for t in TENANTS} if fair else {"*": _deque()}
        self.order = list(self.queues)
        self.rr = 0


class SimResult:
    """What one simulation did: `requests` (one dict per request: arrival_s, tenant, prompt_tokens,
    completion_tokens, pool, status 'ok' or 'rejected' or 'unserved', ttft_s, done_s), `nodes`
    (pool, ordered_s, ready_s, removed_s) and `summary()`."""

    def __init__(self, requests, nodes, config):
        self.requests, self.nodes, self.config = requests, nodes, config

    def summary(self, tenants=INTERACTIVE):
        """p50/p95/p99 TTFT (s) of the given tenants' requests, how many were not answered, and
        the long prompts' figures."""
        mine = [r for r in self.requests if r["tenant"] in tenants]
        ok = [r["ttft_s"] for r in mine if r["status"] == "ok"]
        failed = len(mine) - len(ok)
        waits = sorted(ok + [_math.inf] * failed)
        longs = [r for r in self.requests if r["prompt_tokens"] >= LONG_PROMPT]
        long_ok = sorted([r["ttft_s"] for r in longs if r["status"] == "ok"])
        return {
            "requests": len(mine),
            "not_answered": failed,
            "ttft_p50_s": _quantile(waits, 0.50),
            "ttft_p95_s": _quantile(waits, 0.95),
            "ttft_p99_s": _quantile(waits, 0.99),
            "long_prompts": len(longs),
            "long_answered": len(long_ok),
            "long_ttft_max_s": long_ok[-1] if long_ok else None,
        }

    def to_frame(self):
        """The requests as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.requests)


class ServingCluster:
    """A discrete-event simulator of our serving stack for the 7B model on single-GPU nodes.

    simulate(config, trace) -> SimResult; gpu_hours(config) -> GPU-hours a day.

    A config is a dict:
      quantization        "fp16" (default), "int8" or "int4": the precision of the weights
      nodes_by_hour       24 ints: the main pool's node count, applied at the top of each hour
      max_batch           sequences one node decodes at once (default 32, at most 64)
      scheduling          "fifo" (default: one queue) or "fair" (round robin over the tenants' queues)
      tenant_max_inflight {tenant: int}: at most that many of the tenant's requests running at once
                          (with "fifo", a capped tenant's request at the head holds the queue)
      long_prompt_tokens  prompts of at least this many tokens go to the long-prompt pool (default None)
      long_pool_nodes     nodes of the long-prompt pool, on all day (default 0)

    Each node serves with continuous batching: a request is admitted to a node when the node
    has a free batch slot and room in its KV cache for the request's tokens; its first token
    comes after its prompt is prefilled, the others one per decode step.
    """

    def __init__(self, engine=None, node_start_s=None):
        self._engine = dict(engine or _ENGINE)
        self._start_s = float(_NODE_START_S if node_start_s is None else node_start_s)

    def gpu_hours(self, config):
        """GPU-hours a day the config pays for (every node is billed for each hour it is scheduled)."""
        cfg = _validate(config)
        return float(sum(cfg["nodes_by_hour"]) + 24 * cfg["long_pool_nodes"])

    def simulate(self, config, trace):
        """Serve `trace` (a list of request dicts or a DataFrame from make_trace) with `config`.

        The main pool starts with the node count of the trace's first hour, all ready."""
        cfg = _validate(config)
        if hasattr(trace, "to_dict"):
            trace = trace.to_dict("records")
        reqs = sorted(
            (
                {
                    "arrival_s": float(r["arrival_s"]),
                    "tenant": str(r["tenant"]),
                    "prompt_tokens": int(r["prompt_tokens"]),
                    "completion_tokens": int(r["completion_tokens"]),
                    "pool": "main",
                    "status": "unserved",
                    "ttft_s": None,
                    "done_s": None,
                }
                for r in trace
            ),
            key=lambda r: r["arrival_s"],
        )
        return self._run(cfg, reqs)

    def _run(self, cfg, reqs):
        eng = self._engine[cfg["quantization"]]
        kv_cap, tpot, prefill = eng["kv_tokens"], eng["tpot_s"], eng["prefill_tps"]
        max_batch, caps = cfg["max_batch"], cfg["tenant_max_inflight"]
        fair = cfg["scheduling"] == "fair"
        pools = {"main": _Pool("main", fair), "long": _Pool("long", fair)}
        node_log = []
        inflight = dict.fromkeys(TENANTS, 0)
        events = []  # (time, seq, kind, payload)
        seq = [0]

        def push(t, kind, payload):
            seq[0] += 1
            _heapq.heappush(events, (t, seq[0], kind, payload))

        def add_node(pool, ordered, ready):
            node = [ready, 0, 0, False, len(node_log), 0.0]  # ready_at, kv, running, draining, id, prefill_free
            pool.nodes.append(node)
            node_log.append({"pool": pool.name, "ordered_s": ordered, "ready_s": ready, "removed_s": None})
            if ready > ordered:
                push(ready, 1, pool)

        if not reqs:
            return SimResult([], [], cfg)
        start = reqs[0]["arrival_s"]
        hour0 = int(start // 3600)
        for _ in range(cfg["nodes_by_hour"][hour0 % 24]):
            add_node(pools["main"], start, start)
        for _ in range(cfg["long_pool_nodes"]):
            add_node(pools["long"], start, start)
        last = reqs[-1]["arrival_s"]
        for h in range(hour0 + 1, int(last // 3600) + 2):
            push(h * 3600.0, 0, h % 24)
        for i, r in enumerate(reqs):
            push(r["arrival_s"], 2, i)

        def pick_node(pool, need, now):
            best = None
            for node in pool.nodes:
                if node[0] > now or node[3] or node[2] >= max_batch or kv_cap - node[1] < need:
                    continue
                if best is None or node[1] < best[1]:
                    best = node
            return best

        def dispatch(pool, now):
            while True:
                served = False
                n = len(pool.order)
                for k in range(n):
                    key = pool.order[(pool.rr + k) % n]
                    q = pool.queues[key]
                    if not q:
                        continue
                    i = q[0]
                    r = reqs[i]
                    cap = caps.get(r["tenant"])
                    if cap is not None and inflight[r["tenant"]] >= cap:
                        if fair:
                            continue
                        # fifo: the head waits for its tenant's cap, and so does everything behind it
                        break
                    need = r["prompt_tokens"] + r["completion_tokens"]
                    if need > kv_cap:
                        q.popleft()  # never fits in any node's KV cache: the engine refuses it
                        r["status"] = "rejected"
                        served = True
                        break
                    node = pick_node(pool, need, now)
                    if node is None:
                        if fair:
                            continue
                        break  # head-of-line: the queue waits for a node with room
                    q.popleft()
                    # one prefill at a time per node: a long prompt holds up the node's next admissions
                    first = max(now, node[5]) + r["prompt_tokens"] / prefill
                    node[5] = first
                    done = first + r["completion_tokens"] * tpot
                    r["status"], r["ttft_s"], r["done_s"] = "ok", first - r["arrival_s"], done
                    node[1] += need
                    node[2] += 1
                    inflight[r["tenant"]] += 1
                    push(done, 3, (pool, node, i, need))
                    pool.rr = (pool.order.index(key) + 1) % n
                    served = True
                    break
                if not served:
                    return

        def scale(h, now):
            pool = pools["main"]
            live = [nd for nd in pool.nodes if not nd[3]]
            target = cfg["nodes_by_hour"][h]
            if target > len(live):
                for _ in range(target - len(live)):
                    add_node(pool, now, now + self._start_s)
            elif target < len(live):
                # not-yet-ready nodes go first, then the least busy; removal takes effect when empty
                for node in sorted(live, key=lambda nd: (nd[0] <= now, nd[2]))[: len(live) - target]:
                    node[3] = True
                    if node[2] == 0:
                        node_log[node[4]]["removed_s"] = now
            pool.nodes = [nd for nd in pool.nodes if not (nd[3] and nd[2] == 0)]

        while events:
            now, _, kind, payload = _heapq.heappop(events)
            if kind == 0:
                scale(payload, now)
                dispatch(pools["main"], now)
            elif kind == 1:
                dispatch(payload, now)
            elif kind == 2:
                r = reqs[payload]
                lt = cfg["long_prompt_tokens"]
                pool = pools["long"] if lt is not None and r["prompt_tokens"] >= lt else pools["main"]
                r["pool"] = pool.name
                pool.queues[r["tenant"] if pool.fair else "*"].append(payload)
                dispatch(pool, now)
            else:
                pool, node, i, need = payload
                node[1] -= need
                node[2] -= 1
                inflight[reqs[i]["tenant"]] -= 1
                if node[3] and node[2] == 0:
                    node_log[node[4]]["removed_s"] = now
                    pool.nodes = [nd for nd in pool.nodes if nd is not node]
                dispatch(pool, now)
        return SimResult(reqs, node_log, cfg)


cluster = ServingCluster()
