"""How a task's arguments look in Flower, task events and worker logs: compact JSON, never the whole payload.

Celery's default ``argsrepr`` is a Python ``repr`` cut at 1024 characters; a training job with inline
``training_data`` or a 1000-event batch would show as a wall of text ending mid-token. Here long lists keep their
first items plus a count, long strings are cut with their length, and the result is always valid JSON.
"""

from __future__ import annotations

import json
from typing import Any

from geulpi_tasks.privacy.redaction import SENSITIVE_FIELDS, text_token

MAX_REPR_CHARS = 1024
# (items kept of a long list, characters kept of a long string), tried in order until the JSON fits.
_LIMITS = ((10, 200), (3, 60), (1, 20))


def _shrink(value: Any, items: int, chars: int, secret: bytes | None = None) -> Any:
    """``value`` cut to ``items`` per list and ``chars`` per string; with ``secret`` each object's event text is
    first replaced by its token (``privacy.redaction.redact``), and only for the items that are shown: a
    1000-event batch costs ten tokens, not a thousand events' HMACs (issue 13)."""
    if isinstance(value, dict):
        return {str(key): _shrink(text_token(item, secret) if secret is not None and key in SENSITIVE_FIELDS
                                  and item not in (None, "", []) else item, items, chars, secret)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        kept = [_shrink(item, items, chars, secret) for item in value[:items]]
        return kept if len(value) <= items else [*kept, f"... {len(value)} items in all"]
    if isinstance(value, str) and len(value) > chars:
        return f"{value[:chars]}... ({len(value)} chars)"
    return value


def args_repr(args: list[Any] | tuple[Any, ...], max_chars: int = MAX_REPR_CHARS, *, secret: bytes | None = None
              ) -> str:
    """Readable JSON of a task's positional arguments, at most ``max_chars`` long; with ``secret``, as
    ``args_repr(redact(args, secret))`` would show them."""
    text = ""
    for items, chars in _LIMITS:
        text = json.dumps(_shrink(list(args), items, chars, secret), ensure_ascii=False, separators=(", ", ": "),
                          default=str)
        if len(text) <= max_chars:
            return text
    return json.dumps({"truncated": True, "chars": len(text)})
