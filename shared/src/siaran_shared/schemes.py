"""Endpoint schemes, one list each, read by the router (to check a channel at PUT) and the
publisher (to choose a transport and guard its connections).

A channel's endpoint is http(s):// (a signed webhook), one of the publisher's native
platform schemes, or an Apprise URL. Of the Apprise schemes, some connect to the host their
URL names (self-hosted services) and some call their platform's fixed API, the URL's "host"
being an account id or a credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: The publisher's own platform adapters: scheme → how the account id looks ("" for none).
NATIVE: Mapping[str, str] = MappingProxyType(
    {"facebook": r"[0-9]{1,32}", "instagram": r"[0-9]{1,32}", "threads": r"[0-9]{1,32}",
     "tiktok": r"", "youtube": r"UC[A-Za-z0-9_-]{22}"}
)  # fmt: skip

#: Apprise schemes that call their platform's fixed API: the URL's "host" is an account id
#: or a credential (whatsapp://TOKEN@PHONE_ID/..., discord://WEBHOOK_ID/...), not a server
#: to connect to, so it is never checked or looked up as an address.
FIXED_API = frozenset(
    {"tgram", "whatsapp", "discord", "slack", "twitter", "x", "tweet", "pover", "line",
     "msteams", "bsky", "bluesky", "reddit", "pbul", "spush", "kumulos"}
)  # fmt: skip

#: Apprise schemes whose URL host is the server Apprise connects to (checked before it does).
SELF_HOSTED = frozenset(
    {"json", "jsons", "xml", "xmls", "form", "forms", "mastodon", "mastodons", "toot", "toots",
     "mailto", "mailtos", "ntfy", "ntfys", "gotify", "gotifys", "matrix", "matrixs", "rocket",
     "rockets", "mmost", "mmosts", "apprise", "apprises", "ncloud", "nclouds", "misskey",
     "misskeys", "lemmy", "lemmys"}
)  # fmt: skip


def scheme_of(endpoint: str) -> str:
    """The endpoint's scheme, lower-cased (what precedes its first colon)."""
    return endpoint.split(":", 1)[0].lower()


def is_native(endpoint: str) -> bool:
    """Whether an endpoint is a native platform channel (facebook://, youtube://, ...)."""
    return endpoint.partition("://")[0].lower() in NATIVE
