"""Posts for the benchmarks: the same shape in every bench, so their figures compare."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store.models import SourcePost


def make_post(number: int, *, paragraphs: int = 40) -> SourcePost:
    return SourcePost(
        source="bench",
        external_id=f"post-{number}",
        title=f"Post number {number}: a community discussion",
        url=f"https://community.example/posts/{number}",
        author_name="Editor",
        content_html="<p>" + "A paragraph of the post. " * paragraphs + "</p>",
        categories=("question",),
        published_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=number),
    )
