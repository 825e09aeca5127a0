"""Every caller is counted: storefront keys and editors per credential, anyone else (no credentials,
an unknown key, a bad token) per address, in Redis, before the 401 is answered."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from outfits.api import auth
from outfits.api.auth import ClientRateThrottle
from outfits.api.client_address import client_address

pytestmark = pytest.mark.django_db

# Inside one window of every rate below, so a test never straddles two.
NOW = 1_800_000_000.0 + 7


@pytest.fixture
def rates(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(ClientRateThrottle, "timer", lambda self: NOW)

    def set_rates(client: str = "1000/min", anon: str = "1000/min", looks: str = "1000/min") -> None:
        rates = {"client": client, "anon": anon, "looks": looks}
        monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", rates)

    return set_rates


def test_unknown_keys_are_counted_per_address_before_the_401(anonymous: APIClient, rates: Any) -> None:
    rates(anon="10/min")
    codes = []
    for n in range(15):
        # A new made-up key each time: the count is the address's, not the key's.
        anonymous.credentials(HTTP_X_API_KEY=f"ctl_made_up_{n}")
        codes.append(anonymous.get("/api/v1/items/").status_code)
    assert codes == [401] * 10 + [429] * 5


def test_a_refused_call_over_the_limit_is_a_json_429_with_retry_after(
    anonymous: APIClient, rates: Any
) -> None:
    rates(anon="1/min")
    anonymous.credentials(HTTP_X_API_KEY="ctl_nope")
    assert anonymous.get("/api/v1/items/").status_code == 401
    response = anonymous.get("/api/v1/items/")
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"]
    # NOW is 7 s into its minute.
    assert response["Retry-After"] == "53"


def test_calls_without_credentials_or_with_a_bad_token_share_the_address_count(
    anonymous: APIClient, rates: Any
) -> None:
    rates(anon="3/min")
    assert anonymous.get("/api/v1/items/").status_code == 401
    assert anonymous.post("/api/v1/looks/", {}).status_code == 401
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert anonymous.get("/api/v1/items/some-item/").status_code == 401
    assert anonymous.get("/api/v1/items/").status_code == 429
    anonymous.credentials()
    assert anonymous.get("/api/v1/schema/").status_code == 429


def test_a_forwarded_for_header_from_a_client_is_not_an_identity(anonymous: APIClient, rates: Any) -> None:
    rates(anon="3/min")
    codes = [
        anonymous.get("/api/v1/items/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]


def test_a_storefront_keeps_its_own_limit_whatever_its_address_sends(
    storefront: APIClient, anonymous: APIClient, rates: Any
) -> None:
    rates(client="3/min", anon="2/min")
    for n in range(5):
        anonymous.credentials(HTTP_X_API_KEY=f"ctl_made_up_{n}")
        anonymous.get("/api/v1/items/")
    # Its address is over the anon limit; the key is counted on its own.
    assert [storefront.get("/api/v1/items/").status_code for _ in range(4)] == [200, 200, 200, 429]
    # Nor does a new forwarded address or another key from the same address reset it.
    assert storefront.get("/api/v1/items/", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    anonymous.credentials(HTTP_X_API_KEY="ctl_one_more")
    assert anonymous.get("/api/v1/items/").status_code == 429


def test_a_storefront_refused_a_write_is_counted_once_on_its_key(storefront: APIClient, rates: Any) -> None:
    rates(client="2/min", anon="1000/min")
    assert storefront.post("/api/v1/items/bulk/", {"items": []}, format="json").status_code == 403
    assert [storefront.get("/api/v1/items/").status_code for _ in range(2)] == [200, 429]


def test_concurrent_calls_never_pass_the_limit(rates: Any) -> None:
    """40 calls at once against 10/min: exactly 10 are answered (401 here), 30 are refused. DRF's own
    throttle (read the history, append, write it back) let 68 of 60 through under gunicorn."""
    rates(anon="10/min")

    def call(n: int) -> int:
        try:
            return Client().get("/api/v1/items/", HTTP_X_API_KEY=f"ctl_made_up_{n}").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(call, range(40)))
    assert sorted(codes) == [401] * 10 + [429] * 30


def test_the_counter_is_atomic() -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        counts = list(pool.map(lambda _: auth._count("test-atomic-counter", 60), range(400)))
    assert sorted(counts) == list(range(1, 401))


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        # No trusted proxies: the socket's peer, whatever the header says.
        ("203.0.113.5", "198.51.100.1", [], "203.0.113.5"),
        ("10.0.0.2", "198.51.100.1", [], "10.0.0.2"),
        # A header from a peer that is not one of ours is ignored.
        ("203.0.113.5", "198.51.100.1", ["10.0.0.0/8"], "203.0.113.5"),
        # Through our proxy: the hop it saw; what the client put in front is not believed.
        ("10.0.0.2", "198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.2", "1.2.3.4, 198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        # Two layers of ours (a CDN range and the balancer): both skipped.
        ("10.0.0.2", "1.2.3.4, 198.51.100.1, 192.0.2.10", ["10.0.0.2", "192.0.2.0/24"], "198.51.100.1"),
        ("10.0.0.2", "[2001:db8::1]:4711", ["10.0.0.0/8"], "2001:db8::1"),
        # A malformed chain is not read: the proxy is the caller.
        ("10.0.0.2", "nonsense, 198.51.100.1", ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
    ],
)
def test_the_client_address_believes_only_trusted_proxies(
    settings: Any, remote: str, forwarded: str, trusted: list[str], expected: str
) -> None:
    settings.CTL_TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/api/v1/items/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_callers_behind_a_trusted_proxy_are_counted_apart(
    settings: Any, anonymous: APIClient, rates: Any
) -> None:
    settings.CTL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    rates(anon="2/min")

    def call(shopper: str) -> int:
        response = anonymous.get("/api/v1/items/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=shopper)
        return response.status_code

    assert [call("198.51.100.1") for _ in range(3)] == [401, 401, 429]
    assert call("198.51.100.2") == 401


def test_a_bad_trusted_proxy_entry_is_a_configuration_error(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.CTL_TRUSTED_PROXIES = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="CTL_TRUSTED_PROXIES"):
        client_address(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2"))
