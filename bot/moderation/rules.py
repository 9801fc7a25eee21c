"""The rules run on every new and edited comment, as pure functions.

`judge` takes what the caller knows about a comment (`CommentFacts`) and what moderators
configured (`RuleSet`) and returns one `Verdict`. No I/O: the cog and the store supply the facts
and act on the outcome.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from typing import NamedTuple

import re2

from bot.moderation.text import collapse_spacing, normalise, strip_invisible, words

MAX_PATTERN_LENGTH = 500
MAX_WORD_LENGTH = 100
# RE2 refuses to build a program larger than this instead of using unbounded memory.
_PATTERN_MAX_MEMORY = 1 << 20

# Discord only makes http(s) URLs clickable; "www." is counted because people read it as a link.
# Bare domains ("example.com") are not counted: they would flag "Node.js" or "file.txt".
_LINK = re.compile(r"\bhttps?://[^\s<>]+|(?<![\w./])www\.[^\s<>]+", re.IGNORECASE)
_INVITE = re.compile(
    r"\b(?:discord(?:app)?\.com/invite|discord\.gg)/[\w-]+",
    re.IGNORECASE,
)
# A user mention may carry "!" (nickname form); a role mention carries "&".
_MENTION = re.compile(r"<@(?:!?(\d+)|&(\d+))>")


class RuleError(ValueError):
    """A moderator's rule input that is refused; the message is safe to show them."""


class Outcome(Enum):
    ALLOW = "allow"
    HOLD = "hold"
    REMOVE = "remove"


class Rule(StrEnum):
    """Names of the rules, as they appear in `Verdict.rule` and in cases."""

    BANNED = "banned"
    DISALLOWED_WORD = "disallowed_word"
    DISALLOWED_PATTERN = "disallowed_pattern"
    MENTIONS = "mentions"
    MODERATION_WORD = "moderation_word"
    MODERATION_PATTERN = "moderation_pattern"
    LINKS = "links"
    INVITE = "invite"
    FLOOD = "flood"
    DUPLICATE = "duplicate"
    FIRST_COMMENT = "first_comment"


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    rule: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """A moderator's regex, accepted by `compile_pattern` and run by RE2 in linear time."""

    source: str
    _regex: re2._Regexp = field(repr=False, compare=False)

    def search(self, text: str) -> bool:
        return self._regex.search(text) is not None


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = _PATTERN_MAX_MEMORY
    return options


@dataclass(frozen=True, slots=True)
class _PatternMatcher:
    """Several patterns run as one RE2 alternation: one pass over the text, not one each."""

    patterns: tuple[CompiledPattern, ...]
    combined: re2._Regexp | None

    @classmethod
    def of(cls, patterns: Sequence[CompiledPattern]) -> _PatternMatcher:
        combined = None
        if len(patterns) > 1:
            try:
                combined = re2.compile("|".join(f"(?:{p.source})" for p in patterns), _options())
            except re2.error:
                # Valid alone, not together (a repeated group name, or the size limit):
                # fall back to one search per pattern.
                combined = None
        return cls(tuple(patterns), combined)

    def matches(self, *texts: str) -> bool:
        if self.combined is not None:
            return any(self.combined.search(text) is not None for text in texts)
        return any(p.search(text) for p in self.patterns for text in texts)


def compile_pattern(pattern: str) -> CompiledPattern:
    """Compile a moderator's regex, case-insensitive, or refuse it with a `RuleError`."""
    if not pattern.strip():
        raise RuleError("The pattern is empty.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RuleError(
            f"The pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN_LENGTH}."
        )
    try:
        regex = re2.compile(pattern, _options())
    except re2.error as error:
        raise RuleError(_explain(pattern, error)) from None
    return CompiledPattern(source=pattern, _regex=regex)


def _explain(pattern: str, error: re2.error) -> str:
    detail = error.args[0] if error.args else ""
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    detail = str(detail)
    if re.search(r"\\[1-9]|\(\?P=", pattern):
        return (
            "Backreferences (\\1, (?P=name)) are not supported: rules use a regex engine "
            "that runs in linear time, and backreferences cannot."
        )
    if re.search(r"\(\?<?[=!]", pattern):
        return (
            "Lookahead and lookbehind ((?=...), (?!...), (?<=...), (?<!...)) are not supported: "
            "rules use a regex engine that runs in linear time, and lookarounds cannot."
        )
    if "pattern too large" in detail:
        return "The pattern is too large to run safely; use fewer or smaller repetitions."
    return f"The pattern does not compile: {detail}."


def validate_word(word: str) -> str:
    """Return `word` in the normalised form it is matched in, or refuse it with a `RuleError`."""
    if not word.strip():
        raise RuleError("The word is empty.")
    if len(word) > MAX_WORD_LENGTH:
        raise RuleError(f"The word is {len(word)} characters long; the limit is {MAX_WORD_LENGTH}.")
    folded = " ".join(words(normalise(word)))
    if not folded:
        raise RuleError("The word has no letters or digits to match.")
    return folded


@dataclass(frozen=True, slots=True)
class _WordMatcher:
    single: frozenset[str]
    phrases: tuple[str, ...]

    @classmethod
    def of(cls, listed: Collection[str]) -> _WordMatcher:
        folded = {validate_word(word) for word in listed}
        return cls(
            single=frozenset(w for w in folded if " " not in w),
            phrases=tuple(sorted(w for w in folded if " " in w)),
        )

    def matches(self, forms: Sequence[list[str]]) -> bool:
        for tokens in forms:
            if not self.single.isdisjoint(tokens):
                return True
            if self.phrases:
                padded = f" {' '.join(tokens)} "
                if any(f" {phrase} " in padded for phrase in self.phrases):
                    return True
        return False


@dataclass(frozen=True)
class RuleSet:
    """What moderators configure. Words are validated and folded on construction.

    A limit of None turns its rule off.
    """

    disallowed_words: Collection[str] = ()
    disallowed_patterns: tuple[CompiledPattern, ...] = ()
    moderation_words: Collection[str] = ()
    moderation_patterns: tuple[CompiledPattern, ...] = ()
    max_links: int | None = 2
    hold_invites: bool = True
    max_mentions: int | None = 5
    flood_count: int | None = 5
    flood_window: timedelta = timedelta(seconds=10)
    duplicate_window: timedelta | None = timedelta(minutes=10)
    # "thanks!" or "+1" in two threads is ordinary; only longer repeated text looks like spam.
    duplicate_min_length: int = 10
    first_comment_hold: bool = False
    exempt_role_ids: frozenset[int] = frozenset()
    _disallowed: _WordMatcher = field(init=False, repr=False, compare=False)
    _moderation: _WordMatcher = field(init=False, repr=False, compare=False)
    _disallowed_patterns: _PatternMatcher = field(init=False, repr=False, compare=False)
    _moderation_patterns: _PatternMatcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("max_links", "max_mentions", "flood_count"):
            limit = getattr(self, name)
            if limit is not None and limit < 1:
                raise RuleError(f"{name} must be at least 1, or off.")
        if self.flood_window <= timedelta(0):
            raise RuleError("flood_window must be positive.")
        if self.duplicate_window is not None and self.duplicate_window <= timedelta(0):
            raise RuleError("duplicate_window must be positive, or off.")
        disallowed = _WordMatcher.of(self.disallowed_words)
        moderation = _WordMatcher.of(self.moderation_words)
        object.__setattr__(self, "disallowed_words", disallowed.single | set(disallowed.phrases))
        object.__setattr__(self, "moderation_words", moderation.single | set(moderation.phrases))
        object.__setattr__(self, "exempt_role_ids", frozenset(self.exempt_role_ids))
        object.__setattr__(self, "_disallowed", disallowed)
        object.__setattr__(self, "_moderation", moderation)
        object.__setattr__(self, "disallowed_patterns", tuple(self.disallowed_patterns))
        object.__setattr__(self, "moderation_patterns", tuple(self.moderation_patterns))
        object.__setattr__(
            self, "_disallowed_patterns", _PatternMatcher.of(self.disallowed_patterns)
        )
        object.__setattr__(
            self, "_moderation_patterns", _PatternMatcher.of(self.moderation_patterns)
        )


class PastComment(NamedTuple):
    """One earlier comment by the same author; `text` is `normalise(body)`."""

    created_at: datetime
    thread_id: int
    text: str


@dataclass(frozen=True, slots=True)
class CommentFacts:
    """What the caller knows about a new or edited comment.

    `recent_by_author` holds the author's earlier comments (not this one), newest or oldest
    first, at least as far back as the longer of the flood and duplicate windows, as
    (created_at, thread_id, normalise(text)) tuples or `PastComment`s.
    """

    author_id: int
    author_role_ids: Collection[int]
    author_is_moderator: bool
    author_banned: bool
    author_has_approved_comment: bool
    thread_id: int
    text: str
    created_at: datetime
    recent_by_author: Sequence[tuple[datetime, int, str]] = ()


def judge(facts: CommentFacts, rules: RuleSet) -> Verdict:
    """Decide what happens to a comment. The first rule that matches decides.

    Order: exemptions, ban, then REMOVE rules (disallowed words, disallowed patterns, mentions),
    then HOLD rules (moderation words, moderation patterns, links, invites, flood, duplicate,
    first comment).
    """
    if facts.author_is_moderator:
        return Verdict(Outcome.ALLOW, None, "author is a moderator")
    if not rules.exempt_role_ids.isdisjoint(facts.author_role_ids):
        return Verdict(Outcome.ALLOW, None, "author has an exempt role")
    if facts.author_banned:
        return Verdict(Outcome.REMOVE, Rule.BANNED, "author is banned from commenting")

    visible = strip_invisible(facts.text)
    folded = normalise(visible)
    forms = _word_forms(visible, folded)
    # Patterns are tried on the text as written (digits and URLs read as typed) and on its
    # folded form (so a moderator need not think about case, accents or look-alikes).

    if rules._disallowed.matches(forms):
        return Verdict(Outcome.REMOVE, Rule.DISALLOWED_WORD, "contains a disallowed word")
    if rules._disallowed_patterns.matches(visible, folded):
        return Verdict(Outcome.REMOVE, Rule.DISALLOWED_PATTERN, "matches a disallowed pattern")
    if rules.max_mentions is not None:
        # Unique users and roles, as Discord AutoMod counts them: one ping repeated is one.
        mentions = len(set(_MENTION.findall(visible)))
        if mentions >= rules.max_mentions:
            return Verdict(Outcome.REMOVE, Rule.MENTIONS, f"{mentions} mentions")

    if rules._moderation.matches(forms):
        return Verdict(Outcome.HOLD, Rule.MODERATION_WORD, "contains a word held for review")
    if rules._moderation_patterns.matches(visible, folded):
        return Verdict(Outcome.HOLD, Rule.MODERATION_PATTERN, "matches a pattern held for review")
    if rules.max_links is not None:
        links = len(_LINK.findall(visible))
        if links >= rules.max_links:
            return Verdict(Outcome.HOLD, Rule.LINKS, f"{links} links")
    if rules.hold_invites and _INVITE.search(visible):
        return Verdict(Outcome.HOLD, Rule.INVITE, "contains a Discord invite")
    if rules.flood_count is not None:
        recent = _count_recent(facts, rules.flood_window)
        if recent + 1 > rules.flood_count:
            seconds = f"{rules.flood_window.total_seconds():g}"
            return Verdict(Outcome.HOLD, Rule.FLOOD, f"{recent + 1} comments in {seconds} s")
    if (
        rules.duplicate_window is not None
        and len(folded) >= rules.duplicate_min_length
        and _posted_elsewhere(facts, folded, rules.duplicate_window)
    ):
        return Verdict(Outcome.HOLD, Rule.DUPLICATE, "same text already posted in another thread")
    if rules.first_comment_hold and not facts.author_has_approved_comment:
        return Verdict(Outcome.HOLD, Rule.FIRST_COMMENT, "first comment, awaiting approval")
    return Verdict(Outcome.ALLOW, None, "no rule matched")


def _word_forms(visible: str, folded: str) -> list[list[str]]:
    plain = words(folded)
    spaced = collapse_spacing(visible)
    if spaced == visible:
        return [plain]
    return [plain, words(normalise(spaced))]


def _in_window(when: datetime, now: datetime, window: timedelta) -> bool:
    # Half-open (now - window, now]: a comment exactly `window` old has left it.
    return now - window < when <= now


def _count_recent(facts: CommentFacts, window: timedelta) -> int:
    return sum(
        1 for when, _, _ in facts.recent_by_author if _in_window(when, facts.created_at, window)
    )


def _posted_elsewhere(facts: CommentFacts, folded: str, window: timedelta) -> bool:
    return any(
        thread_id != facts.thread_id
        and text == folded
        and _in_window(when, facts.created_at, window)
        for when, thread_id, text in facts.recent_by_author
    )
