"""Raw credentials in a channel endpoint, recognised where they sit or by their shape.

An endpoint is stored in the registry, published on the channels topic and answered by the
API, so a credential written into it would leak to all of them; it must be a
`{secret:NAME}` placeholder instead. Three kinds of places are checked: the password of the
URL's user part, query parameters named like credentials, and the shapes of well-known
tokens and secret webhook URLs anywhere in it (Telegram bot tokens, Slack and Discord
webhooks, ...). Placeholders are set aside before the shapes are looked for.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, parse_qsl

from siaran_shared.secret_refs import PLACEHOLDER

_SET_ASIDE = "{}"
_CREDENTIAL_QUERY_KEYS = re.compile(
    r"(token|secret|password|passwd|pass|pwd|key|apikey|api_key|access_token|auth|signature|sig)$",
    re.IGNORECASE,
)

#: (what it is, its shape): each a credential on its own, or a URL that is one.
SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (what, re.compile(shape))
    for what, shape in (
        ("a Telegram bot token", r"(?<![0-9])[0-9]{5,16}:[A-Za-z0-9_-]{30,}"),
        ("a Slack token", r"(?<![A-Za-z0-9])(?:xox[abposre]|xapp)-[A-Za-z0-9-]{10,}"),
        ("a Slack webhook path", r"(?i)hooks\.slack(?:-gov)?\.com/[\w/]*?[A-Za-z0-9]{16,}"),
        ("Slack webhook tokens", r"(?i)^slack://(?:[^@/]*@)?[A-Z0-9]{8,}/[A-Z0-9]{8,}/[A-Z0-9]{16,}"),
        ("a Discord webhook path", r"(?i)discord(?:app)?\.com/api/webhooks/[0-9]+/[\w-]{20,}"),
        ("a Discord webhook token", r"(?i)^discord://(?:[^@/]*@)?[0-9]+/[\w-]{20,}"),
        ("a Microsoft Teams webhook path", r"(?i)/IncomingWebhook/[0-9a-f]{16,}"),
        ("a GitHub token", r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{40,})"),
        ("a GitLab token", r"(?<![A-Za-z0-9])glpat-[\w-]{20,}"),
        ("an AWS access key", r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
        ("a Google API key", r"(?<![\w-])AIza[\w-]{35}"),
        ("a SendGrid key", r"SG\.[\w-]{16,}\.[\w-]{16,}"),
        ("a JSON web token", r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"),
        ("an access token in the user part", r"(?i)^(?!https?:)[a-z][a-z0-9+.-]*://[\w-]{20,}@"),
    )
)  # fmt: skip


def raw_secret_in(endpoint: str, parts: SplitResult) -> str | None:
    """What raw credential `endpoint` (split into `parts`) holds, or None."""
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    # set placeholders aside first: each holds a colon of its own
    password = PLACEHOLDER.sub(_SET_ASIDE, userinfo).partition(":")[2]
    if password and password != _SET_ASIDE:
        return "a raw password"
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if _CREDENTIAL_QUERY_KEYS.search(name) and value and not PLACEHOLDER.fullmatch(value):
            return f"a raw secret in the query parameter {name!r}"
    visible = PLACEHOLDER.sub("", endpoint)
    for what, shape in SHAPES:
        if shape.search(visible):
            return what
    return None
