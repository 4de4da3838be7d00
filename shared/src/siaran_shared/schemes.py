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

from siaran_shared.secret_refs import PLACEHOLDER

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


#: A native channel line's options that name its refresh grant's secrets.
GRANT_OPTIONS = ("refresh", "client_id", "client_secret")
#: The native schemes whose access tokens are refreshed, and what each platform's token
#: request calls the client id.
REFRESHABLE: Mapping[str, str] = MappingProxyType({"tiktok": "client_key", "youtube": "client_id"})


def grant_problem(scheme: str, options: Mapping[str, str]) -> str | None:
    """What is wrong with a native channel line's refresh options, or None: none named, or
    all three (refresh token, client id, client secret), each as {secret:NAME}, on a
    platform whose tokens are refreshed. Read by the router at PUT and by the publisher."""
    named = [options.get(option) for option in GRANT_OPTIONS]
    if not any(named):
        return None
    if scheme not in REFRESHABLE:
        return f"{scheme} channels take no refresh token (refresh=, client_id=, client_secret=)"
    if not all(PLACEHOLDER.fullmatch(value or "") for value in named):
        return (
            "a refresh token needs refresh=, client_id= and client_secret=, each as {secret:NAME}"
        )
    return None
