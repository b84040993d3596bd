"""Webhook targets: URL checks and DNS resolution that refuse loopback and private networks.

The check resolves the host name and refuses it if ANY address is not public, and the delivery
then connects to the address that was checked (not to the name again), so a DNS answer that
changes between the check and the request (DNS rebinding) cannot reach an internal service.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import anyio
import httpx

from mnemo.errors import InvalidRequestError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefusedError(InvalidRequestError):
    """The URL is malformed or points at a loopback, private, link-local or reserved address."""


class TargetUnresolvableError(InvalidRequestError):
    """The host name does not resolve (perhaps only for now)."""


@dataclass(frozen=True)
class ResolvedTarget:
    url: httpx.URL  # what the subscriber configured
    address: IPAddress  # the checked address the request must go to

    def pinned_url(self) -> httpx.URL:
        """The URL with its host replaced by the checked address."""
        return self.url.copy_with(host=str(self.address))


def parse_target(url: str) -> httpx.URL:
    """Refuse anything but an absolute http(s) URL with a host and no credentials."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise TargetRefusedError(f"invalid webhook URL: {exc}") from exc
    if parsed.scheme not in {"http", "https"}:
        raise TargetRefusedError("a webhook URL must start with http:// or https://")
    if not parsed.host:
        raise TargetRefusedError("a webhook URL needs a host")
    if parsed.userinfo:
        raise TargetRefusedError("a webhook URL must not carry credentials; use the secret")
    return parsed


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast; IPv4-mapped IPv6 is judged as the IPv4 address it maps."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def resolve_target(url: str, *, allow_private: bool) -> ResolvedTarget:
    """Parse and resolve the URL; refuse non-public addresses unless allow_private."""
    parsed = parse_target(url)
    addresses = await _addresses(parsed)
    if not allow_private:
        refused = sorted(str(a) for a in addresses if not is_public(a))
        if refused:
            raise TargetRefusedError(
                f"webhook host {parsed.host} resolves to a non-public address "
                f"({', '.join(refused)}); set MNEMO_WEBHOOKS__ALLOW_PRIVATE=true to allow it"
            )
    return ResolvedTarget(parsed, addresses[0])


async def _addresses(url: httpx.URL) -> list[IPAddress]:
    host = url.host
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetUnresolvableError(f"cannot resolve webhook host {host}: {exc}") from exc
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address not in found:
            found.append(address)
    if not found:
        raise TargetUnresolvableError(f"webhook host {host} has no address")
    return found
