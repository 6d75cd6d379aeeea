"""Rebuilding the editor document from a recording. Pure: no I/O.

Editor changes are recorded as the raw Yjs updates exactly as applied, plus a full-state
``doc.checkpoint`` every so often, so the text at time t is the last checkpoint at or before t
with the later updates merged and applied in one call (pycrdt crosses into Rust per call).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from pycrdt import Doc, Text, merge_updates

from server.events import DOC_CHECKPOINT, DOC_UPDATE, Event

TEXT_NAME = "code"


def checkpoint_event(t: int, doc: Doc) -> Event:
    """A recorded full state of ``doc``."""
    return Event(t, DOC_CHECKPOINT, "system", "", {"state": base64.b64encode(doc.get_update()).decode()})


def rebuild_doc(events: Iterable[Event], upto_t: int | None = None) -> Doc:
    """The document as it was at ``upto_t`` (or at the end), from recorded events in order."""
    base: bytes | None = None
    tail: list[bytes] = []
    for ev in events:
        if upto_t is not None and ev.t > upto_t:
            break
        if ev.type == DOC_CHECKPOINT:
            base = base64.b64decode(ev.payload["state"])
            tail = []
        elif ev.type == DOC_UPDATE:
            tail.append(ev.update_bytes)
    doc = Doc()
    doc.get(TEXT_NAME, type=Text)
    updates = ([base] if base else []) + tail
    if updates:
        doc.apply_update(merge_updates(*updates) if len(updates) > 1 else updates[0])
    return doc


def text_at(events: Iterable[Event], upto_t: int | None = None) -> str:
    """The editor text at ``upto_t``."""
    return str(rebuild_doc(events, upto_t).get(TEXT_NAME, type=Text))
