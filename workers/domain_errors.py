"""The one decorator every task wears: domain errors travel back to the API as JSON, with their code."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from geulpi_tasks.errors import GeulpiError, RemoteError, error_to_wire

F = TypeVar("F", bound=Callable[..., Any])


def domain_errors(fn: F) -> F:
    """Turn a GeulpiError into a JSON-carried RemoteError so the API can answer with the same code."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GeulpiError as err:
            raise RemoteError(error_to_wire(err)) from err
    return wrapper  # type: ignore[return-value]
