"""The rule set in force: operator defaults with moderators' changes laid over them."""

from datetime import timedelta

import pytest

from bot.moderation.rulebook import (
    LIMITS,
    build_rule_set,
    default_limits,
    normalise_entry,
    parse_limit,
)
from bot.moderation.rules import RuleError
from bot.settings import Settings


def settings(**values: str) -> Settings:
    return Settings.from_variables(values)


def test_defaults_come_from_settings_and_zero_is_off():
    limits = default_limits(settings(RULES_MAX_LINKS="0", RULES_FLOOD_COUNT="7"))
    assert limits["links"] is None
    assert limits["flood_count"] == 7
    assert limits["mentions"] == 5
    assert limits["invites"] == 1 and limits["first_comment"] == 0


def test_moderators_changes_win_over_defaults():
    rules = build_rule_set(
        settings(
            RULES_DISALLOWED_WORDS="scam, Fraud",
            MODERATOR_ROLE_IDS="11",
            RULES_EXEMPT_ROLE_IDS="12",
        ),
        {"disallowed_words": ("crook",), "moderation_patterns": (r"\bbuy\b",)},
        {"links": None, "flood_seconds": 30, "first_comment": 1, "duplicate_minutes": None},
    )
    assert rules.disallowed_words == {"scam", "fraud", "crook"}
    assert [p.source for p in rules.moderation_patterns] == [r"\bbuy\b"]
    assert rules.max_links is None
    assert rules.flood_window == timedelta(seconds=30)
    assert rules.first_comment_hold is True
    assert rules.duplicate_window is None
    assert rules.exempt_role_ids == {11, 12}


def test_a_stored_entry_that_no_longer_compiles_is_skipped_not_fatal():
    rules = build_rule_set(settings(), {"disallowed_patterns": ("(unclosed", r"ok\d+")}, {})
    assert [p.source for p in rules.disallowed_patterns] == [r"ok\d+"]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("links", "3", 3),
        ("links", "off", None),
        ("mentions", " 10 ", 10),
        ("invites", "on", 1),
        ("invites", "OFF", 0),
        ("first_comment", "yes", 1),
        ("duplicate_minutes", "1440", 1440),
    ],
)
def test_limit_values(name, text, expected):
    assert parse_limit(name, text) == expected


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("links", "lots", "whole number"),
        ("links", "101", "whole number"),
        ("links", "-1", "whole number"),
        ("invites", "maybe", "on or off"),
        ("flood_seconds", "off", "cannot be off"),
        ("speed", "1", "no limit called"),
    ],
)
def test_bad_limit_values_are_refused(name, text, problem):
    with pytest.raises(RuleError, match=problem):
        parse_limit(name, text)


def test_every_limit_has_a_default():
    assert set(default_limits(settings())) == set(LIMITS)


def test_entries_are_stored_in_the_form_they_match():
    assert normalise_entry("moderation_words", "  Spoïler ") == "spoiler"
    assert normalise_entry("disallowed_patterns", r" (a|aa)+b ") == "(a|aa)+b"
    with pytest.raises(RuleError, match="Backreferences"):
        normalise_entry("disallowed_patterns", r"(a+)+\1")
    with pytest.raises(RuleError, match="no list"):
        normalise_entry("banana_words", "x")


def test_settings_refuse_a_word_that_cannot_match():
    from bot.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, rules_moderation_words="ok, !!!")
    assert "RULES_MODERATION_WORDS" in error.value.problems
