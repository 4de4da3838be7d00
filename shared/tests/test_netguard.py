from __future__ import annotations

import pytest
from siaran_shared.netguard import refused_reason


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "169.254.1.1",
        "[fe80::1]",
        "fe80::1",
        "::ffff:169.254.169.254",
        "fd00:ec2::254",
        "metadata.google.internal",
        "METADATA.google.internal.",
        "100.100.100.200",
        "0.0.0.0",  # noqa: S104 - a destination under test, not a bind address
        "224.0.0.1",
        "",
    ],
)
def test_link_local_metadata_and_odd_addresses_are_refused(host: str) -> None:
    assert refused_reason(host) is not None


#: 169.254.169.254 and other refused addresses as resolvers read them, although written
#: otherwise: decimal, hex and octal IPv4, short forms, and IPv6 forms that carry IPv4.
DISGUISED = [
    "2852039166",
    "0xa9fea9fe",
    "0xA9.0xFE.0xA9.0xFE",
    "0251.0376.0251.0376",
    "0251.254.169.254",
    "169.254.43518",
    "169.16689662",
    "2852039166.",
    "[::ffff:a9fe:a9fe]",
    "[::ffff:169.254.1.1]",
    "[::169.254.169.254]",
    "[2002:a9fe:a9fe::1]",
    "[64:ff9b::a9fe:a9fe]",
    "[fe80::1%25eth0]",
    "0x7f000001",  # loopback, but no honest endpoint writes it so
]


@pytest.mark.parametrize("host", DISGUISED)
def test_disguised_addresses_are_refused(host: str) -> None:
    assert refused_reason(host) is not None


@pytest.mark.parametrize(
    "host", ["example.go.id", "127.0.0.1", "10.1.2.3", "192.168.1.10", "[::1]", "8.8.8.8"]
)
def test_ordinary_hosts_pass(host: str) -> None:
    assert refused_reason(host) is None


def test_allow_list_permits_by_name_or_network() -> None:
    assert refused_reason("169.254.10.10", ["169.254.10.0/24"]) is None
    assert refused_reason("metadata.google.internal", ["metadata.google.internal"]) is None
    assert refused_reason("169.254.169.254", ["10.0.0.0/8"]) is not None


@pytest.mark.parametrize("host", ["cafe.example", "0x.example", "1.example", "deadbeef"])
def test_names_that_merely_look_numeric_pass(host: str) -> None:
    assert refused_reason(host) is None


def test_allow_list_covers_mapped_forms_of_an_allowed_network() -> None:
    assert refused_reason("[::ffff:169.254.10.5]", ["169.254.10.0/24"]) is None
