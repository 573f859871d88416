"""Reading Redis URLs: the TLS options a ``rediss://`` URL carries, and a form safe to log."""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import parse_qs, urlparse

# TLS options a rediss:// URL may carry in its query string (redis-py reads the same names).
SSL_QUERY_KEYS = ("ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_check_hostname")
_CERT_REQS = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}


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


def redacted_url(url: str) -> str:
    """The URL with its password replaced by ``***``, for logs."""
    parsed = urlparse(url)
    if not parsed.password:
        return url
    netloc = parsed.netloc.rsplit("@", 1)
    user = parsed.username or ""
    return parsed._replace(netloc=f"{user}:***@{netloc[-1]}").geturl()
