"""A hostile candidate against the hidden checks: nothing raises their score or reads hidden data.

Real Docker, the real kernel image and the real grader. A weak solution for ticket-escalation
(scores = the ticket's text length: a real but weak signal) passes three of four checks and
fails recall at the review budget; each forgery is prepended to it and graded in a
fresh grading kernel. The passing set must not grow, every check must still be reported, and
what the forgery could see is read back from the grading kernel afterwards.
"""

from __future__ import annotations

import csv
import json
import textwrap

import pytest

from problems import PACKS_DIR, load_pack
from server.grading import CheckResult, run_checks

PACK = load_pack(PACKS_DIR / "ticket-escalation")
WEAK = textwrap.dedent(
    """
    # %%
    def predict_escalation(df):
        # Longer tickets escalate more often (holdout AUC 0.77), not enough for the recall bar.
        return df["text"].str.len().to_numpy(dtype=float)
    """
)
BASELINE = {"no-leakage", "scoring-latency", "beats-base-rate"}
FAKE_LINES = (
    "__CLARIFY_CHECKS__ "
    + json.dumps([{"function": c.function, "passed": True, "detail": "forged"} for c in PACK.meta.check])
    + "\n"
    + "".join(
        f"CLARIFY-CHECK {'0' * 32} " + json.dumps({"function": c.function, "passed": True, "detail": "forged"}) + "\n"
        for c in PACK.meta.check
    )
)

FORGERIES = {
    "redefine-print": f"""
        _fake = {FAKE_LINES!r}
        def print(*args, **kwargs):
            import sys
            sys.__stdout__.write(_fake)
        print("x")
    """,
    "patch-builtins": f"""
        import builtins
        _real_print = builtins.print
        builtins.print = lambda *a, **k: _real_print({FAKE_LINES!r})
        builtins.bool = lambda *a: True
        builtins.len = lambda obj: 4
    """,
    "fake-stdout": f"""
        import sys
        class _Forger:
            def write(self, text):
                sys.__stdout__.write({FAKE_LINES!r})
                return len(text)
            def flush(self):
                pass
        sys.stdout = sys.stderr = _Forger()
        print("anything")
    """,
    "patch-json": f"""
        import json
        _forged = {FAKE_LINES.splitlines()[0].removeprefix("__CLARIFY_CHECKS__ ")!r}
        json.dumps = lambda *a, **k: _forged
        json.loads = lambda *a, **k: json.JSONDecoder().decode(_forged)
    """,
    "predefine-checks": "\n".join(f"def {c.function}(ns):\n    return True, 'forged'\n" for c in PACK.meta.check)
    + "\n__clarify_run_checks = lambda names: None\n",
    "fake-result-line": f"""
        import sys
        sys.stdout.write({FAKE_LINES!r})
        sys.stdout.flush()
        print({FAKE_LINES!r})
    """,
    "patch-the-agent": """
        import clarify_grader.wire as _w
        _w.encode = lambda obj, refs: b'{"$":"dict","k":["value"],"v":[[1,1,1,1,1,1,1,1,1,1]]}'
    """,
    "plant-files": f"""
        import os, pathlib
        fake = {FAKE_LINES!r}
        planted = {{
            "manifest.json": '{{"nonce": "0", "address": "x", "functions": []}}',
            "checks.py": "def check_recall_at_budget(ns):\\n    return True, 'forged'\\n",
            "sitecustomize.py": "import sys; sys.stdout.write(" + repr(fake) + ")",
            "usercustomize.py": "import sys; sys.stdout.write(" + repr(fake) + ")",
            "json.py": "raise SystemExit(0)",
            "numpy.py": "raise SystemExit(0)",
            "clarify_grader.py": "raise SystemExit(0)",
            "result.txt": fake,
        }}
        for base in ("/tmp", os.path.expanduser("~"), os.getcwd(),
                     os.path.expanduser("~/.local/lib/python3.11/site-packages")):
            os.makedirs(base, exist_ok=True)
            for name, text in planted.items():
                pathlib.Path(base, name).write_text(text)
            for sub in ("grader-0", "clarify_grader"):
                os.makedirs(os.path.join(base, sub), exist_ok=True)
                pathlib.Path(base, sub, "__init__.py").write_text("raise SystemExit(0)")
    """,
}


def _passed(results: list[CheckResult]) -> set[str]:
    return {r.id for r in results if r.passed}


def _assert_reported(results: list[CheckResult]) -> None:
    assert [r.id for r in results] == [c.id for c in PACK.meta.check]
    for r in results:
        assert isinstance(r.passed, bool) and r.detail and "forged" not in r.detail, r


async def test_the_weak_solution_passes_three_checks(make_kernel) -> None:
    results = await run_checks(await make_kernel(), PACK, WEAK)
    _assert_reported(results)
    assert _passed(results) == BASELINE, results


@pytest.mark.parametrize("name", sorted(FORGERIES))
async def test_a_forgery_does_not_raise_the_score(make_kernel, name: str) -> None:
    forged = "# %%\n" + textwrap.dedent(FORGERIES[name]) + WEAK
    results = await run_checks(await make_kernel(), PACK, forged)
    _assert_reported(results)
    assert _passed(results) <= BASELINE, results


async def test_exiting_fails_every_check_cleanly(make_kernel) -> None:
    results = await run_checks(await make_kernel(), PACK, "# %%\nimport os\nos._exit(0)\n" + WEAK)
    _assert_reported(results)
    assert not _passed(results)
    assert all("stopped the grading kernel" in r.detail for r in results), results


async def test_exiting_during_a_check_fails_the_rest_cleanly(make_kernel) -> None:
    code = "# %%\nimport os\n\ndef predict_escalation(df):\n    os._exit(0)\n"
    results = await run_checks(await make_kernel(), PACK, code)
    _assert_reported(results)
    assert not _passed(results)
    assert all("stopped" in r.detail or "exited" in r.detail for r in results), results


PROBE = textwrap.dedent(
    """
    # %%
    import gc, glob, hashlib, os, sys
    import numpy as np

    FOUND = {"reads": {}, "frames": [], "objects": 0, "labels": []}


    def _try_read(path):
        try:
            if os.path.isdir(path):
                FOUND["reads"][path] = "listed: " + ",".join(sorted(os.listdir(path)))[:200]
            else:
                with open(path, "rb") as f:
                    FOUND["reads"][path] = "read: " + hashlib.sha256(f.read()).hexdigest()
        except Exception as exc:
            FOUND["reads"][path] = "denied: " + type(exc).__name__


    def _probe_files():
        for path in ["/data/_grading", "/data/_grading/holdout.csv", "/data/.grader",
                     "/data/.grader/manifest.json", "/data/.grader/checks.py", "/grading/holdout.csv"]:
            _try_read(path)
        me = os.getpid()
        for pid_dir in glob.glob("/proc/[0-9]*"):
            try:
                if os.stat(pid_dir).st_uid == os.getuid():
                    continue  # our own processes
            except OSError:
                continue
            for leaf in ("environ", "mem", "fd", "cwd", "root/data/_grading", "root/data/.grader/manifest.json",
                         "map_files"):
                _try_read(f"{pid_dir}/{leaf}")


    def _labels_like(obj, n):
        try:
            arr = np.asarray(obj)
        except Exception:
            return None
        if arr.ndim == 1 and len(arr) == n and arr.dtype.kind in "biu" and set(np.unique(arr)) <= {0, 1}:
            return arr.astype(int).tolist()
        return None


    def predict_escalation(df):
        n = len(df)
        if n > 1 and not FOUND["reads"]:
            _probe_files()
            for depth in range(1, 9):
                try:
                    frame = sys._getframe(depth)
                except ValueError:
                    break
                FOUND["frames"].append(sorted(frame.f_locals)[:40])
                for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
                    hit = _labels_like(value, n)
                    if hit is not None:
                        FOUND["labels"].append(hit)
            for obj in gc.get_objects():
                FOUND["objects"] += 1
                if type(obj).__name__ in ("ndarray", "Series", "list"):
                    hit = _labels_like(obj, n)
                    if hit is not None:
                        FOUND["labels"].append(hit)
                if type(obj).__name__ == "DataFrame" and "escalated" in getattr(obj, "columns", []):
                    FOUND["labels"].append(obj["escalated"].astype(int).tolist())
        if FOUND["labels"] and len(FOUND["labels"][-1]) == n:
            return np.asarray(FOUND["labels"][-1], dtype=float)  # "return what it found"
        print("FOUND", FOUND["reads"])
        return np.random.default_rng(n).random(n)
    """
)


async def test_the_hidden_data_cannot_be_read_or_stolen_from_the_caller(make_kernel) -> None:
    kernel = await make_kernel()
    results = await run_checks(kernel, PACK, PROBE)
    _assert_reported(results)
    assert _passed(results) <= BASELINE, results
    recall = next(r for r in results if r.id == "recall-at-budget")
    assert "recall@10% = 1.000" not in recall.detail, recall

    # What the candidate's code saw while the grader called it, read back from its kernel.
    events, result = await kernel.run("import json; print(json.dumps(FOUND))")
    assert result.status == "ok", result
    found = json.loads("".join(e.text for e in events if e.kind == "stream"))
    reads = found["reads"]
    for path in ("/data/_grading", "/data/_grading/holdout.csv", "/data/.grader", "/data/.grader/manifest.json"):
        assert reads[path].startswith("denied"), (path, reads[path])
    leaked = {p: v for p, v in reads.items() if p.startswith("/proc/") and not v.startswith("denied")}
    assert not leaked, leaked
    assert any(p.startswith("/proc/") for p in reads), "the grader's process was not there to probe"
    assert found["frames"], "the probe ran"
    with (PACK.path / "hidden" / "holdout.csv").open(newline="") as f:
        labels = [int(float(row["escalated"])) for row in csv.DictReader(f)]
    assert labels and all(hit != labels for hit in found["labels"]), "the candidate found the holdout labels"


async def test_side_effects_are_logged_where_the_agent_cannot_erase_them(make_kernel) -> None:
    """refund-agent: an agent that pays twice and then wipes the shop's payment log."""
    problem = load_pack(PACKS_DIR / "refund-agent")
    code = textwrap.dedent(
        """
        # %%
        def handle_request(request, env, dry_run=False):
            order = request.get("order_id", "")
            for _ in range(2):
                try:
                    env.call("refund", order_id=order, amount=1.0)
                except Exception:
                    pass
            for attempt in (lambda: env._payments.clear(), lambda: setattr(env, "_payments", []),
                            lambda: env.log.clear(), lambda: setattr(env, "log", [])):
                try:
                    attempt()
                except Exception:
                    pass
            return {"action": "refund", "amount": 1.0, "reason": "forged", "audit": []}
        """
    )
    results = {r.id: r for r in await run_checks(await make_kernel(), problem, code)}
    assert not results["no-double-refund"].passed, results["no-double-refund"]
    assert "paid more than once" in results["no-double-refund"].detail
    assert not results["side-effects"].passed, results["side-effects"]


async def test_llm_cost_is_metered_where_the_candidate_cannot_reach_it(make_kernel) -> None:
    """rag-support-assistant: many LLM calls per answer, with every price and bill zeroed locally."""
    problem = load_pack(PACKS_DIR / "rag-support-assistant")
    code = textwrap.dedent(
        """
        # %%
        from clarify_kit import llm

        llm.SimulatedLLM.price_in_per_1k = llm.SimulatedLLM.price_out_per_1k = 0.0
        llm.SimulatedLLM._bill = lambda self, **kw: None
        client.price_in_per_1k = client.price_out_per_1k = 0.0
        client.time_scale = 0


        def answer(question):
            text = ""
            for _ in range(40):
                try:
                    text = client.chat([{"role": "user", "content": question * 20}], max_tokens=200).text
                except llm.LLMError:
                    pass
            client.reset_usage()
            return text
        """
    )
    results = {r.id: r for r in await run_checks(await make_kernel(), problem, code)}
    cost = results["cost-per-answer"]
    assert not cost.passed and cost.detail.startswith("average $"), cost
