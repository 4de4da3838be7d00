"""Channel endpoints: raw credentials are refused by where they sit and by their shape,
and the same URLs with {secret:NAME} in their place are accepted, Apprise's included."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from siaran_router.channels import ChannelIn

# Made-up credentials of the real shapes (none is a live one).
TG_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SLACK_HOOK_TOKEN = "XXXXXXXXXXXXXXXXXXXXXXXX"
DISCORD_TOKEN = "abcDEF123_-ghiJKL456mnoPQR789stuVWX012yzABCdef345GHIjkl678MNO"

RAW = {
    "telegram bot token in tgram://": f"tgram://{TG_TOKEN}/12345",
    "telegram bot token in a webhook": f"https://api.telegram.org/bot{TG_TOKEN}/sendMessage",
    "slack webhook": f"https://hooks.slack.com/services/T00000000/B00000000/{SLACK_HOOK_TOKEN}",
    "slack tokens in slack://": "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general",
    "slack bot token": "slack://xoxb-123456789012-123456789012-abcdefABCDEF123456/#general",
    "discord webhook": f"https://discord.com/api/webhooks/123456789012345678/{DISCORD_TOKEN}",
    "discord token in discord://": f"discord://123456789012345678/{DISCORD_TOKEN}",
    "teams webhook": "https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/"
    "0123456789abcdef0123456789abcdef/c",
    "mastodon access token": "mastodon://abcdefghijklmnopqrstuvwxyz0123@mastodon.social",
    "whatsapp access token": "whatsapp://EAAGm0PX4ZCpsBAKZCfakefakefake@123456/628123",
    "github token": "json://example.go.id/hook/ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "aws key": "https://example.go.id/hook/AKIAIOSFODNN7EXAMPLE",
    "jwt": "https://example.go.id/hook/eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4",
    "password": "mailto://user:hunter2@example.go.id",
    "query token": "https://api.example.org/hook?token=abc123",
}

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
