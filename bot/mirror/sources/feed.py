"""Fetching RSS/Atom feeds over HTTP and reading their entries into SourcePosts."""

from __future__ import annotations

import hashlib
import html
import io
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.sax import SAXParseException

import aiohttp
import feedparser

from bot import __version__
from bot.store.models import SourcePost

USER_AGENT = f"threadbridge/{__version__} (+feed mirror)"
MAX_FEED_BYTES = 10 * 1024 * 1024
_CHUNK_BYTES = 64 * 1024
_MAX_REASON_CHARS = 300

# C0 controls except \t and \n (\r is folded into \n first), plus DEL.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_HTTP_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one HTTP fetch of a feed returned."""

    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    url: str


class FeedError(Exception):
    """A feed could not be fetched or read; str(error) is meant for operators."""


# --- text helpers (also used by the WXR reader) ---------------------------------------


def clean_text(text: str) -> str:
    """Drop control characters that break storage and rendering; keep \\n, \\t and all others."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub("", text)


def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_html(fragment: str) -> str:
    """The text of an HTML fragment, with entities decoded."""
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts)


class _ImageFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            for name, value in attrs:
                if name == "src" and value and value.strip():
                    self.sources.append(value.strip())


def image_sources(fragment: str) -> list[str]:
    """The src of every <img> in an HTML fragment, in document order."""
    finder = _ImageFinder()
    finder.feed(fragment)
    finder.close()
    return finder.sources


def absolute_http_url(url: str | None, *bases: str | None) -> str | None:
    """url made absolute against the first usable base; None unless it ends up http(s).

    Anything else (javascript:, data:, a still-relative path) is useless or harmful as a link
    in Discord, so it is dropped rather than passed on.
    """
    url = collapse_whitespace(clean_text(url or ""))
    if not url:
        return None
    try:
        for base in bases:
            if base and urlsplit(base).scheme.lower() in _HTTP_SCHEMES:
                url = urljoin(base, url)
                break
        parts = urlsplit(url)
    except ValueError:  # e.g. a broken IPv6 host: one bad link must not sink the whole feed
        return None
    if parts.scheme.lower() not in _HTTP_SCHEMES or not parts.netloc:
        return None
    return url


def _short_reason(error: object) -> str:
    if isinstance(error, SAXParseException):
        # Its str() starts with "<unknown>:line:col:", which means nothing to an operator.
        line, column = error.getLineNumber(), error.getColumnNumber()
        error = f"{error.getMessage()} at line {line}, column {column}"
    reason = collapse_whitespace(clean_text(str(error))) or type(error).__name__
    if len(reason) > _MAX_REASON_CHARS:
        reason = reason[: _MAX_REASON_CHARS - 1] + "…"
    return reason


# --- fetching -----------------------------------------------------------------------


def _describe_size(max_bytes: int) -> str:
    mib = 1024 * 1024
    if max_bytes >= mib and max_bytes % mib == 0:
        return f"{max_bytes // mib} MB"
    return f"{max_bytes} bytes"


async def fetch_feed(
    session: aiohttp.ClientSession,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 30.0,
    max_bytes: int = MAX_FEED_BYTES,
) -> FetchResult:
    """GET a feed, conditionally when etag/last_modified from the previous fetch are given."""
    try:
        scheme = urlsplit(url).scheme.lower()
        has_host = bool(urlsplit(url).hostname)
    except ValueError as error:
        raise FeedError(f"invalid feed URL {url!r}: {_short_reason(error)}") from None
    if scheme not in _HTTP_SCHEMES or not has_host:
        raise FeedError(
            f"refusing to fetch {url!r}: only http:// and https:// feed URLs are allowed"
        )

    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
        "text/xml;q=0.9, */*;q=0.5",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    too_large = f"feed at {url} is larger than {_describe_size(max_bytes)}"

    try:
        async with session.get(
            url,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=True,
            max_redirects=10,
        ) as response:
            final_url = str(response.url)
            new_etag = response.headers.get("ETag")
            new_last_modified = response.headers.get("Last-Modified")
            if response.status == 304:
                # A 304 may omit the validators; the ones we sent are still the current ones.
                return FetchResult(
                    status=304,
                    body=None,
                    etag=new_etag or etag,
                    last_modified=new_last_modified or last_modified,
                    url=final_url,
                )
            if not 200 <= response.status < 300:
                reason = response.reason or ""
                raise FeedError(f"feed at {url} answered HTTP {response.status} {reason}".rstrip())
            if response.content_length is not None and response.content_length > max_bytes:
                raise FeedError(too_large)
            body = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
                body += chunk
                if len(body) > max_bytes:
                    raise FeedError(too_large)
            return FetchResult(
                status=response.status,
                body=bytes(body),
                etag=new_etag,
                last_modified=new_last_modified,
                url=final_url,
            )
    except FeedError:
        raise
    except TimeoutError:
        # aiohttp's own timeout errors subclass TimeoutError, so this catches them too.
        raise FeedError(f"timed out after {timeout:g} s fetching {url}") from None
    except aiohttp.TooManyRedirects:
        raise FeedError(f"too many redirects fetching {url}") from None
    except aiohttp.ClientConnectorError as error:
        raise FeedError(f"could not connect to fetch {url}: {_short_reason(error)}") from None
    except aiohttp.ClientResponseError as error:
        raise FeedError(
            f"fetching {url} failed: HTTP {error.status} {_short_reason(error.message)}"
        ) from None
    except (aiohttp.ClientError, ValueError) as error:
        raise FeedError(
            f"fetching {url} failed: {type(error).__name__}: {_short_reason(error)}"
        ) from None


# --- parsing ------------------------------------------------------------------------


def parse_feed(body: bytes, *, source: str, base_url: str | None = None) -> list[SourcePost]:
    """Posts of an RSS/Atom document, oldest first; warnings about malformed input are dropped."""
    posts, _warnings = parse_feed_with_warnings(body, source=source, base_url=base_url)
    return posts


def parse_feed_with_warnings(
    body: bytes, *, source: str, base_url: str | None = None
) -> tuple[list[SourcePost], list[str]]:
    """Posts of an RSS/Atom document, oldest first, and what was wrong with it if it was sloppy."""
    if not body or not body.strip():
        raise FeedError("not a feed: the document is empty")
    try:
        parsed = feedparser.parse(
            # A bytes object could be taken for a local file name by feedparser; a stream can't.
            io.BytesIO(body),
            response_headers=_response_headers(base_url),
            resolve_relative_uris=True,
            sanitize_html=True,
        )
    except Exception as error:  # feedparser has no narrow failure type; the caller needs one
        raise FeedError(
            f"could not read feed: {type(error).__name__}: {_short_reason(error)}"
        ) from None

    entries = list(parsed.get("entries") or [])
    warnings: list[str] = []
    if parsed.get("bozo"):
        reason = _short_reason(parsed.get("bozo_exception") or "malformed document")
        if not entries:
            raise FeedError(f"not a feed: {reason}")
        warnings.append(f"malformed feed, {len(entries)} entries recovered: {reason}")
    elif not entries and not parsed.get("version"):
        raise FeedError("not a feed: no RSS or Atom elements found")

    try:
        posts = _posts_from_entries(entries, source=source, base_url=base_url)
    except FeedError:
        raise
    except Exception as error:  # a malformed entry must not escape as an unexpected type
        raise FeedError(
            f"could not read feed entries: {type(error).__name__}: {_short_reason(error)}"
        ) from None
    return posts, warnings


def _response_headers(base_url: str | None) -> dict[str, str]:
    # Without a content type feedparser flags every document as malformed; application/xml
    # lets the document's own encoding declaration decide (text/xml would force us-ascii).
    headers = {"content-type": "application/xml"}
    if base_url:
        headers["content-location"] = base_url
    return headers


def _posts_from_entries(
    entries: list[Any], *, source: str, base_url: str | None
) -> list[SourcePost]:
    posts: list[SourcePost] = []
    seen: set[str] = set()
    for entry in entries:
        post = _post_from_entry(entry, source=source, base_url=base_url)
        if post.external_id in seen:
            continue
        seen.add(post.external_id)
        posts.append(post)
    # Feeds list newest first: reversing the feed order keeps undated entries oldest first.
    posts.reverse()
    floor = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(
        enumerate(posts),
        key=lambda item: (item[1].published_at or item[1].updated_at or floor, item[0]),
    )
    return [post for _index, post in ordered]


def _field(entry: Mapping[str, Any], key: str) -> Any:
    """entry[key] as stored: FeedParserDict.get remaps some keys and warns on others."""
    return dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)


def _text(value: object) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def _post_from_entry(entry: Mapping[str, Any], *, source: str, base_url: str | None) -> SourcePost:
    title = _entry_title(entry)
    link = _text(_field(entry, "link")).strip()
    url = absolute_http_url(link, base_url)
    content_html = _entry_content(entry)
    published_at = _utc(_field(entry, "published_parsed"))
    updated_at = _utc(_field(entry, "updated_parsed"))
    return SourcePost(
        source=source,
        external_id=_external_id(entry, title=title, link=link),
        title=title,
        url=url,
        author_name=_entry_author(entry),
        content_html=content_html,
        image_url=_entry_image(entry, content_html, base_url=base_url, url=url),
        categories=unique_nonempty(
            collapse_whitespace(_text(tag.get("term") or tag.get("label")))
            for tag in _dicts(_field(entry, "tags"))
        ),
        published_at=published_at,
        updated_at=updated_at,
    )


def _dicts(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def unique_nonempty(values: Iterable[str]) -> tuple[str, ...]:
    """The non-empty values, first occurrence kept, in order."""
    kept: dict[str, None] = {}
    for value in values:
        if value:
            kept.setdefault(value, None)
    return tuple(kept)


def _entry_title(entry: Mapping[str, Any]) -> str:
    title = _text(_field(entry, "title"))
    detail = _field(entry, "title_detail")
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    if "html" in kind:
        title = strip_html(title)
    return collapse_whitespace(clean_text(title))


def _external_id(entry: Mapping[str, Any], *, title: str, link: str) -> str:
    guid = collapse_whitespace(_text(_field(entry, "id")))
    if guid:
        return guid
    if link:
        return link
    date = _text(_field(entry, "published") or _field(entry, "updated"))
    digest = hashlib.sha256(f"{title}\n{date.strip()}".encode()).hexdigest()
    return f"sha256:{digest}"


def _entry_content(entry: Mapping[str, Any]) -> str:
    contents = [item for item in _dicts(_field(entry, "content")) if item.get("value")]
    chosen: Mapping[str, Any] | None = None
    for item in contents:
        if "html" in str(item.get("type", "")):
            chosen = item
            break
    if chosen is None and contents:
        chosen = contents[0]
    if chosen is None:
        summary = _field(entry, "summary_detail")
        if isinstance(summary, Mapping) and summary.get("value"):
            chosen = summary
        elif _field(entry, "summary"):
            chosen = {"value": _field(entry, "summary"), "type": "text/html"}
    if chosen is None:
        return ""
    value = _text(chosen.get("value"))
    if "html" not in str(chosen.get("type", "text/html")):
        value = html.escape(value, quote=False)
    return value.strip()


def _entry_author(entry: Mapping[str, Any]) -> str | None:
    detail = _field(entry, "author_detail")
    name = detail.get("name") if isinstance(detail, Mapping) else None
    author = collapse_whitespace(_text(name or _field(entry, "author")))
    return author or None


def _is_image(media: Mapping[str, Any]) -> bool:
    kind = str(media.get("type") or "").lower()
    medium = str(media.get("medium") or "").lower()
    return kind.startswith("image/") or medium == "image"


def _entry_image(
    entry: Mapping[str, Any], content_html: str, *, base_url: str | None, url: str | None
) -> str | None:
    candidates: list[str] = []
    for media in _dicts(_field(entry, "media_content")):
        if _is_image(media) and media.get("url"):
            candidates.append(str(media["url"]))
    for media in _dicts(_field(entry, "media_thumbnail")):
        if media.get("url"):
            candidates.append(str(media["url"]))
    for link in _dicts(_field(entry, "links")):
        if link.get("rel") == "enclosure" and _is_image(link) and link.get("href"):
            candidates.append(str(link["href"]))
    candidates.extend(image_sources(content_html))
    for candidate in candidates:
        absolute = absolute_http_url(candidate, base_url, url)
        if absolute:
            return absolute
    return None


def _utc(parsed: object) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_times."""
    if not isinstance(parsed, time.struct_time | tuple) or len(parsed) < 6:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in parsed[:6])
        # struct_time allows leap seconds (60, 61); datetime does not.
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
