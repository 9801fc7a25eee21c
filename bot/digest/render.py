"""How a digest reads: as a Discord embed, as plain text for the command line, and as JSON.

The embed is a plain dict for `discord.Embed.from_dict`, kept within every embed limit; the
footer carries a marker naming the period, by which a posted digest is found again. The week
so far (a partial period) says "so far" in every rendering and carries no marker: it is only
ever previewed, never posted. Pure functions, no I/O.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from bot.digest.content import DigestContent
from bot.digest.period import Period, days
from bot.discord_helpers import jump_url
from bot.discord_text import (
    ELLIPSIS,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_NAME_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_FIELDS_LIMIT,
    EMBED_FOOTER_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    escape_title,
)
from bot.store.digest import Commenter

# What each list field may use at first: seven fields of 700 leave room for the rest in 6000.
_FIELD_BUDGET = 700
# How many new posts are named at most; the rest are "and N more".
_NEW_POSTS_SHOWN = 10
_COLOUR = 0x5865F2  # Discord blurple: reads on both themes
CHART_FILENAME = "comments-per-day.png"
MINUS = "\u2212"  # a real minus sign: a hyphen looks like a dash next to numbers
EN_DASH = "\u2013"
QUIET_WEEK = "A quiet week: no new posts and no comments."
QUIET_SO_FAR = "A quiet week so far: no new posts and no comments."
SO_FAR = "so far"
# Ids in the JSON: Discord's are strings, as in `threadbridge export` (JavaScript cannot hold
# them as numbers); the store's own (posts, comments) stay integers, as the export's post and
# comment `id`s do. A commenter's `author_id` is their Discord id, as in the export.
DISCORD_ID_KEYS = frozenset({"guild_id", "thread_id", "message_id", "channel_id", "author_id"})


# -- small formatting ------------------------------------------------------------------------


def format_change(current: int, before: int) -> str:
    """The change from `before` to `current`: "+12 (+40%)", "(minus)3 (minus 10%)", "new", ...

    A real minus sign (U+2212), since a hyphen reads as a dash next to numbers.
    """
    if before == 0:
        return "no change" if current == 0 else "new"
    delta = current - before
    if delta == 0:
        return "no change"
    percent = round(delta * 100 / before)
    sign = "+" if delta > 0 else MINUS
    return f"{sign}{abs(delta)} ({sign}{abs(percent)}%)"


def format_age(age: timedelta) -> str:
    """A short human age: "3 d 4 h", "5 h 10 min", "12 min"."""
    minutes = int(age.total_seconds() // 60)
    day_count, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if day_count:
        return f"{day_count} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def period_label(period: Period) -> str:
    """The first and last local days, "3 Nov to 9 Nov 2026" with a dash (the end is exclusive)."""
    all_days = days(period)
    first, last = all_days[0], all_days[-1]
    if first == last:
        return f"{first.day} {first:%b %Y}"
    head = f"{first.day} {first:%b}" if first.year == last.year else f"{first.day} {first:%b %Y}"
    return f"{head} {EN_DASH} {last.day} {last:%b %Y}"


def _compared_with(content: DigestContent) -> str:
    """What the change is measured against, for a sentence ending "... on {this}"."""
    return "the same time last week" if content.partial else "the period before"


def _up_to(content: DigestContent) -> str:
    """When a partial period ends, in its own time: "Wed 2 Dec 14:05"."""
    end = content.period.end.astimezone(content.period.tz)
    return f"{end:%a} {end.day} {end:%b %H:%M}"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _safe(text: str, limit: int) -> str:
    """User text for markdown, one line: escaped, mentions broken, at most about `limit`."""
    escaped = escape_title(_short(text, limit))
    # A trailing lone backslash from a cut escape would eat the next character.
    return escaped[:-1] if escaped.endswith("\\") and not escaped.endswith("\\\\") else escaped


def _link(label: str, guild_id: int, thread_id: int | None, message_id: int | None = None) -> str:
    if thread_id is None:
        return label
    return f"[{label}]({jump_url(guild_id, thread_id, message_id)})"


def fit_lines(lines: list[str], budget: int, *, hidden: int = 0, empty: str = "None.") -> str:
    """As many whole lines as fit in `budget` characters, then "and N more" for the rest.

    `hidden` counts items already left out before `lines` (they are part of N).
    """
    if not lines:
        return f"and {hidden} more" if hidden else empty
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        left = len(lines) - index - 1 + hidden
        tail = len(f"\nand {left} more") if left else 0
        cost = len(line) + (1 if kept else 0)
        if used + cost + tail <= budget:
            kept.append(line)
            used += cost
            continue
        remaining = len(lines) - len(kept) + hidden
        more = f"and {remaining} more"
        # Drop shown lines until the notice fits too (a single huge line becomes the notice).
        while kept and used + 1 + len(more) > budget:
            used -= len(kept.pop()) + (1 if kept else 0)
            remaining += 1
            more = f"and {remaining} more"
        kept.append(more)
        return "\n".join(kept)
    if hidden:
        kept.append(f"and {hidden} more")
    return "\n".join(kept)


# -- the sections, as lines ------------------------------------------------------------------


def _post_lines(content: DigestContent) -> list[str]:
    return [
        "• " + _link(_safe(post.title, 120) or "Untitled post", content.guild_id, post.thread_id)
        for post in content.new_posts
    ]


def _discussed_lines(content: DigestContent) -> list[str]:
    return [
        f"• {_link(_safe(post.title, 100) or 'Untitled post', content.guild_id, post.thread_id)}"
        f" — {post.comments} comment{'s' if post.comments != 1 else ''}"
        for post in content.most_discussed
    ]


def _liked_lines(content: DigestContent) -> list[str]:
    lines = []
    for comment in content.most_liked:
        words = _safe(comment.body, 80) or "(no text)"
        label = f"“{words}”"
        lines.append(
            f"• {_link(label, content.guild_id, comment.thread_id, comment.message_id)}"
            f" — **{_safe(comment.author_name, 40)}**, {comment.reactions} reaction"
            f"{'s' if comment.reactions != 1 else ''}"
        )
    return lines


def _commenter_lines(people: tuple[Commenter, ...]) -> list[str]:
    return [
        f"• **{_safe(person.name, 40)}** — {person.comments} comment"
        f"{'s' if person.comments != 1 else ''}"
        for person in people
    ]


def _plain(text: str, limit: int) -> str:
    return _short(text, limit)


def _moderation_lines(content: DigestContent, safe: Callable[[str, int], str] = _safe) -> list[str]:
    moderation = content.moderation
    lines = [
        f"Held {moderation.held} · approved {moderation.approved} · removed {moderation.removed}",
    ]
    queue = moderation.queue
    if queue.size and moderation.oldest_age is not None:
        lines.append(
            f"Review queue: {queue.size} waiting, oldest {format_age(moderation.oldest_age)}"
        )
    else:
        lines.append("Review queue: empty")
    if moderation.cases_by_action:
        cases = ", ".join(
            f"{safe(action, 30)} {count}" for action, count in moderation.cases_by_action.items()
        )
        lines.append(f"Cases: {cases}")
    if moderation.top_rules:
        rules = ", ".join(
            f"{safe(rule.replace('_', ' '), 40)} ({count})" for rule, count in moderation.top_rules
        )
        lines.append(f"Top rules: {rules}")
    return lines


def _health_lines(content: DigestContent, safe: Callable[[str, int], str] = _safe) -> list[str]:
    health = content.health
    lines = [
        f"Mirrors failed {health.mirrors_failed} · broken {health.mirrors_broken}",
        f"Catch-ups run: {health.catchups_run} · 429s seen: {health.rate_limits_seen}",
    ]
    if health.feed_errors:
        lines.append(f"Feeds with errors: {len(health.feed_errors)}")
        lines.extend(
            f"• {safe(feed.url, 80)} — {feed.consecutive_errors} in a row"
            for feed in health.feed_errors
        )
    else:
        lines.append("Feeds: no errors")
    return lines


def _summary(content: DigestContent) -> str:
    if content.is_quiet:
        summary = QUIET_SO_FAR if content.partial else QUIET_WEEK
        if content.previous_comments:
            summary += f" ({content.previous_comments} {_compared_with(content)}.)"
        return summary
    change = format_change(content.comments, content.previous_comments)
    lines = [
        f"**New posts:** {len(content.new_posts)}",
        f"**Comments:** {content.comments} · {change} on {_compared_with(content)}",
        f"**New commenters:** {content.new_commenters_total}",
    ]
    return "\n".join(lines)


# -- renderings ------------------------------------------------------------------------------


_MARKER_RE = re.compile(r"\bthreadbridge digest (\d{4}-\d{2}-\d{2})\b")


def digest_marker(period: Period) -> str:
    """The text a posted digest carries in its footer, naming its period's first local day.

    A crash between posting and `mark_posted` leaves the record pending: before posting again,
    the poster can look for this marker in the channel's recent messages.
    """
    return f"threadbridge digest {days(period)[0].isoformat()}"


def find_digest_marker(text: str | None) -> date | None:
    """The first day of the period named by a digest footer, or None."""
    match = _MARKER_RE.search(text or "")
    return date.fromisoformat(match.group(1)) if match else None


def digest_title(content: DigestContent) -> str:
    label = period_label(content.period)
    return f"Digest: {label}, {SO_FAR}" if content.partial else f"Digest: {label}"


def digest_footer(content: DigestContent) -> str:
    """Where times are read, then the marker of a postable digest or, for the week so far, the
    moment it runs to (a partial digest is never posted, so it carries no marker)."""
    tz = content.period.tz.key
    if content.partial:
        return f"Times in {tz} · week {SO_FAR}, up to {_up_to(content)}"
    return f"Times in {tz} · {digest_marker(content.period)}"


def _embed_size(embed: dict[str, Any]) -> int:
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += len(embed.get("footer", {}).get("text", ""))
    size += len(embed.get("author", {}).get("name", ""))
    for field in embed.get("fields", []):
        size += len(field["name"]) + len(field["value"])
    return size


def digest_embed_dict(
    content: DigestContent, *, chart: str | None = CHART_FILENAME
) -> dict[str, Any]:
    """The digest as Discord embed JSON, within every embed limit.

    `chart` names the attached PNG shown as the embed's image (None: no image).
    """
    # (name, lines, text when empty, most lines shown before "and N more")
    sections: list[tuple[str, list[str], str, int | None]] = []
    if not content.is_quiet:
        sections += [
            (
                f"New posts ({len(content.new_posts)})",
                _post_lines(content),
                "None this time.",
                _NEW_POSTS_SHOWN,
            ),
            ("Most discussed", _discussed_lines(content), "No comments.", None),
            ("Most liked comments", _liked_lines(content), "No reactions.", None),
            ("Most active commenters", _commenter_lines(content.most_active), "Nobody.", None),
            (
                f"New commenters ({content.new_commenters_total})",
                _commenter_lines(content.new_commenters),
                "Nobody new.",
                None,
            ),
        ]
    sections += [
        ("Moderation", _moderation_lines(content), "Nothing.", None),
        ("Health", _health_lines(content), "Nothing.", None),
    ]
    # Lists cut to their caps can only end with "and N more" if the true total is known, which
    # is the case for new posts (all fetched); the top-N lists are tops, not truncations.
    budget = _FIELD_BUDGET
    while True:
        fields = []
        for name, lines, empty, cap in sections[:EMBED_FIELDS_LIMIT]:
            hidden = 0
            if cap is not None and len(lines) > cap:
                lines, hidden = lines[:cap], len(lines) - cap
            value = fit_lines(
                lines, min(budget, EMBED_FIELD_VALUE_LIMIT), hidden=hidden, empty=empty
            )
            fields.append({"name": name[:EMBED_FIELD_NAME_LIMIT], "value": value, "inline": False})
        embed: dict[str, Any] = {
            "title": digest_title(content)[:EMBED_TITLE_LIMIT],
            "description": _summary(content)[:EMBED_DESCRIPTION_LIMIT],
            "color": _COLOUR,
            "fields": fields,
            "footer": {"text": digest_footer(content)[:EMBED_FOOTER_LIMIT]},
        }
        if chart is not None:
            embed["image"] = {"url": f"attachment://{chart}"}
        # Defensive: the budgets above keep well under the total, but halve them if not.
        if _embed_size(embed) <= EMBED_TOTAL_LIMIT or budget <= 64:
            return embed
        budget //= 2


def digest_text(content: DigestContent) -> str:
    """The digest as plain text for the command line: every item, no markdown."""
    period = content.period
    so_far = f", {SO_FAR}" if content.partial else ""
    lines = [
        f"Digest {period_label(period)}{so_far} ({period.tz.key})",
        f"{period.start.isoformat()} to {period.end.isoformat()}"
        + (f" (now: the week {SO_FAR}, not complete)" if content.partial else ""),
        "",
    ]
    if content.is_quiet:
        lines.append(QUIET_SO_FAR if content.partial else QUIET_WEEK)
    lines.append(f"New posts: {len(content.new_posts)}")
    lines += [f"  - {' '.join(post.title.split())}" for post in content.new_posts]
    change = format_change(content.comments, content.previous_comments)
    lines.append(
        f"Comments: {content.comments} ({change}; {content.previous_comments} "
        f"{'by the same time last week' if content.partial else 'before'})"
    )
    lines.append("Per day: " + ", ".join(f"{day:%a} {count}" for day, count in content.per_day))
    lines.append("Most discussed:")
    lines += [f"  - {' '.join(p.title.split())}: {p.comments}" for p in content.most_discussed] or [
        "  (none)"
    ]
    lines.append("Most liked comments:")
    lines += [
        f"  - {c.author_name}: {_short(c.body, 80)!r} ({c.reactions})" for c in content.most_liked
    ] or ["  (none)"]
    lines.append("Most active commenters:")
    lines += [f"  - {p.name}: {p.comments}" for p in content.most_active] or ["  (none)"]
    lines.append(f"New commenters: {content.new_commenters_total}")
    lines += [f"  - {p.name}: {p.comments}" for p in content.new_commenters]
    lines.append("Moderation:")
    lines += ["  " + line for line in _moderation_lines(content, _plain)]
    lines.append("Health:")
    lines += ["  " + line for line in _health_lines(content, _plain)]
    return "\n".join(lines) + "\n"


def _jsonable(value: Any, key: str | None = None) -> Any:
    """`value` as JSON-ready data; `key` is the name it goes under, for Discord ids."""
    if key in DISCORD_ID_KEYS and isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(name): _jsonable(item, str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _commenter_json(person: Commenter) -> dict[str, Any]:
    """A commenter named as the export names a comment's author: `author_id` is the Discord
    user's id (None for a web commenter), not the store's row."""
    return {"author_id": person.user_id, "name": person.name, "comments": person.comments}


def digest_json(content: DigestContent) -> dict[str, Any]:
    """The digest as JSON-ready data (dates and times as ISO-8601, ages in seconds, Discord ids
    as strings). `partial` is true for the week so far, whose period ends at the moment it was
    built and is compared with the same stretch of the week before."""
    data: dict[str, Any] = {}
    for field in dataclasses.fields(content):
        value = getattr(content, field.name)
        if isinstance(value, Period):
            value = {"start": value.start, "end": value.end, "partial": value.partial}
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        elif isinstance(value, tuple):
            value = [
                _commenter_json(item)
                if isinstance(item, Commenter)
                else dataclasses.asdict(item)
                if dataclasses.is_dataclass(item) and not isinstance(item, type)
                else item
                for item in value
            ]
        data[field.name] = _jsonable(value, field.name)
    data["timezone"] = content.period.tz.key
    data["comments_change"] = format_change(content.comments, content.previous_comments)
    data["quiet"] = content.is_quiet
    data["partial"] = content.partial
    return data
