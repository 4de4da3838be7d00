"""Raw credentials of the real shapes, made up (none is a live one), as an operator might
paste them into a channel endpoint: the router's unit tests and the security suite both
check that each is refused."""

from __future__ import annotations

# The values are fakes by design; S105 would call them hard-coded passwords.
TG_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # noqa: S105
SLACK_HOOK_TOKEN = "XXXXXXXXXXXXXXXXXXXXXXXX"  # noqa: S105
DISCORD_TOKEN = "abcDEF123_-ghiJKL456mnoPQR789stuVWX012yzABCdef345GHIjkl678MNO"  # noqa: S105

#: what the credential is → an endpoint holding it raw
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
    "raw token of a native platform": "facebook://1234567890?token=EAAGm0PX4ZCpsBAKZCfake",
    "raw tiktok refresh token": "tiktok://?token={secret:TT}&refresh=rft.e6f1fakefakefake"
    "&client_id={secret:TT_KEY}&client_secret={secret:TT_SECRET}",
    "raw youtube client id": "youtube://UCxYz0123456789abcdefGHI?token={secret:YT}"
    "&refresh={secret:YT_R}&client_id=1234-fake.apps.googleusercontent.com"
    "&client_secret={secret:YT_S}",
}
