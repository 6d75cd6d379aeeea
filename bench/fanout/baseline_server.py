"""The fan-out benchmark's baseline: pycrdt-websocket's own ASGI server, as its docs show it.

``python bench/fanout/baseline_server.py --port N`` serves the y-websocket protocol on any
path; the room is the request path (``/ws/doc/<room>``). No auth, no recording, no limits.
Served by uvicorn with the same websocket settings as ``clarify serve``
(``ws="websockets-sansio"``, per-message deflate off).
"""

from __future__ import annotations

import argparse
import asyncio

import uvicorn
from pycrdt.websocket import ASGIServer, WebsocketServer, exception_logger


async def main(host: str, port: int) -> None:
    websocket_server = WebsocketServer(exception_handler=exception_logger)
    app = ASGIServer(websocket_server)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    async with websocket_server:
        await server.serve()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))
