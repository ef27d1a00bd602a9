"""Local fakes of the platforms' APIs, the test doubles of the channels."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette


def serve(app: Starlette, name: str) -> tuple[uvicorn.Server, int]:
    """Run `app` with uvicorn in a thread on a free port of 127.0.0.1; the server and its
    port, once it listens. The socket is bound here and handed to uvicorn still open: no
    other process (a parallel test) can take the port in between."""
    sock = socket.socket()
    # Answers leave at once (no Nagle): uvicorn, handed a socket, does not set this on the
    # connections it accepts, which inherit it from here; without it each keep-alive
    # request waited about 40 ms for the client's delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.02)
    return server, port
