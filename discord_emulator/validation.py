"""Discord's request-body limits, reported as a 50035 `errors` tree or a specific code."""

from __future__ import annotations

from typing import Any

from .errors import EMPTY_MESSAGE, ApiError, FormErrors

EMBED_TOTAL = 6000
MAX_EMBEDS = 10
MAX_FIELDS = 25
MAX_APPLIED_TAGS = 5
MAX_AVAILABLE_TAGS = 20


def _too_long(errors: FormErrors, path: tuple[str | int, ...], value: Any, limit: int) -> int:
    if value is None:
        return 0
    text = str(value)
    if len(text) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return len(text)


def check_embeds(errors: FormErrors, embeds: Any, prefix: tuple[str | int, ...] = ()) -> None:
    if embeds is None:
        return
    if not isinstance(embeds, list):
        errors.add((*prefix, "embeds"), "LIST_TYPE_CONVERT", "Must be an array.")
        return
    if len(embeds) > MAX_EMBEDS:
        errors.add((*prefix, "embeds"), "BASE_TYPE_MAX_LENGTH",
                   f"Must be {MAX_EMBEDS} or fewer in length.")
    total = 0
    for index, embed in enumerate(embeds):
        path = (*prefix, "embeds", index)
        if not isinstance(embed, dict):
            errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        total += _too_long(errors, (*path, "title"), embed.get("title"), 256)
        total += _too_long(errors, (*path, "description"), embed.get("description"), 4096)
        footer = embed.get("footer") or {}
        total += _too_long(errors, (*path, "footer", "text"), footer.get("text"), 2048)
        author = embed.get("author") or {}
        total += _too_long(errors, (*path, "author", "name"), author.get("name"), 256)
        fields = embed.get("fields") or []
        if len(fields) > MAX_FIELDS:
            errors.add((*path, "fields"), "BASE_TYPE_MAX_LENGTH",
                       f"Must be {MAX_FIELDS} or fewer in length.")
        for findex, fld in enumerate(fields):
            fpath = (*path, "fields", findex)
            name = fld.get("name")
            value = fld.get("value")
            if name is None or str(name) == "":
                errors.add((*fpath, "name"), "BASE_TYPE_REQUIRED", "This field is required")
            if value is None or str(value) == "":
                errors.add((*fpath, "value"), "BASE_TYPE_REQUIRED", "This field is required")
            total += _too_long(errors, (*fpath, "name"), name, 256)
            total += _too_long(errors, (*fpath, "value"), value, 1024)
    if total > EMBED_TOTAL:
        errors.add((*prefix, "embeds"), "MAX_EMBED_SIZE_EXCEEDED",
                   f"Embed size exceeds maximum size of {EMBED_TOTAL}")


def check_message_body(
    body: dict[str, Any], *, max_content: int, has_files: bool, prefix: tuple[str | int, ...] = (),
    require_content: bool = True,
) -> None:
    errors = FormErrors()
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        errors.add((*prefix, "content"), "BASE_TYPE_STRING", "Must be a string.")
    elif content is not None:
        _too_long(errors, (*prefix, "content"), content, max_content)
    check_embeds(errors, body.get("embeds"), prefix)
    username = body.get("username")
    if username is not None and not 1 <= len(str(username)) <= 80:
        errors.add((*prefix, "username"), "BASE_TYPE_BAD_LENGTH",
                   "Must be between 1 and 80 in length.")
    errors.raise_if_any()
    if require_content and not (
        content or body.get("embeds") or has_files or body.get("sticker_ids")
        or body.get("components") or body.get("poll") or body.get("attachments")
    ):
        raise ApiError(400, EMPTY_MESSAGE, "Cannot send an empty message")


def check_thread_name(
    errors: FormErrors, name: Any, path: tuple[str | int, ...] = ("name",)
) -> None:
    if name is None:
        errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
    elif not 1 <= len(str(name)) <= 100:
        errors.add(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


def check_applied_tags(errors: FormErrors, tags: Any, valid: set[int]) -> list[int]:
    if tags is None:
        return []
    if len(tags) > MAX_APPLIED_TAGS:
        errors.add(("applied_tags",), "BASE_TYPE_MAX_LENGTH",
                   f"Must be {MAX_APPLIED_TAGS} or fewer in length.")
        return []
    result = []
    for index, tag in enumerate(tags):
        try:
            tag_id = int(tag)
        except (TypeError, ValueError):
            errors.add(("applied_tags", index), "NUMBER_TYPE_COERCE", "Value is not snowflake.")
            continue
        if tag_id not in valid:
            errors.add(("applied_tags", index), "CHANNEL_TAG_INVALID", "Tag is not available.")
            continue
        result.append(tag_id)
    return result


def message_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The fields every message-creating body shares, as Core.create_message takes them; what
    only one route accepts (references, stickers, nonce, webhook names) stays with that route."""
    return {
        "content": body.get("content") or "",
        "embeds": body.get("embeds"),
        "components": body.get("components"),
        "allowed_mentions": body.get("allowed_mentions"),
        "flags": int(body.get("flags") or 0),
        "tts": bool(body.get("tts")),
    }
