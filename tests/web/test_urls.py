"""A post's address in the forms sites write it finds one post."""

from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from bot.web.urls import url_key

POST = "https://notes.example.org/2015/03/ai-weiwei/"


def test_the_forms_of_one_address_share_a_key():
    forms = [
        POST,
        "https://notes.example.org/2015/03/ai-weiwei",
        "HTTPS://Notes.Example.ORG/2015/03/ai-weiwei/",
        "https://notes.example.org:443/2015/03/ai-weiwei/",
        "http://notes.example.org/2015/03/ai-weiwei/",
        "https://notes.example.org/2015/03/ai-weiwei/#comments",
        "https://notes.example.org/2015/03/ai-weiwei/?utm_source=x&UTM_MEDIUM=mail",
        "  https://notes.example.org/2015/03/%61i-weiwei/  ",
    ]
    assert {url_key(form) for form in forms} == {"https://notes.example.org/2015/03/ai-weiwei"}


def test_what_names_another_page_keeps_its_own_key():
    others = [
        "https://notes.example.org/2015/03/ai-weiwei-2/",
        "https://notes.example.org/2015/03/",
        "https://other.example.org/2015/03/ai-weiwei/",
        "https://notes.example.org:8443/2015/03/ai-weiwei/",
        "https://notes.example.org/2015/03/ai-weiwei/?p=2",
        "https://notes.example.org/2015/03/AI-WEIWEI/",  # paths are case-sensitive
    ]
    keys = [url_key(url) for url in others]
    assert url_key(POST) not in keys
    assert len(set(keys)) == len(keys)


def test_non_web_addresses_have_no_key():
    for text in [
        "",
        "notes.example.org/post",
        "javascript:alert(1)",
        "ftp://x.org/a",
        "https://",
        "http://[::1",
        "https://host:99999/",
    ]:
        assert url_key(text) is None


def test_query_parameters_keep_their_order_and_values():
    assert url_key("https://x.org/?p=2&lang=fr&utm_campaign=a") == "https://x.org?p=2&lang=fr"


hosts = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){1,2}", fullmatch=True)
segments = st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True), max_size=4)


@given(hosts, segments, st.booleans(), st.sampled_from(["", "#top", "?utm_source=feed"]))
def test_a_key_is_stable_and_its_own_key(host, parts, slash, noise):
    url = f"https://{host}/{'/'.join(parts)}{'/' if slash else ''}{noise}"
    key = url_key(url)
    assert key is not None
    assert url_key(key) == key  # normalising twice changes nothing
    assert urlsplit(key).hostname == host


@given(st.text(max_size=200))
def test_any_text_gives_a_key_or_none_and_never_raises(text):
    key = url_key(text)
    assert key is None or key.startswith("https://")
