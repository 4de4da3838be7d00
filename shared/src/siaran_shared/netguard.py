"""Where channel endpoints may point: never at link-local or cloud metadata addresses
(server-side request forgery), unless an operator allow-lists them explicitly.

The same rules serve the router's registration check (a host as written) and the
publisher's connect-time check (each address a name resolves to). A host written in a
form that resolvers read as IPv4 although it is not dotted decimal (`2852039166`,
`0xa9fea9fe`, `0251.0376.0251.0376`, `169.254.43518`) is refused as it stands: it has no
honest use and hides the address from readers."""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Iterable

#: Hostnames of cloud instance-metadata services.
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
        "100.100.100.200",  # Alibaba Cloud
    }
)
_METADATA_IPS = (
    ipaddress.ip_network("169.254.169.254/32"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("100.100.100.200/32"),
)
#: NAT64's well-known prefix: the last 32 bits are an IPv4 address (RFC 6052).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: What inet_aton would read as IPv4: numbers (decimal, 0x hex, 0 octal) and dots only.
_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def refused_reason(host: str | None, allow: Iterable[str] = ()) -> str | None:
    """Why a destination host is refused, or None when it may be used.

    `allow` holds hostnames or CIDR networks an operator permits despite the rules
    (SIARAN_ENDPOINT_ALLOWLIST). Answers are cached: the publisher asks before every send,
    and they depend on nothing else.
    """
    return _refused_reason(host, tuple(allow))


def allow_listed_name(host: str, allow: Iterable[str] = ()) -> bool:
    """Whether an operator allow-listed this hostname by name."""
    name = host.strip("[]").rstrip(".").lower()
    return name in {a.strip().lower() for a in allow if a.strip()}


@functools.lru_cache(maxsize=8192)
def _refused_reason(host: str | None, allow: tuple[str, ...]) -> str | None:
    if not host:
        return "endpoint has no host"
    name = host.strip("[]").rstrip(".").lower()
    allowed = {a.strip().lower() for a in allow if a.strip()}
    if name in allowed:
        return None
    try:
        ip: Address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        if name in METADATA_HOSTS:
            return f"{host} is a cloud metadata service"
        if _NUMERIC_HOST.fullmatch(name) and _reads_as_ipv4(name):
            return f"{host} is an IPv4 address not written in dotted decimal"
        return None
    carried = _embedded_ipv4(ip)
    for entry in allowed:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if ip in network or carried in network:
            return None
    return _address_reason(host, carried)


def _reads_as_ipv4(name: str) -> bool:
    try:
        socket.inet_aton(name.rstrip("."))
    except OSError:
        return False
    return True


def _embedded_ipv4(ip: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64, compatible), or itself."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):  # NAT64, or ::a.b.c.d
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def _address_reason(host: str, ip: Address) -> str | None:
    if any(ip in net for net in _METADATA_IPS):
        return f"{host} is a cloud metadata address"
    if ip.is_loopback:
        return None
    if ip.is_link_local:
        return f"{host} is a link-local address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return f"{host} is not a unicast address"
    return None
