"""How event text shows to operators (Flower, task events, worker logs): its length and a short keyed hash.

The hash is an HMAC-SHA-256 with a deployment secret, so the same title always shows the same token (an operator
can still tell that two tasks carried the same text) but the text cannot be looked up from the token without the
secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

# Fields of an event (and of analysis requests' events) that carry what the user wrote.
SENSITIVE_FIELDS = frozenset({"title", "description", "location", "attendees"})
HASH_CHARS = 10


def redaction_secret(redaction_key: str, api_keys: tuple[str, ...]) -> bytes:
    """The HMAC secret: ``redaction_key`` when set, else derived from the deployment's API keys (shared by every
    process of a deployment, and secret)."""
    if redaction_key:
        return redaction_key.encode("utf-8")
    return hashlib.sha256(("geulpi-redaction\0" + ",".join(sorted(api_keys))).encode("utf-8")).digest()


def text_token(value: Any, secret: bytes) -> str:
    """``<N chars #hash>`` for a string, ``<N items #hash>`` for a list of attendees, the same for the same value."""
    if isinstance(value, list):
        size, unit = len(value), "items"
        material = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    else:
        material = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        size, unit = len(material), "chars"
    digest = hmac.new(secret, material.encode("utf-8"), hashlib.sha256).hexdigest()[:HASH_CHARS]
    return f"<{size} {unit} #{digest}>"


def redact(value: Any, secret: bytes) -> Any:
    """``value`` with every sensitive field of every nested object replaced by its token (nesting is bounded by
    the API's body check, so recursion is safe)."""
    if isinstance(value, dict):
        return {key: (text_token(item, secret) if key in SENSITIVE_FIELDS and item not in (None, "", [])
                      else redact(item, secret)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item, secret) for item in value]
    return value
