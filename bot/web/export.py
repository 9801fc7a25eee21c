"""The static export: the site's pages or JSON written to a folder, for static site generators
and object storage (`threadbridge export --out DIR`).

Only files whose content changed are rewritten, each through a temporary file renamed into
place, so that a cron job may run it every minute and a reader never sees half a file.
"""

from __future__ import annotations

import asyncio
import enum
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings
from bot.store.database import ReadStore
from bot.web import api, pages
from bot.web.http import json_body
from bot.web.site import Site

_AVATAR = re.compile(r"/avatars/(\d{1,3})-([0-9a-f]{1,6})\.svg")


class ExportFormat(enum.StrEnum):
    HTML = "html"
    JSON = "json"


@dataclass(slots=True)
class ExportResult:
    written: int = 0
    unchanged: int = 0
    posts: int = 0


async def export_site(settings: Settings, out: Path, export_format: ExportFormat) -> ExportResult:
    """Every post's conversation (whole, not in pages) and an index of the posts into `out`."""
    result = ExportResult()

    async def write(name: str, content: bytes) -> None:
        if await asyncio.to_thread(_write_if_changed, out / name, content):
            result.written += 1
        else:
            result.unchanged += 1

    async with ReadStore.open(settings.database_path) as store:
        site = Site(store, settings)
        listings = await site.listings()
        everything = max(1, len(listings.newest_first))
        if export_format is ExportFormat.HTML:
            await write("index.html", pages.index_page(site, listings, "", everything).body)
            for name in pages.STATIC_TYPES:
                await write(f"static/{name}", pages.static_built(name).body)
        else:
            index = [api.post_json(site, post) for post in listings.newest_first]
            await write("index.json", json_body({"posts": index, "next_cursor": None}).body)
        avatars: set[tuple[str, str]] = set()
        for listing in listings.newest_first:
            conversation = await site.conversation(listing.id)
            if conversation is None:
                continue  # deleted while exporting
            result.posts += 1
            whole = max(1, len(conversation.top))
            if export_format is ExportFormat.HTML:
                page = pages.conversation_page(site, conversation, "", whole).body
                await write(f"posts/{listing.id}/index.html", page)
                avatars.update(_AVATAR.findall(page.decode()))
            else:
                body = api.comments_page(site, listing, conversation, None, whole).body
                await write(f"posts/{listing.id}.json", body)
        for hue, letter in sorted(avatars):
            picture = pages.avatar_picture(hue, letter)
            if picture is not None:
                await write(f"avatars/{hue}-{letter}.svg", picture.body)
    return result


def _write_if_changed(path: Path, content: bytes) -> bool:
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # readable by the web server, as a plain file would be
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
