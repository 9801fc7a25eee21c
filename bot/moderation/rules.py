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

from bot.moderation.text import (
    MAYBE_SPACED_RUN,
    collapse_spacing,
    normalise,
    normalise_in_utf8,
    strip_invisible,
    words,
)

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
        # RE2 reads UTF-8: encode once here, not once per search (for str, the wrapper also maps
        # byte offsets back to characters, which a yes/no answer does not need).
        encoded = [text.encode() for text in texts]
        if self.combined is not None:
            return any(self.combined.search(text) is not None for text in encoded)
        return any(p._regex.search(text) is not None for p in self.patterns for text in encoded)


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
    # Each phrase, padded with spaces, under its first word: a phrase is only looked for when
    # its first word is in the text.
    by_first_word: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, listed: Collection[str]) -> _WordMatcher:
        folded = {validate_word(word) for word in listed}
        phrases = tuple(sorted(w for w in folded if " " in w))
        by_first_word: dict[str, tuple[str, ...]] = {}
        for phrase in phrases:
            first = phrase.split(" ", 1)[0]
            by_first_word[first] = (*by_first_word.get(first, ()), f" {phrase} ")
        return cls(
            single=frozenset(w for w in folded if " " not in w),
            phrases=phrases,
            by_first_word=by_first_word,
        )

    def matches(self, forms: Sequence[list[str]]) -> bool:
        for tokens in forms:
            if not self.single.isdisjoint(tokens):
                return True
            for first in self.by_first_word.keys() & tokens:
                padded = f" {' '.join(tokens)} "
                if any(phrase in padded for phrase in self.by_first_word[first]):
                    return True
        return False


# Outside the ASCII letters and digits, any character may separate words: a superset of what
# `words` splits on, whatever the Unicode version.
_NOT_ASCII_ALNUM = "[^0-9A-Za-z]"


def _listed_word_hint(matchers: Sequence[_WordMatcher]) -> str | None:
    """An RE2 pattern that finds every listed word and phrase `matches` would find, and more.

    Splitting a long comment into words costs more than a scan, and most comments have no
    listed word: this scan is then all it takes to know. None if no word is listed.
    """
    listed = [
        f"{_NOT_ASCII_ALNUM}+".join(re2.escape(w) for w in word.split(" "))
        for matcher in matchers
        for word in sorted(matcher.single | set(matcher.phrases))
    ]
    if not listed:
        return None
    return f"(?:^|{_NOT_ASCII_ALNUM})(?:{'|'.join(listed)})(?:{_NOT_ASCII_ALNUM}|$)"


class _Found(NamedTuple):
    """What the RE2 scans of a comment found."""

    disallowed_pattern: bool
    moderation_pattern: bool
    # Hints, which may be false alarms but never miss: the visible text may have a spaced-out
    # word (`MAYBE_SPACED_RUN`), a link, an invite; the folded text may have a listed word.
    spaced_run: bool
    link: bool
    invite: bool
    listed_word: bool


# Most comments have no link, and Python's regex engine tries _LINK and _INVITE
# (case-insensitive, with no literal prefix to skip ahead to) at every position: first look for
# text that each of their matches contains. These letters match, ignoring case, only themselves
# and their ASCII capitals, in Python and in RE2 alike (lower() maps only those to them).
_LINK_HINT = r"://|www\."
_INVITE_HINT = r"\.gg/|\.com/"


# Room for the scanner's RE2 set: the patterns, the hints and some 10,000 listed words.
_SET_MAX_MEMORY = 8 << 20


def _regex_set(patterns: Sequence[str]) -> re2.Set | None:
    """The patterns as one RE2 set, numbered in order, or None if they do not fit in it.

    A set has no slower engine to fall back on, but RE2 refuses to compile one its DFA has too
    little memory for, and a compiled set never gives up a scan (re2/compile.cc, re2/dfa.cc):
    no match from it means no match.
    """
    options = _options()
    options.max_mem = _SET_MAX_MEMORY
    regexes = re2.Set.SearchSet(options)
    try:
        for pattern in patterns:
            regexes.Add(pattern)
        regexes.Compile()
    except re2.error:
        return None
    return regexes


@dataclass(frozen=True, slots=True)
class _Scanner:
    """All of a rule set's RE2 work on a comment: its patterns, and the hints.

    An RE2 set answers for all its regexes in one pass over a text. One set holds, in this
    order, the disallowed patterns and the moderation patterns (as they compiled alone,
    case-insensitive), the spaced-run, link and invite hints, and the listed-word hint if it
    fits. Without a set, each question is a scan of its own.
    """

    disallowed: _PatternMatcher
    moderation: _PatternMatcher
    regexes: re2.Set | None
    has_listed_words: bool
    # Where the listed-word hint is: in the set at this index, or in a set of its own. Neither
    # when it is too large to compile: then every comment may hold a listed word.
    listed_word_id: int | None
    listed_word_hint: re2.Set | None

    @classmethod
    def of(
        cls, disallowed: _PatternMatcher, moderation: _PatternMatcher, words: Sequence[_WordMatcher]
    ) -> _Scanner:
        patterns = [p.source for p in (*disallowed.patterns, *moderation.patterns)]
        patterns += [f"(?-i:{MAYBE_SPACED_RUN})", _LINK_HINT, _INVITE_HINT]
        hint = _listed_word_hint(words)
        regexes = None if hint is None else _regex_set([*patterns, f"(?-i:{hint})"])
        listed_word_id = None if regexes is None else len(patterns)
        listed_word_hint = None
        if regexes is None:
            regexes = _regex_set(patterns)
            if hint is not None:
                listed_word_hint = _regex_set([f"(?-i:{hint})"])
        return cls(
            disallowed=disallowed,
            moderation=moderation,
            regexes=regexes,
            has_listed_words=hint is not None,
            listed_word_id=listed_word_id,
            listed_word_hint=listed_word_hint,
        )

    def scan(self, visible: str, folded: str, visible_utf8: bytes, folded_utf8: bytes) -> _Found:
        """What RE2 finds in a comment: `visible` and `folded` are also given in UTF-8."""
        if self.regexes is None:
            lowered = visible.lower()
            return _Found(
                disallowed_pattern=self.disallowed.matches(visible, folded),
                moderation_pattern=self.moderation.matches(visible, folded),
                spaced_run=True,  # collapse_spacing has its own hint
                link="://" in visible or "www." in lowered,
                invite=".gg/" in lowered or ".com/" in lowered,
                listed_word=self._listed_in(folded, ()),
            )
        in_visible = _matched(self.regexes, visible_utf8)
        in_folded = in_visible if folded == visible else _matched(self.regexes, folded_utf8)
        moderation_from = len(self.disallowed.patterns)
        hints_from = moderation_from + len(self.moderation.patterns)
        disallowed_pattern = moderation_pattern = False
        # A few numbers at most: a loop costs less than a generator for each question.
        for i in (*in_visible, *in_folded):
            if i < moderation_from:
                disallowed_pattern = True
            elif i < hints_from:
                moderation_pattern = True
        return _Found(
            disallowed_pattern=disallowed_pattern,
            moderation_pattern=moderation_pattern,
            spaced_run=hints_from in in_visible,
            link=hints_from + 1 in in_visible,
            invite=hints_from + 2 in in_visible,
            listed_word=self._listed_in(folded, in_folded),
        )

    def may_list(self, folded: str) -> bool:
        """Whether `folded` may hold a listed word or phrase (False: it surely does not)."""
        found = _matched(self.regexes, folded.encode()) if self.listed_word_id is not None else ()
        return self._listed_in(folded, found)

    def _listed_in(self, folded: str, found: Collection[int]) -> bool:
        """Whether `folded`, in which the set found `found`, may hold a listed word."""
        if not self.has_listed_words:
            return False
        if self.listed_word_id is not None:
            return self.listed_word_id in found
        if self.listed_word_hint is not None:
            return self.listed_word_hint.Match(folded.encode()) is not None
        return True


def _matched(regexes: re2.Set | None, text: bytes) -> Collection[int]:
    """The numbers of the regexes in `regexes` that match UTF-8 `text`."""
    assert regexes is not None
    # A list of a few numbers: `in` on it costs no more than building a set would save.
    return regexes.Match(text) or ()


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
    _scanner: _Scanner = field(init=False, repr=False, compare=False)
    # How far back the flood and duplicate rules look at an author's comments: zero when both
    # are off (then nothing need be read).
    look_back: timedelta = field(init=False, repr=False, compare=False)

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
        scanner = _Scanner.of(
            self._disallowed_patterns, self._moderation_patterns, (disallowed, moderation)
        )
        object.__setattr__(self, "_scanner", scanner)
        look_back = max(
            self.flood_window if self.flood_count is not None else timedelta(0),
            self.duplicate_window or timedelta(0),
        )
        object.__setattr__(self, "look_back", look_back)


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

    visible = strip_invisible(facts.text)  # no lone surrogates left to encode
    folded, visible_utf8, folded_utf8 = normalise_in_utf8(visible)
    # Patterns are tried on the text as written (digits and URLs read as typed) and on its
    # folded form (so a moderator need not think about case, accents or look-alikes).
    found = rules._scanner.scan(visible, folded, visible_utf8, folded_utf8)
    forms = _word_forms(visible, folded, found, rules._scanner)

    if rules._disallowed.matches(forms):
        return Verdict(Outcome.REMOVE, Rule.DISALLOWED_WORD, "contains a disallowed word")
    if found.disallowed_pattern:
        return Verdict(Outcome.REMOVE, Rule.DISALLOWED_PATTERN, "matches a disallowed pattern")
    if rules.max_mentions is not None:
        # Unique users and roles, as Discord AutoMod counts them: one ping repeated is one.
        mentions = len(set(_MENTION.findall(visible)))
        if mentions >= rules.max_mentions:
            return Verdict(Outcome.REMOVE, Rule.MENTIONS, f"{mentions} mentions")

    if rules._moderation.matches(forms):
        return Verdict(Outcome.HOLD, Rule.MODERATION_WORD, "contains a word held for review")
    if found.moderation_pattern:
        return Verdict(Outcome.HOLD, Rule.MODERATION_PATTERN, "matches a pattern held for review")
    if rules.max_links is not None:
        links = len(_LINK.findall(visible)) if found.link else 0
        if links >= rules.max_links:
            return Verdict(Outcome.HOLD, Rule.LINKS, f"{links} links")
    if rules.hold_invites and found.invite and _INVITE.search(visible):
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


def _word_forms(visible: str, folded: str, found: _Found, scanner: _Scanner) -> list[list[str]]:
    # A form the hint finds no listed word in has none: it need not be split into words.
    forms = [words(folded)] if found.listed_word else []
    if found.spaced_run:
        spaced = collapse_spacing(visible)
        if spaced != visible:
            spaced_folded = normalise(spaced)
            if scanner.may_list(spaced_folded):
                forms.append(words(spaced_folded))
    return forms


def _count_recent(facts: CommentFacts, window: timedelta) -> int:
    # Windows are half-open, (now - window, now]: a comment exactly `window` old has left it.
    now = facts.created_at
    start = now - window
    return sum(1 for when, _, _ in facts.recent_by_author if start < when <= now)


def _posted_elsewhere(facts: CommentFacts, folded: str, window: timedelta) -> bool:
    now = facts.created_at
    start = now - window
    thread_id = facts.thread_id
    # The text compared first: it rarely matches, and then nothing else is looked at.
    return any(
        text == folded and other != thread_id and start < when <= now
        for when, other, text in facts.recent_by_author
    )
