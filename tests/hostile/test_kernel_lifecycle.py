"""Kernel lifecycle seen from a session (finding 12 and 13 of issue 8): a culled kernel, a
container removed behind the server's back and another server instance on the same Docker host
never leave a session dead, and no path restarts a removed container."""

from __future__ import annotations

import docker

from sandbox.config import derive_server_id
from tests.hostile.conftest import ModuleServerFactory
from tests.hostile.test_isolation import (
    assert_healthy,
    connect_events,
    create_session,
    first_hello,
    read_until,
    run_code,
)


async def test_a_culled_kernel_is_replaced_and_the_session_is_told(module_server_factory: ModuleServerFactory) -> None:
    server = module_server_factory(CLARIFY_SANDBOX__CULL_IDLE_S="3", CLARIFY_SANDBOX__POOL_SIZE="1")
    s = await create_session(server)
    async with connect_events(server, s["id"], s["tokens"]["candidate"]) as ws:
        await first_hello(ws)
        first = await run_code(ws, "x = 41\nprint(x)")
        assert first.printed() == "41\n"
        stopped = await read_until(
            ws, lambda m: m["type"] == "kernel.status" and m["state"] == "stopped", 60, "kernel.status stopped"
        )
        assert "idle" in stopped[-1]["reason"]
        # The next run starts on a fresh kernel: state is gone, the run works.
        again = await run_code(ws, "print('x' in dir())")
        assert again.printed() == "False\n", again.outputs
        assert again.result["status"] == "ok"
    await assert_healthy(server)


async def test_a_container_removed_behind_the_servers_back_is_replaced(
    module_server_factory: ModuleServerFactory,
) -> None:
    server = module_server_factory(CLARIFY_SANDBOX__POOL_SIZE="1")
    s = await create_session(server)
    client = docker.from_env()
    try:
        async with connect_events(server, s["id"], s["tokens"]["candidate"]) as ws:
            await first_hello(ws)
            assert (await run_code(ws, "print('before')")).printed() == "before\n"
            label = f"clarify.server={server.env['CLARIFY_SANDBOX__SERVER_ID']}"
            before = {c.id for c in client.containers.list(filters={"label": label})}
            for c in client.containers.list(filters={"label": label}):
                c.remove(force=True)  # what another instance's orphan reaping used to do
            # A restart must not try to restart the removed container (a raw Docker 404 before).
            await ws.send('{"type": "restart"}')
            seen = await read_until(
                ws, lambda m: m["type"] == "kernel.status" and m["state"] == "idle", 90, "kernel back to idle"
            )
            assert not any("404" in str(m.get("reason", "")) for m in seen), seen
            after = await run_code(ws, "print('after')")
            assert after.printed() == "after\n", after.outputs
            now = {c.id for c in client.containers.list(filters={"label": label})}
            assert now and not (now & before)  # fresh containers only
    finally:
        client.close()
    await assert_healthy(server)


async def test_two_instances_on_one_docker_host_keep_each_others_kernels(
    module_server_factory: ModuleServerFactory,
) -> None:
    # No CLARIFY_SANDBOX__SERVER_ID: each instance derives its own label from its data directory.
    first = module_server_factory(CLARIFY_SANDBOX__SERVER_ID="")
    labels = [f"clarify.server={derive_server_id(first.data_dir.resolve())}"]
    client = docker.from_env()
    try:
        s = await create_session(first)
        async with connect_events(first, s["id"], s["tokens"]["candidate"]) as ws:
            await first_hello(ws)
            assert (await run_code(ws, "y = 7\nprint(y)")).printed() == "7\n"
            assert client.containers.list(filters={"label": labels[0]})  # the derived label is in use
            second = module_server_factory(CLARIFY_SANDBOX__SERVER_ID="")  # reaps its own orphans at start
            labels.append(f"clarify.server={derive_server_id(second.data_dir.resolve())}")
            assert labels[0] != labels[1]
            await assert_healthy(second)
            kept = await run_code(ws, "print(y * 6)")  # the same kernel, state intact
            assert kept.printed() == "42\n", kept.outputs
    finally:
        first.stop()
        for label in labels:
            for c in client.containers.list(all=True, filters={"label": label}):
                c.remove(force=True)
        client.close()
