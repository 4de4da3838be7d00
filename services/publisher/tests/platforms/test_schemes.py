"""The native schemes the router accepts are exactly the ones the publisher can post to."""

from __future__ import annotations

from siaran_publisher.platforms.sender import MODULES
from siaran_shared.schemes import NATIVE, is_native, scheme_of


def test_every_native_scheme_has_a_platform_module() -> None:
    assert set(MODULES) == set(NATIVE)


def test_native_endpoints_are_told_from_apprise_and_webhooks() -> None:
    assert is_native("YouTube://UC0123456789012345678901?token={secret:T}")
    assert not is_native("https://facebook.example/hook")
    assert not is_native("tgram://{secret:BOT}/-100123")
    assert scheme_of("Mastodons://{secret:T}@social.example") == "mastodons"
