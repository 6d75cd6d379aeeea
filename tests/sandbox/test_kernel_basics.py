"""The normal path on a real kernel container: outputs, errors, state, interrupt, restart."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from sandbox import DisplayData, ErrorOutput, ExecuteResult, Kernel, Stream
from sandbox.errors import KernelBusy


def text(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, Stream))


async def test_kernel_info_and_simple_expression(kernel: Kernel) -> None:
    assert kernel.info["implementation"] == "ipython"
    assert kernel.info["language_info"]["name"] == "python"
    events, result = await kernel.run("1 + 1")
    assert result.status == "ok"
    assert result.execution_count == 1
    [out] = [e for e in events if isinstance(e, ExecuteResult)]
    assert out.data["text/plain"] == "2"


async def test_numpy_and_pandas(kernel: Kernel) -> None:
    code = (
        "import numpy as np, pandas as pd\n"
        "df = pd.DataFrame({'a': np.arange(5), 'b': np.arange(5) ** 2})\n"
        "print(int(df['b'].sum()))\n"
        "df.describe()"
    )
    events, result = await kernel.run(code)
    assert result.status == "ok", result
    assert text(events).strip() == "30"
    [out] = [e for e in events if isinstance(e, ExecuteResult)]
    assert "text/html" in out.data  # pandas renders an HTML table


async def test_matplotlib_figure_is_inline_png(kernel: Kernel) -> None:
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()"
    events, result = await kernel.run(code)
    assert result.status == "ok", result
    [img] = [e for e in events if isinstance(e, DisplayData)]
    png = base64.b64decode(img.data["image/png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_exception_has_traceback(kernel: Kernel) -> None:
    events, result = await kernel.run("def f():\n    return 1 / 0\nf()")
    assert result.status == "error"
    assert result.reason == "ZeroDivisionError: division by zero"
    [err] = [e for e in events if isinstance(e, ErrorOutput)]
    assert err.ename == "ZeroDivisionError"
    assert any("f()" in line for line in err.traceback)


async def test_state_is_kept_between_runs_and_cleared_by_restart(kernel: Kernel) -> None:
    await kernel.run("secret_value = 41")
    events, _ = await kernel.run("secret_value + 1")
    assert [e.data["text/plain"] for e in events if isinstance(e, ExecuteResult)] == ["42"]
    await kernel.restart()
    assert kernel.state == "idle"
    events, result = await kernel.run("secret_value")
    assert result.status == "error"
    assert "NameError" in (result.reason or "")


async def test_interrupt_stops_a_busy_loop(kernel: Kernel) -> None:
    async with kernel.execute("while True:\n    pass") as run:
        await asyncio.sleep(1.0)
        await kernel.interrupt()
        events = [e async for e in run]
    assert run.result is not None and run.result.status == "interrupted"
    assert any(isinstance(e, ErrorOutput) and e.ename == "KeyboardInterrupt" for e in events)
    _, result = await kernel.run("'still alive'")
    assert result.status == "ok"


async def test_time_limit_interrupts(kernel: Kernel) -> None:
    _, result = await kernel.run("import time\nwhile True:\n    time.sleep(0.01)", timeout=2)
    assert result.status == "timed_out"
    assert not result.restarted
    assert "time limit" in (result.reason or "")
    _, result = await kernel.run("1")
    assert result.status == "ok"


async def test_time_limit_restarts_a_kernel_that_ignores_interrupts(kernel: Kernel) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)"
    await kernel.run("kept = 1")
    _, result = await kernel.run(code, timeout=2)
    assert result.status == "timed_out"
    assert result.restarted
    assert "restarted" in (result.reason or "")
    _, result = await kernel.run("kept")
    assert result.status == "error"  # state is gone, and the kernel says so
    _, result = await kernel.run("2 + 2")
    assert result.status == "ok"


async def test_a_time_limit_restart_runs_the_setup_code_again(kernel: Kernel) -> None:
    # The restart happens inside the run that timed out (it holds the run lock): the problem's
    # setup must still run again, not fail with "a run is already in progress".
    await kernel.load_problem(None, "SETUP_MARK = 'set up'")
    code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)"
    _, result = await kernel.run(code, timeout=2)
    assert result.status == "timed_out" and result.restarted, result
    events, result = await kernel.run("SETUP_MARK")
    assert result.status == "ok", result
    assert any(isinstance(e, ExecuteResult) and e.data.get("text/plain") == "'set up'" for e in events), events


async def test_one_run_at_a_time(kernel: Kernel) -> None:
    async with kernel.execute("import time; time.sleep(0.5)") as run:
        with pytest.raises(KernelBusy):
            async with kernel.execute("1"):
                pass
        _ = [e async for e in run]
    assert run.result is not None and run.result.status == "ok"


async def test_problem_data_is_read_only_and_setup_runs_again_after_restart(kernel: Kernel, tmp_path: Path) -> None:
    data = tmp_path / "pack-data"
    data.mkdir()
    (data / "tickets.csv").write_text("id,text\n1,hello\n2,world\n")
    setup = "import pandas as pd\ntickets = pd.read_csv('/data/tickets.csv')"
    result = await kernel.load_problem(data, setup)
    assert result is not None and result.status == "ok", result
    events, result = await kernel.run("len(tickets)")
    assert [e.data["text/plain"] for e in events if isinstance(e, ExecuteResult)] == ["2"]
    events, result = await kernel.run("open('/data/tickets.csv', 'a').write('3,x')")
    assert result.status == "error"
    assert "Read-only file system" in (result.reason or "") or "Permission denied" in (result.reason or "")
    # Setup code is not in the candidate's input history.
    events, _ = await kernel.run("print(len(In))")
    assert "read_csv" not in text(events)
    await kernel.restart()
    events, _ = await kernel.run("len(tickets)")
    assert [e.data["text/plain"] for e in events if isinstance(e, ExecuteResult)] == ["2"]


async def test_kernel_that_exits_is_detected_and_restartable(kernel: Kernel) -> None:
    _, result = await kernel.run("import os\nos._exit(3)")
    assert result.status == "killed"
    assert "exited with code 3" in (result.reason or "")
    assert kernel.state == "dead"
    await kernel.restart()
    _, result = await kernel.run("'back'")
    assert result.status == "ok"


async def test_segfault_is_detected_and_restartable(kernel: Kernel) -> None:
    _, result = await kernel.run("import ctypes\nctypes.string_at(0)")
    assert result.status == "killed"
    assert "segmentation fault" in (result.reason or "")
    await kernel.restart()
    _, result = await kernel.run("1 + 1")
    assert result.status == "ok"
