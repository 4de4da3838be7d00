"""The publisher's native platform schemes are channel endpoints, with the token a secret."""

from __future__ import annotations

import re

import pytest
from siaran_router.channels import check_endpoint


@pytest.mark.parametrize(
    "endpoint",
    [
        "facebook://1234567890?token={secret:fb_page}",
        "instagram://17841400000000000?token={secret:ig}",
        "threads://42?token={secret:threads}",
        "tiktok://?token={secret:tiktok}",
        "youtube://UCabc?token={secret:yt}",
    ],
)
def test_native_schemes_are_accepted(endpoint: str) -> None:
    assert check_endpoint(endpoint) == endpoint


@pytest.mark.parametrize(
    ("endpoint", "says"),
    [
        ("instagram://1784?token=EAABsbCS1iHgBAraw", "raw secret"),
        ("facebook://1234", "?token={secret:NAME}"),
        ("tiktok://?access={secret:tt}", "?token={secret:NAME}"),
    ],
)
def test_native_schemes_need_the_token_as_a_secret(endpoint: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        check_endpoint(endpoint)
