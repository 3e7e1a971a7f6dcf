"""The nginx configuration of docs/nginx.md, and a real nginx running it.

`site()` writes the configuration: docs/nginx.md quotes `site(**DOC)` (a
test checks it, word for word), and the tests run Debian's nginx with
`site(...)` for their own ports and certificate. Print the doc's version
with `python tests/scaleout/nginx_config.py`.

`Nginx` runs it in the foreground, in one process, on free ports of
127.0.0.1, with a self-signed certificate made by `openssl`. One nginx
process keeps one round-robin counter, so consecutive requests go to the
upstream servers in turn (A, B, A, B...); `steer_away_from` uses that to
send the next connection to the process a test wants.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servers import ServerProcess  # imported where used, so that this file also runs as a script

ROOT = Path(__file__).resolve().parents[2]
DOC_PAGE = ROOT / "docs" / "nginx.md"

SITE = """\
# /etc/nginx/conf.d/connectfour.conf: nginx includes it inside its http {{ }} block.

# The Connection header sent to a process: "upgrade" when the client asks
# for a WebSocket (it sent an Upgrade header), "close" for any other request.
map $http_upgrade $connection_upgrade {{
    default upgrade;
    ''      close;
}}

# Every connectfour process, each started with --redis URL --trust-forwarded-for.
# Round-robin, nginx's default: each request and each WebSocket goes to the
# next server in turn. No ip_hash, no hash, no sticky cookie: any process
# serves any game, and a player who reconnects may land on another one.
upstream connectfour {{
{servers}
}}

# Plain HTTP only sends browsers to HTTPS.
server {{
    listen {http_listen};
    server_name {name};
    return 301 {redirect};
}}

server {{
    # TLS ends here: the processes behind speak plain HTTP.
    listen {https_listen} ssl;
    server_name {name};
    ssl_certificate     {certificate};
    ssl_certificate_key {key};
    ssl_protocols       TLSv1.2 TLSv1.3;

    location / {{
        # Pages, API and WebSocket (/ws) alike go to the next process.
        proxy_pass http://connectfour;
        # HTTP/1.1 to the processes: a WebSocket handshake needs it (nginx's default is 1.0).
        proxy_http_version 1.1;
        # Upgrade and Connection are hop-by-hop headers: pass the upgrade on explicitly.
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        # The Host the browser sent, port included: the server's own origin is scheme://Host.
        proxy_set_header Host $http_host;
        # The client's address, appended last: the server takes the last entry.
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        # "https": with --trust-forwarded-for the server takes it as the request's scheme.
        proxy_set_header X-Forwarded-Proto $scheme;
        # A process that does not accept within 5 s is skipped for the next one.
        proxy_connect_timeout 5s;
        # A WebSocket may go this long without a byte from its process: more than
        # twice --heartbeat (30 s), the longest a process stays silent on a live one.
        proxy_read_timeout 75s;
        # A write to a process may stall this long before the connection is cut.
        proxy_send_timeout 75s;
    }}
}}
"""

#: The values docs/nginx.md shows: two machines, a public name, Let's Encrypt's files.
DOC = {
    "servers": ("10.0.0.11:8000", "10.0.0.12:8000"),
    "name": "c4.example.com",
    "http_listen": "80",
    "https_listen": "443",
    "redirect": "https://$host$request_uri",
    "certificate": "/etc/letsencrypt/live/c4.example.com/fullchain.pem",
    "key": "/etc/letsencrypt/live/c4.example.com/privkey.pem",
}


def site(
    *,
    servers: Sequence[str],
    name: str,
    http_listen: str,
    https_listen: str,
    redirect: str,
    certificate: str,
    key: str,
) -> str:
    """The configuration of docs/nginx.md for these upstream ``servers`` (host:port)."""
    lines = "\n".join(f"    server {server};" for server in servers)
    return SITE.format(
        servers=lines,
        name=name,
        http_listen=http_listen,
        https_listen=https_listen,
        redirect=redirect,
        certificate=certificate,
        key=key,
    )


def doc_block() -> str:
    """The first ```nginx block of docs/nginx.md."""
    found = re.search(r"^```nginx\n(.*?)^```$", DOC_PAGE.read_text(), re.DOTALL | re.MULTILINE)
    assert found, f"no ```nginx block in {DOC_PAGE}"
    return found.group(1)


# -- running it ----------------------------------------------------------------------------

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

#: The rest of nginx.conf for a test: foreground, one process (so one round-robin
#: counter), everything under its folder, and an access log naming the process
#: that served each request.
MAIN = """\
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$msec $request_time $status "$request" $upstream_addr';
    access_log {tmp}/access.log upstream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;

{site}
}}
"""


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by openssl; (certificate, key)."""
    if not Path(OPENSSL).exists():
        raise AssertionError("these tests need openssl: apt-get install openssl")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


class Nginx:
    """Debian's nginx with the doc's configuration in front of ``servers`` (host:port)."""

    def __init__(self, servers: Sequence[str]) -> None:
        from servers import free_port

        if not Path(NGINX).exists():
            raise AssertionError(
                "these tests need nginx: `make test` installs Debian's package, or apt-get install nginx"
            )
        self._tmp = tempfile.TemporaryDirectory(prefix="connectfour-nginx-")
        tmp = Path(self._tmp.name)
        cert, key = self_signed(tmp)
        self.port = free_port()
        self.http_port = free_port()
        self.origin = self.url = f"https://127.0.0.1:{self.port}"
        self.ws_url = f"wss://127.0.0.1:{self.port}/ws"
        #: Trusts this nginx's certificate, and checks it.
        self.ssl = ssl.create_default_context(cafile=str(cert))
        config = site(
            servers=servers,
            name="127.0.0.1",
            http_listen=f"127.0.0.1:{self.http_port}",
            https_listen=f"127.0.0.1:{self.port}",
            redirect=f"https://$host:{self.port}$request_uri",
            certificate=str(cert),
            key=str(key),
        )
        conf = tmp / "nginx.conf"
        conf.write_text(MAIN.format(tmp=tmp, site=config))
        self._log = tmp / "nginx.log"
        with open(self._log, "wb") as log:
            self.proc = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf)], stdout=log, stderr=log)
        self._ready()

    def _ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, f"nginx exited:\n{self.log()}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, f"nginx not listening after {timeout}s:\n{self.log()}"
                time.sleep(0.02)

    def log(self) -> str:
        return self._log.read_text(errors="replace")

    def access_log(self) -> str:
        """One line a request, once it is over: when, how long, status, request, the process that served it."""
        return (Path(self._tmp.name) / "access.log").read_text(errors="replace")

    def get(self, path: str, *, https: bool = True) -> tuple[int, dict[str, str], bytes]:
        """One GET through nginx, on a fresh connection: status, headers (lower-case names), body."""
        if https:
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", self.port, context=self.ssl, timeout=10
            )
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        try:
            connection.request("GET", path)
            answer = connection.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        finally:
            connection.close()

    def health(self) -> dict:
        """/healthz through nginx: the answer of whichever process nginx chose."""
        status, _, body = self.get("/healthz")
        assert status == 200, (status, body)
        return json.loads(body)

    def steer_away_from(self, pid: int) -> None:
        """Have the process with ``pid`` answer a /healthz, so that nginx sends the
        next request or connection to the next server in turn: another process.
        It holds as long as nothing else reaches nginx in between."""
        for _ in range(3):
            if self.health()["pid"] == pid:
                return
        raise AssertionError(f"process {pid} never answered through nginx")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)
        self._tmp.cleanup()


def behind_nginx(redis_url: str, count: int = 2, *args: str) -> tuple[list[ServerProcess], Nginx]:
    """``count`` processes sharing ``redis_url``, with --trust-forwarded-for, behind one nginx."""
    from servers import ServerProcess

    servers: list[ServerProcess] = []
    try:
        for _ in range(count):
            servers.append(ServerProcess("--redis", redis_url, "--trust-forwarded-for", *args))
        return servers, Nginx([f"127.0.0.1:{server.port}" for server in servers])
    except BaseException:
        for server in servers:
            server.kill()
        raise


def logged(servers: Sequence[ServerProcess], text: str, timeout: float = 10.0) -> ServerProcess:
    """The one process whose log has a line with ``text`` (waiting for it to appear)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [server for server in servers if text in server.log()]
        if found:
            assert len(found) == 1, f"{text!r} is in the log of {len(found)} processes"
            return found[0]
        assert time.monotonic() < deadline, f"no process logged {text!r}"
        time.sleep(0.02)


if __name__ == "__main__":
    print(site(**DOC), end="")
