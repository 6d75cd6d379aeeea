"""Screenshots for the README, taken by the browser tests only when asked for.

A plain test run must not rewrite tracked files: ``CLARIFY_SCREENSHOTS=1`` (set by
``make screenshots``) writes them to ``docs/screenshots``; otherwise nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.async_api import Page

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def enabled() -> bool:
    return os.environ.get("CLARIFY_SCREENSHOTS", "") not in ("", "0")


async def screenshot(page: Page, name: str, **options: Any) -> None:
    """Save ``page`` as ``docs/screenshots/<name>`` when screenshots are enabled."""
    if not enabled():
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SHOTS / name, **options)
