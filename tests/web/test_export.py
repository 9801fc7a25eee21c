"""The static export: one file per post plus an index, rewritten only when changed, never half
written, and showing only what the site shows."""

from __future__ import annotations

import json
import os

import pytest

from bot.comments.apply import apply_batch
from bot.comments.events import Created
from bot.store import Store
from bot.store.comments import find_comment_by_message, set_comment_status
from bot.store.mirrors import record_mirror
from bot.store.models import CommentStatus, MirrorState
from bot.store.posts import NewPost, add_post, save_source_post
from bot.web.export import ExportFormat, export_site
from tests.comments.test_apply import POLICY, THREAD, msg, sid
from tests.mirror.test_mirroring import seed_post
from tests.web.conftest import site_settings
from tests.web.openapi import validate


@pytest.fixture
async def store(tmp_path):
    async with Store.open(tmp_path / "site.db") as opened:
        await save_source_post(opened, seed_post())
        post, _ = await add_post(
            opened, NewPost(source="test", external_id="talk", title="Talk", url="https://x.org/t")
        )
        await record_mirror(opened, post.id, MirrorState.MIRRORED, thread_id=THREAD)
        await apply_batch(
            opened, [Created(msg(1, "visible words")), Created(msg(2, "held words"))], POLICY
        )
        held = await find_comment_by_message(opened, sid(2))
        await set_comment_status(opened, held.id, CommentStatus.HELD)
        yield opened


def files(folder):
    return {
        str(path.relative_to(folder)): path.stat().st_mtime_ns
        for path in folder.rglob("*")
        if path.is_file()
    }


async def test_json_export_writes_each_post_and_an_index_and_only_what_changed(store, tmp_path):
    out = tmp_path / "export"
    settings = site_settings(store.path)
    first = await export_site(settings, out, ExportFormat.JSON)
    assert first.posts == 2 and first.written == 3 and first.unchanged == 0
    written = files(out)
    assert sorted(written) == ["index.json", "posts/1.json", "posts/2.json"]
    index = json.loads((out / "index.json").read_text())
    assert [post["title"] for post in index["posts"]] == ["Talk", "Ai WeiWei: Still Not Sorry"]
    talk = json.loads((out / "posts/2.json").read_text())
    validate(talk, "CommentsPage")
    assert [c["text"] for c in talk["comments"]] == ["visible words"]
    assert "held words" not in (out / "posts/2.json").read_text()
    seed = json.loads((out / "posts/1.json").read_text())
    assert seed["top_level_count"] == 22 and len(seed["comments"]) == 22  # whole, not paged

    again = await export_site(settings, out, ExportFormat.JSON)
    assert (again.written, again.unchanged) == (0, 3)
    assert files(out) == written  # nothing touched

    await apply_batch(store, [Created(msg(3, "a new comment"))], POLICY)
    third = await export_site(settings, out, ExportFormat.JSON)
    assert third.written == 2  # the talk post and the index (its count and activity)
    now = files(out)
    assert now["posts/1.json"] == written["posts/1.json"]
    assert now["posts/2.json"] != written["posts/2.json"]
    assert not [name for name in os.listdir(out / "posts") if name.startswith(".")]


async def test_html_export_is_a_browsable_site(store, tmp_path):
    out = tmp_path / "site"
    result = await export_site(site_settings(store.path), out, ExportFormat.HTML)
    names = files(out)
    assert {
        "index.html",
        "static/site.css",
        "static/icon.svg",
        "posts/1/index.html",
        "posts/2/index.html",
    } <= set(names)
    avatars = [name for name in names if name.startswith("avatars/")]
    assert avatars and all(name.endswith(".svg") for name in avatars)
    assert result.written == len(names)
    page = (out / "posts/1/index.html").read_text()
    assert page.count('class="comment"') == 24
    talk = (out / "posts/2/index.html").read_text()
    assert "visible words" in talk and "held words" not in talk
    for avatar in avatars:
        assert f'src="/{avatar}"' in page + talk
    assert "Later comments" not in page  # the whole conversation on one page


async def test_an_export_into_a_file_fails_cleanly(store, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(OSError):
        await export_site(site_settings(store.path), blocker, ExportFormat.JSON)
    assert blocker.read_text() == "x"
