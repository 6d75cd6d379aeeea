"""The ``clarify`` command: serve, sandbox build, problem packs (check, list, examples, learn)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from server.settings import Settings, describe_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app, load_admin_token
    from server.logredact import uvicorn_log_config

    settings = Settings()
    host = args.host or settings.host
    port = args.port or settings.port
    token, created = load_admin_token(settings)
    base = f"http://{host}:{port}"
    print(f"Clarify is starting on {base}")
    print(f"  staff home:  {base}/   (sign in with the admin token; create sessions, copy links)")
    print(f"  health:      {base}/healthz")
    if created:
        print(f"  admin token: {token}  (stored in {settings.data_dir / 'admin_token'}; shown once)")
    else:
        print(
            f"  admin token: stored in {settings.data_dir / 'admin_token'}"
            if settings.admin_token is None
            else "  admin token: from CLARIFY_ADMIN_TOKEN"
        )
    sys.stdout.flush()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=settings.max_frame_bytes,
        log_level="info",
        log_config=uvicorn_log_config(),
    )
    return 0


def _sandbox_build(args: argparse.Namespace) -> int:
    import docker

    from sandbox.errors import ImageBuildError
    from sandbox.image import build

    settings = Settings()
    base = args.base_image or settings.base_image
    client = (
        docker.DockerClient(base_url=settings.sandbox.docker_url) if settings.sandbox.docker_url else docker.from_env()
    )
    try:
        tag, built = build(client, base, force=args.force, on_log=(print if args.verbose else None))
    except ImageBuildError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    print(f"{'built' if built else 'up to date:'} {tag} (base {base})")
    return 0


def _recording_import(args: argparse.Namespace) -> int:
    import httpx

    from server.app import load_admin_token

    settings = Settings()
    token, _ = load_admin_token(settings)
    url = args.url or f"http://{settings.host}:{settings.port}"
    with open(args.file, "rb") as f:
        body = f.read()
    try:
        r = httpx.post(f"{url}/api/recordings", content=body, headers={"Authorization": f"Bearer {token}"}, timeout=120)
    except httpx.HTTPError as exc:
        print(f"error: cannot reach the server at {url}: {exc}", file=sys.stderr)
        return 1
    if r.status_code != 201:
        print(f"error: {r.status_code} {r.text}", file=sys.stderr)
        return 1
    data = r.json()
    print(f"imported {data['imported_events']} events as session {data['id']}")
    print(f"  reviewer token: {data['tokens']['reviewer']}")
    return 0


def _problems_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from problems import PACKS_DIR, PackError, load_pack, load_packs

    path = Path(args.path) if args.path else (Settings().problems_dir or PACKS_DIR)
    if (path / "problem.toml").exists():
        try:
            problem = load_pack(path)
        except PackError as exc:
            for issue in exc.issues:
                print(f"error: {issue}", file=sys.stderr)
            return 1
        print(f"ok: {problem.id}")
        return 0
    problems, issues = load_packs(path)
    for pid in problems:
        print(f"ok: {pid}")
    for issue in issues:
        print(f"error: {issue}", file=sys.stderr)
    return 1 if issues else 0


def _problems_list(args: argparse.Namespace) -> int:
    from problems import PACKS_DIR, load_packs

    problems, issues = load_packs(Settings().problems_dir or PACKS_DIR)
    for p in problems.values():
        m = p.meta
        print(f"{m.id:28} {m.specialization:8} {m.level:7} {m.minutes:3} min  {m.title}")
    for issue in issues:
        print(f"error: {issue}", file=sys.stderr)
    return 1 if issues else 0


def _fetch_examples(problem: str, status: str | None, url: str | None) -> tuple[str | None, str]:
    """A problem's examples as JSON lines from the running server (admin token), or an error."""
    import httpx

    from server.app import load_admin_token

    settings = Settings()
    token, _ = load_admin_token(settings)
    base = url or f"http://{settings.host}:{settings.port}"
    try:
        r = httpx.get(
            f"{base}/api/problems/{problem}/examples",
            params={"status": status} if status else None,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/x-ndjson"},
            timeout=60,
        )
    except httpx.HTTPError as exc:
        return None, f"cannot reach the server at {base}: {exc}"
    if r.status_code != 200:
        return None, f"{r.status_code} {r.text}"
    return r.text, ""


def _read_examples(text: str, source: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Examples from JSON lines; each line that is not one is an error naming its number."""
    found: list[dict[str, Any]] = []
    errors: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            errors.append(f"{source}:{n}: not JSON ({exc})")
            continue
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            errors.append(f"{source}:{n}: not an example (an object with 'text')")
            continue
        found.append(item)
    return found, errors


def _problems_examples(args: argparse.Namespace) -> int:
    text, error = _fetch_examples(args.problem, args.status, args.url)
    if text is None:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.export:
        with open(args.export, "w", encoding="utf-8") as f:
            f.write(text)
    examples, _ = _read_examples(text, "server")
    if args.export:
        print(f"wrote {len(examples)} examples of {args.problem} to {args.export}")
        return 0
    for e in examples:
        about = e.get("constraint") or "(nothing hidden)"
        print(f"{e.get('id', ''):16} {e.get('status', ''):8} {e.get('kind', ''):7} {about:24} {e['text']}")
    print(f"{len(examples)} examples")
    return 0


def _toml_string(text: str) -> str:
    # A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def learnt_questions(examples: list[dict[str, Any]], problem: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The accepted examples of ``problem`` not yet among its labelled questions, each once,
    and why the others were left out."""
    ids = {c.id for c in problem.meta.constraint}
    have = {_norm(q.text) for q in problem.questions}
    add: list[dict[str, Any]] = []
    skipped: list[str] = []
    for e in examples:
        text, cid = " ".join(str(e["text"]).split()), e.get("constraint") or ""
        label = f"example {e.get('id', '?')}"
        if e.get("problem", problem.id) != problem.id:
            skipped.append(f"{label}: of problem {e.get('problem')!r}, not {problem.id}")
        elif e.get("status") != "accepted":
            skipped.append(f"{label}: {e.get('status') or 'not reviewed'}, not accepted")
        elif not isinstance(cid, str) or (cid and cid not in ids):
            skipped.append(f"{label}: {cid!r} is not a constraint of {problem.id}")
        elif len(text) < 3:
            skipped.append(f"{label}: text too short")
        elif _norm(text) in have:
            skipped.append(f"{label}: already in questions.toml")
        else:
            have.add(_norm(text))
            add.append({"id": e.get("id", ""), "text": text, "constraint": cid})
    return add, skipped


def _problems_learn(args: argparse.Namespace) -> int:
    from pathlib import Path

    from problems import PACKS_DIR, PackError, load_pack, load_packs

    packs = Path(args.packs) if args.packs else (Settings().problems_dir or PACKS_DIR)
    path = packs / args.problem
    try:
        if not (path / "problem.toml").exists():
            found, _ = load_packs(packs)
            if args.problem not in found:
                print(f"error: no problem {args.problem!r} in {packs}", file=sys.stderr)
                return 1
            path = found[args.problem].path
        problem = load_pack(path)
    except PackError as exc:
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        return 1
    if args.source:
        try:
            text, source = Path(args.source).read_text(encoding="utf-8"), args.source
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: cannot read {args.source}: {exc}", file=sys.stderr)
            return 1
    else:
        fetched, error = _fetch_examples(args.problem, "accepted", args.url)
        if fetched is None:
            print(f"error: {error}", file=sys.stderr)
            return 1
        text, source = fetched, "server"
    examples, errors = _read_examples(text, source)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if errors:
        return 1
    add, skipped = learnt_questions(examples, problem)
    for reason in skipped:
        print(f"skipped {reason}")
    target = path / "questions.toml"
    verb = "added" if args.write else "would add"
    for q in add:
        print(f"{verb}: [{q['constraint'] or 'nothing hidden'}] {q['text']}")
    if not add:
        print(f"nothing to add to {target}")
        return 0
    if not args.write:
        print(f"{len(add)} questions would be added to {target}; run again with --write to add them")
        return 0
    before = target.read_text(encoding="utf-8")
    entries = "".join(
        f"\n# learnt from the interviewers (example {q['id']})\n[[question]]\n"
        f"text = {_toml_string(q['text'])}\nconstraint = {_toml_string(q['constraint'])}\n"
        for q in add
    )
    target.write_text(before + ("" if before.endswith("\n") or not before else "\n") + entries, encoding="utf-8")
    try:
        load_pack(path)
    except PackError as exc:
        target.write_text(before, encoding="utf-8")
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        print(f"error: {target} would not load with them; left unchanged", file=sys.stderr)
        return 1
    print(f"{len(add)} questions added to {target}; the pack still loads")
    return 0


def _assistant_sim(args: argparse.Namespace) -> int:
    from server.assistant_sim import serve

    serve(args.host, args.port, args.delay_ms)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clarify", description="Clarify: paired live-coding interviews.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve",
        help="run the server",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="settings (environment variables):\n" + describe_settings(),
    )
    serve.add_argument("--host", default=None, help="address to listen on (CLARIFY_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (CLARIFY_PORT, default 8000)")
    serve.set_defaults(func=_serve)

    sandbox = sub.add_parser("sandbox", help="the kernel sandbox").add_subparsers(dest="sandbox_command", required=True)
    build = sandbox.add_parser("build", help="build the kernel image (skipped when its content hash is present)")
    build.add_argument(
        "--base-image", default=None, help="base image (CLARIFY_BASE_IMAGE, default debian:bookworm-slim)"
    )
    build.add_argument("--force", action="store_true", help="rebuild even if the tag exists")
    build.add_argument("--verbose", "-v", action="store_true", help="print the docker build log")
    build.set_defaults(func=_sandbox_build)

    problems = sub.add_parser("problems", help="problem packs").add_subparsers(dest="problems_command", required=True)
    check = problems.add_parser("check", help="validate packs (a pack folder, or a folder of packs)")
    check.add_argument("path", nargs="?", default=None, help="default: CLARIFY_PROBLEMS_DIR or the shipped packs")
    check.set_defaults(func=_problems_check)
    problems.add_parser("list", help="list the packs").set_defaults(func=_problems_list)
    examples = problems.add_parser(
        "examples", help="the labelled examples the interviewers' judgements made (from a running server)"
    )
    examples.add_argument("problem", help="problem id")
    examples.add_argument("--status", choices=("pending", "accepted", "rejected"), default=None, help="only these")
    examples.add_argument("--export", default=None, metavar="FILE", help="write them to FILE as JSON lines")
    examples.add_argument("--url", default=None, help="server URL (default http://CLARIFY_HOST:CLARIFY_PORT)")
    examples.set_defaults(func=_problems_examples)
    learn = problems.add_parser(
        "learn", help="add accepted examples to the pack's questions.toml (a dry run unless --write)"
    )
    learn.add_argument("problem", help="problem id")
    learn.add_argument(
        "--from", dest="source", default=None, metavar="FILE", help="a JSON-lines export (default: ask the server)"
    )
    learn.add_argument("--write", action="store_true", help="write them (default: print what would be added)")
    learn.add_argument("--packs", default=None, help="folder of packs (default: CLARIFY_PROBLEMS_DIR or the shipped)")
    learn.add_argument("--url", default=None, help="server URL, without --from")
    learn.set_defaults(func=_problems_learn)

    recording = sub.add_parser("recording", help="session recordings").add_subparsers(dest="rec_command", required=True)
    imp = recording.add_parser("import", help="load a JSON-lines recording (from /recording) into a running server")
    imp.add_argument("file", help="the .jsonl file")
    imp.add_argument("--url", default=None, help="server URL (default http://CLARIFY_HOST:CLARIFY_PORT)")
    imp.set_defaults(func=_recording_import)

    sim = sub.add_parser(
        "assistant-sim", help="serve a simulated OpenAI-compatible chat-completions API (tests and demos)"
    )
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=8100, help="port to listen on (default 8100)")
    sim.add_argument("--delay-ms", type=float, default=5.0, help="pause between streamed tokens (default 5)")
    sim.set_defaults(func=_assistant_sim)
    return parser


def main(argv: list[str] | None = None) -> int:
    from server.logredact import RedactTokens

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactTokens())
    # httpx logs every request URL at INFO: webhook receivers and the assistant's provider may
    # carry credentials in theirs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
