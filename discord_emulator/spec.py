"""Validate Discord REST traffic against Discord's published OpenAPI 3.1 description.

The spec is a data file that lives outside the project (see `find_spec`); it is read
at runtime and never copied in.  Validation is advisory: every call returns a list of
short human-readable problem strings, empty when the body conforms or when the spec
has nothing to say (unknown route, unknown method, no schema for the body/status).

Two deliberate deviations from the spec, both applied to in-memory copies of the
request-side schemas only:

* ``SnowflakeType`` also accepts non-negative integers in requests: Discord accepts
  them and discord.py sends them (``message_reference`` ids, ``allowed_mentions``
  users/roles, attachment ids, ``sticker_ids``).  Responses stay strict: Discord
  always returns snowflakes as strings.
* Message ``content`` is capped at 2000 characters: the spec says 4000 for
  message create/edit bodies, but Discord rejects anything over 2000.

Request unions (``anyOf`` tagged ``x-discord-union``) are checked against the one
branch the body is aimed at when that is unambiguous; see `_UnionCheck`.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import unquote, urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

__all__ = [
    "ENV_VAR",
    "MAX_PROBLEMS",
    "SpecValidator",
    "find_spec",
    "load_cached",
]

ENV_VAR: Final = "THREADBRIDGE_DISCORD_SPEC"
SPEC_RELATIVE_PATH: Final = Path("shared/discord/api-spec/openapi.json")
MAX_PROBLEMS: Final = 10
MESSAGE_CONTENT_LIMIT: Final = 2000

# Made-up URIs: they only need to be absolute and hierarchical so that the spec's
# "#/components/..." refs resolve within the right copy of the document.
_REQUEST_URI: Final = "https://threadbridge.invalid/discord-openapi/request.json"
_RESPONSE_URI: Final = "https://threadbridge.invalid/discord-openapi/response.json"

_HTTP_METHODS: Final = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
_API_PREFIX: Final = re.compile(r"^/api(?:/v\d+)?(?=/|$)")
# Schemas whose `content` maxLength is 4000 in the spec but 2000 in reality.  The
# TextDisplay components' 4000 is genuine; SDKMessageRequest (lobbies) is left alone
# because no bot traffic goes there and its real limit is undocumented.
_MESSAGE_CONTENT_SCHEMAS: Final = (
    "MessageCreateRequest",
    "MessageEditRequestPartial",
    "BaseCreateMessageCreateRequest",
)
_REPR_LIMIT: Final = 80
_MESSAGE_LIMIT: Final = 300


def find_spec() -> Path | None:
    """Locate Discord's openapi.json: $THREADBRIDGE_DISCORD_SPEC, else a sibling `shared/`."""
    override = os.environ.get(ENV_VAR)
    if override:
        candidate = Path(override).expanduser()
        return candidate if candidate.is_file() else None
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for directory in (start, *start.parents):
            candidate = directory / SPEC_RELATIVE_PATH
            if candidate.is_file():
                return candidate
    return None


@functools.lru_cache(maxsize=4)
def _load_cached(path: Path) -> SpecValidator:
    return SpecValidator.load(path)


def load_cached(path: Path) -> SpecValidator:
    """`SpecValidator.load` memoised per resolved path, so a test session parses once."""
    return _load_cached(Path(path).resolve())


@dataclass(frozen=True)
class _Route:
    template: str
    # None marks a `{parameter}` segment; literals are compared verbatim.
    segments: tuple[str | None, ...]
    methods: Mapping[str, Mapping[str, Any]]

    @property
    def rank(self) -> tuple[int, ...]:
        # Literal segments beat parameters, earlier positions first, so `/users/@me`
        # wins over `/users/{user_id}`.
        return tuple(0 if seg is not None else 1 for seg in self.segments)

    def matches(self, parts: list[str]) -> bool:
        return all(
            seg is None or seg == part for seg, part in zip(self.segments, parts, strict=True)
        )


def _parse_template(template: str) -> tuple[str | None, ...]:
    return tuple(
        None if seg.startswith("{") and seg.endswith("}") else seg
        for seg in template.strip("/").split("/")
    )


def _normalise_path(path: str) -> list[str]:
    path = urlsplit(path).path if "://" in path else path.split("#", 1)[0].split("?", 1)[0]
    path = _API_PREFIX.sub("", path)
    stripped = path.strip("/")
    # Unquote so `%40me` still matches the literal `@me`; parameters accept anything.
    return [unquote(part) for part in stripped.split("/")] if stripped else []


def _absolutise(schema: Any, base_uri: str) -> Any:
    """Copy `schema`, anchoring document-relative `$ref`s to `base_uri`."""
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#"):
                out[key] = base_uri + value
            else:
                out[key] = _absolutise(value, base_uri)
        return out
    if isinstance(schema, list):
        return [_absolutise(item, base_uri) for item in schema]
    return schema


def _is_binary(prop: Any) -> bool:
    return isinstance(prop, dict) and (
        prop.get("contentEncoding") == "binary" or prop.get("format") == "binary"
    )


def _without_file_parts(schema: Any) -> Any:
    """Drop binary (file) parts from a multipart schema; the caller sends payload_json."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    props = schema.get("properties")
    if isinstance(props, dict):
        binary = {name for name, prop in props.items() if _is_binary(prop)}
        out["properties"] = {k: v for k, v in props.items() if k not in binary}
        if isinstance(schema.get("required"), list):
            out["required"] = [r for r in schema["required"] if r not in binary]
    for keyword in ("allOf", "anyOf", "oneOf"):
        if isinstance(schema.get(keyword), list):
            out[keyword] = [_without_file_parts(sub) for sub in schema[keyword]]
    return out


def _request_view(spec: dict[str, Any]) -> dict[str, Any]:
    """Shallow copy of `spec` with the request-side relaxations/tightenings applied."""
    schemas: dict[str, Any] = dict(spec["components"]["schemas"])
    schemas["SnowflakeType"] = {
        "anyOf": [spec["components"]["schemas"]["SnowflakeType"], {"type": "integer", "minimum": 0}]
    }
    for name in _MESSAGE_CONTENT_SCHEMAS:
        original = schemas.get(name)
        if not isinstance(original, dict) or "content" not in original.get("properties", {}):
            continue
        props = dict(original["properties"])
        props["content"] = {**props["content"], "maxLength": MESSAGE_CONTENT_LIMIT}
        schemas[name] = {**original, "properties": props}
    return {**spec, "components": {**spec["components"], "schemas": schemas}}


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


def _describe(error: ValidationError) -> str:
    message = error.message
    full = repr(error.instance)
    if len(full) > _REPR_LIMIT:
        message = message.replace(full, _short_repr(error.instance))
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 3] + "..."
    return f"{error.json_path}: {message}"


_SHAPE_KEYWORDS: Final = frozenset({"type", "const", "enum"})


def _branch_score(errors: list[ValidationError]) -> tuple[int, bool, int]:
    # A branch that failed only deeper in the instance, and not on the instance's own
    # type/const/enum, is the one the sender was aiming for.
    shallowest = min(len(e.absolute_path) for e in errors)
    shape_ok = not any(
        e.validator in _SHAPE_KEYWORDS and len(e.absolute_path) == shallowest for e in errors
    )
    return shallowest, shape_ok, -len(errors)


def _focus(error: ValidationError) -> list[ValidationError]:
    """Replace an anyOf/oneOf failure by the errors of the branch that fits best."""
    if not error.context or error.validator not in ("anyOf", "oneOf"):
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        key = sub.relative_schema_path[0] if sub.relative_schema_path else None
        branches.setdefault(key, []).append(sub)
    ranked = sorted(branches.values(), key=_branch_score, reverse=True)
    if len(ranked) > 1 and _branch_score(ranked[0]) == _branch_score(ranked[1]):
        return [error]
    return [leaf for sub in ranked[0] for leaf in _focus(sub)]


class _Check(Protocol):
    def iter_errors(self, instance: Any) -> Iterable[ValidationError]: ...


@dataclass(frozen=True)
class _Branch:
    properties: frozenset[str]
    required: frozenset[str]
    validator: Draft202012Validator


@dataclass(frozen=True)
class _UnionCheck:
    """A request union (`anyOf` marked x-discord-union) validated against one branch.

    The spec's unions are `anyOf` over schemas without additionalProperties=false, so
    a body aimed at one branch (a forum post with a 3000-char starter message) passes
    through a sibling branch that simply ignores the offending key.  Pick the branch
    whose required keys are present and which declares most of the body's keys; fall
    back to the whole union when that is ambiguous.
    """

    whole: Draft202012Validator
    branches: tuple[_Branch, ...]

    def iter_errors(self, instance: Any) -> Iterable[ValidationError]:
        if isinstance(instance, dict):
            keys = set(instance)
            eligible = [(len(keys & b.properties), b) for b in self.branches if b.required <= keys]
            if eligible:
                best = max(count for count, _ in eligible)
                chosen = [b for count, b in eligible if count == best]
                if len(chosen) == 1:
                    return chosen[0].validator.iter_errors(instance)
        return self.whole.iter_errors(instance)


class SpecValidator:
    """Checks request/response bodies for one Discord API operation at a time."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._spec = spec
        self._request_registry: Registry[Any] = Registry().with_resource(
            _REQUEST_URI, DRAFT202012.create_resource(_request_view(spec))
        )
        self._response_registry: Registry[Any] = Registry().with_resource(
            _RESPONSE_URI, DRAFT202012.create_resource(spec)
        )
        routes: dict[int, list[_Route]] = {}
        for template, item in spec.get("paths", {}).items():
            methods = {m: op for m, op in item.items() if m in _HTTP_METHODS}
            route = _Route(template, _parse_template(template), methods)
            routes.setdefault(len(route.segments), []).append(route)
        self._routes = {n: sorted(rs, key=lambda r: r.rank) for n, rs in routes.items()}
        self._checks: dict[tuple[str, str, str], _Check | None] = {}

    @classmethod
    def load(cls, path: Path) -> SpecValidator:
        with Path(path).open("rb") as fh:
            spec = json.load(fh)
        if not isinstance(spec, dict) or "paths" not in spec or "components" not in spec:
            raise ValueError(f"{path} does not look like an OpenAPI document")
        return cls(spec)

    # -- routing ---------------------------------------------------------------------

    def _route(self, method: str, path: str) -> tuple[_Route, Mapping[str, Any]] | None:
        verb = method.lower()
        parts = _normalise_path(path)
        for route in self._routes.get(len(parts), ()):
            if verb in route.methods and route.matches(parts):
                return route, route.methods[verb]
        return None

    def match_route(self, method: str, path: str) -> str | None:
        """The spec's path template serving `method path`, or None if it has none."""
        found = self._route(method, path)
        return found[0].template if found else None

    def operation_id(self, method: str, path: str) -> str | None:
        """The spec's operationId for `method path` (e.g. "create_message"), if any."""
        found = self._route(method, path)
        return found[1].get("operationId") if found else None

    # -- schema lookup ---------------------------------------------------------------

    def _deref(self, obj: Any) -> Any:
        # Response objects (not schemas) may be `$ref`s into #/components/responses.
        seen = 0
        while isinstance(obj, dict) and isinstance(obj.get("$ref"), str) and seen < 8:
            pointer = obj["$ref"]
            if not pointer.startswith("#/"):
                return None
            target: Any = self._spec
            for token in pointer[2:].split("/"):
                token = token.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or token not in target:
                    return None
                target = target[token]
            obj = target
            seen += 1
        return obj

    @staticmethod
    def _json_schema(content: Any, *, allow_multipart: bool) -> Any:
        if not isinstance(content, dict):
            return None
        media = content.get("application/json")
        if isinstance(media, dict) and "schema" in media:
            return media["schema"]
        if allow_multipart:
            media = content.get("multipart/form-data")
            if isinstance(media, dict) and "schema" in media:
                return _without_file_parts(media["schema"])
        return None

    def _compile(self, schema: Any, base_uri: str, registry: Registry[Any]) -> Draft202012Validator:
        return Draft202012Validator(_absolutise(schema, base_uri), registry=registry)

    def _union(self, schema: dict[str, Any]) -> _UnionCheck | None:
        branches: list[_Branch] = []
        for member in schema["anyOf"]:
            resolved = self._deref(member)
            if not isinstance(resolved, dict):
                return None
            props = resolved.get("properties", {})
            required = resolved.get("required", [])
            branches.append(
                _Branch(
                    properties=frozenset(props) if isinstance(props, dict) else frozenset(),
                    required=frozenset(required) if isinstance(required, list) else frozenset(),
                    validator=self._compile(member, _REQUEST_URI, self._request_registry),
                )
            )
        whole = self._compile(schema, _REQUEST_URI, self._request_registry)
        return _UnionCheck(whole=whole, branches=tuple(branches))

    def _request_check(
        self, verb: str, template: str, operation: Mapping[str, Any]
    ) -> _Check | None:
        key = (verb, template, "request")
        if key not in self._checks:
            body = self._deref(operation.get("requestBody"))
            schema = (
                self._json_schema(body.get("content"), allow_multipart=True)
                if isinstance(body, dict)
                else None
            )
            check: _Check | None = None
            if isinstance(schema, dict) and "x-discord-union" in schema and "anyOf" in schema:
                check = self._union(schema)
            if check is None and schema is not None:
                check = self._compile(schema, _REQUEST_URI, self._request_registry)
            self._checks[key] = check
        return self._checks[key]

    def _response_schema(self, responses: Any, status: int) -> Any:
        if not isinstance(responses, dict):
            return None
        family = status // 100
        for candidate in (str(status), f"{family}XX", f"{family}xx", "default"):
            if candidate in responses:
                response = self._deref(responses[candidate])
                if not isinstance(response, dict):
                    return None
                return self._json_schema(response.get("content"), allow_multipart=False)
        return None

    def _response_check(
        self, verb: str, template: str, operation: Mapping[str, Any], status: int
    ) -> _Check | None:
        key = (verb, template, str(status))
        if key not in self._checks:
            schema = self._response_schema(operation.get("responses"), status)
            self._checks[key] = (
                None
                if schema is None
                else self._compile(schema, _RESPONSE_URI, self._response_registry)
            )
        return self._checks[key]

    # -- validation ------------------------------------------------------------------

    @staticmethod
    def _problems(check: _Check, body: Any, label: str) -> list[str]:
        problems: list[str] = []
        for top in sorted(check.iter_errors(body), key=lambda e: (e.json_path, e.message)):
            for error in _focus(top):
                text = f"{label}: {_describe(error)}"
                if text not in problems:
                    problems.append(text)
                if len(problems) >= MAX_PROBLEMS:
                    return problems
        return problems

    def validate_request(self, method: str, path: str, body: Any) -> list[str]:
        """Problems with a JSON request body; None (no body) is never a problem.

        For multipart requests pass the parsed ``payload_json``: operations that only
        describe a multipart body are checked against its non-file parts.
        """
        found = self._route(method, path)
        if found is None or body is None:
            return []
        route, operation = found
        verb = method.lower()
        check = self._request_check(verb, route.template, operation)
        if check is None:
            return []
        return self._problems(check, body, f"{verb.upper()} {route.template} request")

    def validate_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Problems with a JSON response body, checked against the schema for `status`
        (exact code, then its ``2XX``/``4XX`` range, then ``default``).  A 204 without a
        body is fine; None with any other status that declares a body is a problem.
        """
        found = self._route(method, path)
        if found is None or (status == 204 and body is None):
            return []
        route, operation = found
        verb = method.lower()
        check = self._response_check(verb, route.template, operation, status)
        if check is None:
            return []
        return self._problems(check, body, f"{verb.upper()} {route.template} response {status}")
