# %%
# Serving our 7B model. `cluster` simulates the serving stack (help(cluster)); `read_load`,
# `read_sample`, `trace_stats` and `make_trace` read the data and build request traces for it.
import pandas as pd

load_df = pd.read_csv("/data/load_by_minute.csv")
sample_df = pd.read_csv("/data/requests_sample.csv")
quant_eval = pd.read_csv("/data/quant_eval.csv")
load = read_load()  # noqa: F821 - comes with the session: {tenant: [requests in each of the 1440 minutes]}
sample = read_sample()  # noqa: F821 - comes with the session
stats = trace_stats(load, sample)  # noqa: F821 - what plan() receives (the grader's day differs)
print({t: max(v) for t, v in stats["rps_by_hour"].items()}, "peak requests/s per tenant")
load_df.head()

# %%
# What we run today in staging: one queue, fp16, six nodes all day.
EXAMPLE_CONFIG = {"quantization": "fp16", "nodes_by_hour": [6] * 24, "scheduling": "fifo"}

trace = make_trace(load, sample, "13:00", minutes=10)  # noqa: F821 - 10 minutes from 13:00
result = cluster.simulate(EXAMPLE_CONFIG, trace)  # noqa: F821 - comes with the session
print(result.summary(), cluster.gpu_hours(EXAMPLE_CONFIG), "GPU-hours a day")  # noqa: F821


# %%
def plan(stats: dict) -> dict:
    """The serving config for a day with these traffic statistics (see help(cluster) for the keys)."""
    raise NotImplementedError
