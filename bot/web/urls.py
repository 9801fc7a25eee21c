"""A post's address as sites know it, normalised so that the forms of one URL find one post."""

from __future__ import annotations

import functools
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=8192)
def url_key(url: str) -> str | None:
    """The lookup key of a post URL, or None when `url` is not an http(s) address.

    Scheme and host are case-insensitive and the default port is implied; the fragment, a
    trailing slash and `utm_*` tracking parameters do not name another page. The remaining
    query parameters keep their order (some sites route by them). Percent-encoding is brought to
    one form, so `%7E` and `~` match.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~").rstrip("/")
    query = urlencode(
        [
            (name, value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if not name.lower().startswith("utm_")
        ]
    )
    # http and https name one post: sites move to https and old links stay around.
    return urlunsplit(("https", netloc, path, query, ""))
