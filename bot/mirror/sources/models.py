"""A post and its comments as read from a source, before they reach the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SourceComment:
    """A comment written on the site (e.g. a WordPress comment), with its parent's id there."""

    external_id: str
    author_name: str
    content_html: str
    created_at: datetime
    parent_external_id: str | None = None
    author_email: str | None = None
    author_url: str | None = None


@dataclass(frozen=True, slots=True)
class SourcePost:
    """One post of the community. (source, external_id) identifies it across re-reads."""

    source: str
    external_id: str
    title: str
    url: str | None = None
    author_name: str | None = None
    content_html: str = ""
    image_url: str | None = None
    categories: tuple[str, ...] = ()
    published_at: datetime | None = None
    updated_at: datetime | None = None
    comments: tuple[SourceComment, ...] = field(default_factory=tuple)
