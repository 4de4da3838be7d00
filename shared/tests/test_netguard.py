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


@pytest.mark.parametrize(
    "host", ["example.go.id", "127.0.0.1", "10.1.2.3", "192.168.1.10", "[::1]", "8.8.8.8"]
)
def test_ordinary_hosts_pass(host: str) -> None:
    assert refused_reason(host) is None


def test_allow_list_permits_by_name_or_network() -> None:
    assert refused_reason("169.254.10.10", ["169.254.10.0/24"]) is None
    assert refused_reason("metadata.google.internal", ["metadata.google.internal"]) is None
    assert refused_reason("169.254.169.254", ["10.0.0.0/8"]) is not None
