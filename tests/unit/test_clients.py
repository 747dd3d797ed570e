"""`hotline.web.clients.client_of`: forwarded headers believed from trusted proxies only."""

from __future__ import annotations

import pytest

from hotline.web.clients import client_of

TRUSTED = ("10.0.0.0/24", "fd00::1")


@pytest.mark.parametrize(("peer", "headers", "expected"), [
    ("198.51.100.7", {}, "198.51.100.7"),
    # an untrusted peer names whatever it likes: ignored
    ("198.51.100.7", {"X-Forwarded-For": "1.2.3.4"}, "198.51.100.7"),
    ("198.51.100.7", {"Forwarded": "for=1.2.3.4"}, "198.51.100.7"),
    # one trusted proxy
    ("10.0.0.5", {"X-Forwarded-For": "203.0.113.9"}, "203.0.113.9"),
    # a client that prepends a fake hop: the rightmost untrusted hop wins
    ("10.0.0.5", {"X-Forwarded-For": "6.6.6.6, 203.0.113.9"}, "203.0.113.9"),
    # two trusted proxies in a row
    ("10.0.0.5", {"X-Forwarded-For": "203.0.113.9, 10.0.0.7"}, "203.0.113.9"),
    # RFC 7239, quoted, with ports, IPv6 in brackets; it wins over X-Forwarded-For
    ("10.0.0.5", {"Forwarded": 'for="203.0.113.9:4711";proto=https, for=10.0.0.8', "X-Forwarded-For": "1.1.1.1"},
     "203.0.113.9"),
    ("fd00::1", {"Forwarded": 'for="[2001:db8:cafe::17]:4711"'}, "2001:db8:cafe::17"),
    # a trusted proxy that forwarded nothing: the proxy itself
    ("10.0.0.5", {}, "10.0.0.5"),
    # only trusted hops: the first of them
    ("10.0.0.5", {"X-Forwarded-For": "10.0.0.9, 10.0.0.8"}, "10.0.0.9"),
    (None, {}, "unknown"),
])
def test_client_of(peer: str | None, headers: dict[str, str], expected: str) -> None:
    assert client_of(peer, headers, TRUSTED) == expected


def test_no_trusted_proxies_means_the_peer() -> None:
    assert client_of("10.0.0.5", {"X-Forwarded-For": "203.0.113.9"}, ()) == "10.0.0.5"


def test_a_bad_proxy_setting_is_refused_at_start() -> None:
    from pydantic import ValidationError

    from hotline.settings.schema import HttpSection

    with pytest.raises(ValidationError, match="not an IP address or network"):
        HttpSection(trusted_proxies=("proxy.local",))
