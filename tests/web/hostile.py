"""Text written to attack the site's readers, as members and web commenters could write it.

Each payload, if it ran, would set `window.__pwned` or open a dialog; the tests load pages that
show all of them and check that neither happened, and that the text is still there to read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.comments.apply import apply_batch
from bot.comments.events import Created
from bot.store.mirrors import record_mirror
from bot.store.models import MirrorState, SourceComment, SourcePost
from bot.store.posts import save_source_post
from bot.store.server_names import replace_server_names
from tests.comments.test_apply import POLICY, THREAD, msg

HOSTILE_URL = "https://notes.example.org/hostile/"
# A role and a channel whose names a server admin chose to attack the site with.
HOSTILE_ROLE, HOSTILE_CHANNEL = 555_000_000_000_000_001, 555_000_000_000_000_002
HOSTILE_ROLE_NAME = '"><img src=x onerror="window.__pwned=30">'
HOSTILE_CHANNEL_NAME = "<script>window.__pwned=31</script>"

DISCORD_MESSAGES = [
    "<script>window.__pwned = 1; alert(1)</script>",
    '<img src=x onerror="window.__pwned=2;alert(2)">',
    "[click me](javascript:window.__pwned=3;alert(3))",
    "[click me](JaVaScRiPt:alert(4))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg==)",
    '<a href="javascript:alert(6)">link</a>',
    '"><svg onload=alert(7)>',
    '**<iframe srcdoc="<script>parent.__pwned=8</script>"></iframe>**',
    "`<script>alert(9)</script>` and ```html\n<script>alert(10)</script>\n```",
    "<style>body{display:none}</style> still visible",
    "{{7*7}} ${alert(11)} {% raw %}",
    "|| <b onmouseover=alert(12)>spoiler</b> ||",
    "> <img src=1 onerror=alert(13)>",
    "unknown people <@999999999999999999> <@&888888888888888888> <#777777777777777777>",
    f"named ones <@&{HOSTILE_ROLE}> in <#{HOSTILE_CHANNEL}>",
    "\u202eevil right-to-left text\u202c and zero\u200bwidth\u200djoiners",
    "*unclosed **markdown __everywhere ~~ || ` [ ( <",
    "x" * 1990 + " end",
]

WEB_COMMENTS = [
    "<p>Nice post!<script>window.__pwned = 20; alert(20)</script></p>",
    '<p><a href="javascript:alert(21)">a link</a> <a href="https://example.org">a good one</a></p>',
    '<p><img src="x" onerror="alert(22)"> <svg><script>alert(23)</script></svg></p>',
    '<p style="background:url(javascript:alert(24))" onclick="alert(25)">styled</p>',
    '<iframe src="javascript:alert(26)"></iframe><object data="x"></object>',
    "<p>&lt;script&gt;alert(27)&lt;/script&gt; as text</p>",
]


async def store_hostile_post(store) -> int:
    """A mirrored post whose title, body, web comments, Discord replies, author names and
    mentioned role and channel names are all hostile; its id."""
    when = datetime(2025, 3, 1, tzinfo=UTC)
    saved = await save_source_post(
        store,
        SourcePost(
            source="test",
            external_id="hostile",
            title="<script>alert('title')</script>",
            url=HOSTILE_URL,
            content_html="<p>Body<script>window.__pwned=99</script></p>",
            comments=tuple(
                SourceComment(str(n), f"web <b>{n}</b>", html, when + timedelta(minutes=n))
                for n, html in enumerate(WEB_COMMENTS)
            ),
        ),
    )
    await record_mirror(store, saved.post.id, MirrorState.MIRRORED, thread_id=THREAD)
    await replace_server_names(
        store,
        roles={HOSTILE_ROLE: HOSTILE_ROLE_NAME},
        channels={HOSTILE_CHANNEL: HOSTILE_CHANNEL_NAME},
    )
    await apply_batch(
        store,
        [
            Created(msg(n + 1, text, name='"><img src=x onerror=alert(1)>'))
            for n, text in enumerate(DISCORD_MESSAGES)
        ],
        POLICY,
    )
    return saved.post.id
