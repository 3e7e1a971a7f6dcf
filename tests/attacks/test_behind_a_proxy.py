"""Behind a real nginx, with --trust-forwarded-for: the client's address and scheme
come from the proxy's headers, so limits apply to each client, not to the proxy."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ATTACKER, TIMEOUT, USER, open_from, read_frame
from rawws import OP_TEXT, client_frame, upgrade_request
from servers import ServerProcess, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;  # as if nginx ended TLS
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, upstream: int) -> None:
        if not Path(NGINX).exists():
            raise AssertionError(
                "these tests need nginx: `make test` installs Debian's package, or apt-get install nginx"
            )
        self._tmp = tempfile.TemporaryDirectory(prefix="connectfour-nginx-")
        self.port = free_port()
        conf = Path(self._tmp.name) / "nginx.conf"
        conf.write_text(CONFIG.format(tmp=self._tmp.name, port=self.port, upstream=upstream))
        self.proc = subprocess.Popen([NGINX, "-p", self._tmp.name, "-c", str(conf)], stderr=subprocess.PIPE)

    async def ready(self) -> None:
        async with asyncio.timeout(TIMEOUT):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else "nginx exited"
                    await asyncio.sleep(0.02)
                else:
                    writer.close()
                    return

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self._tmp.cleanup()


@pytest.fixture
def proxied() -> Iterator:
    started: list = []

    async def start(*args: str) -> tuple[ServerProcess, Nginx]:
        server = ServerProcess("--trust-forwarded-for", *args)
        nginx = Nginx(server.port)
        started.extend((server, nginx))
        await nginx.ready()
        return server, nginx

    yield start
    for thing in reversed(started):
        thing.stop() if isinstance(thing, Nginx) else thing.kill()


async def upgrade_via(
    nginx: Nginx, address: str, extra: str = ""
) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await open_from(address, nginx.port)
    writer.write(upgrade_request(host=f"127.0.0.1:{nginx.port}", extra=extra))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    return int(head.split()[1]), reader, writer


async def test_each_client_behind_the_proxy_has_its_own_connection_bound(proxied):
    server, nginx = await proxied("--connections-per-address", "3")
    held = []
    for _ in range(3):
        status, _, writer = await upgrade_via(nginx, ATTACKER)
        assert status == 101
        held.append(writer)
    status, _, writer = await upgrade_via(nginx, ATTACKER)
    assert status == 429
    writer.close()
    # Another client of the same proxy is not held back by the first.
    status, reader, writer = await upgrade_via(nginx, USER)
    assert status == 101
    writer.write(client_frame(b'{"type":"init"}'))
    opcode, payload = await read_frame(reader)
    assert opcode == OP_TEXT and json.loads(payload)["type"] == "init"
    writer.close()
    for w in held:
        w.close()
    assert "refused 127.0.0.1: more than 3 connections" in server.log()


async def test_games_are_counted_per_client_behind_the_proxy(proxied):
    server, nginx = await proxied("--games-per-minute", "1")
    codes = []
    for address in (ATTACKER, ATTACKER, USER):
        status, reader, writer = await upgrade_via(nginx, address, "Sec-WebSocket-Protocol: connectfour.v1\r\n")
        assert status == 101
        writer.write(client_frame(b'{"type":"init"}'))
        event = json.loads((await read_frame(reader))[1])
        codes.append(event.get("code", event["type"]))
        writer.close()
    assert codes == ["init", "too_many_games", "init"]


async def test_the_page_behind_a_tls_proxy_may_connect_and_a_plain_http_origin_may_not(proxied):
    server, nginx = await proxied()
    own = f"127.0.0.1:{nginx.port}"
    status, _, writer = await upgrade_via(nginx, USER, f"Origin: https://{own}\r\n")
    assert status == 101  # the proxy says the client came over https
    writer.close()
    status, _, writer = await upgrade_via(nginx, USER, f"Origin: http://{own}\r\n")
    assert status == 403
    writer.close()
