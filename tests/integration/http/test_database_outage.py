"""Issue 2 "Bad input and failure": a database outage gives 503 JSON and a degraded /health; the process keeps
running and recovers by itself when the database returns. A loopback TCP proxy in front of MariaDB is cut and
restored (only 127.0.0.1 traffic).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database
from tests.services import test_database_url as database_url_for

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database from its own thread and event loop (the Litestar test client
    blocks the test's loop while the app runs); ``cut()`` drops every connection and stops listening.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    def start(self) -> None:
        self._call(self._start())

    def cut(self) -> None:
        self._call(self._cut())

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()
        self._writers.discard(writer)


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    auth = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{port}"))


async def test_database_outage_answers_503_json_and_recovers_by_itself(tmp_path: Path) -> None:
    url = database_url_for(tmp_path)
    if url.startswith("sqlite"):
        pytest.skip("needs a network database (MariaDB via SPOTOPT_TEST_DATABASE_URL); SQLite cannot go away")
    reset_database(make_settings(url, tmp_path))
    target = urlsplit(url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 3306)
    proxy.start()
    settings = make_settings(_through(url, proxy.port), tmp_path)
    async with app_client(settings) as client:
        created = await client.post("/api/admin/clients/create", json={"name": "outage"}, headers=ADMIN)
        assert created.status_code == 201
        token = {"Authorization": f"Bearer {created.json()['client_token']}"}

        proxy.cut()
        health = await client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()["components"]["database"] == "error"
        down = await client.post("/api/agents/some-agent/heartbeat", json={"status": "online"}, headers=token)
        assert down.status_code == 503
        body = down.json()
        assert body["detail"]["code"] == "unavailable"
        assert body["detail"]["dependency"] == "database"
        assert "SELECT" not in down.text
        assert "Traceback" not in down.text
        assert down.headers["content-type"].startswith("application/json")

        proxy.start()  # the same port: the database is back
        for _ in range(50):
            if (await client.get("/health")).json()["components"]["database"] == "ok":
                break
            await asyncio.sleep(0.1)
        assert (await client.get("/health")).json()["components"]["database"] == "ok"
        again = await client.post("/api/agents/some-agent/heartbeat", json={"status": "online"}, headers=token)
        assert again.status_code == 404  # served again: an unknown agent, not an outage
        assert again.json()["detail"]["code"] == "not_found"
    proxy.close()
