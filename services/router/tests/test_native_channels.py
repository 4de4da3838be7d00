"""The native platform schemes are validated at PUT: the account id, a token placeholder,
never a raw token."""

from __future__ import annotations

import pytest
from siaran_router.channels import check_endpoint


@pytest.mark.parametrize(
    "endpoint",
    [
        "facebook://1234567890?token={secret:FB_PAGE}",
        "instagram://17841400000000000?token={secret:IG}",
        "threads://9988?token={secret:TH}",
        "tiktok://?token={secret:TT}&privacy=SELF_ONLY",
        "youtube://UCxYz0123456789abcdefGHI?token={secret:YT}",
        "tiktok://?token={secret:TT}&refresh={secret:R}&client_id={secret:K}"
        "&client_secret={secret:S}&privacy=SELF_ONLY",
        "youtube://UCxYz0123456789abcdefGHI?token={secret:YT}&refresh={secret:R}"
        "&client_id={secret:K}&client_secret={secret:S}",
    ],
)
def test_native_channel_lines_are_accepted(endpoint: str) -> None:
    assert check_endpoint(endpoint) == endpoint


@pytest.mark.parametrize(
    ("endpoint", "says"),
    [
        ("facebook://1234567890?token=EAAB0raw", "raw secret"),
        ("facebook://1234567890", "token={secret:NAME}"),
        ("facebook://my-page?token={secret:FB}", "ACCOUNT_ID"),
        ("instagram://?token={secret:IG}", "ACCOUNT_ID"),
        ("youtube://UCshort?token={secret:YT}", "ACCOUNT_ID"),
        ("tiktok://someone?token={secret:TT}", "tiktok://"),
        ("threads://9988/extra?token={secret:TH}", "ACCOUNT_ID"),
        # a refresh grant: all three options, each a secret, on TikTok or YouTube only
        ("tiktok://?token={secret:TT}&refresh=EAAB0raw&client_id={secret:K}"
         "&client_secret={secret:S}", "each as {secret:NAME}"),
        ("youtube://UCxYz0123456789abcdefGHI?token={secret:YT}&refresh={secret:R}",
         "refresh=, client_id= and client_secret="),
        ("tiktok://?token={secret:TT}&refresh={secret:R}&client_id=EAAB0raw"
         "&client_secret={secret:S}", "each as {secret:NAME}"),
        ("facebook://1234567890?token={secret:FB}&refresh={secret:R}&client_id={secret:K}"
         "&client_secret={secret:S}", "facebook channels take no refresh token"),
    ],
)  # fmt: skip
def test_bad_native_channel_lines_are_refused_saying_why(endpoint: str, says: str) -> None:
    with pytest.raises(ValueError, match="endpoint") as refused:
        check_endpoint(endpoint)
    assert says in str(refused.value)
    assert "EAAB0raw" not in str(refused.value)
