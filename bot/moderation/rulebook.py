"""The rules in force: the operator's defaults (settings) with what moderators changed
(`/mod rules`, kept in the store) laid over them, and who moderates (never judged)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

import discord

from bot.comments.events import RulesInForce
from bot.moderation.rules import RuleError, RuleSet, compile_pattern, validate_word
from bot.settings import Settings
from bot.store import Store
from bot.store.rules import load_rules


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    description: str
    switch: bool = False  # on/off rather than a number
    maximum: int = 100


# The limits `/mod rules set` changes, by the name moderators type.
LIMITS: dict[str, Limit] = {
    limit.name: limit
    for limit in (
        Limit("links", "hold a comment with this many links or more"),
        Limit("mentions", "remove a comment with this many user or role mentions or more"),
        Limit("flood_count", "hold comments beyond this many within flood_seconds"),
        Limit("flood_seconds", "the flood window, in seconds", maximum=3600),
        Limit("duplicate_minutes", "hold text repeated in another thread within this many "
              "minutes", maximum=1440),
        Limit("invites", "hold a comment with a Discord invite", switch=True),
        Limit("first_comment", "hold comments until the author has one approved", switch=True),
    )
}

LISTS: dict[str, str] = {
    "disallowed_words": "words whose comments are removed",
    "disallowed_patterns": "regexes whose comments are removed",
    "moderation_words": "words whose comments are held for review",
    "moderation_patterns": "regexes whose comments are held for review",
}


def default_limits(settings: Settings) -> dict[str, int | None]:
    """The operator's limits; None is off."""

    def count(value: int) -> int | None:
        return value or None

    return {
        "links": count(settings.rules_max_links),
        "mentions": count(settings.rules_max_mentions),
        "flood_count": count(settings.rules_flood_count),
        "flood_seconds": settings.rules_flood_seconds,
        "duplicate_minutes": count(settings.rules_duplicate_minutes),
        "invites": int(settings.rules_hold_invites),
        "first_comment": int(settings.rules_hold_first_comment),
    }


def describe_limit(name: str, value: int | None) -> str:
    """A limit's value as moderators type it: a number, on or off."""
    if LIMITS[name].switch:
        return "on" if value else "off"
    return "off" if value is None else str(value)


def parse_limit(name: str, text: str) -> int | None:
    """A moderator's value for a limit: a whole number, or off (None); on/off for switches."""
    limit = LIMITS.get(name)
    if limit is None:
        raise RuleError(f"There is no limit called {name!r}; choose one of: {', '.join(LIMITS)}.")
    value = text.strip().lower()
    if limit.switch:
        if value in {"on", "yes", "true", "1"}:
            return 1
        if value in {"off", "no", "false", "0"}:
            return 0
        raise RuleError(f"{name} is on or off.")
    if value in {"off", "none", "0"}:
        if name == "flood_seconds":
            raise RuleError("flood_seconds cannot be off; turn flood_count off instead.")
        return None
    if not value.isdigit() or not 1 <= int(value) <= limit.maximum:
        raise RuleError(f"{name} is a whole number from 1 to {limit.maximum}, or off.")
    return int(value)


def normalise_entry(list_name: str, value: str) -> str:
    """The form an entry is stored and matched in; refuses bad input with a RuleError."""
    if list_name not in LISTS:
        raise RuleError(f"There is no list called {list_name!r}.")
    if list_name.endswith("_patterns"):
        return compile_pattern(value.strip()).source
    return validate_word(value)


def build_rule_set(
    settings: Settings,
    lists: Mapping[str, tuple[str, ...]],
    changed_limits: Mapping[str, int | None],
) -> RuleSet:
    """The rules in force. An entry that no longer compiles (stored before a stricter check) is
    skipped rather than taking every other rule down."""
    limits = default_limits(settings) | dict(changed_limits)
    patterns: dict[str, list] = {"disallowed_patterns": [], "moderation_patterns": []}
    for name, found in patterns.items():
        for source in lists.get(name, ()):
            try:
                found.append(compile_pattern(source))
            except RuleError:
                continue
    duplicate = limits["duplicate_minutes"]
    return RuleSet(
        disallowed_words=_valid_words(settings.rules_disallowed_words, lists, "disallowed_words"),
        disallowed_patterns=tuple(patterns["disallowed_patterns"]),
        moderation_words=_valid_words(settings.rules_moderation_words, lists, "moderation_words"),
        moderation_patterns=tuple(patterns["moderation_patterns"]),
        max_links=limits["links"],
        hold_invites=bool(limits["invites"]),
        max_mentions=limits["mentions"],
        flood_count=limits["flood_count"],
        flood_window=timedelta(seconds=limits["flood_seconds"] or settings.rules_flood_seconds),
        duplicate_window=None if duplicate is None else timedelta(minutes=duplicate),
        first_comment_hold=bool(limits["first_comment"]),
        exempt_role_ids=frozenset(settings.moderator_role_ids)
        | frozenset(settings.rules_exempt_role_ids),
    )


def _valid_words(
    defaults: tuple[str, ...], lists: Mapping[str, tuple[str, ...]], name: str
) -> list[str]:
    words: list[str] = []
    for word in (*defaults, *lists.get(name, ())):
        try:
            words.append(validate_word(word))
        except RuleError:
            continue
    return words


class Rulebook:
    """The guild's rules in force, read from the store at start and again whenever moderators
    change them. The bot and `threadbridge sync` judge comments by the same one."""

    def __init__(self, store: Store, settings: Settings) -> None:
        assert settings.guild_id is not None
        self.store = store
        self.settings = settings
        self.guild_id = settings.guild_id
        self.rule_set: RuleSet | None = None  # None until loaded

    async def reload(self) -> RuleSet:
        stored = await load_rules(self.store, self.guild_id)
        self.rule_set = build_rule_set(self.settings, stored.lists, stored.limits)
        return self.rule_set

    def lift(self) -> None:
        """No rules in force: comments are stored unjudged until the next reload."""
        self.rule_set = None

    def in_force(self, roles: Iterable[discord.Role]) -> RulesInForce | None:
        """What the comment writer judges by, given the server's roles as they stand now:
        holders of a moderator role, or of a role with Manage Messages or admin, moderate."""
        if self.rule_set is None:
            return None
        moderating = set(self.settings.moderator_role_ids)
        for role in roles:
            if role.permissions.manage_messages or role.permissions.administrator:
                moderating.add(role.id)
        return RulesInForce(self.guild_id, self.rule_set, frozenset(moderating))
