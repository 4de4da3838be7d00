"""Channel endpoints: raw credentials are refused by where they sit and by their shape,
and the same URLs with {secret:NAME} in their place are accepted, Apprise's included."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from siaran_router.channels import ChannelIn
from siaran_shared.testing.credentials import RAW

#: Every Apprise scheme the README and the design name, with the credential by reference.
BY_REFERENCE = {
    "tgram": "tgram://{secret:TG_TOKEN}/12345",
    "mastodon": "mastodon://{secret:MASTODON_TOKEN}@mastodon.social",
    "mailto": "mailto://humas:{secret:MAIL_PASSWORD}@example.go.id",
    "json": "json://siaran:{secret:JSON_PASSWORD}@example.go.id/hook",
    "x": "x://{secret:X_CKEY}/{secret:X_CSECRET}/{secret:X_AKEY}/{secret:X_ASECRET}",
    "bluesky": "bsky://humas.bsky.social:{secret:BSKY_APP_PASSWORD}@",
    "whatsapp": "whatsapp://{secret:WA_TOKEN}@123456/628123",
    "slack": "slack://{secret:SLACK_A}/{secret:SLACK_B}/{secret:SLACK_C}/#general",
    "discord": "discord://123456789012345678/{secret:DISCORD_TOKEN}",
    "slack webhook": "https://hooks.slack.com/services/T00000000/B00000000/{secret:SLACK_HOOK}",
}

NOT_SECRETS = [
    "https://example.go.id/hook/550e8400-e29b-41d4-a716-446655440000",
    "https://bantaengkab.go.id/siaran/hook?region=73.03&kind=web",
    "json://example.go.id/hook/2026-12-01T10:00:00",
    "mailto://humas@example.go.id",
]


def channel(endpoint: str) -> dict[str, Any]:
    return {"region": "73", "kind": "telegram", "name": "Humas", "endpoint": endpoint}


@pytest.mark.parametrize("endpoint", RAW.values(), ids=RAW.keys())
def test_raw_credentials_are_refused_naming_the_placeholder(endpoint: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ChannelIn.model_validate(channel(endpoint))
    (error,) = refused.value.errors()
    assert error["loc"] == ("endpoint",)
    assert "{secret:NAME}" in error["msg"]
    assert endpoint not in error["msg"]


@pytest.mark.parametrize("endpoint", BY_REFERENCE.values(), ids=BY_REFERENCE.keys())
def test_credentials_by_reference_are_accepted(endpoint: str) -> None:
    assert ChannelIn.model_validate(channel(endpoint)).endpoint == endpoint


@pytest.mark.parametrize("endpoint", NOT_SECRETS)
def test_endpoints_without_credentials_are_accepted(endpoint: str) -> None:
    assert ChannelIn.model_validate(channel(endpoint)).endpoint == endpoint


def test_an_unknown_scheme_is_still_refused_with_a_placeholder() -> None:
    with pytest.raises(ValidationError, match="unknown endpoint scheme 'nosuch'"):
        ChannelIn.model_validate(channel("nosuch://{secret:TOKEN}/12345"))


def test_the_id_in_the_host_of_a_fixed_api_scheme_is_not_checked_as_an_address() -> None:
    endpoint = "whatsapp://{secret:WA_TOKEN}@123456/628123"  # 123456 is a phone number id
    assert ChannelIn.model_validate(channel(endpoint)).endpoint == endpoint
    with pytest.raises(ValidationError, match="not written in dotted decimal"):
        ChannelIn.model_validate(channel("json://123456/hook"))  # json:// connects to its host
