"""The web API's OpenAPI document, and checking bodies against it: every web test uses these.

    validate(body, "CommentsPage")                               # one of components/schemas
    validate_response("/api/v1/posts/{id}/comments", 200, body)  # what the document declares
    validate_response("/api/v1/posts/7/comments", 404, body)     # a concrete path works too

Both raise AssertionError listing every place the body breaks the schema. Schemas are JSON
Schema 2020-12 with `#/components/schemas/...` references resolved through a `referencing`
registry holding the whole document, and `date-time` is checked (RFC 3339, with an offset):
jsonschema only checks formats it is asked to, and its own date-time check needs a library
this project does not install.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from datetime import datetime
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

# The document's address inside the registry; its own `#/...` references resolve against it.
DOCUMENT_URI = "urn:threadbridge:web:openapi.json"

FORMATS = FormatChecker(formats=())
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # `format` only speaks about strings
    if not _RFC3339.fullmatch(value):
        return False
    datetime.fromisoformat(value.upper())  # ranges: month 13 or 25:00 raise ValueError
    return True


@functools.cache
def _document() -> dict[str, Any]:
    text = resources.files("bot.web").joinpath("openapi.json").read_text(encoding="utf-8")
    return json.loads(text)


def load_document() -> dict[str, Any]:
    """The OpenAPI document shipped in `bot/web/openapi.json` (a fresh copy: change it freely)."""
    return copy.deepcopy(_document())


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(_document()))


@functools.cache
def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=_registry(), format_checker=FORMATS
    )


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _describe(error: ValidationError) -> str:
    line = f"  at {error.json_path}: {error.message}"
    for alternative in error.context or ():  # oneOf/anyOf: why each alternative failed
        line += f"\n    - at {alternative.json_path}: {alternative.message}"
    return line


def _check(pointer: str, instance: Any, what: str) -> None:
    errors = sorted(_validator(pointer).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        lines = "\n".join(_describe(error) for error in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise AssertionError(f"{what} breaks the OpenAPI document:\n{lines}{more}")


def validate(instance: Any, schema_name: str) -> None:
    """Checks `instance` against `components/schemas/<schema_name>`."""
    if schema_name not in _document()["components"]["schemas"]:
        raise AssertionError(f"the OpenAPI document has no schema named {schema_name!r}")
    _check(f"/components/schemas/{_escape(schema_name)}", instance, f"this {schema_name}")


def path_template(path: str) -> str:
    """The document's path template for `path`: itself, or the template it fills in
    (`/api/v1/posts/7/comments` -> `/api/v1/posts/{id}/comments`); a query string is ignored."""
    path = path.split("?", 1)[0]
    paths = _document()["paths"]
    if path in paths:
        return path
    for template in paths:
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            return template
    raise AssertionError(f"the OpenAPI document has no path matching {path}")


def _resolve(pointer: str) -> tuple[str, dict[str, Any]]:
    """Follows `$ref`s from the object at `pointer`: its final pointer and contents."""
    node: Any = _document()
    for token in pointer.lstrip("/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    if "$ref" in node:
        return _resolve(node["$ref"].removeprefix("#"))
    return pointer, node


def validate_response(
    path: str, status: int, body: Any, *, content_type: str | None = None
) -> None:
    """Checks the body of a GET `path` answered with `status` against the schema the document
    declares for it. `body` is the parsed JSON (or the text, for a text media type); None for
    a response without a body, such as 304.

    The media type is `content_type` when given, else application/json when declared, else
    the only one declared.
    """
    template = path_template(path)
    operation = _document()["paths"][template].get("get")
    if operation is None:
        raise AssertionError(f"the OpenAPI document has no GET {template}")
    responses = operation["responses"]
    declared = next(
        (key for key in (str(status), f"{str(status)[0]}XX", "default") if key in responses),
        None,
    )
    what = f"GET {template} {status}"
    if declared is None:
        raise AssertionError(
            f"the OpenAPI document declares no {status} response for GET {template} "
            f"(it declares {', '.join(responses)})"
        )
    pointer, response = _resolve(f"/paths/{_escape(template)}/get/responses/{declared}")
    content = response.get("content", {})
    if not content:
        if body is not None:
            raise AssertionError(f"{what} has no body in the document, but got {body!r:.200}")
        return
    if body is None:
        raise AssertionError(f"{what} has a body in the document ({', '.join(content)}), got none")
    if content_type is None:
        content_type = "application/json" if "application/json" in content else None
        if content_type is None and len(content) == 1:
            content_type = next(iter(content))
    if content_type not in content:
        raise AssertionError(
            f"{what}: say which media type to check ({', '.join(content)}), not {content_type}"
        )
    _check(f"{pointer}/content/{_escape(content_type)}/schema", body, f"the body of {what}")
