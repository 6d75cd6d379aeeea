"""A session on a problem: the kernel has its data and setup, the editor its starter code, and
the candidate receives the brief but nothing hidden."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from problems import load_pack
from tests.problems.packs import write_pack
from tests.server.harness import ADMIN, YClient, events_socket, recv_until


async def test_problem_session_loads_data_starter_and_filters_hidden_text(server_factory, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    problem = load_pack(write_pack(packs))
    server = server_factory(CLARIFY_PROBLEMS_DIR=str(packs))
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        listed = (await http.get("/api/problems")).json()
        assert [{k: item[k] for k in problem.summary()} for item in listed] == [problem.summary()]
        assert listed[0]["brief"] == problem.brief
        assert [c["id"] for c in listed[0]["constraints"]] == ["multilingual", "latency-budget"]
        assert (await http.get("/api/problems", headers={"Authorization": "Bearer nope"})).status_code == 401
        r = await http.post("/api/sessions", json={"problem": problem.id, "candidate": "Ada"})
        assert r.status_code == 201, r.text
    s = r.json()
    sid, tokens = s["id"], s["tokens"]
    hidden_texts = [c.answer for c in problem.meta.constraint] + [c.title for c in problem.meta.constraint]
    hidden_texts += [cue for c in problem.meta.constraint for cue in c.cues] + [
        c.probe for c in problem.meta.constraint
    ]

    async with (
        events_socket(server, sid, tokens["candidate"]) as cand,
        events_socket(server, sid, tokens["interviewer"]) as staff,
    ):
        cand_hello = json.loads(raw_cand := await cand.recv())
        staff_hello = json.loads(await staff.recv())
        assert cand_hello["problem"]["brief"] == problem.brief
        assert "constraints" not in cand_hello["problem"] and "rubric" not in cand_hello["problem"]
        assert [c["id"] for c in staff_hello["problem"]["constraints"]] == ["multilingual", "latency-budget"]
        frames = [raw_cand]
        # The starter reads /data (the pack's data); setup.py set the display width.
        for code in (problem.starter, "print(len(listings), pd.get_option('display.width'))"):
            await cand.send(json.dumps({"type": "run", "code": code}))
            seen = await recv_until(cand, lambda m: m["type"] == "run.done")
            frames += [json.dumps(m) for m in seen]
            assert seen[-1]["result"]["status"] == "ok", seen[-1]
        out = "".join(m["output"].get("text", "") for m in seen if m["type"] == "run.output")
        assert out == "3 120\n"
    for text in hidden_texts:
        assert all(text not in frame for frame in frames), text

    editor = await YClient.start(server.ws_base, sid, tokens["candidate"], "Ada")
    try:
        await editor.synced()
        assert await editor.text() == problem.starter
    finally:
        await editor.close()
