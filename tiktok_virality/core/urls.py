"""Comparing URLs: where a credential may be sent."""

from urllib.parse import urlsplit


def same_origin(url: str, base: str) -> bool:
    """Whether `url` is on the origin (scheme, host, port) of `base`: a token for `base`'s API
    is sent to that origin only."""
    first, second = urlsplit(url), urlsplit(base)
    return (first.scheme, first.hostname, first.port) == (
        second.scheme,
        second.hostname,
        second.port,
    )
