"""How the site answers over HTTP: errors without tracebacks, limits, CORS, security headers,
health and metrics, pages, feeds and the sitemap."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ElementTree

import pytest

from bot.store import Store
from bot.store.posts import save_source_post
from bot.web.http import ClientLimits
from tests.mirror.test_mirroring import seed_post
from tests.web.conftest import SITE_URL, served, site_settings
from tests.web.openapi import validate_response

SEED_URL = "https://notes.example.org/2015/03/ai-weiwei-still-not-sorry/"


@pytest.fixture
async def store(tmp_path):
    async with Store.open(tmp_path / "site.db") as opened:
        await save_source_post(opened, seed_post())
        yield opened


@pytest.fixture
async def site(store):
    async with served(site_settings(store.path)) as serving:
        yield serving


BAD_REQUESTS = [
    ("GET", "/api/v1/posts/999/comments", 404),
    ("GET", "/api/v1/comments?url=https://nowhere.example/", 404),
    ("GET", "/api/v1/comments", 400),
    ("GET", "/api/v1/comments?url=a&url=b", 400),
    ("GET", "/api/v1/comments?url=" + "x" * 3000, 400),
    ("GET", "/api/v1/posts/1/comments?limit=0", 400),
    ("GET", "/api/v1/posts/1/comments?limit=201", 400),
    ("GET", "/api/v1/posts/1/comments?limit=ten", 400),
    ("GET", "/api/v1/posts/1/comments?cursor=not-ours", 400),
    ("GET", "/api/v1/posts?cursor=%00%ff", 400),
    ("GET", "/api/v1/counts", 400),
    ("GET", "/api/v1/counts?" + "&".join(f"url=https://x.org/{n}" for n in range(101)), 400),
    ("GET", "/api/v1/posts/99999999999999999999999/comments", 404),
    ("GET", "/api/v1/posts/-1/comments", 404),
    ("GET", "/api/v1/nothing", 404),
    ("POST", "/api/v1/posts", 405),
    ("DELETE", "/api/v1/posts/1/comments", 405),
    ("GET", "/api/v1/posts?q=" + "y" * 5000, 414),
]


@pytest.mark.parametrize(("method", "path", "status"), BAD_REQUESTS)
async def test_bad_api_requests_get_a_short_json_error(site, method, path, status):
    answer = await site.request(method, path, check=False)
    assert answer.status == status
    body = answer.json()
    assert body["error"]["status"] == status and body["error"]["message"]
    assert len(answer.body) < 300
    assert "Traceback" not in answer.text and 'File "' not in answer.text
    if path.startswith("/api/v1/posts/1/") or path.startswith("/api/v1/comments"):
        validate_response(path.split("?")[0], status, body)


@pytest.mark.parametrize("path", ["/posts/999", "/nothing", "/posts/abc", "/?cursor=zz"])
async def test_bad_page_requests_get_a_short_html_error(site, path):
    answer = await site.get(path)
    assert answer.status in {400, 404}
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "<h1>" in answer.text and "Traceback" not in answer.text


@pytest.mark.parametrize(
    "target",
    [
        b"/api/v1/../../etc/passwd",
        b"/api/v1/%2e%2e/%2e%2e/etc/passwd",
        b"/static/../cli.py",
        b"/static/%2e%2e/cli.py",
        b"/avatars/..%2f..%2fsite.py",
        b"//etc/passwd",
    ],
)
async def test_path_tricks_find_nothing(site, target):
    reader, writer = await asyncio.open_connection("127.0.0.1", site.server.port)
    writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    reply = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert reply.split(b" ")[1] in {b"400", b"404"}
    assert b"Traceback" not in reply and b"import" not in reply


async def test_malformed_http_is_refused_without_a_traceback(site):
    reader, writer = await asyncio.open_connection("127.0.0.1", site.server.port)
    writer.write(b"GET /api/v1/posts HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20_000 + b"\r\n\r\n")
    await writer.drain()
    reply = await asyncio.wait_for(reader.read(4096), 5)
    writer.close()
    assert reply.split(b" ")[1] in {b"400", b"431"}
    assert b"Traceback" not in reply


async def test_a_client_over_its_rate_gets_429_with_retry_after(store):
    async with served(site_settings(store.path, web_rate_limit=60)) as site:
        statuses = [(await site.get("/api/v1/posts", check=False)).status for _ in range(12)]
        assert statuses[:10] == [200] * 10
        assert statuses[-1] == 429
        refused = await site.get("/api/v1/posts", check=False)
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["error"]["status"] == 429
        assert (await site.get("/healthz")).status == 200  # health checks are never limited


def test_a_bucket_refills_at_its_rate():
    now = [0.0]
    limits = ClientLimits(60, clock=lambda: now[0])
    assert all(limits.take("a") == 0 for _ in range(10))
    assert limits.take("a") == pytest.approx(1.0)
    assert limits.take("b") == 0  # another client has its own bucket
    now[0] += 1.0
    assert limits.take("a") == 0
    assert limits.take("a") > 0


async def test_cors_only_for_allowed_origins(store):
    settings = site_settings(store.path, web_allowed_origins="https://notes.example.org")
    async with served(settings) as site:
        allowed = await site.get("/api/v1/posts", headers={"Origin": "https://notes.example.org"})
        assert allowed.headers["Access-Control-Allow-Origin"] == "https://notes.example.org"
        assert "Origin" in allowed.headers.getall("Vary")
        other = await site.get("/api/v1/posts", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
        preflight = await site.request(
            "OPTIONS",
            "/api/v1/posts",
            check=False,
            headers={"Origin": "https://notes.example.org", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status == 204
        assert preflight.headers["Access-Control-Allow-Methods"] == "GET"
        refused = await site.request(
            "OPTIONS", "/api/v1/posts", check=False, headers={"Origin": "https://evil.example"}
        )
        assert refused.status == 403
        assert "Set-Cookie" not in allowed.headers


async def test_pages_carry_a_strict_policy_and_no_scripts(site):
    page = await site.get("/posts/1")
    assert page.status == 200
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "script-src" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "<script" not in page.text and " style=" not in page.text
    assert '<html lang="en">' in page.text and "<main" in page.text
    assert f'<link rel="canonical" href="{SEED_URL}">' in page.text
    assert '<meta property="og:title" content="Ai WeiWei: Still Not Sorry">' in page.text
    assert "Set-Cookie" not in page.headers
    assert page.text.count('class="comment"') == 24
    css = await site.get("/static/site.css")
    assert "prefers-color-scheme: dark" in css.text


async def test_the_index_sitemap_robots_and_feed(site):
    index = await site.get("/")
    assert "Ai WeiWei: Still Not Sorry" in index.text and 'href="/posts/1"' in index.text
    sitemap = ElementTree.fromstring((await site.get("/sitemap.xml")).body)
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locations = [loc.text for loc in sitemap.iter(f"{namespace}loc")]
    assert locations == [f"{SITE_URL}/", f"{SITE_URL}/posts/1"]
    robots = await site.get("/robots.txt")
    assert f"Sitemap: {SITE_URL}/sitemap.xml" in robots.text
    feed = await site.get("/api/v1/posts/1/comments.atom")
    assert feed.headers["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(feed.body)
    entries = root.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 24
    newest = entries[0].find("{http://www.w3.org/2005/Atom}published").text
    oldest = entries[-1].find("{http://www.w3.org/2005/Atom}published").text
    assert newest > oldest


async def test_avatars_are_pictures_of_an_initial(site):
    page = (await site.get("/api/v1/posts/1/comments")).json()
    avatar = page["comments"][0]["author"]["avatar_url"].removeprefix(SITE_URL)
    picture = await site.get(avatar)
    assert picture.headers["Content-Type"] == "image/svg+xml"
    assert "immutable" in picture.headers["Cache-Control"]
    assert f">{page['comments'][0]['author']['name'][0].upper()}</text>" in picture.text
    assert (await site.get("/avatars/999-41.svg")).status == 404
    assert (await site.get("/avatars/10-3c.svg")).status == 404  # "<" is no initial


async def test_health_reports_a_readable_database(site):
    answer = await site.get("/healthz")
    assert answer.status == 200 and answer.json() == {"status": "ok", "reasons": []}
    validate_response("/healthz", 200, answer.json())


async def test_metrics_need_the_operators_token(store):
    async with served(site_settings(store.path)) as site:
        assert (await site.get("/metrics")).status == 404
    async with served(site_settings(store.path, web_metrics_token="s3cret")) as site:
        assert (await site.get("/metrics")).status == 401
        wrong = await site.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status == 401
        await site.get("/api/v1/posts/1/comments")
        await site.get("/api/v1/posts/999/comments", check=False)
        scraped = await site.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert scraped.status == 200
        text = scraped.text
        assert 'threadbridge_comments{status="visible"} 24.0' in text
        assert (
            'threadbridge_web_requests_total{route="/api/v1/posts/{post_id}/comments",'
            'status="200"} 1.0' in text
        )
        assert 'status="404"} 1.0' in text
        assert "threadbridge_web_request_seconds_bucket" in text
        assert "threadbridge_discord_rate_limited_total 0.0" in text
        assert "s3cret" not in text
