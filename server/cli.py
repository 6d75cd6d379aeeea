"""The ``clarify`` command: serve, sandbox build."""

from __future__ import annotations

import argparse
import logging
import sys

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
