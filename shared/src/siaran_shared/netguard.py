"""Where channel endpoints may point: never at link-local or cloud metadata addresses
(server-side request forgery), unless an operator allow-lists them explicitly."""

from __future__ import annotations

import functools
import ipaddress
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


def refused_reason(host: str | None, allow: Iterable[str] = ()) -> str | None:
    """Why a destination host is refused, or None when it may be used.

    `allow` holds hostnames or CIDR networks an operator permits despite the rules
    (SIARAN_ENDPOINT_ALLOWLIST). Answers are cached: the publisher asks before every send
    (parsing the address was ~3 % of its CPU), and they depend on nothing else.
    """
    return _refused_reason(host, tuple(allow))


@functools.lru_cache(maxsize=8192)
def _refused_reason(host: str | None, allow: tuple[str, ...]) -> str | None:
    if not host:
        return "endpoint has no host"
    name = host.strip("[]").rstrip(".").lower()
    allowed = {a.strip().lower() for a in allow if a.strip()}
    if name in allowed:
        return None
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        if name in METADATA_HOSTS:
            return f"{host} is a cloud metadata service"
        return None
    for entry in allowed:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return None
        except ValueError:
            continue
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in _METADATA_IPS):
        return f"{host} is a cloud metadata address"
    if ip.is_loopback:
        return None
    if ip.is_link_local:
        return f"{host} is a link-local address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return f"{host} is not a unicast address"
    return None
