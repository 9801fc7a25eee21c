"""WordPress exports: published posts and their approved comment threads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.mirror.sources.feed import FeedError
from bot.mirror.sources.wxr import (
    WxrError,
    describe_skipped,
    is_wxr,
    parse_wxr,
    read_source,
    read_wxr,
    text_to_html,
)

DATA = Path(__file__).parent / "data"
# The export the demo imports too (python -m demo).
SEED_EXPORT = Path(__file__).parents[3] / "demo" / "seed_export.xml"
WP = "http://wordpress.org/export/1.2/"
HTTPS_WP = "https://wordpress.org/export/1.2/"

SEED_AUTHORS = [
    "Jae Chan Pyo", "Deisy", "Ben Ruhland", "Kathleen Sweeney", "Evyenia Constantine",
    "Kristin Ferrandino", "SeungMi Kim", "Emily Spierer", "Juyeon Jung", "Yoon Hee Song",
    "Amanda Boyd", "Priyanka Paul", "Peta Mni", "R.Stauffer", "Adrienne S", "bill ritter",
    "Roderic David", "Kathleen Sweeney", "Rachel Weidinger", "Jacqueline", "Michelle Quach",
    "Sara Maldonado", "Denni Elias", "Tina Fun",
]  # fmt: skip


def seed_export() -> bytes:
    return SEED_EXPORT.read_bytes()


def wxr(items: str, *, namespace: str = WP, link: str = "https://club.example.net") -> bytes:
    # Exporters declare the excerpt namespace first, under the wp one (a different URI).
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="{namespace}excerpt/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="{namespace}">
<channel><title>Club</title><link>{link}</link><wp:base_site_url>https://base.example.net</wp:base_site_url>
{items}
</channel></rss>""".encode()


def item(
    post_id: int,
    *,
    post_type: str = "post",
    status: str = "publish",
    extra: str = "",
    guid: str | None = None,
    date: str = "2015-01-01 10:00:00",
) -> str:
    guid_xml = f"<guid isPermaLink='false'>{guid}</guid>" if guid is not None else ""
    return f"""<item><title>Post {post_id}</title><link>https://club.example.net/p/{post_id}/</link>
{guid_xml}<dc:creator>someone</dc:creator>
<content:encoded><![CDATA[Body of {post_id}]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{post_id}</wp:post_id><wp:post_date_gmt>{date}</wp:post_date_gmt>
<wp:status>{status}</wp:status><wp:post_type>{post_type}</wp:post_type>{extra}</item>"""


def comment(
    comment_id: int,
    *,
    parent: int = 0,
    approved: str = "1",
    kind: str = "",
    date: str = "2015-01-02 10:00:00",
    author: str = "A",
    content: str = "Hi",
) -> str:
    return f"""<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>
<wp:comment_author><![CDATA[{author}]]></wp:comment_author>
<wp:comment_author_email></wp:comment_author_email><wp:comment_author_url></wp:comment_author_url>
<wp:comment_date_gmt>{date}</wp:comment_date_gmt>
<wp:comment_content><![CDATA[{content}]]></wp:comment_content>
<wp:comment_approved>{approved}</wp:comment_approved><wp:comment_type>{kind}</wp:comment_type>
<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"""


# --- the seed post --------------------------------------------------------------------


def test_seed_export_yields_the_one_published_post() -> None:
    (post,) = parse_wxr(seed_export())

    assert post.source == "wxr:notes.example.org"
    assert post.external_id == "wp:1234"
    # what threadbridge stored it under before posts were known by their WordPress id
    assert post.former_keys == (("wxr:notes.example.org", "https://notes.example.org/?p=1234"),)
    assert post.title == "Ai WeiWei: Still Not Sorry"
    assert post.url == "https://notes.example.org/2015/03/ai-weiwei-still-not-sorry/"
    # dc:creator is the login "kathleen"; the export's wp:author gives the display name
    assert post.author_name == "Kathleen Sweeney"
    assert post.categories == ("Documentary", "Free Speech")
    assert post.published_at == datetime(2015, 3, 10, 19, 30, tzinfo=UTC)
    assert post.updated_at == datetime(2015, 3, 12, 14, 0, tzinfo=UTC)
    assert post.image_url == (
        "https://notes.example.org/wp-content/uploads/2015/03/ai-weiwei-tiananmen.jpg"
    )
    assert post.content_html.startswith(
        "<p>If there is no free speech, every single life has lived in vain."
        "\u201d\u2013Ai WeiWei</p>"
    )
    assert "<p>What are your views on the power of documentary" in post.content_html


def test_seed_export_has_exactly_the_24_visible_comments() -> None:
    (post,) = parse_wxr(seed_export())
    comments = post.comments

    assert len(comments) == 24
    assert [comment.author_name for comment in comments] == SEED_AUTHORS
    names = {comment.author_name for comment in comments}
    assert not names & {"Held Reader", "cheap-watches", "Other Blog"}
    assert [comment.created_at for comment in comments] == sorted(
        comment.created_at for comment in comments
    )
    assert all(comment.created_at.tzinfo is UTC for comment in comments)
    assert sum(comment.parent_external_id is None for comment in comments) == 22


def test_seed_export_three_level_reply_chain() -> None:
    (post,) = parse_wxr(seed_export())
    by_id = {comment.external_id: comment for comment in post.comments}

    bill = next(comment for comment in post.comments if comment.author_name == "bill ritter")
    roderic = next(c for c in post.comments if c.parent_external_id == bill.external_id)
    kathleen = next(c for c in post.comments if c.parent_external_id == roderic.external_id)

    assert bill.parent_external_id is None
    assert (bill.external_id, roderic.external_id, kathleen.external_id) == ("219", "220", "221")
    assert roderic.author_name == "Roderic David"
    assert kathleen.author_name == "Kathleen Sweeney"
    assert by_id[kathleen.parent_external_id or ""] is roderic
    assert bill.created_at == datetime(2015, 3, 12, 8, 2, tzinfo=UTC)
    assert roderic.created_at == datetime(2015, 3, 12, 10, 19, tzinfo=UTC)
    assert kathleen.created_at == datetime(2015, 3, 12, 12, 36, tzinfo=UTC)
    assert kathleen.author_email == "kathleensweeney@example.net"
    assert kathleen.author_url == "https://kathleensweeney.example.com/"
    assert roderic.author_url is None
    assert bill.content_html.startswith("<p>how fascinating that two women")
    assert "<br>\ni\u2019m struck by Ai Wei Wei\u2019s natural ability" in bill.content_html
    # the deepest reply: one long paragraph, close to Discord's message limit
    assert 1_600 < len(kathleen.content_html) < 2_000
    assert kathleen.content_html.count("<p>") == 1


# --- what is skipped ----------------------------------------------------------------------


PASSWORD = "<wp:post_password><![CDATA[enter]]></wp:post_password>"


def test_only_public_posts_are_imported_and_the_rest_is_counted() -> None:
    # What WordPress's importer brings along but the site shows nobody as a post.
    data = wxr(
        item(1, status="draft", date="0000-00-00 00:00:00")
        + item(2, post_type="page")
        + item(3, post_type="attachment", status="inherit")
        + item(4, status="private")
        + item(5, status="pending")
        + item(6, post_type="nav_menu_item")
        + item(7, status="future", extra=comment(70))
        + item(8, status="trash")
        + item(9, extra=PASSWORD + comment(90))
        + item(10, post_type="wp_block")
        + item(11, post_type="nav_menu_item")
        + item(12, post_type="page", status="draft")
        + item(13, guid="https://club.example.net/?p=13")
        + item(14, status="{odd}")
    )
    contents = read_wxr(data)
    assert [(post.source, post.external_id) for post in contents.posts] == [
        ("wxr:club.example.net", "wp:13")
    ]
    assert dict(contents.skipped_items) == {
        ("draft", "not published"): 2,
        ("page", "add --pages to import them"): 1,
        ("attachment", "not posts"): 1,
        ("private post", "not public"): 1,
        ("pending post", "not published"): 1,
        ("menu item", "not posts"): 2,
        ("scheduled post", "not published"): 1,
        ("trashed post", "not published"): 1,
        ("'{odd}' post", "not published"): 1,
        ("password-protected post", "not public"): 1,
        ("'wp_block' item", "not posts"): 1,
    }
    assert describe_skipped(contents.skipped_items, "item") == (
        "skipped 13 item(s): 2 menu item(s), 1 'wp_block' item(s), 1 attachment(s) "
        "(not posts); 1 page(s) (add --pages to import them); 2 draft(s), 1 '{odd}' post(s), "
        "1 pending post(s), 1 scheduled post(s), 1 trashed post(s) (not published); "
        "1 password-protected post(s), 1 private post(s) (not public)"
    )
    assert contents.skipped_comments == {}  # those of skipped posts go with them


def test_a_password_protected_post_is_not_imported_nor_its_comments() -> None:
    # Its text and comments are for those who have the password: never for a public thread.
    (post,) = parse_wxr(wxr(item(1, extra=PASSWORD + comment(10)) + item(2, extra=comment(20))))
    assert post.external_id == "wp:2"
    assert [comment.external_id for comment in post.comments] == ["20"]


def test_pages_only_when_asked() -> None:
    data = wxr(
        item(1)
        + item(2, post_type="page", extra=comment(20))
        + item(3, post_type="page", status="draft")
        + item(4, post_type="page", extra=PASSWORD)
    )
    assert [post.external_id for post in parse_wxr(data)] == ["wp:1"]
    contents = read_wxr(data, pages=True)
    assert [post.external_id for post in contents.posts] == ["wp:1", "wp:2"]
    assert [comment.external_id for comment in contents.posts[1].comments] == ["20"]
    assert dict(contents.skipped_items) == {
        ("draft", "not published"): 1,
        ("password-protected page", "not public"): 1,
    }


def test_nothing_skipped_says_nothing() -> None:
    assert describe_skipped(read_wxr(wxr(item(1))).skipped_items, "item") is None


def test_skipped_keys_are_where_an_earlier_import_may_hold_a_skipped_item() -> None:
    data = wxr(item(1, extra=PASSWORD, guid="https://club.example.net/?p=1") + item(2))
    contents = read_wxr(data, former_sources=("feed:export.xml",))
    assert contents.skipped_keys == (
        ("wxr:club.example.net", "wp:1"),
        ("wxr:club.example.net", "https://club.example.net/?p=1"),
        ("feed:export.xml", "https://club.example.net/?p=1"),
    )


def test_comments_closed_on_the_site_are_closed_on_the_post() -> None:
    closed = "<wp:comment_status>closed</wp:comment_status>"
    data = wxr(
        item(1, extra=closed + comment(10))
        + item(2, extra="<wp:comment_status><![CDATA[open]]></wp:comment_status>")
        + item(3)
    )
    posts = parse_wxr(data)
    assert [(post.external_id, post.comments_closed) for post in posts] == [
        ("wp:1", True),
        ("wp:2", False),
        ("wp:3", False),
    ]
    # What was said before the comments were closed still shows on the site, and is kept.
    assert [comment.external_id for comment in posts[0].comments] == ["10"]


def test_pingbacks_trackbacks_held_and_spam_are_skipped() -> None:
    data = wxr(item(1, extra="".join([
        comment(10),
        comment(11, kind="pingback"),
        comment(12, kind="trackback"),
        comment(13, approved="0"),
        comment(14, approved="spam"),
        comment(15, approved="trash"),
        comment(16, kind="comment"),
    ])))  # fmt: skip
    contents = read_wxr(data)
    (post,) = contents.posts
    assert [comment.external_id for comment in post.comments] == ["10", "16"]
    assert describe_skipped(contents.skipped_comments, "comment") == (
        "skipped 5 comment(s): 1 pingback(s), 1 trackback(s) (not comments); "
        "1 spam comment(s), 1 trashed comment(s), 1 unapproved comment(s) (not approved)"
    )


def test_replies_to_unimported_comments_are_repointed() -> None:
    data = wxr(item(1, extra="".join([
        comment(10, date="2015-01-02 10:00:00"),
        comment(11, parent=10, approved="spam", date="2015-01-02 11:00:00"),
        comment(12, parent=11, date="2015-01-02 12:00:00"),  # reply to spam, under 10
        comment(13, approved="0", date="2015-01-02 13:00:00"),
        comment(14, parent=13, approved="spam", date="2015-01-02 14:00:00"),
        comment(15, parent=14, date="2015-01-02 15:00:00"),  # spam under held: no ancestor
        comment(16, parent=999, date="2015-01-02 16:00:00"),  # parent not in the export
        comment(17, parent=12, date="2015-01-02 17:00:00"),  # approved parent kept
    ])))  # fmt: skip
    (post,) = parse_wxr(data)
    parents = {comment.external_id: comment.parent_external_id for comment in post.comments}
    assert parents == {"10": None, "12": "10", "15": None, "16": None, "17": "12"}


def test_comments_sorted_by_date_then_numeric_id() -> None:
    data = wxr(item(1, extra="".join([
        comment(30, date="2015-01-03 10:00:00"),
        comment(100, date="2015-01-02 10:00:00"),
        comment(9, date="2015-01-02 10:00:00"),
    ])))  # fmt: skip
    (post,) = parse_wxr(data)
    assert [comment.external_id for comment in post.comments] == ["9", "100", "30"]


def test_posts_come_oldest_first() -> None:
    data = wxr(
        item(2, date="2015-02-01 10:00:00")
        + item(1, date="2015-01-01 10:00:00", guid="https://club.example.net/?p=1")
    )
    first, second = parse_wxr(data)
    assert (first.external_id, second.external_id) == ("wp:1", "wp:2")
    assert second.published_at == datetime(2015, 2, 1, 10, 0, tzinfo=UTC)


# --- what identifies a post ---------------------------------------------------------------


def test_posts_sharing_a_guid_stay_two_posts() -> None:
    # The theme unit test data has two such pairs; WordPress keeps them apart by post id.
    shared = "https://club.example.net/?p=568"
    data = wxr(
        item(568, guid=shared, extra=comment(10))
        + item(1158, guid=shared, date="2015-01-02 10:00:00", extra=comment(11))
    )
    first, second = parse_wxr(data)
    assert (first.external_id, second.external_id) == ("wp:568", "wp:1158")
    assert (first.title, second.title) == ("Post 568", "Post 1158")
    assert [c.external_id for c in first.comments] == ["10"]
    assert [c.external_id for c in second.comments] == ["11"]


def test_an_item_without_a_post_id_is_left_out() -> None:
    data = wxr(item(1) + item(2).replace("<wp:post_id>2</wp:post_id>", ""))
    assert [post.external_id for post in parse_wxr(data)] == ["wp:1"]


@pytest.mark.parametrize(
    ("channel_urls", "source"),
    [
        # a WordPress.com export: base_site_url is wordpress.com itself, shared by every blog
        (
            "<wp:base_site_url>https://wordpress.com/</wp:base_site_url>"
            "<wp:base_blog_url>https://club.wordpress.com</wp:base_blog_url>",
            "wxr:club.wordpress.com",
        ),
        # two blogs of one network in sub-folders: the same post id is another post
        (
            "<wp:base_site_url>https://network.example.net/</wp:base_site_url>"
            "<wp:base_blog_url>https://network.example.net/chess/</wp:base_blog_url>",
            "wxr:network.example.net/chess",
        ),
        ("<wp:base_site_url>HTTP://Solo.Example.net/</wp:base_site_url>", "wxr:solo.example.net"),
    ],
)
def test_a_post_is_known_by_its_id_on_its_blog(channel_urls: str, source: str) -> None:
    data = wxr(item(1), link="").replace(
        b"<wp:base_site_url>https://base.example.net</wp:base_site_url>", channel_urls.encode()
    )
    (post,) = parse_wxr(data)
    assert (post.source, post.external_id) == (source, "wp:1")


def test_former_keys_name_what_earlier_versions_stored_a_post_under() -> None:
    guid = "https://club.example.net/?p=1"
    data = wxr(item(1, guid=guid) + item(2), namespace=HTTPS_WP)
    # An https export was read as a feed, its posts keyed by guid under the feed's name.
    one, two = read_source(data, source_hint="export.xml").posts
    assert one.former_keys == (("wxr:club.example.net", guid), ("feed:export.xml", guid))
    # without a guid, earlier versions already used the post id: nothing to take over
    assert two.former_keys == ()


def test_pubdate_used_when_gmt_date_is_missing() -> None:
    post_xml = item(1, date="0000-00-00 00:00:00").replace(
        "<wp:status>", "<pubDate>Tue, 10 Mar 2015 14:30:00 -0500</pubDate><wp:status>"
    )
    (post,) = parse_wxr(wxr(post_xml))
    assert post.published_at == datetime(2015, 3, 10, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_all_wxr_versions_are_read(scheme: str, version: str) -> None:
    (post,) = parse_wxr(wxr(item(1), namespace=f"{scheme}://wordpress.org/export/{version}/"))
    assert post.title == "Post 1"


def test_an_export_with_the_https_namespace_is_read_with_its_comments() -> None:
    # WordPress.com writes its exports with the https namespace (the theme unit test data too).
    data = wxr(
        item(1, extra=comment(10) + comment(11, kind="pingback") + comment(12, approved="0"))
        + item(2, post_type="attachment", status="inherit")
        + item(3, post_type="nav_menu_item"),
        namespace=HTTPS_WP,
    )
    for posts in (parse_wxr(data), read_source(data, source_hint="export.xml").posts):
        (post,) = posts
        assert (post.source, post.external_id) == ("wxr:club.example.net", "wp:1")
        assert [comment.external_id for comment in post.comments] == ["10"]


def test_the_namespace_is_the_one_declared_whatever_its_prefix() -> None:
    data = wxr(item(1, extra=comment(10)), namespace=HTTPS_WP)
    data = data.replace(b"wp:", b"wordpress:").replace(b"xmlns:wp=", b"xmlns:wordpress=")
    assert is_wxr(data)
    (post,) = parse_wxr(data)
    assert [comment.external_id for comment in post.comments] == ["10"]


def test_source_given_by_caller_or_from_base_site_url() -> None:
    assert parse_wxr(wxr(item(1)), source="wxr:mine")[0].source == "wxr:mine"
    assert parse_wxr(wxr(item(1), link=""))[0].source == "wxr:base.example.net"


# --- comment text to HTML -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "html"),
    [
        ("One line.", "<p>One line.</p>"),
        ("First\nsecond", "<p>First<br>\nsecond</p>"),
        ("Para one.\n\nPara two.\r\n\r\nThree", "<p>Para one.</p>\n<p>Para two.</p>\n<p>Three</p>"),
        ("I <3 this & that > those", "<p>I &lt;3 this &amp; that &gt; those</p>"),
        (
            'Read <a href="https://x.example">this</a>\n\n<em>now</em>',
            '<p>Read <a href="https://x.example">this</a></p>\n<p><em>now</em></p>',
        ),
        ("Tom &amp; Jerry", "<p>Tom &amp; Jerry</p>"),
        ("<p>Already</p>\n<p>HTML</p>", "<p>Already</p>\n<p>HTML</p>"),
        ("  \n  ", ""),
    ],
)
def test_text_to_html(stored: str, html: str) -> None:
    from bot.mirror.sources.feed import clean_text

    assert text_to_html(clean_text(stored)) == html


def test_escaped_names_are_unescaped() -> None:
    post_xml = item(
        1,
        extra=comment(10, author="Tom &amp; Jerry &#039;s")  # inside CDATA
        + '<category domain="category" nicename="art-film">Art &amp;amp; Film</category>',
    )
    (post,) = parse_wxr(wxr(post_xml))
    assert post.comments[0].author_name == "Tom & Jerry 's"
    assert post.categories == ("Art & Film",)


def test_stray_control_characters_in_an_export_are_dropped() -> None:
    # Invalid in XML, yet WordPress exports carry them when a comment contained them.
    data = wxr(item(1, extra=comment(10, author="Ro\x01deric", content="Hi\x07 there\x0b")))
    (post,) = parse_wxr(data)
    assert post.comments[0].author_name == "Roderic"
    assert post.comments[0].content_html == "<p>Hi there</p>"


# --- hostile and wrong input ---------------------------------------------------------------


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(WxrError, match="refusing to read the export: EntitiesForbidden"):
        parse_wxr((DATA / "billion_laughs_wxr.xml").read_bytes())


def test_external_entities_are_refused() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>&x;</title>'
        b"</channel></rss>"
    )
    with pytest.raises(WxrError, match="refusing"):
        parse_wxr(data)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not well-formed"),
        (b"this is not XML at all", "not well-formed"),
        (b"<rss><channel><title>cut", "not well-formed"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "root element is"),
        (b"<rss version='2.0'/>", "not <rss><channel>"),
        (
            b"<rss version='2.0'><channel><item><title>x</title></item></channel></rss>",
            "no wp: elements",
        ),
    ],
)
def test_not_an_export(data: bytes, words: str) -> None:
    with pytest.raises(WxrError, match=words) as caught:
        parse_wxr(data)
    assert str(caught.value).startswith(("not a WordPress export", "refusing"))


# --- read_source --------------------------------------------------------------------------


def test_read_source_reads_an_export_as_wxr() -> None:
    contents = read_source(seed_export(), source_hint="export.xml")
    (post,) = contents.posts
    assert post.source == "wxr:notes.example.org"
    assert len(post.comments) == 24
    assert describe_skipped(contents.skipped_items, "item") == (
        "skipped 4 item(s): 1 attachment(s), 1 menu item(s) (not posts); "
        "1 page(s) (add --pages to import them); 1 draft(s) (not published)"
    )
    with_pages = read_source(seed_export(), source_hint="export.xml", pages=True)
    assert [post.title for post in with_pages.posts] == ["About", post.title]


def test_read_source_reads_a_feed_as_a_feed() -> None:
    posts = read_source(
        (DATA / "rss2.xml").read_bytes(), source_hint="https://notes.example.org/feed/"
    ).posts
    assert [post.source for post in posts] == ["feed:https://notes.example.org/feed/"] * 3
    assert posts[1].url == "https://notes.example.org/2015/03/citizen-four/"

    atom = read_source((DATA / "atom.xml").read_bytes(), source_hint="atom.xml").posts
    assert atom[0].source == "feed:atom.xml"


def test_read_source_reports_what_it_cannot_read() -> None:
    with pytest.raises(FeedError):
        read_source(b"plain text", source_hint="notes.txt")
    with pytest.raises(WxrError):
        read_source((DATA / "billion_laughs_wxr.xml").read_bytes(), source_hint="x.xml")
