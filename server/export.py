"""A session's export: one zip archive with everything stored about it.

For a candidate's access request and for moving a recording between installations
(``POST /api/recordings`` reads the archive back). Members:

=====================  ==========================================================
``manifest.json``      format, session id, time of export, the members
``session.json``       the session summary with the ATS ids and candidate email
``recording.jsonl``    the recorded events, as ``GET /api/sessions/{id}/recording``
``scorecard.json``     the scorecard (sessions with a problem)
``scorecard.html``     the printable scorecard, with ``document.css`` beside it
``final_code.py``      the editor text at the end of the recording
=====================  ==========================================================

The archive is written under ``<data dir>/exports/`` (named after the session, so an erasure
finds it), streamed to the caller and deleted once sent.
"""

from __future__ import annotations

import io
import json
import secrets
import time
import zipfile
from pathlib import Path
from typing import Any

import anyio

from problems import Problem
from server.document import text_at
from server.errors import InvalidInput
from server.recording import Recorder
from server.scorecard import render_html, session_scorecard
from server.sessions import SessionInfo
from server.web import DOCUMENT_CSS, TEMPLATES

FORMAT = "clarify-export/1"
RECORDING = "recording.jsonl"
SESSION = "session.json"
ZIP_MAGIC = b"PK\x03\x04"
SMALL = 1024 * 1024  # manifest.json and session.json


def is_archive(raw: bytes) -> bool:
    return raw[:4] == ZIP_MAGIC


async def write_archive(info: SessionInfo, recorder: Recorder, problem: Problem | None, directory: Path) -> Path:
    """Write the session's archive into ``directory``; returns its path (the caller deletes it)."""
    await anyio.to_thread.run_sync(lambda: directory.mkdir(parents=True, exist_ok=True, mode=0o700))
    path = directory / f"{info.id}-{secrets.token_hex(6)}.zip"
    await recorder.flush(timeout=2.0)
    events = await recorder.read(info.id)
    members: dict[str, bytes] = {SESSION: _json(info.staff_json())}
    members["final_code.py"] = text_at(events).encode()
    if problem is not None:
        card = session_scorecard(problem, events, info.to_json())
        members["scorecard.json"] = _json(card)
        page = render_html(card).replace(f'href="{DOCUMENT_CSS}"', 'href="document.css"')
        members["scorecard.html"] = page.encode()
        members["document.css"] = (TEMPLATES / "document.css").read_bytes()
    manifest = {
        "format": FORMAT,
        "session": info.id,
        "exported_ms": int(time.time() * 1000),
        "members": [RECORDING, *members],
    }
    _, chunks = await recorder.json_lines(info.id)
    zf = await anyio.to_thread.run_sync(lambda: zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED))
    try:
        await anyio.to_thread.run_sync(zf.writestr, "manifest.json", _json(manifest))
        entry = await anyio.to_thread.run_sync(lambda: zf.open(RECORDING, "w", force_zip64=True))
        try:
            async for chunk in chunks:
                await anyio.to_thread.run_sync(entry.write, chunk.encode())
        finally:
            await anyio.to_thread.run_sync(entry.close)
        for name, data in members.items():
            await anyio.to_thread.run_sync(zf.writestr, name, data)
    finally:
        await anyio.to_thread.run_sync(zf.close)
    return path


def read_archive(raw: bytes, max_bytes: int) -> tuple[bytes, dict[str, Any]]:
    """The recording (JSON lines) and the session summary in an export archive.

    Refuses an archive that is not an export, or whose recording unpacks past ``max_bytes``."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise InvalidInput("the archive is not a valid zip file") from None
    with zf:
        names = set(zf.namelist())
        try:
            manifest = json.loads(_read(zf, "manifest.json", SMALL)) if "manifest.json" in names else {}
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise InvalidInput(f"the archive is not a Clarify export ({FORMAT})")
            if RECORDING not in names:
                raise InvalidInput(f"the archive has no {RECORDING}")
            recording = _read(zf, RECORDING, max_bytes + 1)
            session = json.loads(_read(zf, SESSION, SMALL)) if SESSION in names else {}
        except (ValueError, zipfile.BadZipFile, RuntimeError, OSError):
            raise InvalidInput("the archive is damaged (or a member is not JSON)") from None
    if len(recording) > max_bytes:
        raise InvalidInput(f"the recording in the archive is larger than {max_bytes} bytes")
    return recording, session if isinstance(session, dict) else {}


def _read(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A member, read no further than ``limit`` bytes (whatever its header claims)."""
    with zf.open(name) as f:
        data = f.read(limit)
    if name != RECORDING and len(data) >= limit:
        raise InvalidInput(f"{name} is too large")
    return data


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False).encode()
