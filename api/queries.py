"""Query parameters as pydantic models: one model per operation parses ``request.args`` and documents the
operation's query parameters in /openapi.json (``api/openapi.py`` reads the model's JSON schema).

A bad value is a 400 naming the parameter in ``details.field``, with the message the API has always given: each
field type raises a ``PydanticCustomError`` whose type picks a sentence in ``_MESSAGES``. Values come from the query
string, so every input is a string; a field's documented schema (``WithJsonSchema``) is the string a caller sends,
not the Python value it becomes. Unknown parameters are ignored, as they always were.
"""

from __future__ import annotations

from typing import Annotated, Any, Mapping, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from geulpi_tasks.approval import ApprovalState, parse_state
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.privacy.audit import MAX_READ, parse_since

FLAG_VALUES = ("true", "false", "1", "0", "yes", "no")
_TRUE = frozenset({"true", "1", "yes"})
_ACTION_MAX = 100
# The registry's names and 64-bit version numbers, as documented; the registry functions check them (their
# messages name the field), so the query models only require them.
MODEL_NAME_SCHEMA: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.\\-]{0,199}$"}
VERSION_SCHEMA: dict[str, Any] = {"type": "string", "pattern": "^\\s*0*[1-9][0-9]{0,17}\\s*$"}

# Error type (raised by the field types below, or pydantic's own "missing") -> the 400's message.
_MESSAGES = {
    "missing": "Query parameter '{name}' is required.",
    "flag": "'{name}' must be true or false.",
    "limit": "'{name}' must be an integer from 1 to {maximum}.",
    "blank": "'{name}' must not be empty.",
    "too_long": "'{name}' is longer than {max_length} characters.",
}


def _flag(value: Any) -> bool:
    flag = str(value).strip().lower()  # a JSON body's true/false reads the same (str(True) == "True")
    if flag not in FLAG_VALUES:
        raise PydanticCustomError("flag", "not a flag")
    return flag in _TRUE


def _required(value: Any) -> str:
    text = str(value).strip()
    if not text:  # "?version=" is as missing as no version at all
        raise PydanticCustomError("missing", "required")
    return text


def _not_blank(value: Any) -> str:
    if not str(value).strip():
        raise PydanticCustomError("blank", "blank")
    return str(value)


def _action(value: Any) -> str | None:
    if not value:
        return None
    if len(str(value)) > _ACTION_MAX:
        raise PydanticCustomError("too_long", "too long", {"max_length": _ACTION_MAX})
    return str(value)


def _in_range(maximum: int) -> BeforeValidator:
    """An integer from 1 to ``maximum``, written in ASCII digits only (int() would take "²" or "+5")."""
    def check(value: Any) -> int:
        raw = str(value)
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
            raise PydanticCustomError("limit", "out of range", {"maximum": maximum})
        return int(raw)
    return BeforeValidator(check)


def _range_schema(maximum: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "integer", "minimum": 1, "maximum": maximum})


_FLAG_SCHEMA = WithJsonSchema({"type": "string", "enum": list(FLAG_VALUES)})
Flag = Annotated[bool, BeforeValidator(_flag), _FLAG_SCHEMA]
Required = Annotated[str, BeforeValidator(_required)]


class QueryModel(BaseModel):
    """Base of every query model: unknown parameters are ignored; a field's alias is its parameter name."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class AsyncQuery(QueryModel):
    async_: Annotated[Flag, Field(alias="async", description=(
        "Answer 202 with a task id instead of waiting (also: header Prefer: respond-async)."))] = False


class ClassifyQuery(AsyncQuery):
    explain: Annotated[Flag, Field(description=(
        "Add an `explanation` to each classified event (computed only when asked)."))] = False


class PromoteQuery(QueryModel):
    version: Annotated[Required, WithJsonSchema(VERSION_SCHEMA), Field(description="Registry version number")]
    target_stage: Annotated[Required, WithJsonSchema({"type": "string", "enum": ["Staging", "Production", "Archived"]}),
                            Field(description="Stage to move to")]


class CompareQuery(AsyncQuery):
    model_name: Annotated[Required, WithJsonSchema(MODEL_NAME_SCHEMA), Field(description="Registered model")]
    version_a: Annotated[Required, WithJsonSchema(VERSION_SCHEMA), Field(description="First version")]
    version_b: Annotated[Required, WithJsonSchema(VERSION_SCHEMA), Field(description="Second version")]


class StopQuery(QueryModel):
    # None: not in the query; the body's promote_winner (or false) decides.
    promote_winner: Annotated[bool | None, BeforeValidator(_flag), _FLAG_SCHEMA, Field(
        description="Promote a declared winner to production (also accepted in the body)")] = None


class AlertsQuery(QueryModel):
    model: Annotated[str | None, BeforeValidator(_not_blank), WithJsonSchema({"type": "string", "pattern": "\\S"}),
                     Field(description="Model name (default: the served model)")] = None


class AlertHistoryQuery(QueryModel):
    limit: Annotated[int, _in_range(1000), _range_schema(1000)] = 100


class AuditQuery(QueryModel):
    since: Annotated[float | None, BeforeValidator(parse_since), WithJsonSchema({"type": "string"}),
                     Field(description="Epoch seconds or ISO 8601 time")] = None
    action: Annotated[str | None, BeforeValidator(_action),
                      WithJsonSchema({"type": "string", "maxLength": _ACTION_MAX}),
                      Field(description="Exact action (models.promote) or its prefix (models)")] = None
    limit: Annotated[int, _in_range(MAX_READ), _range_schema(MAX_READ)] = MAX_READ


class ApprovalsQuery(QueryModel):
    state: Annotated[ApprovalState | None, BeforeValidator(parse_state),
                     WithJsonSchema({"type": "string", "enum": [s.value for s in ApprovalState]}),
                     Field(description="Only requests in this state")] = None


Q = TypeVar("Q", bound=QueryModel)


def parse_query(model: type[Q], args: Mapping[str, Any]) -> Q:
    """``args`` (a query string's first value per name) as ``model``; InvalidInput naming the first bad parameter.
    A field's own check may raise InvalidInput itself (``since``), which passes through as it is."""
    try:
        return model.model_validate(dict(args))
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        name = str(first["loc"][0]) if first["loc"] else "query"
        template = _MESSAGES.get(first["type"], "'{name}' is not valid.")
        raise InvalidInput(template.format(name=name, **first.get("ctx", {})), field=name) from None
