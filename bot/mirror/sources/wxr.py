"""Reading WordPress eXtended RSS (WXR) exports: published posts with their approved comments.

A post is known by its wp:post_id on its blog (source `wxr:<blog address>`, external id
`wp:<post id>`), as WordPress knows it: guids are not unique, even within one export.
"""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from bot.mirror.sources import feed
from bot.store.models import SourceComment, SourcePost

# WordPress writes http://wordpress.org/export/1.2/, WordPress.com the same under https; the
# wp namespace is whichever of them a document declares.
_WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.\d+/$")
_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_DC_NS = "http://purl.org/dc/elements/1.1/"
# Exporters declare the wp namespace on the root element, so the start of a file tells.
_WXR_SNIFF = re.compile(rb"xmlns:\w+\s*=\s*[\"']https?://wordpress\.org/export/1\.\d+/[\"']")
_SNIFF_BYTES = 64 * 1024

_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_BLOCK_TAG = re.compile(
    r"<(p|div|ul|ol|li|blockquote|pre|h[1-6]|table|figure|hr|section|article)\b|<!--\s*wp:",
    re.IGNORECASE,
)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_XML_INVALID_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EMPTY_DATE = "0000-00-00 00:00:00"


class WxrError(Exception):
    """A file could not be read as a WordPress export; str(error) is meant for operators."""


# Why an item or a comment is left out, in the order the import's summary gives them.
NOT_POSTS = "not posts"
PAGES = "add --pages to import them"
NOT_PUBLISHED = "not published"
NOT_PUBLIC = "not public"
NO_ID = "no wp:post_id to know them by"
NOT_COMMENTS = "not comments"
NOT_APPROVED = "not approved"
_REASONS = (NOT_POSTS, PAGES, NOT_PUBLISHED, NOT_PUBLIC, NO_ID, NOT_COMMENTS, NOT_APPROVED)

_TYPE_KINDS = {"attachment": "attachment", "nav_menu_item": "menu item"}
_STATUS_WORDS = {"pending": "pending", "future": "scheduled", "trash": "trashed"}
_COMMENT_APPROVAL_KINDS = {
    "0": "unapproved comment",
    "spam": "spam comment",
    "trash": "trashed comment",
}

# How many items (or comments) of each kind were left out, by (kind, why).
Skipped = Counter[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class SourceContents:
    """What an import source holds: the posts to import, and what was left out and why."""

    posts: list[SourcePost]
    skipped_items: Skipped = field(default_factory=Counter)
    skipped_comments: Skipped = field(default_factory=Counter)
    # The keys an earlier import may have stored a skipped item under (a page imported with
    # --pages, a password-protected post imported before they were skipped).
    skipped_keys: tuple[tuple[str, str], ...] = ()


def describe_skipped(skipped: Skipped, what: str) -> str | None:
    """One line for operators, e.g. 'skipped 3 item(s): 2 attachment(s) (not posts); ...'."""
    total = sum(skipped.values())
    if not total:
        return None
    groups = []
    for reason in sorted({reason for _kind, reason in skipped}, key=_REASONS.index):
        kinds = sorted(
            ((count, kind) for (kind, why), count in skipped.items() if why == reason),
            key=lambda pair: (-pair[0], pair[1]),
        )
        groups.append(", ".join(f"{count} {kind}(s)" for count, kind in kinds) + f" ({reason})")
    return f"skipped {total} {what}(s): " + "; ".join(groups)


def read_source(data: bytes, *, source_hint: str, pages: bool = False) -> SourceContents:
    """The posts of a WordPress export or of a plain RSS/Atom feed, whichever data is.

    Raises WxrError for a broken export and feed.FeedError for anything else unreadable.
    """
    if is_wxr(data):
        # Before the https namespace was known, such exports were read as feeds.
        return read_wxr(data, pages=pages, former_sources=(f"feed:{source_hint}",))
    base_url = source_hint if feed.absolute_http_url(source_hint) else None
    return SourceContents(feed.parse_feed(data, source=f"feed:{source_hint}", base_url=base_url))


def is_wxr(data: bytes) -> bool:
    """Whether data looks like a WordPress export (an <rss> root declaring the wp namespace)."""
    return _WXR_SNIFF.search(data[:_SNIFF_BYTES]) is not None


def parse_wxr(data: bytes, *, source: str | None = None) -> list[SourcePost]:
    """The published posts of a WXR export, oldest first, each with its approved comments."""
    return read_wxr(data, source=source).posts


def read_wxr(
    data: bytes,
    *,
    source: str | None = None,
    pages: bool = False,
    former_sources: tuple[str, ...] = (),
) -> SourceContents:
    """What of a WXR export WordPress shows as public posts (and pages, if asked), oldest
    first, each with its approved comments; and what was left out.

    Left out: other types (attachments, menu items...), items not published (drafts, scheduled,
    pending, trashed) or not public (private, password-protected); pingbacks, trackbacks and
    comments not approved. `former_sources` are further sources an earlier version may have
    stored the export's posts under, by guid (see SourcePost.former_keys).
    """
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # WordPress writes stray control characters from comments into its exports, which makes
        # them invalid XML. In UTF-8 and single-byte encodings these bytes are only ever those
        # characters, so dropping them is safe.
        data = _XML_INVALID_BYTES.sub(b"", data)
    try:
        root, declared = _parse(data)
    except defusedxml.DefusedXmlException as error:
        raise WxrError(f"refusing to read the export: {type(error).__name__} ({error})") from None
    except (ParseError, ValueError, LookupError) as error:
        raise WxrError(f"not a WordPress export: not well-formed XML ({error})") from None

    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise WxrError(f"not a WordPress export: root element is <{root.tag}>, not <rss><channel>")
    wp = _wp_namespace(declared)
    if wp is None:
        raise WxrError("not a WordPress export: no wp: elements (is it a plain feed?)")

    site_url = _text(channel, "link") or _text(channel, f"{{{wp}}}base_site_url")
    # Until posts were known by their id, they were stored by guid under the site's host.
    guid_source = source or f"wxr:{_host(site_url) or 'unknown'}"
    if source is None:
        source = f"wxr:{_blog(channel, wp) or 'unknown'}"

    # dc:creator holds the author's login; readers know them by their display name.
    display_names = {
        _text(author, f"{{{wp}}}author_login"): _text(author, f"{{{wp}}}author_display_name")
        for author in channel.findall(f"{{{wp}}}author")
    }
    post_types = ("post", "page") if pages else ("post",)
    posts: list[tuple[int, SourcePost]] = []
    skipped_items: Skipped = Counter()
    skipped_comments: Skipped = Counter()
    skipped_keys: list[tuple[str, str]] = []
    for index, item in enumerate(channel.findall("item")):
        post_id = _text(item, f"{{{wp}}}post_id")
        guid = feed.collapse_whitespace(_text(item, "guid"))
        keys = [(source, f"wp:{post_id}")] if post_id else []
        if guid:
            keys += [(guid_source, guid), *((former, guid) for former in former_sources)]
        keys = list(dict.fromkeys(keys))
        skip = _skip_reason(item, wp=wp, post_types=post_types)
        if skip is not None:
            skipped_items[skip] += 1
            skipped_keys += keys
            continue
        post = _post(
            item,
            wp=wp,
            source=source,
            site_url=site_url,
            display_names=display_names,
            skipped_comments=skipped_comments,
        )
        former_keys = tuple(key for key in keys if key != (source, post.external_id))
        posts.append((index, replace(post, former_keys=former_keys)))
    floor = datetime.min.replace(tzinfo=UTC)
    posts.sort(key=lambda pair: (pair[1].published_at or floor, pair[0]))
    return SourceContents(
        posts=[post for _index, post in posts],
        skipped_items=skipped_items,
        skipped_comments=skipped_comments,
        skipped_keys=tuple(dict.fromkeys(skipped_keys)),
    )


def _skip_reason(item: Element, *, wp: str, post_types: tuple[str, ...]) -> tuple[str, str] | None:
    """Why WordPress would not show this item as a post (or page), as (kind, why); None if it
    would."""
    post_type = _text(item, f"{{{wp}}}post_type")
    if post_type not in ("post", "page"):
        return _TYPE_KINDS.get(post_type, f"'{post_type}' item"), NOT_POSTS
    noun = post_type
    status = _text(item, f"{{{wp}}}status")
    if status in ("draft", "auto-draft"):
        return "draft", NOT_PUBLISHED
    if status == "private":
        return f"private {noun}", NOT_PUBLIC
    if status != "publish":
        return f"{_STATUS_WORDS.get(status, repr(status))} {noun}", NOT_PUBLISHED
    if _text(item, f"{{{wp}}}post_password"):
        return f"password-protected {noun}", NOT_PUBLIC
    if post_type not in post_types:
        return "page", PAGES
    if not _text(item, f"{{{wp}}}post_id"):
        return f"{noun} without an id", NO_ID
    return None


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _blog(channel: Element, wp: str) -> str | None:
    """The blog's address without its scheme, e.g. example.org or example.net/chess.

    base_blog_url first: in a network of blogs (and on WordPress.com) base_site_url is the
    network's address, the same for all its blogs, whose post ids overlap.
    """
    for path in (f"{{{wp}}}base_blog_url", "link", f"{{{wp}}}base_site_url"):
        url = _text(channel, path)
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            continue
        if host:
            return host + parts.path.rstrip("/")
    return None


def _parse(data: bytes) -> tuple[Element, list[tuple[str, str]]]:
    """The document's root, and its namespace declarations (prefix, URI) in document order."""
    declared: list[tuple[str, str]] = []
    root: Element | None = None
    for event, value in defusedxml.ElementTree.iterparse(
        io.BytesIO(data), events=("start-ns", "start")
    ):
        if event == "start-ns":
            declared.append(value)
        elif root is None:
            root = value
    if root is None:  # iterparse raises on an empty document; this is for the type checker
        raise ParseError("no element found")
    return root, declared


def _wp_namespace(declared: list[tuple[str, str]]) -> str | None:
    """The WordPress export namespace the document declares, preferring the usual wp prefix."""
    matching = [(prefix, uri) for prefix, uri in declared if _WP_NAMESPACE.match(uri)]
    for prefix, uri in matching:
        if prefix == "wp":
            return uri
    return matching[0][1] if matching else None


def _text(element: Element, path: str) -> str:
    found = element.find(path)
    if found is None or found.text is None:
        return ""
    return feed.clean_text(found.text).strip()


def _post(
    item: Element,
    *,
    wp: str,
    source: str,
    site_url: str,
    display_names: dict[str, str],
    skipped_comments: Skipped,
) -> SourcePost:
    url = feed.absolute_http_url(_text(item, "link"), site_url)
    external_id = f"wp:{_text(item, f'{{{wp}}}post_id')}"
    content_html = text_to_html(_text(item, f"{{{_CONTENT_NS}}}encoded"))
    image_url = None
    for candidate in feed.image_sources(content_html):
        image_url = feed.absolute_http_url(candidate, url, site_url)
        if image_url:
            break
    published_at = _wp_date(_text(item, f"{{{wp}}}post_date_gmt")) or _rfc822_date(
        _text(item, "pubDate")
    )
    return SourcePost(
        source=source,
        external_id=external_id,
        title=feed.collapse_whitespace(feed.strip_html(_text(item, "title"))),
        url=url,
        author_name=_author_name(_text(item, f"{{{_DC_NS}}}creator"), display_names),
        content_html=content_html,
        image_url=image_url,
        categories=feed.unique_nonempty(
            # Term names are stored HTML-escaped, like comment authors.
            feed.collapse_whitespace(feed.clean_text(html.unescape(category.text or "")))
            for category in item.findall("category")
            if category.get("domain") == "category"
        ),
        published_at=published_at,
        updated_at=_wp_date(_text(item, f"{{{wp}}}post_modified_gmt")),
        # Closed on the site: its thread is locked. Comments made before stay, as they do there.
        comments_closed=_text(item, f"{{{wp}}}comment_status") == "closed",
        comments=_comments(item, wp=wp, fallback_date=published_at, skipped=skipped_comments),
    )


def _author_name(login: str, display_names: dict[str, str]) -> str | None:
    name = feed.collapse_whitespace(display_names.get(login) or login)
    return name or None


def _comments(
    item: Element, *, wp: str, fallback_date: datetime | None, skipped: Skipped
) -> tuple[SourceComment, ...]:
    """The comments WordPress shows under the post: approved ones, not pingbacks or trackbacks
    (those left out are counted in `skipped`)."""
    parents: dict[str, str] = {}
    approved: list[Element] = []
    for element in item.findall(f"{{{wp}}}comment"):
        comment_id = _text(element, f"{{{wp}}}comment_id")
        if not comment_id:
            continue
        parents[comment_id] = _text(element, f"{{{wp}}}comment_parent")
        approved_flag = _text(element, f"{{{wp}}}comment_approved")
        kind = _text(element, f"{{{wp}}}comment_type")
        if kind not in ("", "comment"):
            skipped[kind, NOT_COMMENTS] += 1
        elif approved_flag != "1":
            label = _COMMENT_APPROVAL_KINDS.get(approved_flag, f"'{approved_flag}' comment")
            skipped[label, NOT_APPROVED] += 1
        else:
            approved.append(element)
    kept_ids = {_text(element, f"{{{wp}}}comment_id") for element in approved}

    comments: list[SourceComment] = []
    for element in approved:
        comment_id = _text(element, f"{{{wp}}}comment_id")
        created_at = (
            _wp_date(_text(element, f"{{{wp}}}comment_date_gmt"))
            # comment_date is the site's local time; when the GMT one is missing it is the
            # closest thing we have.
            or _wp_date(_text(element, f"{{{wp}}}comment_date"))
            or fallback_date
        )
        if created_at is None:
            continue
        # WordPress stores comment author names HTML-escaped ("Tom &amp; Jerry").
        author = feed.collapse_whitespace(html.unescape(_text(element, f"{{{wp}}}comment_author")))
        comments.append(
            SourceComment(
                external_id=comment_id,
                # WordPress shows a comment without an author name as by "Anonymous".
                author_name=author or "Anonymous",
                content_html=text_to_html(_text(element, f"{{{wp}}}comment_content")),
                created_at=created_at,
                parent_external_id=_approved_ancestor(
                    parents.get(comment_id, ""), parents=parents, kept=kept_ids
                ),
                author_email=_text(element, f"{{{wp}}}comment_author_email") or None,
                author_url=_text(element, f"{{{wp}}}comment_author_url") or None,
            )
        )
    comments.sort(key=lambda comment: (comment.created_at, _id_order(comment.external_id)))
    return tuple(comments)


def _approved_ancestor(parent: str, *, parents: dict[str, str], kept: set[str]) -> str | None:
    """The nearest imported ancestor, so a reply to a spam or held comment never dangles."""
    seen: set[str] = set()
    while parent and parent != "0" and parent not in seen:
        if parent in kept:
            return parent
        seen.add(parent)
        parent = parents.get(parent, "")
    return None


def _id_order(comment_id: str) -> tuple[int, int, str]:
    numeric = comment_id.isascii() and comment_id.isdigit()
    return (0, int(comment_id), "") if numeric else (1, 0, comment_id)


def _wp_date(value: str) -> datetime | None:
    if not value or value == _EMPTY_DATE:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _rfc822_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        # RFC 2822 "-0000" means UTC with no claim about the local zone.
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def text_to_html(text: str) -> str:
    """WordPress-stored text as HTML: paragraphs on blank lines, <br> on single newlines.

    WordPress keeps comments (and classic-editor posts) as text with newlines and adds the
    markup only when displaying them. Text that has no markup at all is escaped; text that
    already has block markup (Gutenberg posts, <p>) is returned as it is.
    """
    text = text.strip()
    if not text:
        return ""
    if _BLOCK_TAG.search(text):
        return text
    if not _HTML_TAG.search(text):
        text = html.escape(text, quote=False)
    paragraphs = [part.strip() for part in _PARAGRAPH_BREAK.split(text) if part.strip()]
    return "\n".join(
        "<p>" + "<br>\n".join(line.strip() for line in part.split("\n")) + "</p>"
        for part in paragraphs
    )
