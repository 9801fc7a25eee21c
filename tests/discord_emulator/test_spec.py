"""Tests for discord_emulator.spec: Discord API traffic checked against Discord's OpenAPI spec."""

import copy
import string
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discord_emulator.spec import ENV_VAR, MAX_PROBLEMS, SpecValidator, find_spec, load_cached
from tests.shared_files import shared_file

SPEC_PATH = shared_file("discord", "api-spec", "openapi.json", override=ENV_VAR)

pytestmark = pytest.mark.spec

MESSAGES = "/channels/{channel_id}/messages"


@pytest.fixture(scope="module")
def spec() -> SpecValidator:
    assert SPEC_PATH is not None
    return load_cached(SPEC_PATH)


def _user(**overrides: Any) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": "1300000000000000003",
        "username": "threadbridge",
        "avatar": None,
        "discriminator": "0",
        "public_flags": 0,
        "flags": 0,
        "bot": True,
        "banner": None,
        "accent_color": None,
        "global_name": "ThreadBridge",
        "avatar_decoration_data": None,
        "collectibles": None,
        "display_name_styles": None,
        "banner_color": None,
        "clan": None,
        "primary_guild": None,
    }
    user.update(overrides)
    return user


def _message(**overrides: Any) -> dict[str, Any]:
    """A message object shaped like Discord's POST /channels/{id}/messages reply."""
    message: dict[str, Any] = {
        "type": 0,
        "content": "hello from the bridge",
        "mentions": [],
        "mention_roles": [],
        "attachments": [
            {
                "id": "1300000000000000010",
                "filename": "photo.png",
                "size": 1024,
                "url": "https://cdn.discordapp.com/attachments/1/2/photo.png",
                "proxy_url": "https://media.discordapp.net/attachments/1/2/photo.png",
                "width": 64,
                "height": 64,
                "content_type": "image/png",
                "placeholder": "abc",
                "placeholder_version": 1,
            }
        ],
        "embeds": [
            {
                "type": "rich",
                "title": "Original post",
                "description": "body",
                "url": "https://example.com/post/1",
                "color": 5814783,
                "fields": [{"name": "Score", "value": "42", "inline": True}],
                "footer": {"text": "via threadbridge"},
            }
        ],
        "timestamp": "2025-01-01T12:00:00.000000+00:00",
        "edited_timestamp": None,
        "flags": 0,
        "components": [
            {
                "type": 1,
                "id": 1,
                "components": [
                    {
                        "type": 2,
                        "id": 2,
                        "style": 5,
                        "label": "Open",
                        "url": "https://example.com/post/1",
                    }
                ],
            }
        ],
        "id": "1300000000000000001",
        "channel_id": "1300000000000000002",
        "author": _user(),
        "pinned": False,
        "mention_everyone": False,
        "tts": False,
        "nonce": "123",
        "reactions": [
            {
                "emoji": {"id": None, "name": "👍"},
                "count": 1,
                "count_details": {"burst": 0, "normal": 1},
                "burst_colors": [],
                "me": False,
                "me_burst": False,
                "burst_me": False,
                "burst_count": 0,
            }
        ],
    }
    message.update(overrides)
    return message


# -- discovery and loading ---------------------------------------------------------


def test_find_spec_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert SPEC_PATH is not None
    monkeypatch.setenv(ENV_VAR, str(SPEC_PATH))
    assert find_spec() == SPEC_PATH
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing.json"))
    assert find_spec() is None


def test_find_spec_walks_up(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SPEC_PATH is not None
    monkeypatch.delenv(ENV_VAR, raising=False)
    found = find_spec()
    assert found is not None
    assert found.parts[-4:] == ("shared", "discord", "api-spec", "openapi.json")


def test_load_is_fast_and_cached(spec: SpecValidator) -> None:
    assert SPEC_PATH is not None
    started = time.perf_counter()
    fresh = SpecValidator.load(SPEC_PATH)
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"SpecValidator.load took {elapsed:.2f}s"
    assert fresh is not spec
    assert load_cached(Path(str(SPEC_PATH))) is spec


# -- routing ---------------------------------------------------------------------


def test_literal_segments_beat_parameters(spec: SpecValidator) -> None:
    assert spec.match_route("GET", "/users/@me") == "/users/@me"
    assert spec.match_route("GET", "/users/80351110224678912") == "/users/{user_id}"
    assert (
        spec.match_route("PATCH", "/webhooks/1/tok/messages/@original")
        == "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
    )
    assert (
        spec.match_route("PATCH", "/webhooks/1/tok/messages/55")
        == "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
    )
    assert (
        spec.match_route("POST", "/channels/1/messages/bulk-delete")
        == "/channels/{channel_id}/messages/bulk-delete"
    )


def test_prefix_query_and_method_case_are_normalised(spec: SpecValidator) -> None:
    assert spec.match_route("post", "/api/v10/channels/1/messages?foo=bar") == MESSAGES
    assert spec.match_route("GET", "/api/v9/users/@me/") == "/users/@me"
    assert spec.match_route("GET", "https://discord.com/api/v10/users/@me?x=1") == "/users/@me"
    assert (
        spec.match_route("PUT", "/api/v10/channels/1/messages/2/reactions/%F0%9F%91%8D/@me")
        == "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me"
    )


def test_unknown_route_or_method_is_not_a_problem(spec: SpecValidator) -> None:
    assert spec.match_route("GET", "/definitely/not/a/route") is None
    assert spec.validate_request("POST", "/definitely/not/a/route", {"x": 1}) == []
    assert spec.validate_response("GET", "/definitely/not/a/route", 200, {"x": 1}) == []
    assert spec.match_route("TRACE", "/users/@me") is None
    assert spec.validate_request("TRACE", "/users/@me", {"x": 1}) == []


def test_me_route_uses_the_me_schema(spec: SpecValidator) -> None:
    # UserPIIResponse (/users/@me) needs mfa_enabled+locale; UserResponse needs primary_guild.
    me = _user(mfa_enabled=False, locale="en-US", verified=True, email=None)
    del me["primary_guild"]
    assert spec.validate_response("GET", "/users/@me", 200, me) == []
    problems = spec.validate_response("GET", "/users/80351110224678912", 200, me)
    assert any("primary_guild" in p for p in problems), problems
    problems = spec.validate_response("GET", "/users/@me", 200, _user())
    assert any("mfa_enabled" in p for p in problems), problems


# -- requests --------------------------------------------------------------------


VALID_CREATE = {
    "content": "hi",
    "allowed_mentions": {"parse": []},
    "tts": False,
    "nonce": "123",
    "enforce_nonce": True,
    "components": [],
}


def test_valid_message_create(spec: SpecValidator) -> None:
    assert spec.validate_request("POST", "/channels/1/messages", VALID_CREATE) == []


def test_request_prefix_and_query_are_stripped(spec: SpecValidator) -> None:
    body = dict(VALID_CREATE, content="x" * 2001)
    problems = spec.validate_request("POST", "/api/v10/channels/1/messages?wait=true", body)
    assert len(problems) == 1
    assert problems[0].startswith(f"POST {MESSAGES} request: $.content: ")


def test_content_over_2000_is_a_problem(spec: SpecValidator) -> None:
    problems = spec.validate_request("POST", "/channels/1/messages", dict(content="x" * 2001))
    assert len(problems) == 1
    assert "content" in problems[0]
    assert "too long" in problems[0]
    # Long instance reprs are truncated to keep problems readable.
    assert len(problems[0]) < 200
    assert spec.validate_request("POST", "/channels/1/messages", dict(content="x" * 2000)) == []


def test_content_limit_applies_to_message_edits(spec: SpecValidator) -> None:
    assert spec.validate_request("PATCH", "/channels/1/messages/2", {"content": "x" * 2000}) == []
    problems = spec.validate_request("PATCH", "/channels/1/messages/2", {"content": "x" * 2001})
    assert problems and "$.content" in problems[0]


def test_embed_title_too_long(spec: SpecValidator) -> None:
    body = {"embeds": [{"title": "t" * 300, "description": "ok"}]}
    problems = spec.validate_request("POST", "/channels/1/messages", body)
    assert problems == [
        f"POST {MESSAGES} request: $.embeds[0].title: '{'t' * 76}... is too long",
    ]


def test_wrong_type(spec: SpecValidator) -> None:
    problems = spec.validate_request("POST", "/channels/1/messages", {"content": 5})
    assert len(problems) == 1
    assert "$.content" in problems[0]
    assert "5 is not of type" in problems[0]


def test_problem_count_is_capped(spec: SpecValidator) -> None:
    body = {"embeds": [{"title": "t" * 300} for _ in range(10)], "content": 5}
    problems = spec.validate_request("POST", "/channels/1/messages", body)
    assert len(problems) == MAX_PROBLEMS


def test_integer_snowflakes_accepted_in_requests(spec: SpecValidator) -> None:
    # discord.py sends ints for message_reference ids, mention ids and attachment ids.
    body = {
        "content": "reply",
        "message_reference": {"message_id": 123, "channel_id": 456, "guild_id": 789},
        "allowed_mentions": {"parse": [], "users": [1, 2], "replied_user": True},
        "attachments": [{"id": 0, "filename": "a.txt", "description": "d"}],
        "sticker_ids": [5],
        "tts": False,
    }
    assert spec.validate_request("POST", "/channels/1/messages", body) == []
    bad = dict(body, message_reference={"message_id": "abc"})
    assert spec.validate_request("POST", "/channels/1/messages", bad)


def test_thread_from_message_as_discord_py_sends_it(spec: SpecValidator) -> None:
    body = {"name": "Discussion", "auto_archive_duration": 1440, "rate_limit_per_user": None}
    path = "/channels/1/messages/2/threads"
    assert spec.validate_request("POST", path, body) == []
    problems = spec.validate_request("POST", path, dict(body, auto_archive_duration=5))
    assert problems and "auto_archive_duration" in problems[0]


FORUM_THREAD: dict[str, Any] = {
    "name": "A mirrored post",
    "auto_archive_duration": 10080,
    "rate_limit_per_user": None,
    "type": 11,
    "applied_tags": ["1300000000000000020"],
    "message": {
        "content": "x" * 2000,
        "tts": False,
        "embeds": [{"type": "rich", "title": "Post", "url": "https://example.com/p/1"}],
        "allowed_mentions": {"parse": []},
    },
}


def test_forum_thread_as_discord_py_sends_it(spec: SpecValidator) -> None:
    path = "/channels/1/threads?use_nested_fields=1"
    assert spec.validate_request("POST", path, FORUM_THREAD) == []
    # Also a plain thread-without-message body, which discord.py sends to text channels.
    plain = {
        "name": "t",
        "auto_archive_duration": 60,
        "type": 11,
        "invitable": True,
        "rate_limit_per_user": None,
    }
    assert spec.validate_request("POST", path, plain) == []


def test_forum_starter_message_content_limit(spec: SpecValidator) -> None:
    body = copy.deepcopy(FORUM_THREAD)
    body["message"]["content"] = "x" * 2001
    problems = spec.validate_request("POST", "/channels/1/threads", body)
    assert len(problems) == 1
    assert problems[0].startswith(
        "POST /channels/{channel_id}/threads request: $.message.content: "
    )


def test_interaction_callback(spec: SpecValidator) -> None:
    path = "/interactions/1/tok/callback"
    ok = {"type": 4, "data": {"content": "x", "flags": 64}}
    assert spec.validate_request("POST", path, ok) == []
    problems = spec.validate_request(
        "POST", path, {"type": 4, "data": {"content": "x" * 2001, "flags": 64}}
    )
    assert len(problems) == 1 and "$.data.content" in problems[0]
    assert spec.validate_request("POST", path, {"type": 99})


def test_multipart_only_operation_ignores_file_parts(spec: SpecValidator) -> None:
    path = "/guilds/1/stickers"
    assert spec.validate_request("POST", path, {"name": "ok", "tags": "smile"}) == []
    problems = spec.validate_request("POST", path, {"name": "o", "tags": "smile"})
    assert problems and "$.name" in problems[0]


def test_no_body_or_no_schema_is_not_a_problem(spec: SpecValidator) -> None:
    assert spec.validate_request("POST", "/channels/1/typing", None) == []
    assert spec.validate_request("POST", "/channels/1/typing", {"anything": True}) == []
    assert spec.validate_request("GET", "/channels/1/messages", {"anything": True}) == []


# -- responses -------------------------------------------------------------------


def test_realistic_message_response(spec: SpecValidator) -> None:
    assert spec.validate_response("POST", "/channels/1/messages", 200, _message()) == []
    listed = [_message(), _message(id="1300000000000000004", content="")]
    assert spec.validate_response("GET", "/channels/1/messages?limit=50", 200, listed) == []


def test_response_missing_required_field(spec: SpecValidator) -> None:
    message = _message()
    del message["timestamp"]
    problems = spec.validate_response("POST", "/channels/1/messages", 200, message)
    assert problems == [
        f"POST {MESSAGES} response 200: $: 'timestamp' is a required property",
    ]


def test_response_snowflakes_must_be_strings(spec: SpecValidator) -> None:
    problems = spec.validate_response("GET", "/channels/1/messages/2", 200, _message(id=5))
    assert problems and "$.id" in problems[0]


def test_response_status_ranges(spec: SpecValidator) -> None:
    error = {"code": 10003, "message": "Unknown Channel"}
    assert spec.validate_response("GET", "/channels/1", 404, error) == []
    problems = spec.validate_response("GET", "/channels/1", 404, {"message": "x"})
    assert problems and "code" in problems[0]
    assert spec.validate_response("GET", "/channels/1", 500, {"whatever": 1}) == []


def test_no_content_responses(spec: SpecValidator) -> None:
    assert spec.validate_response("DELETE", "/channels/1/messages/2", 204, None) == []
    assert spec.validate_response("POST", "/interactions/1/tok/callback", 204, None) == []


# -- property-based ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(content=st.text(alphabet=string.printable, max_size=2000))
def test_printable_content_up_to_limit_accepted(spec: SpecValidator, content: str) -> None:
    assert spec.validate_request("POST", "/channels/1/messages", {"content": content}) == []


@settings(max_examples=60, deadline=None)
@given(
    seed=st.text(alphabet=string.printable, min_size=1, max_size=40),
    length=st.integers(min_value=2001, max_value=2500),
)
def test_printable_content_over_limit_rejected(spec: SpecValidator, seed: str, length: int) -> None:
    content = (seed * (length // len(seed) + 1))[:length]
    problems = spec.validate_request("POST", "/channels/1/messages", {"content": content})
    assert len(problems) == 1 and "$.content" in problems[0]
