"""The address a request came from, for throttling: forwarded headers count only from our own proxies.

A client can send any `X-Forwarded-For` it likes; DRF's `get_ident` (NUM_PROXIES unset) took it as
the caller's identity, so a new header per request was a new caller. Here the socket's peer
(REMOTE_ADDR) is the caller unless it is one of `CTL_TRUSTED_PROXIES` (addresses or CIDR networks,
none by default); then the header's hops are read from the right, each trusted proxy skipped, and
the first hop we do not run is the caller (what nginx's `real_ip_recursive` does). Headers are
parsed by python-ipware (django-ipware's engine: ports, brackets, IPv6, mapped IPv4, junk tokens);
django-ipware's own `get_client_ip` matches its proxy list by position in the chain and never looks
at REMOTE_ADDR, so it would believe a chain sent straight to gunicorn.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from python_ipware.modern.parsers import parse_ip, split_proxy_chain

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=4)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"CTL_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR network"
            ) from exc
    return tuple(networks)


def _trusted(ip: Address | None, networks: Iterable[Network]) -> bool:
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def client_address(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or behind a trusted proxy the first untrusted forwarded hop."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    networks = trusted_networks(tuple(settings.CTL_TRUSTED_PROXIES))
    if not _trusted(parse_ip(remote), networks):
        return remote
    # strict: a malformed chain is not read at all (the proxy itself is then the caller).
    chain = split_proxy_chain(str(request.META.get("HTTP_X_FORWARDED_FOR", "")), strict=True) or []
    for hop in reversed(chain):
        if not _trusted(hop, networks):
            return str(hop)
    # Every hop is one of ours (a health check from inside): the first one asked.
    return str(chain[0]) if chain else remote
