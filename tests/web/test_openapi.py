"""The OpenAPI document of the web API: well formed, complete, and strict about what it lets out.

openapi-spec-validator is not among the test tools, so the document is checked structurally
here: references resolve, every operation is a described GET, every schema is valid JSON Schema
2020-12, and the schemas refuse what must not be published.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from tests.web.openapi import load_document, path_template, validate, validate_response

DOCUMENT = load_document()

PATHS = {
    "/api/v1/comments",
    "/api/v1/posts/{id}/comments",
    "/api/v1/posts",
    "/api/v1/counts",
    "/api/v1/posts/{id}/comments.atom",
    "/api/v1/openapi.json",
    "/healthz",
    "/metrics",
}
# Answered from the data, with validators for conditional requests.
CACHED = PATHS - {"/healthz", "/metrics"}


def walk(node: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Every object and array in `node`, with its JSON pointer."""
    yield pointer, node
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        if isinstance(child, dict | list):
            token = str(key).replace("~", "~0").replace("/", "~1")
            yield from walk(child, f"{pointer}/{token}")


def at(pointer: str) -> Any:
    node: Any = DOCUMENT
    for token in pointer.removeprefix("#").lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = at(node["$ref"])
    return node


def operations() -> Iterator[tuple[str, dict[str, Any]]]:
    for template, item in DOCUMENT["paths"].items():
        yield template, item["get"]


def responses(operation: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for status, response in operation["responses"].items():
        yield status, resolve(response)


def parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = [resolve(parameter) for parameter in operation.get("parameters", [])]
    return {(parameter["in"], parameter["name"]): parameter for parameter in found}


def schema_locations() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every place the document holds a schema of its own (not a `$ref` to one)."""
    for name, schema in DOCUMENT["components"]["schemas"].items():
        yield f"/components/schemas/{name}", schema
    for pointer, node in walk(DOCUMENT):
        if pointer.endswith("/schema") and isinstance(node, dict) and "$ref" not in node:
            yield pointer, node


# The document itself


def test_the_document_says_what_it_is_and_what_is_public() -> None:
    assert DOCUMENT["openapi"] == "3.1.0"
    assert DOCUMENT["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    assert DOCUMENT["info"]["title"] == "threadbridge"
    assert DOCUMENT["info"]["version"] == "1"
    assert DOCUMENT["servers"] == [{"url": "/"}]
    description = DOCUMENT["info"]["description"]
    for promise in ("only comments that are visible", "Discord user id", "e-mail", "IP address"):
        assert promise in description


def test_it_describes_exactly_the_endpoints_the_server_answers() -> None:
    assert set(DOCUMENT["paths"]) == PATHS


def test_every_path_is_a_described_get_with_its_own_operation_id() -> None:
    ids = []
    for template, item in DOCUMENT["paths"].items():
        assert set(item) == {"get"}, f"{template} is read-only: GET alone"
        operation = item["get"]
        assert re.fullmatch(r"[a-z][A-Za-z]+", operation["operationId"]), template
        assert operation["summary"], template
        assert "405" in operation["responses"], f"{template} must say it refuses other methods"
        for status, response in responses(operation):
            assert re.fullmatch(r"[1-5]\d\d", status), f"{template}: {status}"
            assert response["description"], f"{template} {status}"
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))


def test_path_parameters_are_the_ones_in_the_template() -> None:
    for template, operation in operations():
        in_path = {name for where, name in parameters(operation) if where == "path"}
        assert in_path == set(re.findall(r"\{(\w+)\}", template)), template
        for (where, name), parameter in parameters(operation).items():
            if where == "path":
                assert parameter["required"] is True, f"{template}: {name}"


def test_every_reference_resolves_inside_the_document() -> None:
    references = [(pointer, node["$ref"]) for pointer, node in walk(DOCUMENT) if "$ref" in node]
    assert len(references) > 50
    for pointer, reference in references:
        assert reference.startswith("#/"), f"{pointer}: {reference} points outside the document"
        try:
            target = at(reference)
        except (KeyError, IndexError, ValueError):
            pytest.fail(f"{pointer}: {reference} resolves to nothing")
        assert isinstance(target, dict), f"{pointer}: {reference}"


def test_every_schema_is_valid_json_schema_2020_12() -> None:
    locations = dict(schema_locations())
    assert {"/components/schemas/Comment", "/components/schemas/Error"} <= set(locations)
    for pointer, schema in locations.items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            pytest.fail(f"{pointer} is not a valid schema: {error.message} at {error.json_path}")


def test_objects_refuse_stray_fields_and_require_all_of_theirs() -> None:
    """So an id, an e-mail or anything else added by mistake fails the tests that check bodies;
    absent values are null, never a missing field."""
    # This API's own document: its shape is OpenAPI's, open to members this API does not define.
    document_schema = (
        "/paths/~1api~1v1~1openapi.json/get/responses/200/content/application~1json/schema"
    )
    objects = 0
    for pointer, node in walk(DOCUMENT):
        if not isinstance(node, dict) or pointer == document_schema:
            continue
        if node.get("type") == "object":
            objects += 1
            closed = node.get("additionalProperties")
            assert closed is False or isinstance(closed, dict), f"{pointer} admits stray fields"
            if "properties" in node:
                assert closed is False, pointer
                assert set(node["required"]) == set(node["properties"]), pointer
        elif "properties" in node and pointer.endswith("/schema"):
            pytest.fail(f"{pointer} has properties but is not a closed object")
    assert objects >= 10


def test_every_error_has_the_one_error_shape() -> None:
    for template, operation in operations():
        for status, response in responses(operation):
            if status.startswith("4"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{template} {status}"


def test_answers_from_the_data_carry_their_version_and_honour_if_none_match() -> None:
    for template, operation in operations():
        ok = resolve(operation["responses"]["200"])
        headers = set(ok.get("headers", {}))
        assert "Cache-Control" in headers, template
        if template in CACHED:
            assert {"ETag", "Last-Modified"} <= headers, template
            assert ("header", "If-None-Match") in parameters(operation), template
            not_modified = resolve(operation["responses"]["304"])
            assert "content" not in not_modified, f"{template}: a 304 has no body"
        else:
            assert "304" not in operation["responses"], template


@pytest.mark.parametrize(
    ("template", "name", "bounds"),
    [
        ("/api/v1/comments", "limit", {"minimum": 1, "maximum": 200, "default": 50}),
        ("/api/v1/posts/{id}/comments", "limit", {"minimum": 1, "maximum": 200, "default": 50}),
        ("/api/v1/posts", "limit", {"minimum": 1, "maximum": 100, "default": 20}),
        ("/api/v1/posts/{id}/comments", "id", {"minimum": 1}),
        ("/api/v1/posts/{id}/comments.atom", "id", {"minimum": 1}),
        ("/api/v1/counts", "url", {"minItems": 1, "maxItems": 100}),
    ],
)
def test_parameters_are_bounded(template: str, name: str, bounds: dict[str, int]) -> None:
    (parameter,) = [
        p for (_, n), p in parameters(DOCUMENT["paths"][template]["get"]).items() if n == name
    ]
    assert parameter["schema"].items() >= bounds.items()


def test_the_required_parameters() -> None:
    required = {
        (template, name)
        for template, operation in operations()
        for (_, name), parameter in parameters(operation).items()
        if parameter.get("required")
    }
    assert required == {
        ("/api/v1/comments", "url"),
        ("/api/v1/counts", "url"),
        ("/api/v1/posts/{id}/comments", "id"),
        ("/api/v1/posts/{id}/comments.atom", "id"),
    }


def test_metrics_need_the_bearer_token() -> None:
    operation = DOCUMENT["paths"]["/metrics"]["get"]
    (requirement,) = operation["security"]
    (scheme,) = requirement
    assert DOCUMENT["components"]["securitySchemes"][scheme] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The value of `WEB_METRICS_TOKEN`.",
    }
    assert {"200", "401", "404"} <= set(operation["responses"])
    assert "security" not in DOCUMENT, "the rest of the API is public"


def test_every_example_in_the_document_matches_its_schema() -> None:
    checked = 0
    for template, operation in operations():
        for status, response in responses(operation):
            for media_type, content in response.get("content", {}).items():
                for name, example in content.get("examples", {}).items():
                    try:
                        validate_response(
                            template, int(status), example["value"], content_type=media_type
                        )
                    except AssertionError as error:
                        pytest.fail(f"example {name!r} of GET {template} {status}: {error}")
                    checked += 1
    assert checked >= 8


# Bodies: what the schemas accept


def post(**fields: Any) -> dict[str, Any]:
    return {
        "id": 7,
        "title": "Spring meetup",
        "url": "https://site.example/spring-meetup",
        "excerpt": "We meet on the 12th.",
        "published_at": "2026-03-01T09:00:00Z",
        "last_activity_at": "2026-03-02T18:40:12.123456+00:00",
        "comment_count": 2,
        "closed": False,
        "thread_url": "https://discord.com/channels/1/2/3",
        "page_url": "https://comments.site.example/posts/7",
    } | fields


def comment(**fields: Any) -> dict[str, Any]:
    return {
        "id": 41,
        "parent_id": None,
        "placeholder": False,
        "author": {"name": "Ada", "avatar_url": None},
        "created_at": "2026-03-01T10:15:00Z",
        "edited_at": None,
        "html": "<p>Count me in!</p>",
        "text": "Count me in!",
        "attachments": [],
        "reactions": [],
        "source": "discord",
        "discord_url": "https://discord.com/channels/1/3/41",
        "replies": [],
    } | fields


def placeholder(**fields: Any) -> dict[str, Any]:
    return (
        comment(
            placeholder=True,
            author=None,
            html=None,
            text=None,
            discord_url=None,
            replies=[comment(id=51, parent_id=fields.get("id", 41))],
        )
        | fields
    )


def comments_page(*comments: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "post": post(),
        "comments": list(comments),
        "next_cursor": None,
        "top_level_count": len(comments),
    } | fields


GOOD = [
    pytest.param("Post", post(), id="post"),
    pytest.param(
        "Post",
        post(url=None, published_at=None, last_activity_at=None, thread_url=None, closed=True),
        id="post-not-yet-mirrored",
    ),
    pytest.param("CommentsPage", comments_page(), id="no-comments"),
    pytest.param(
        "CommentsPage",
        comments_page(
            comment(
                edited_at="2026-03-01T11:05:00+01:00",
                reactions=[{"emoji": "🎉", "count": 2}, {"emoji": "partyparrot", "count": 1}],
                attachments=[
                    {
                        "filename": "map.png",
                        "url": "https://cdn.example/map.png",
                        "content_type": "image/png",
                        "size": 48213,
                    },
                    {
                        "filename": "notes",
                        "url": "https://cdn.example/notes",
                        "content_type": None,
                        "size": None,
                    },
                ],
                replies=[
                    comment(
                        id=42,
                        parent_id=41,
                        source="web",
                        discord_url=None,
                        replies=[
                            comment(
                                id=43,
                                parent_id=42,
                                html="",
                                text="",
                                author={"name": "Grace", "avatar_url": "https://cdn.example/g.png"},
                            ),
                        ],
                    ),
                ],
            ),
            placeholder(id=44),
            next_cursor="eyJhZnRlciI6IDQ0fQ",
            top_level_count=60,
        ),
        id="nested-replies-and-a-placeholder",
    ),
    pytest.param(
        "CommentsPage",
        comments_page(
            placeholder(
                replies=[placeholder(id=45, parent_id=41, replies=[comment(id=46, parent_id=45)])]
            )
        ),
        id="placeholder-leading-to-a-placeholder-with-a-visible-reply",
    ),
    pytest.param("PostsPage", {"posts": [post(), post(id=8)], "next_cursor": "abc"}, id="posts"),
    pytest.param("PostsPage", {"posts": [], "next_cursor": None}, id="no-posts"),
    pytest.param("Counts", {"counts": {"https://site.example/a?x=1": 0, "/b": 12}}, id="counts"),
    pytest.param("Health", {"status": "ok", "reasons": []}, id="healthy"),
    pytest.param("Health", {"status": "unavailable", "reasons": ["database"]}, id="unhealthy"),
    pytest.param("Error", {"error": {"status": 404, "message": "no such post"}}, id="error"),
]


@pytest.mark.parametrize(("schema", "instance"), GOOD)
def test_good_bodies_are_accepted(schema: str, instance: Any) -> None:
    validate(instance, schema)


def in_reply(**fields: Any) -> dict[str, Any]:
    """A page whose first comment has one reply with `fields` changed: checks reach into replies."""
    return comments_page(comment(replies=[comment(**({"id": 42, "parent_id": 41} | fields))]))


BAD = [
    # Nothing identifying leaks, however deep.
    pytest.param(
        "CommentsPage",
        in_reply(author={"name": "Ada", "avatar_url": None, "user_id": "80351110224678912"}),
        "'user_id' was unexpected",
        id="author-with-discord-user-id",
    ),
    pytest.param(
        "CommentsPage",
        in_reply(author={"name": "Ada", "avatar_url": None, "email": "ada@example.org"}),
        "'email' was unexpected",
        id="author-with-email",
    ),
    pytest.param(
        "CommentsPage",
        in_reply(author_id=80351110224678912),
        "'author_id' was unexpected",
        id="comment-with-author-id",
    ),
    pytest.param(
        "CommentsPage",
        comments_page(comment(ip="203.0.113.9")),
        "'ip' was unexpected",
        id="comment-with-ip",
    ),
    pytest.param("Post", post(guild_id=1), "'guild_id' was unexpected", id="post-with-guild-id"),
    pytest.param(
        "CommentsPage",
        comments_page(debug=True),
        "'debug' was unexpected",
        id="page-with-extra-field",
    ),
    pytest.param(
        "Error",
        {"error": {"status": 500, "message": "boom", "traceback": "..."}},
        "'traceback' was unexpected",
        id="error-with-traceback",
    ),
    # Placeholders hold nothing but their place.
    pytest.param(
        "CommentsPage",
        comments_page(placeholder(text="removed words")),
        "'removed words' is not of type 'null'",
        id="placeholder-with-text",
    ),
    pytest.param(
        "CommentsPage",
        comments_page(placeholder(html="<p>removed</p>")),
        "is not of type 'null'",
        id="placeholder-with-html",
    ),
    pytest.param(
        "CommentsPage",
        comments_page(placeholder(author={"name": "Ada", "avatar_url": None})),
        "is not of type 'null'",
        id="placeholder-with-author",
    ),
    pytest.param(
        "CommentsPage",
        comments_page(placeholder(discord_url="https://discord.com/x")),
        "is not of type 'null'",
        id="placeholder-with-discord-link",
    ),
    pytest.param(
        "CommentsPage",
        comments_page(placeholder(reactions=[{"emoji": "👍", "count": 1}])),
        "is expected to be empty",
        id="placeholder-with-reactions",
    ),
    pytest.param(
        "CommentsPage",
        comments_page(
            placeholder(
                attachments=[
                    {
                        "filename": "a.png",
                        "url": "https://cdn.example/a.png",
                        "content_type": None,
                        "size": None,
                    }
                ]
            )
        ),
        "is expected to be empty",
        id="placeholder-with-attachments",
    ),
    pytest.param(
        "CommentsPage",
        comments_page(placeholder(replies=[])),
        "should be non-empty",
        id="placeholder-without-replies",
    ),
    pytest.param(
        "CommentsPage",
        in_reply(placeholder=True, author=None, html=None, text=None, discord_url=None),
        "should be non-empty",
        id="placeholder-reply-leading-nowhere",
    ),
    # A visible comment is whole.
    pytest.param(
        "CommentsPage",
        comments_page(comment(author=None)),
        "should not be valid",
        id="visible-comment-without-author",
    ),
    pytest.param(
        "CommentsPage",
        in_reply(text=None),
        "None is not of type 'string'",
        id="visible-reply-without-text",
    ),
    pytest.param(
        "CommentsPage",
        comments_page(comment(author={"name": ""})),
        "'avatar_url' is a required property",
        id="author-missing-avatar-url",
    ),
    # The tree holds together.
    pytest.param(
        "CommentsPage",
        comments_page(comment(parent_id=40)),
        "40 is not of type 'null'",
        id="top-level-comment-with-parent",
    ),
    pytest.param(
        "CommentsPage",
        in_reply(parent_id=None),
        "None is not of type 'integer'",
        id="reply-without-parent",
    ),
    pytest.param(
        "CommentsPage",
        comments_page({k: v for k, v in comment().items() if k != "replies"}),
        "'replies' is a required property",
        id="comment-without-replies-field",
    ),
    # Numbers, dates, enums.
    pytest.param(
        "Post",
        post(comment_count=-1),
        "-1 is less than the minimum of 0",
        id="negative-comment-count",
    ),
    pytest.param(
        "CommentsPage",
        comments_page(top_level_count=-1),
        "less than the minimum",
        id="negative-top-level-count",
    ),
    pytest.param(
        "CommentsPage",
        in_reply(reactions=[{"emoji": "👍", "count": 0}]),
        "0 is less than the minimum of 1",
        id="reaction-counted-zero-times",
    ),
    pytest.param(
        "CommentsPage",
        in_reply(attachments=[{"filename": "a", "url": "u", "content_type": None, "size": -5}]),
        "less than the minimum",
        id="negative-attachment-size",
    ),
    pytest.param("Post", post(id=0), "less than the minimum of 1", id="post-id-zero"),
    pytest.param("Post", post(id="7"), "'7' is not of type 'integer'", id="post-id-as-string"),
    pytest.param(
        "CommentsPage",
        comments_page(comment(created_at="2026-03-01T10:15:00")),
        "is not a 'date-time'",
        id="date-time-without-offset",
    ),
    pytest.param(
        "Post",
        post(published_at="2026-03-01 09:00:00Z"),
        "is not a 'date-time'",
        id="date-time-with-a-space",
    ),
    pytest.param(
        "Post",
        post(published_at="2026-13-01T09:00:00Z"),
        "is not a 'date-time'",
        id="date-time-in-month-13",
    ),
    pytest.param(
        "Post",
        post(last_activity_at=1772355600),
        "is not of type 'string', 'null'",
        id="date-time-as-a-number",
    ),
    pytest.param(
        "CommentsPage", in_reply(source="slack"), "'slack' is not one of", id="unknown-source"
    ),
    pytest.param(
        "CommentsPage", comments_page(next_cursor=""), "should be non-empty", id="empty-cursor"
    ),
    pytest.param(
        "Counts",
        {"counts": {"https://site.example/a": -1}},
        "less than the minimum",
        id="negative-count",
    ),
    pytest.param("Counts", {"counts": {}}, "should be non-empty", id="no-counts"),
    pytest.param(
        "Counts",
        {"counts": {"/a": 1}, "total": 1},
        "'total' was unexpected",
        id="counts-with-extra-field",
    ),
    pytest.param(
        "Health",
        {"status": "unavailable", "reasons": []},
        "should be non-empty",
        id="unavailable-without-a-reason",
    ),
    pytest.param(
        "Health",
        {"status": "degraded", "reasons": []},
        "'degraded' is not one of",
        id="unknown-health-status",
    ),
    pytest.param(
        "Error",
        {"error": {"status": 200, "message": "fine"}},
        "200 is less than the minimum of 400",
        id="error-with-success-status",
    ),
    pytest.param(
        "Error",
        {"message": "no such post"},
        "'error' is a required property",
        id="error-not-wrapped",
    ),
]


@pytest.mark.parametrize(("schema", "instance", "fault"), BAD)
def test_bad_bodies_are_refused_with_the_reason(schema: str, instance: Any, fault: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(fault)):
        validate(instance, schema)


def test_the_refusal_lists_every_fault_with_where_it_is() -> None:
    body = comments_page(comment(author=None), post=post(comment_count=-2))
    with pytest.raises(AssertionError) as refused:
        validate(body, "CommentsPage")
    message = str(refused.value)
    assert "$.comments[0].author" in message
    assert "$.post.comment_count: -2 is less than the minimum of 0" in message


def test_an_unknown_schema_name_is_an_error() -> None:
    with pytest.raises(AssertionError, match="no schema named 'Comments'"):
        validate({}, "Comments")


# Responses: the schema the document declares for a path and status


def test_a_response_is_checked_against_what_its_path_and_status_declare() -> None:
    page = comments_page(comment())
    validate_response("/api/v1/posts/{id}/comments", 200, page)
    validate_response("/api/v1/comments?url=https%3A%2F%2Fsite.example%2Fa", 200, page)
    validate_response("/api/v1/posts/7/comments", 404, {"error": {"status": 404, "message": "x"}})
    with pytest.raises(AssertionError, match=r"GET /api/v1/posts/\{id\}/comments 404 breaks"):
        validate_response("/api/v1/posts/7/comments", 404, page)
    with pytest.raises(AssertionError, match="'email' was unexpected"):
        validate_response(
            "/api/v1/posts/7/comments",
            200,
            comments_page(
                comment(author={"name": "Ada", "avatar_url": None, "email": "ada@example.org"})
            ),
        )


def test_health_bodies_must_agree_with_the_status_code() -> None:
    validate_response("/healthz", 200, {"status": "ok", "reasons": []})
    validate_response("/healthz", 503, {"status": "unavailable", "reasons": ["database"]})
    with pytest.raises(AssertionError, match="'unavailable' was expected"):
        validate_response("/healthz", 503, {"status": "ok", "reasons": []})
    with pytest.raises(AssertionError, match="'ok' was expected"):
        validate_response("/healthz", 200, {"status": "unavailable", "reasons": ["database"]})


def test_not_modified_has_no_body() -> None:
    validate_response("/api/v1/posts", 304, None)
    with pytest.raises(AssertionError, match="has no body in the document"):
        validate_response("/api/v1/posts", 304, {"posts": [], "next_cursor": None})
    with pytest.raises(AssertionError, match="has a body in the document"):
        validate_response("/api/v1/posts", 200, None)


def test_undeclared_statuses_and_paths_are_errors() -> None:
    with pytest.raises(AssertionError, match="declares no 500 response for GET /api/v1/counts"):
        validate_response("/api/v1/counts?url=a", 500, {"error": {"status": 500, "message": "x"}})
    with pytest.raises(AssertionError, match="declares no 304 response for GET /healthz"):
        validate_response("/healthz", 304, None)
    with pytest.raises(AssertionError, match="no path matching /api/v2/posts"):
        validate_response("/api/v2/posts", 200, {"posts": [], "next_cursor": None})


def test_text_bodies_are_checked_against_their_media_type() -> None:
    validate_response("/api/v1/posts/7/comments.atom", 200, "<feed/>")
    validate_response("/metrics", 200, "# HELP up\n", content_type="text/plain")
    with pytest.raises(AssertionError, match="is not of type 'string'"):
        validate_response("/api/v1/posts/7/comments.atom", 200, {"feed": []})
    with pytest.raises(AssertionError, match="say which media type"):
        validate_response("/metrics", 401, "denied", content_type="text/plain")


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/posts", "/api/v1/posts"),
        ("/api/v1/posts?limit=5", "/api/v1/posts"),
        ("/api/v1/posts/7/comments", "/api/v1/posts/{id}/comments"),
        ("/api/v1/posts/7/comments.atom", "/api/v1/posts/{id}/comments.atom"),
        ("/api/v1/posts/{id}/comments.atom", "/api/v1/posts/{id}/comments.atom"),
    ],
)
def test_concrete_paths_find_their_template(path: str, template: str) -> None:
    assert path_template(path) == template


def test_the_loaded_document_is_a_copy() -> None:
    mine = load_document()
    mine["paths"].clear()
    assert load_document()["paths"] == DOCUMENT["paths"]
    assert copy.deepcopy(DOCUMENT) == load_document()
